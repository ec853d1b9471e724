import { readFileSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { ApiRateSpecError, parseApiRates, type ApiRateRule } from './aliyun/rate-limiter';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './shared/constants';

/**
 * Process configuration, read from the environment in one place (worker, CLI, client library).
 * Secrets (API key, TLS key, Alibaba Cloud keys) stay here and in the processes that need them;
 * they never enter workflow inputs, and no error message built here quotes a value.
 */
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey: string | undefined;
  /** `true`: TLS with the system roots; `false`: plaintext even with an API key. */
  tls:
    | undefined
    | false
    | true
    | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  /** Extra gRPC headers (`TEMPORAL_GRPC_META_*`, or `grpc_meta` of a config-file profile). */
  metadata?: Record<string, string> | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError' as const;
  readonly code = 'InvalidConfig' as const;
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export interface EnvVariable {
  name: string;
  /** Who reads it: our code, `@alicloud/credentials`, or `@temporalio/envconfig`. */
  readBy: 'ess-scale-in' | '@alicloud/credentials' | '@temporalio/envconfig';
  secret: boolean;
  default?: string;
  description: string;
}

/**
 * Every variable the worker process reads. `docs/operations.md`, `.env.example` and
 * `docker-compose.yml` are checked against this list (test/unit/compose.test.ts), and the list
 * against the source code, so none of them can name a variable nothing reads.
 */
export const WORKER_ENVIRONMENT: readonly EnvVariable[] = [
  {
    name: 'TEMPORAL_ADDRESS',
    readBy: 'ess-scale-in',
    secret: false,
    default: '127.0.0.1:7233',
    description:
      'Temporal frontend, host:port ' +
      '(Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233, or the regional API-key endpoint)',
  },
  {
    name: 'TEMPORAL_NAMESPACE',
    readBy: 'ess-scale-in',
    secret: false,
    default: DEFAULT_NAMESPACE,
    description: 'Temporal namespace',
  },
  {
    name: 'TEMPORAL_TASK_QUEUE',
    readBy: 'ess-scale-in',
    secret: false,
    default: DEFAULT_TASK_QUEUE,
    description: 'task queue the worker polls and the CLI starts runs on',
  },
  {
    name: 'TEMPORAL_API_KEY',
    readBy: 'ess-scale-in',
    secret: true,
    description: 'Temporal Cloud API key; turns TLS on unless TEMPORAL_TLS=false',
  },
  {
    name: 'TEMPORAL_TLS',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'true: TLS with the system CA roots; false: plaintext even with an API key',
  },
  {
    name: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'mTLS client certificate (PEM); needs TEMPORAL_TLS_CLIENT_KEY_PATH',
  },
  {
    name: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
    readBy: 'ess-scale-in',
    secret: false,
    description:
      'mTLS client private key (PEM); needs TEMPORAL_TLS_CLIENT_CERT_PATH. The file is a secret, the path is not',
  },
  {
    name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'CA bundle that signed the server certificate (self-hosted clusters); turns TLS on',
  },
  {
    name: 'TEMPORAL_TLS_SERVER_NAME',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'TLS server name override (SNI / certificate host name)',
  },
  {
    name: 'TEMPORAL_CONFIG_FILE',
    readBy: '@temporalio/envconfig',
    secret: false,
    description:
      'Temporal client config file (TOML, as the temporal CLI writes); must exist when set. Unset: the default ' +
      'file $XDG_CONFIG_HOME/temporalio/temporal.toml (or ~/.config/…), when it exists, as the temporal CLI does',
  },
  {
    name: 'TEMPORAL_PROFILE',
    readBy: '@temporalio/envconfig',
    secret: false,
    default: 'default',
    description:
      'profile of the config file (a named one must exist; default may be absent); ' +
      'the TEMPORAL_* variables above override its fields',
  },
  {
    name: 'WORKFLOW_BUNDLE_PATH',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'prebuilt workflow bundle (the image sets it); unset: the workflows are bundled at start',
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'RAM user AccessKey ID (first in the default credential chain)',
  },
  {
    name: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    readBy: '@alicloud/credentials',
    secret: true,
    description: 'RAM user AccessKey secret',
  },
  {
    name: 'ALIBABA_CLOUD_SECURITY_TOKEN',
    readBy: '@alicloud/credentials',
    secret: true,
    description: 'STS token, with an STS AccessKey pair',
  },
  {
    name: 'ALIBABA_CLOUD_ROLE_ARN',
    readBy: '@alicloud/credentials',
    secret: false,
    description:
      'RAM role to assume with an OIDC token (ACK RRSA); ' +
      'with ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE',
  },
  {
    name: 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'OIDC identity provider of the cluster (ACK RRSA)',
  },
  {
    name: 'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'path of the projected OIDC token (ACK RRSA); the file is a secret, the path is not',
  },
  {
    name: 'ALIBABA_CLOUD_ROLE_SESSION_NAME',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'session name for the assumed role (shows in ActionTrail)',
  },
  {
    name: 'ALIBABA_CLOUD_CREDENTIALS_URI',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'URL of a credentials service (last in the chain)',
  },
  {
    name: 'ALIBABA_CLOUD_ECS_METADATA',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'RAM role name to take from the ECS metadata service (worker on ECS, no keys)',
  },
  {
    name: 'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
    readBy: '@alicloud/credentials',
    secret: false,
    description: 'true: never ask the ECS metadata service (off-cloud, tests)',
  },
  {
    name: 'ESS_ENDPOINT',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'override of the ESS endpoint origin, e.g. the emulator http://emulator:18080; default: per region',
  },
  {
    name: 'SLB_ENDPOINT',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'override of the CLB (SLB) endpoint origin',
  },
  { name: 'ALB_ENDPOINT', readBy: 'ess-scale-in', secret: false, description: 'override of the ALB endpoint origin' },
  { name: 'NLB_ENDPOINT', readBy: 'ess-scale-in', secret: false, description: 'override of the NLB endpoint origin' },
  {
    name: 'ESS_SCALE_IN_API_RATE',
    readBy: 'ess-scale-in',
    secret: false,
    description:
      'pace Alibaba Cloud API calls per product and action, process-wide, e.g. ' +
      '"ess:RemoveInstances=10,ess:*=50,slb:*=50" (calls per second, or 200/60s per window; ' +
      'product:* and * are defaults for each action not named); unset: no pacing',
  },
  {
    name: 'METRICS_PORT',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'serve Prometheus metrics on 0.0.0.0:<port>/metrics; unset: no metrics endpoint',
  },
  {
    name: 'TEMPORAL_METRICS_BIND_ADDRESS',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'host:port for the metrics endpoint instead of METRICS_PORT (e.g. 127.0.0.1:9464)',
  },
  {
    name: 'LOG_FORMAT',
    readBy: 'ess-scale-in',
    secret: false,
    description: 'json (one object per line) or pretty; default json unless stdout is a terminal',
  },
  {
    name: 'LOG_LEVEL',
    readBy: 'ess-scale-in',
    secret: false,
    default: 'INFO',
    description: 'TRACE, DEBUG, INFO, WARN or ERROR',
  },
];

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(variable, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function bool(variable: string, value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  // The value of a boolean switch is no secret, but keep the habit: name the variable, not the value.
  throw new ConfigError(variable, 'expected true or false');
}

const ADDRESS = /^[^\s:/]+:\d{1,5}$/;

/**
 * Reads the Temporal connection from the environment. As the `temporal` CLI does, a profile of
 * Temporal's client config file (`@temporalio/envconfig`) is the base: the file `TEMPORAL_CONFIG_FILE`
 * names (it must exist), else the default file the library locates (`$XDG_CONFIG_HOME` or `$HOME`
 * based; absent: no profile); the profile `TEMPORAL_PROFILE` names (it must exist), else `default`
 * (may be absent). The same variables override the profile's fields. Rules either way: an API key
 * implies TLS (unless `TEMPORAL_TLS=false`), an mTLS certificate needs its key and the key its certificate.
 */
export function temporalConfigFromEnv(env: Env = process.env): TemporalConfig {
  const profile = profileFromFile(env);
  const address = env.TEMPORAL_ADDRESS?.trim() || profile?.address || '127.0.0.1:7233';
  if (!ADDRESS.test(address)) throw new ConfigError('TEMPORAL_ADDRESS', `expected host:port, got "${address}"`);
  const apiKey = env.TEMPORAL_API_KEY?.trim() || profile?.apiKey || undefined;

  const tls = tlsFromEnv(env, profile, apiKey);
  const metadata = { ...profile?.grpcMeta, ...grpcMetaFromEnv(env) };
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE?.trim() || profile?.namespace || DEFAULT_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE,
    apiKey,
    tls,
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** TLS from the TEMPORAL_TLS* variables over the profile's; an API key alone turns it on. */
function tlsFromEnv(
  env: Env,
  profile: ClientConfigProfile | undefined,
  apiKey: string | undefined,
): TemporalConfig['tls'] {
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH?.trim();
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH?.trim();
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH?.trim();
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim() || profile?.tls?.serverName || undefined;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new ConfigError(
      certPath ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      'mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
    );
  }
  const crt = certPath
    ? readFile('TEMPORAL_TLS_CLIENT_CERT_PATH', certPath)
    : fromSource('TEMPORAL_CONFIG_FILE', profile?.tls?.clientCert);
  const key = keyPath
    ? readFile('TEMPORAL_TLS_CLIENT_KEY_PATH', keyPath)
    : fromSource('TEMPORAL_CONFIG_FILE', profile?.tls?.clientKey);
  if (Boolean(crt) !== Boolean(key))
    throw new ConfigError(
      'TEMPORAL_CONFIG_FILE',
      'the profile has a client certificate or key without the other (mTLS needs both)',
    );
  const ca = caPath
    ? readFile('TEMPORAL_TLS_SERVER_CA_CERT_PATH', caPath)
    : fromSource('TEMPORAL_CONFIG_FILE', profile?.tls?.serverCACert);

  const explicit = bool('TEMPORAL_TLS', env.TEMPORAL_TLS) ?? (profile?.tls?.disabled === true ? false : undefined);
  if (explicit === false && (crt || ca)) {
    throw new ConfigError(
      'TEMPORAL_TLS',
      'is false, but a client certificate or server CA is configured; remove one of them',
    );
  }
  if (crt || ca || serverName)
    return {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(serverName ? { serverNameOverride: serverName } : {}),
    };
  if (explicit !== undefined) return explicit;
  if (apiKey || profile?.tls) return true;
  return undefined;
}

function grpcMetaFromEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('TEMPORAL_GRPC_META_') && v)
      out[k.slice('TEMPORAL_GRPC_META_'.length).toLowerCase().replace(/_/g, '-')] = v;
  }
  return out;
}

function fromSource(variable: string, source: ConfigDataSource | undefined): Buffer | undefined {
  if (!source) return undefined;
  if ('path' in source) return readFile(variable, source.path);
  return Buffer.from(source.data);
}

/**
 * The environment as `@temporalio/envconfig` sees it: it only locates the file (`TEMPORAL_CONFIG_FILE`,
 * `XDG_CONFIG_HOME`, `HOME`, …) and picks the profile (`TEMPORAL_PROFILE`); the overrides of the
 * profile's fields are applied by `temporalConfigFromEnv` with its own checks, so the library gets
 * `disableEnv`. Blank `TEMPORAL_CONFIG_FILE` / `TEMPORAL_PROFILE` count as unset: the library would
 * take "" for a file name and a profile name.
 */
function envconfigLocation(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  for (const k of ['TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) {
    const v = out[k]?.trim();
    if (v) out[k] = v;
    else delete out[k];
  }
  return out;
}

/**
 * The profile as stored in the config file: the named file, else the library's default file (missing:
 * an empty profile, as in the temporal CLI). Error messages never quote the file's content.
 */
function profileFromFile(env: Env): ClientConfigProfile {
  const location = envconfigLocation(env);
  const file = location.TEMPORAL_CONFIG_FILE;
  const named = location.TEMPORAL_PROFILE;
  // A broken default file is fixed there, or avoided by naming another file: either way TEMPORAL_CONFIG_FILE.
  const variable = 'TEMPORAL_CONFIG_FILE';
  const which = file
    ? 'the Temporal config file'
    : 'the default Temporal config file (temporalio/temporal.toml under $XDG_CONFIG_HOME or ~/.config)';
  // envconfig silently ignores a missing file: right for the default file; a file named explicitly must exist.
  const configSource = file ? { data: readFile('TEMPORAL_CONFIG_FILE', file) } : undefined;
  try {
    return loadClientConfigProfile({
      disableEnv: true,
      configFileStrict: true,
      overrideEnvVars: location,
      ...(configSource ? { configSource } : {}),
      ...(named ? { profile: named } : {}),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message = e instanceof Error ? e.message : '';
    // TOML parser messages quote the offending line, which may hold an api_key: keep only safe facts.
    if (code) throw new ConfigError(variable, `cannot read ${which}: ${code}`);
    if (/^Profile '.*' not found/.test(message))
      throw new ConfigError('TEMPORAL_PROFILE', `profile ${JSON.stringify(named ?? 'default')} not found in ${which}`);
    if (/^Validation error: key\(s\) unrecognized/.test(message))
      throw new ConfigError(variable, `${which}: ${message.replace(/^Validation error: /, '')}`);
    throw new ConfigError(variable, `${which} is not valid TOML (${e instanceof Error ? e.name : 'error'})`);
  }
}

/** Options for `Connection.connect` / `NativeConnection.connect`. */
export function connectionOptions(cfg: TemporalConfig): {
  address: string;
  apiKey?: string;
  tls?: Exclude<TemporalConfig['tls'], undefined>;
  metadata?: Record<string, string>;
} {
  return {
    address: cfg.address,
    ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}),
    ...(cfg.tls !== undefined ? { tls: cfg.tls } : {}),
    ...(cfg.metadata && Object.keys(cfg.metadata).length ? { metadata: cfg.metadata } : {}),
  };
}

/**
 * `ESS_SCALE_IN_API_RATE`: the worker's pace per product and action (src/aliyun/rate-limiter.ts);
 * unset or empty: no rule. Share an account budget between workers by giving each its part.
 */
export function apiRateRulesFromEnv(env: Env = process.env): ApiRateRule[] {
  const spec = env.ESS_SCALE_IN_API_RATE?.trim();
  if (!spec) return [];
  try {
    return parseApiRates(spec);
  } catch (e) {
    if (e instanceof ApiRateSpecError) throw new ConfigError('ESS_SCALE_IN_API_RATE', e.message);
    throw e;
  }
}
