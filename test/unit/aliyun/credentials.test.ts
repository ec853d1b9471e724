import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCredentialChain, staticCredentials } from '../../../src/aliyun/credentials';
import { AliyunCredentialsError } from '../../../src/aliyun/errors';

const SECRET = 'cli-secret-value-0123456789';

/** Every variable the library's default chain consults. */
const CHAIN_VARS = [
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
  'ALIBABA_CLOUD_ROLE_ARN',
  'ALIBABA_CLOUD_OIDC_PROVIDER_ARN',
  'ALIBABA_CLOUD_OIDC_TOKEN_FILE',
  'ALIBABA_CLOUD_PROFILE',
  'ALIBABA_CLOUD_CLI_PROFILE_DISABLED',
  'ALIBABA_CLOUD_CREDENTIALS_FILE',
  'ALIBABA_CLOUD_ECS_METADATA',
  'ALIBABA_CLOUD_ECS_METADATA_DISABLED',
  'ALIBABA_CLOUD_IMDSV1_DISABLED',
  'ALIBABA_CLOUD_CREDENTIALS_URI',
  'HOME',
];

let saved: Record<string, string | undefined>;
let home: string;
let connectAttempts: unknown[];
let realConnect: typeof net.Socket.prototype.connect;

beforeEach(() => {
  saved = Object.fromEntries(CHAIN_VARS.map((k) => [k, process.env[k]]));
  for (const k of CHAIN_VARS) delete process.env[k];
  home = mkdtempSync(join(tmpdir(), 'aliyun-creds-'));
  process.env.HOME = home;
  // Belt and braces: any socket the chain opens (the ECS metadata service at 100.100.100.200) is
  // recorded and refused here, so no test can reach the network whatever the library decides.
  connectAttempts = [];
  realConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connectAttempts.push(args[0]);
    process.nextTick(() =>
      this.destroy(Object.assign(new Error('network disabled in tests'), { code: 'ECONNREFUSED' })),
    );
    return this;
  } as typeof realConnect;
});

afterEach(() => {
  net.Socket.prototype.connect = realConnect;
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(home, { recursive: true, force: true });
});

describe('staticCredentials', () => {
  it('returns the given values, and the provider object serialises without them', async () => {
    const p = staticCredentials('id', 'the-secret', 'the-token');
    await expect(p.getCredentials()).resolves.toEqual({
      accessKeyId: 'id',
      accessKeySecret: 'the-secret',
      securityToken: 'the-token',
    });
    expect(JSON.stringify(p)).not.toContain('the-secret');
    expect(inspect(p, { depth: 5 })).not.toContain('the-secret');
  });

  it('rejects an empty AccessKeySecret with AliyunCredentialsError', () => {
    expect(() => staticCredentials('id', '')).toThrow(AliyunCredentialsError);
  });
});

describe('defaultCredentialChain', () => {
  it(
    'takes the ALIBABA_CLOUD_* environment variables without touching the network ' + '(metadata lookup left enabled)',
    async () => {
      process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'env-id';
      process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'env-secret';
      process.env.ALIBABA_CLOUD_SECURITY_TOKEN = 'env-token';
      const creds = await defaultCredentialChain().getCredentials();
      expect(creds).toEqual({ accessKeyId: 'env-id', accessKeySecret: 'env-secret', securityToken: 'env-token' });
      expect(connectAttempts).toEqual([]);
    },
  );

  it('reads the aliyun CLI profile from ~/.aliyun/config.json', async () => {
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
    mkdirSync(join(home, '.aliyun'));
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'work',
        profiles: [{ name: 'work', mode: 'AK', access_key_id: 'cli-id', access_key_secret: SECRET }],
      }),
    );
    await expect(defaultCredentialChain().getCredentials()).resolves.toEqual({
      accessKeyId: 'cli-id',
      accessKeySecret: SECRET,
      securityToken: undefined,
    });
    expect(connectAttempts).toEqual([]);
  });

  it('fails with AliyunCredentialsError naming the env vars when nothing is configured', async () => {
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
    const err = await defaultCredentialChain()
      .getCredentials()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AliyunCredentialsError);
    expect((err as AliyunCredentialsError).name).toBe('AliyunCredentialsError');
    expect((err as AliyunCredentialsError).code).toBe('CredentialsUnavailable');
    expect((err as Error).message).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
    expect((err as Error).message).toContain('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    expect((err as Error).message).toContain('ECS metadata lookup is disabled');
    expect(connectAttempts).toEqual([]);
  });

  it('does not echo a broken CLI config (which may hold secrets) in its error', async () => {
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
    mkdirSync(join(home, '.aliyun'));
    writeFileSync(join(home, '.aliyun', 'config.json'), `{"profiles":[{"access_key_secret":"${SECRET}"`);
    const err = await defaultCredentialChain()
      .getCredentials()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AliyunCredentialsError);
    expect((err as Error).message).toMatch(/config\.json is not valid JSON/);
    for (const text of [(err as Error).message, JSON.stringify(err), inspect(err, { depth: 10 })])
      expect(text).not.toContain(SECRET);
  });

  it('recovers once credentials appear after a failure', async () => {
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';
    const chain = defaultCredentialChain();
    await expect(chain.getCredentials()).rejects.toBeInstanceOf(AliyunCredentialsError);
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'late-id';
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'late-secret';
    await expect(chain.getCredentials()).resolves.toMatchObject({
      accessKeyId: 'late-id',
      accessKeySecret: 'late-secret',
    });
  });
});
