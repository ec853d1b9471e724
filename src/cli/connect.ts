import type { Command } from 'commander';
import { ScaleInClient } from '../client';
import { ConfigError, temporalConfigFromEnv, type TemporalConfig } from '../config';
import { CliUsageError, type OutputFormat } from './io';

export interface GlobalOptions {
  address?: string;
  connectTimeout?: string;
  namespace?: string;
  taskQueue?: string;
  /** True with `--json`, `-o json` and `-o jsonl`. */
  json?: boolean;
  /** `-o, --output`; `--json` alone is `json`. */
  output?: OutputFormat;
}

/** The global options, with `--json` and `-o` made one: `json` is true for both JSON formats. */
export function globalsOf(cmd: Command): GlobalOptions {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.json && g.output === 'table')
    throw new CliUsageError('--json and -o table contradict each other: give one (--json is -o json)');
  const output: OutputFormat = g.output ?? (g.json ? 'json' : 'table');
  return { ...g, output, json: output !== 'table' };
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
  const client = await ScaleInClient.connect({ temporal: config, connectTimeoutMs: connectTimeoutMs(g) });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** The CLI waits 3 s for Temporal by default: an operator should not wait the SDK's 10 s to learn it is down. */
export const DEFAULT_CONNECT_TIMEOUT_S = 3;

function connectTimeoutMs(g: GlobalOptions): number {
  const raw = g.connectTimeout ?? process.env.ESS_SCALE_IN_CONNECT_TIMEOUT ?? String(DEFAULT_CONNECT_TIMEOUT_S);
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > 600)
    throw new ConfigError('--connect-timeout', `expected seconds from 0.1 to 600, got "${raw}"`);
  return Math.round(s * 1000);
}
