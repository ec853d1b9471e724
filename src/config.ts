import { readFileSync } from 'node:fs';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './shared/constants';

/**
 * Process configuration, read from the environment in one place (worker, CLI, client library).
 * Secrets (API key, TLS key, Alibaba Cloud keys) stay here and in the processes that need them;
 * they never enter workflow inputs.
 */
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey: string | undefined;
  tls: undefined | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | true;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError' as const;
  readonly code = 'InvalidConfig' as const;
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(variable, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export function temporalConfigFromEnv(env: Env = process.env): TemporalConfig {
  const address = env.TEMPORAL_ADDRESS?.trim() || '127.0.0.1:7233';
  if (!/^[^\s:]+:\d+$/.test(address)) throw new ConfigError('TEMPORAL_ADDRESS', `expected host:port, got "${address}"`);
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH?.trim();
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH?.trim();
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH?.trim();
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim();
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new ConfigError(certPath ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  }
  let tls: TemporalConfig['tls'];
  if (certPath && keyPath) {
    tls = { clientCertPair: { crt: readFile('TEMPORAL_TLS_CLIENT_CERT_PATH', certPath), key: readFile('TEMPORAL_TLS_CLIENT_KEY_PATH', keyPath) } };
    if (caPath) tls.serverRootCACertificate = readFile('TEMPORAL_TLS_SERVER_CA_CERT_PATH', caPath);
    if (serverName) tls.serverNameOverride = serverName;
  } else if (env.TEMPORAL_TLS === 'true' || caPath) {
    tls = caPath ? { serverRootCACertificate: readFile('TEMPORAL_TLS_SERVER_CA_CERT_PATH', caPath), ...(serverName ? { serverNameOverride: serverName } : {}) } : true;
  }
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE?.trim() || DEFAULT_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE,
    apiKey: env.TEMPORAL_API_KEY?.trim() || undefined,
    tls,
  };
}

/** Options for `Connection.connect` / `NativeConnection.connect`. */
export function connectionOptions(cfg: TemporalConfig): { address: string; apiKey?: string; tls?: TemporalConfig['tls'] } {
  return { address: cfg.address, ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}), ...(cfg.tls ? { tls: cfg.tls } : {}) };
}
