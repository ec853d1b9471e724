import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { ConfigError, connectionOptions, temporalConfigFromEnv } from '../../src/config';
import { metricsBindAddressFromEnv } from '../../src/observability/metrics';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-config-test-'));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvkey-material\n-----END PRIVATE KEY-----\n';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const CERT = file('client.pem', CERT_PEM);
const KEY = file('client.key', KEY_PEM);
const CA = file('ca.pem', CA_PEM);
const API_KEY = 'eyJhbGciOiJFUzI1NiJ9.tmprl-cloud-api-key-do-not-print.sig';

/** Runs `fn`, expects a ConfigError, returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('temporalConfigFromEnv', () => {
  it('defaults to a local plaintext server, namespace default, task queue ess-scale-in', () => {
    const cfg = temporalConfigFromEnv({});
    expect(cfg).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'ess-scale-in',
      apiKey: undefined,
      tls: undefined,
    });
    expect(connectionOptions(cfg)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('reads address, namespace and task queue, trimming blanks', () => {
    const cfg = temporalConfigFromEnv({
      TEMPORAL_ADDRESS: ' temporal:7233 ',
      TEMPORAL_NAMESPACE: 'ops',
      TEMPORAL_TASK_QUEUE: 'scale-in-prod',
      TEMPORAL_API_KEY: '  ',
    });
    expect(cfg).toMatchObject({
      address: 'temporal:7233',
      namespace: 'ops',
      taskQueue: 'scale-in-prod',
      apiKey: undefined,
      tls: undefined,
    });
  });

  it('an API key (Temporal Cloud) implies TLS; TEMPORAL_TLS=false turns it off explicitly', () => {
    const cloud = temporalConfigFromEnv({
      TEMPORAL_ADDRESS: 'ops.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ops.a1b2c',
      TEMPORAL_API_KEY: API_KEY,
    });
    expect(cloud.tls).toBe(true);
    expect(connectionOptions(cloud)).toEqual({ address: 'ops.a1b2c.tmprl.cloud:7233', apiKey: API_KEY, tls: true });
    const plain = temporalConfigFromEnv({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    expect(plain.tls).toBe(false);
    expect(connectionOptions(plain)).toEqual({ address: '127.0.0.1:7233', apiKey: API_KEY, tls: false });
    expect(temporalConfigFromEnv({ TEMPORAL_TLS: 'true' }).tls).toBe(true);
  });

  it('mTLS: certificate and key together, with an optional CA and server name', () => {
    const cfg = temporalConfigFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: CERT,
      TEMPORAL_TLS_CLIENT_KEY_PATH: KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(cfg.tls).toEqual({
      clientCertPair: { crt: Buffer.from(CERT_PEM), key: Buffer.from(KEY_PEM) },
      serverRootCACertificate: Buffer.from(CA_PEM),
      serverNameOverride: 'temporal.internal',
    });
    expect(connectionOptions(cfg).tls).toBe(cfg.tls);
    // A CA alone: server-verified TLS without a client certificate.
    expect(temporalConfigFromEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA }).tls).toEqual({
      serverRootCACertificate: Buffer.from(CA_PEM),
    });
  });

  it('mTLS needs both paths; the error names the missing variable', () => {
    const noKey = configError(() => temporalConfigFromEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: CERT }));
    expect(noKey.variable).toBe('TEMPORAL_TLS_CLIENT_KEY_PATH');
    expect(noKey.message).toMatch(/^TEMPORAL_TLS_CLIENT_KEY_PATH: mTLS needs both/);
    const noCert = configError(() => temporalConfigFromEnv({ TEMPORAL_TLS_CLIENT_KEY_PATH: KEY }));
    expect(noCert.variable).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(noCert.code).toBe('InvalidConfig');
  });

  it('names the variable whose file cannot be read, without quoting any file content', () => {
    const e = configError(() =>
      temporalConfigFromEnv({
        TEMPORAL_TLS_CLIENT_CERT_PATH: CERT,
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'missing.key'),
      }),
    );
    expect(e.variable).toBe('TEMPORAL_TLS_CLIENT_KEY_PATH');
    expect(e.message).toMatch(/cannot read .*missing\.key: ENOENT/);
    expect(e.message).not.toMatch(/BEGIN|MIIB/);
  });

  it('refuses malformed values with a ConfigError naming the variable, and never echoes a secret', () => {
    const addr = configError(() =>
      temporalConfigFromEnv({ TEMPORAL_ADDRESS: 'https://temporal:7233', TEMPORAL_API_KEY: API_KEY }),
    );
    expect(addr.variable).toBe('TEMPORAL_ADDRESS');
    const tls = configError(() => temporalConfigFromEnv({ TEMPORAL_TLS: 'maybe', TEMPORAL_API_KEY: API_KEY }));
    expect(tls.variable).toBe('TEMPORAL_TLS');
    const conflict = configError(() =>
      temporalConfigFromEnv({
        TEMPORAL_TLS: 'false',
        TEMPORAL_TLS_CLIENT_CERT_PATH: CERT,
        TEMPORAL_TLS_CLIENT_KEY_PATH: KEY,
        TEMPORAL_API_KEY: API_KEY,
      }),
    );
    expect(conflict.variable).toBe('TEMPORAL_TLS');
    const mtls = configError(() =>
      temporalConfigFromEnv({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT }),
    );
    for (const e of [addr, tls, conflict, mtls]) {
      expect(e.message).not.toContain(API_KEY);
      expect(JSON.stringify(e)).not.toContain(API_KEY);
      expect(String(e.stack)).not.toContain(API_KEY);
    }
  });

  it('sends TEMPORAL_GRPC_META_* as gRPC headers', () => {
    const cfg = temporalConfigFromEnv({ TEMPORAL_GRPC_META_X_TENANT_ID: 'blue' });
    expect(connectionOptions(cfg).metadata).toEqual({ 'x-tenant-id': 'blue' });
  });
});

describe('temporalConfigFromEnv with a Temporal client config file (@temporalio/envconfig)', () => {
  const toml = file(
    'temporal.toml',
    [
      '[profile.default]',
      'address = "localhost:7233"',
      'namespace = "dev"',
      '',
      '[profile.prod]',
      'address = "ops.a1b2c.tmprl.cloud:7233"',
      'namespace = "ops.a1b2c"',
      `api_key = "${API_KEY}"`,
      '',
      '[profile.mtls]',
      'address = "temporal.internal:7233"',
      '[profile.mtls.tls]',
      `client_cert_path = "${CERT}"`,
      `client_key_path = "${KEY}"`,
      'server_name = "temporal.internal"',
      '[profile.mtls.grpc_meta]',
      'x-team = "infra"',
    ].join('\n'),
  );

  it('loads the default profile, or the one TEMPORAL_PROFILE names', () => {
    expect(temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml })).toMatchObject({
      address: 'localhost:7233',
      namespace: 'dev',
      apiKey: undefined,
      tls: undefined,
    });
    const prod = temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(prod).toMatchObject({
      address: 'ops.a1b2c.tmprl.cloud:7233',
      namespace: 'ops.a1b2c',
      apiKey: API_KEY,
      tls: true,
    });
    const mtls = temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls' });
    expect(mtls.tls).toEqual({
      clientCertPair: { crt: Buffer.from(CERT_PEM), key: Buffer.from(KEY_PEM) },
      serverNameOverride: 'temporal.internal',
    });
    expect(mtls.metadata).toEqual({ 'x-team': 'infra' });
  });

  it('lets the TEMPORAL_* variables override the profile', () => {
    const cfg = temporalConfigFromEnv({
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'other.a1b2c',
      TEMPORAL_TASK_QUEUE: 'q',
      TEMPORAL_TLS: 'false',
    });
    expect(cfg).toMatchObject({
      address: 'ops.a1b2c.tmprl.cloud:7233',
      namespace: 'other.a1b2c',
      taskQueue: 'q',
      apiKey: API_KEY,
      tls: false,
    });
  });

  it('reports a missing file, an unknown profile and a broken file by variable, without secrets', () => {
    const missing = configError(() => temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') }));
    expect(missing.variable).toBe('TEMPORAL_CONFIG_FILE');
    expect(missing.message).toMatch(/ENOENT/);
    const profile = configError(() =>
      temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }),
    );
    expect(profile.variable).toBe('TEMPORAL_PROFILE');
    expect(profile.message).toMatch(/"staging" not found/);
    const broken = file('broken.toml', `[profile.default]\napi_key = "${API_KEY}\naddress = `);
    const bad = configError(() => temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: broken }));
    expect(bad.variable).toBe('TEMPORAL_CONFIG_FILE');
    expect(bad.message).toMatch(/not valid TOML/);
    expect(bad.message).not.toContain(API_KEY);
    const typo = configError(() =>
      temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: file('typo.toml', `[profile.default]\napikey = "${API_KEY}"\n`) }),
    );
    expect(typo.message).toMatch(/unrecognized.*apikey/);
    expect(typo.message).not.toContain(API_KEY);
  });
});

/** The default file as `@temporalio/envconfig` (and the temporal CLI) finds it on Linux. */
function defaultConfigFile(configHome: string, content: string): string {
  mkdirSync(path.join(configHome, 'temporalio'), { recursive: true });
  const p = path.join(configHome, 'temporalio', 'temporal.toml');
  writeFileSync(p, content);
  return p;
}

describe.runIf(process.platform === 'linux')('temporalConfigFromEnv with the default config file', () => {
  const DEFAULT_TOML = [
    '[profile.default]',
    'address = "temporal.internal:7233"',
    'namespace = "from-default-file"',
    '[profile.cloud]',
    'address = "ops.a1b2c.tmprl.cloud:7233"',
    `api_key = "${API_KEY}"`,
  ].join('\n');
  const fresh = (name: string) => mkdtempSync(path.join(dir, `${name}-`));

  it('reads the default profile of $XDG_CONFIG_HOME/temporalio/temporal.toml without any TEMPORAL_* variable', () => {
    const xdg = fresh('xdg');
    defaultConfigFile(xdg, DEFAULT_TOML);
    expect(temporalConfigFromEnv({ XDG_CONFIG_HOME: xdg, HOME: fresh('home') })).toMatchObject({
      address: 'temporal.internal:7233',
      namespace: 'from-default-file',
      apiKey: undefined,
      tls: undefined,
    });
  });

  it('falls back to ~/.config/temporalio/temporal.toml, and a blank TEMPORAL_CONFIG_FILE counts as unset', () => {
    const home = fresh('home');
    defaultConfigFile(path.join(home, '.config'), DEFAULT_TOML);
    expect(temporalConfigFromEnv({ HOME: home }).namespace).toBe('from-default-file');
    expect(temporalConfigFromEnv({ HOME: home, TEMPORAL_CONFIG_FILE: ' ', TEMPORAL_PROFILE: '' })).toMatchObject({
      address: 'temporal.internal:7233',
      namespace: 'from-default-file',
    });
    // The variables still override the profile's fields, and TEMPORAL_PROFILE picks another profile.
    expect(temporalConfigFromEnv({ HOME: home, TEMPORAL_NAMESPACE: 'ops' }).namespace).toBe('ops');
    expect(temporalConfigFromEnv({ HOME: home, TEMPORAL_PROFILE: 'cloud' })).toMatchObject({
      address: 'ops.a1b2c.tmprl.cloud:7233',
      apiKey: API_KEY,
      tls: true,
    });
  });

  it('treats a missing default file, or one without a default profile, as no profile', () => {
    const defaults = { address: '127.0.0.1:7233', namespace: 'default', apiKey: undefined, tls: undefined };
    expect(temporalConfigFromEnv({ HOME: fresh('empty-home') })).toMatchObject(defaults);
    expect(temporalConfigFromEnv({ XDG_CONFIG_HOME: fresh('empty-xdg') })).toMatchObject(defaults);
    const xdg = fresh('xdg');
    defaultConfigFile(xdg, '[profile.other]\naddress = "other:7233"\n');
    expect(temporalConfigFromEnv({ XDG_CONFIG_HOME: xdg })).toMatchObject(defaults);
    // A profile named explicitly must exist, in the default file as in a named one.
    const e = configError(() => temporalConfigFromEnv({ XDG_CONFIG_HOME: xdg, TEMPORAL_PROFILE: 'prod' }));
    expect(e.variable).toBe('TEMPORAL_PROFILE');
    expect(e.message).toMatch(/"prod" not found in the default Temporal config file/);
  });

  it('a named TEMPORAL_CONFIG_FILE wins over the default file, and must exist even when the default one does', () => {
    const xdg = fresh('xdg');
    defaultConfigFile(xdg, DEFAULT_TOML);
    const named = file('named.toml', '[profile.default]\nnamespace = "from-named-file"\n');
    expect(temporalConfigFromEnv({ XDG_CONFIG_HOME: xdg, TEMPORAL_CONFIG_FILE: named }).namespace).toBe(
      'from-named-file',
    );
    const missing = configError(() =>
      temporalConfigFromEnv({ XDG_CONFIG_HOME: xdg, TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') }),
    );
    expect(missing.variable).toBe('TEMPORAL_CONFIG_FILE');
    expect(missing.message).toMatch(/absent\.toml: ENOENT/);
  });

  it('applies the same strict checks to the default file, without quoting secrets', () => {
    const cloud = fresh('xdg');
    defaultConfigFile(cloud, `[profile.default]\naddress = "ops.a1b2c.tmprl.cloud:7233"\napi_key = "${API_KEY}"\n`);
    expect(temporalConfigFromEnv({ XDG_CONFIG_HOME: cloud })).toMatchObject({ apiKey: API_KEY, tls: true });
    const yes = configError(() => temporalConfigFromEnv({ XDG_CONFIG_HOME: cloud, TEMPORAL_TLS: 'yes' }));
    expect(yes.variable).toBe('TEMPORAL_TLS');

    const halfMtls = fresh('xdg');
    defaultConfigFile(
      halfMtls,
      `[profile.default]\naddress = "t:7233"\n[profile.default.tls]\nclient_cert_path = "${CERT}"\n`,
    );
    const mtls = configError(() => temporalConfigFromEnv({ XDG_CONFIG_HOME: halfMtls }));
    expect(mtls.variable).toBe('TEMPORAL_CONFIG_FILE');
    expect(mtls.message).toMatch(/mTLS needs both/);

    const broken = fresh('xdg');
    defaultConfigFile(broken, `[profile.default]\napi_key = "${API_KEY}\naddress = `);
    const bad = configError(() => temporalConfigFromEnv({ XDG_CONFIG_HOME: broken }));
    expect(bad.variable).toBe('TEMPORAL_CONFIG_FILE');
    expect(bad.message).toMatch(/default Temporal config file .* is not valid TOML/);

    const typo = fresh('xdg');
    defaultConfigFile(typo, `[profile.default]\napikey = "${API_KEY}"\n`);
    const unknown = configError(() => temporalConfigFromEnv({ XDG_CONFIG_HOME: typo }));
    expect(unknown.message).toMatch(/unrecognized.*apikey/);
    for (const e of [yes, mtls, bad, unknown]) {
      expect(e.message).not.toContain(API_KEY);
      expect(String(e.stack)).not.toContain(API_KEY);
    }
  });
});

describe('metricsBindAddressFromEnv', () => {
  it('is off by default, binds all interfaces for METRICS_PORT, and an explicit bind address wins', () => {
    expect(metricsBindAddressFromEnv({})).toBeUndefined();
    expect(metricsBindAddressFromEnv({ METRICS_PORT: '9464' })).toBe('0.0.0.0:9464');
    expect(metricsBindAddressFromEnv({ METRICS_PORT: '9464', TEMPORAL_METRICS_BIND_ADDRESS: '127.0.0.1:9100' })).toBe(
      '127.0.0.1:9100',
    );
    expect(metricsBindAddressFromEnv({ TEMPORAL_METRICS_BIND_ADDRESS: '[::1]:9100' })).toBe('[::1]:9100');
  });

  it('refuses bad ports and addresses, naming the variable', () => {
    for (const v of ['0', '70000', 'abc', '9464x'])
      expect(configError(() => metricsBindAddressFromEnv({ METRICS_PORT: v })).variable).toBe('METRICS_PORT');
    for (const v of ['9464', 'localhost', 'http://0.0.0.0:9464', '0.0.0.0:99999']) {
      expect(configError(() => metricsBindAddressFromEnv({ TEMPORAL_METRICS_BIND_ADDRESS: v })).variable).toBe(
        'TEMPORAL_METRICS_BIND_ADDRESS',
      );
    }
  });
});
