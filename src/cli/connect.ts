import type { Command } from 'commander';
import { ScaleInClient } from '../client';
import { ConfigError, temporalConfigFromEnv, type TemporalConfig } from '../config';

export interface GlobalOptions {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  json?: boolean;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The environment first (same variables as the worker), then the global flags on top. */
export function temporalConfig(g: GlobalOptions): TemporalConfig {
  const cfg = temporalConfigFromEnv();
  return {
    ...cfg,
    ...(g.address ? { address: g.address } : {}),
    ...(g.namespace ? { namespace: g.namespace } : {}),
    ...(g.taskQueue ? { taskQueue: g.taskQueue } : {}),
  };
}

/** Opens a client for one command and always closes it, so the process can exit on its own. */
export async function withClient<T>(g: GlobalOptions, fn: (client: ScaleInClient) => Promise<T>): Promise<T> {
  const config = temporalConfig(g);
  if (!/^[^\s:/]+:\d{1,5}$/.test(config.address)) {
    // Same rule as TEMPORAL_ADDRESS, so a typo in --address is a usage error, not a hang.
    throw new ConfigError('--address', `expected host:port, got "${config.address}"`);
  }
  const client = await ScaleInClient.connect({ temporal: config });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
