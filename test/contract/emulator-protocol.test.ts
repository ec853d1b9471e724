import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createCloudClient, staticCredentials } from '../../src/aliyun';
import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient } from '../../src/aliyun';
import { AliyunApiError } from '../../src/aliyun/errors';
import { startEmulator, type EmulatorAdminClient } from '../../src/emulator';
import type { RunningEmulator } from '../../src/emulator';
import { TEST_GROUP, TEST_KEY, TEST_REGION, buildTestScenario, rawCall } from '../../src/emulator/testing';

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const ENVELOPE_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId'];

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

const describeGroups = { Action: 'DescribeScalingGroups', Version: '2014-08-28', RegionId: TEST_REGION };

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv());
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

beforeEach(async () => {
  await admin.reset();
});

describe('signature V1 and the gateway checks', () => {
  it('accepts a correctly signed POST and GET, with a fresh uppercase RequestId each time', async () => {
    const a = await rawCall(emu.url, describeGroups, { ...TEST_KEY, method: 'POST' });
    const b = await rawCall(emu.url, describeGroups, { ...TEST_KEY, method: 'GET' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.json.RequestId).toMatch(UPPER_UUID);
    expect(b.json.RequestId).toMatch(UPPER_UUID);
    expect(a.json.RequestId).not.toBe(b.json.RequestId);
    expect(a.headers.get('x-acs-request-id')).toBe(a.json.RequestId);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    expect(a.json.ScalingGroups.ScalingGroup[0].ScalingGroupId).toBe(TEST_GROUP);
  });

  it('signs over query and form body together (POST body parameters are part of the signature)', async () => {
    const ok = await rawCall(
      emu.url,
      { Action: 'DescribeScalingGroups', Version: '2014-08-28' },
      { ...TEST_KEY, body: { RegionId: TEST_REGION } },
    );
    expect(ok.status).toBe(200);
    const forged = await rawCall(
      emu.url,
      { Action: 'DescribeScalingGroups', Version: '2014-08-28' },
      { ...TEST_KEY, body: { RegionId: TEST_REGION }, tamper: (s) => (s.PageSize = '5') },
    );
    expect(forged.status).toBe(400);
    expect(forged.json.Code).toBe('SignatureDoesNotMatch');
  });

  it('verifies with the real HTTP method: a GET signature sent as POST does not match', async () => {
    const r = await rawCall(emu.url, describeGroups, { ...TEST_KEY, method: 'POST', signMethod: 'GET' });
    expect(r.status).toBe(400);
    expect(r.json.Code).toBe('SignatureDoesNotMatch');
  });

  it('wrong secret: 400 SignatureDoesNotMatch with the exact envelope and no secret in it', async () => {
    const r = await rawCall(emu.url, describeGroups, {
      accessKeyId: TEST_KEY.accessKeyId,
      accessKeySecret: 'not-the-secret',
    });
    expect(r.status).toBe(400);
    expect(Object.keys(r.json).sort()).toEqual(ENVELOPE_KEYS);
    expect(r.json).toMatchObject({
      Code: 'SignatureDoesNotMatch',
      Message: 'Specified signature is not matched with our calculation.',
      HostId: 'ess.aliyuncs.com',
      Recommend: 'https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&product=Ess',
    });
    expect(r.json.RequestId).toMatch(UPPER_UUID);
    expect(r.text).not.toContain(TEST_KEY.accessKeySecret);
    expect(r.text).not.toContain('not-the-secret');
  });

  it('the typed client surfaces the same error', async () => {
    const bad = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, 'wrong-secret'),
      endpoints: { ess: emu.url },
    });
    try {
      const err = await bad.ess.describeScalingGroup(TEST_REGION, TEST_GROUP).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AliyunApiError);
      expect((err as AliyunApiError).code).toBe('SignatureDoesNotMatch');
      expect((err as AliyunApiError).httpStatus).toBe(400);
    } finally {
      await bad.close();
    }
  });

  it('unknown AccessKeyId: 404 InvalidAccessKeyId.NotFound', async () => {
    const r = await rawCall(emu.url, describeGroups, { accessKeyId: 'LTAInobody', accessKeySecret: 'x' });
    expect(r.status).toBe(404);
    expect(r.json.Code).toBe('InvalidAccessKeyId.NotFound');
  });

  it('a reused SignatureNonce is refused (same key, within 15 minutes) though the signature is valid', async () => {
    const nonce = randomUUID();
    const first = await rawCall(emu.url, describeGroups, { ...TEST_KEY, nonce });
    const second = await rawCall(emu.url, describeGroups, { ...TEST_KEY, nonce });
    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.json.Code).toBe('SignatureNonceUsed');
  });

  it('a failed signature does not burn the nonce', async () => {
    const nonce = randomUUID();
    const bad = await rawCall(emu.url, describeGroups, {
      accessKeyId: TEST_KEY.accessKeyId,
      accessKeySecret: 'wrong',
      nonce,
    });
    expect(bad.json.Code).toBe('SignatureDoesNotMatch');
    const good = await rawCall(emu.url, describeGroups, { ...TEST_KEY, nonce });
    expect(good.status).toBe(200);
  });

  it('Timestamp more than 15 minutes off (either way) is InvalidTimeStamp.Expired; 10 minutes is fine', async () => {
    const past = await rawCall(emu.url, describeGroups, { ...TEST_KEY, now: new Date(Date.now() - 16 * 60_000) });
    const future = await rawCall(emu.url, describeGroups, { ...TEST_KEY, now: new Date(Date.now() + 16 * 60_000) });
    const near = await rawCall(emu.url, describeGroups, { ...TEST_KEY, now: new Date(Date.now() - 10 * 60_000) });
    expect(past.status).toBe(400);
    expect(past.json.Code).toBe('InvalidTimeStamp.Expired');
    expect(future.json.Code).toBe('InvalidTimeStamp.Expired');
    expect(near.status).toBe(200);
  });

  it('unknown action or version: 404 InvalidAction.NotFound', async () => {
    const a = await rawCall(emu.url, { ...describeGroups, Action: 'DescribeNothing' }, TEST_KEY);
    const v = await rawCall(emu.url, { ...describeGroups, Version: '2099-01-01' }, TEST_KEY);
    const crossProduct = await rawCall(emu.url, { ...describeGroups, Version: '2014-05-15' }, TEST_KEY);
    // Names of Object.prototype members are unknown actions too, not a 500.
    const inherited = await rawCall(emu.url, { ...describeGroups, Action: 'constructor' }, TEST_KEY);
    const toString = await rawCall(emu.url, { ...describeGroups, Action: 'toString' }, TEST_KEY);
    for (const r of [a, v, crossProduct, inherited, toString]) {
      expect(r.status).toBe(404);
      expect(r.json.Code).toBe('InvalidAction.NotFound');
    }
  });

  it('missing required parameter: 400 MissingParameter naming it', async () => {
    const r = await rawCall(emu.url, { Action: 'DescribeScalingGroups', Version: '2014-08-28' }, TEST_KEY);
    expect(r.status).toBe(400);
    expect(r.json.Code).toBe('MissingParameter');
    expect(r.json.Message).toContain('"RegionId"');
    const rm = await rawCall(
      emu.url,
      {
        Action: 'RemoveInstances',
        Version: '2014-08-28',
        RegionId: TEST_REGION,
        'InstanceId.1': 'i-bp1test0000000000001',
      },
      TEST_KEY,
    );
    expect(rm.json.Code).toBe('MissingParameter');
    expect(rm.json.Message).toContain('"ScalingGroupId"');
  });

  it('bad value: 400 InvalidParameter (PageSize over 50, non-boolean flag)', async () => {
    const r = await rawCall(emu.url, { ...describeGroups, PageSize: '51' }, TEST_KEY);
    expect(r.status).toBe(400);
    expect(r.json.Code).toBe('InvalidParameter');
    expect(r.json.Message).toContain('PageSize');
    const b = await rawCall(
      emu.url,
      {
        Action: 'RemoveInstances',
        Version: '2014-08-28',
        ScalingGroupId: TEST_GROUP,
        'InstanceId.1': 'i-bp1test0000000000001',
        DecreaseDesiredCapacity: 'maybe',
      },
      TEST_KEY,
    );
    expect(b.json.Code).toBe('InvalidParameter');
  });

  it('Format=XML is answered in JSON (documented simplification)', async () => {
    const r = await rawCall(emu.url, { ...describeGroups, Format: 'XML' }, TEST_KEY);
    expect(r.status).toBe(200);
    expect(r.json.TotalCount).toBe(1);
  });

  it('CLB and ALB errors carry their own HostId and Recommend product', async () => {
    const slb = await rawCall(
      emu.url,
      {
        Action: 'DescribeLoadBalancerAttribute',
        Version: '2014-05-15',
        RegionId: TEST_REGION,
        LoadBalancerId: 'lb-nope',
      },
      TEST_KEY,
    );
    expect(slb.status).toBe(404);
    expect(slb.json).toMatchObject({ Code: 'InvalidLoadBalancerId.NotFound', HostId: 'slb.aliyuncs.com' });
    expect(slb.json.Recommend).toBe('https://api.aliyun.com/troubleshoot?q=InvalidLoadBalancerId.NotFound&product=Slb');
    const alb = await rawCall(
      emu.url,
      { Action: 'ListServerGroupServers', Version: '2020-06-16', ServerGroupId: 'sgp-nope' },
      TEST_KEY,
    );
    expect(alb.status).toBe(404);
    expect(alb.json).toMatchObject({ Code: 'ResourceNotFound.ServerGroup', HostId: 'alb.cn-hangzhou.aliyuncs.com' });
  });

  it('admin routes are unsigned and separate from the API', async () => {
    const res = await fetch(`${emu.url}/__emulator/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, scenario: 'contract-test' });
    const unknown = await fetch(`${emu.url}/__emulator/nope`);
    expect(unknown.status).toBe(404);
  });

  it('an unsigned API call is refused', async () => {
    const res = await fetch(`${emu.url}/?Action=DescribeScalingGroups&Version=2014-08-28&RegionId=${TEST_REGION}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { Code: string; Message: string };
    expect(body.Code).toBe('MissingParameter');
    expect(body.Message).toContain('AccessKeyId');
  });

  it('access keys can come from EMULATOR_ACCESS_KEYS when neither options nor scenario give any', async () => {
    const scenario = buildTestScenario();
    delete scenario.accessKeys;
    const saved = process.env.EMULATOR_ACCESS_KEYS;
    process.env.EMULATOR_ACCESS_KEYS = 'LTAIenvKey:env:secret:with:colons';
    try {
      const e2 = await startEmulator({ scenario });
      try {
        const ok = await rawCall(e2.url, describeGroups, {
          accessKeyId: 'LTAIenvKey',
          accessKeySecret: 'env:secret:with:colons',
        });
        expect(ok.status).toBe(200);
        expect(e2.state.snapshot().accessKeyIds).toEqual(['LTAIenvKey']);
      } finally {
        await e2.close();
      }
    } finally {
      if (saved === undefined) delete process.env.EMULATOR_ACCESS_KEYS;
      else process.env.EMULATOR_ACCESS_KEYS = saved;
    }
  });

  it('every answer, success or error, carries a distinct RequestId', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ids.add((await rawCall(emu.url, describeGroups, TEST_KEY)).json.RequestId);
      ids.add((await rawCall(emu.url, { ...describeGroups, Action: 'Nope' }, TEST_KEY)).json.RequestId);
    }
    expect(ids.size).toBe(10);
  });
});
