import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AliyunApiError } from '../../src/aliyun/errors';
import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import { EmulatorAdminClient, startEmulator, validateScenario, type RunningEmulator } from '../../src/emulator';
import { ApiQuota, DEFAULT_API_QUOTA } from '../../src/emulator/quota';
import {
  TEST_GROUP,
  TEST_KEY,
  TEST_REGION,
  buildTestScenario,
  rawCall,
  testInstanceId,
} from '../../src/emulator/testing';

const SECOND_KEY = { accessKeyId: 'LTAItestEmulatorKey02', accessKeySecret: 'second-key-of-the-same-account' };
const describeGroups = { Action: 'DescribeScalingGroups', Version: '2014-08-28', RegionId: TEST_REGION };
const describeInstances = {
  Action: 'DescribeScalingInstances',
  Version: '2014-08-28',
  RegionId: TEST_REGION,
  ScalingGroupId: TEST_GROUP,
};

/** Windows of a minute: no window ends while the test sends its few calls. */
function quotaScenario() {
  return buildTestScenario({
    extra: {
      accessKeys: {
        [TEST_KEY.accessKeyId]: TEST_KEY.accessKeySecret,
        [SECOND_KEY.accessKeyId]: SECOND_KEY.accessKeySecret,
      },
      apiQuota: {
        limits: {
          'ess:DescribeScalingGroups': { calls: 3, windowSeconds: 60 },
          'ess:RemoveInstances': { calls: 1, windowSeconds: 60 },
          'ess:*': { calls: 2, windowSeconds: 60 },
          '*': { calls: 1000, windowSeconds: 60 },
        },
      },
    },
  });
}

describe('account API quota (scenario apiQuota)', () => {
  let emu: RunningEmulator;
  let admin: EmulatorAdminClient;
  let client: ClosableCloudClient;
  beforeAll(async () => {
    emu = await startEmulator({ scenario: quotaScenario() });
    admin = new EmulatorAdminClient(emu.url);
    client = createCloudClient({
      credentials: staticCredentials(TEST_KEY.accessKeyId, TEST_KEY.accessKeySecret),
      endpoints: { ess: emu.url, slb: emu.url, alb: emu.url, nlb: emu.url },
      rateLimiter: null,
    });
  });
  afterAll(async () => {
    await client?.close();
    await emu?.close();
  });

  it('answers up to the limit, then 400 Throttling.User in the real envelope, for any key of the account', async () => {
    // At the limit: 3 calls in the window, from two keys of the one account.
    const ok = [
      await rawCall(emu.url, describeGroups, TEST_KEY),
      await rawCall(emu.url, describeGroups, SECOND_KEY),
      await rawCall(emu.url, describeGroups, TEST_KEY),
    ];
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
    // Past it, whichever key asks.
    for (const key of [TEST_KEY, SECOND_KEY]) {
      const r = await rawCall(emu.url, describeGroups, key);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        RequestId: r.headers.get('x-acs-request-id'),
        HostId: 'ess.aliyuncs.com',
        Code: 'Throttling.User',
        Message: 'Request was denied due to user flow control.',
        Recommend: 'https://api.aliyun.com/troubleshoot?q=Throttling.User&product=Ess',
      });
    }
    // The call log counts them, without a fault mark: they came from the quota.
    const refused = await admin.calls({ action: 'DescribeScalingGroups', outcome: 'Throttling.User' });
    expect(refused).toHaveLength(2);
    for (const c of refused) {
      expect(c).toMatchObject({ httpStatus: 400, delivered: true });
      expect(c.fault).toBeUndefined();
    }
    expect(emu.state.quota.refusedCalls).toBe(2);
  });

  it('counts each action apart: `ess:*` is a limit per action, not one for the product', async () => {
    const a = [
      await rawCall(emu.url, describeInstances, TEST_KEY),
      await rawCall(emu.url, describeInstances, TEST_KEY),
    ];
    expect(a.map((r) => r.status)).toEqual([200, 200]);
    expect((await rawCall(emu.url, describeInstances, TEST_KEY)).json.Code).toBe('Throttling.User');
    // Another ESS action under the same `ess:*` still has its own two calls.
    const activities = { ...describeInstances, Action: 'DescribeScalingActivities' };
    expect((await rawCall(emu.url, activities, TEST_KEY)).status).toBe(200);
    // Other products fall under `*`.
    const clb = { Action: 'DescribeLoadBalancerAttribute', Version: '2014-05-15', RegionId: TEST_REGION };
    const r = await rawCall(emu.url, { ...clb, LoadBalancerId: 'lb-bp1test00000000000001' }, TEST_KEY);
    expect(r.status).toBe(200);
  });

  it('a throttled RemoveInstances has no effect; the typed client sees AliyunApiError Throttling.User', async () => {
    const req = { regionId: TEST_REGION, scalingGroupId: TEST_GROUP, instanceIds: [testInstanceId(1)] };
    await client.ess.removeInstances({ ...req, clientToken: 'quota-1' });
    const before = (await admin.state()).activities.length;
    let caught: unknown;
    try {
      await client.ess.removeInstances({ ...req, instanceIds: [testInstanceId(2)], clientToken: 'quota-2' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AliyunApiError);
    expect(caught).toMatchObject({ code: 'Throttling.User', httpStatus: 400 });
    const st = await admin.state();
    expect(st.activities).toHaveLength(before);
    expect(st.instances.find((i) => i.instanceId === testInstanceId(2))?.lifecycleState).toBe('InService');
  });

  it('starts counting again when the scenario is reset', async () => {
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(400);
    await admin.reset();
    expect((await rawCall(emu.url, describeGroups, TEST_KEY)).status).toBe(200);
  });
});

describe('account API quota: windows and defaults', () => {
  it('admits the limit per fixed window and again in the next window', () => {
    let now = 5_000;
    const quota = new ApiQuota(() => now);
    quota.load({ limits: { 'ess:RemoveInstances': 2 } });
    expect([quota.admit('ess', 'RemoveInstances'), quota.admit('ess', 'RemoveInstances')]).toEqual([true, true]);
    now += 999;
    expect(quota.admit('ess', 'RemoveInstances')).toBe(false);
    now += 1;
    expect(quota.admit('ess', 'RemoveInstances')).toBe(true);
    // Refused calls are not counted: the window still has room for one more.
    expect(quota.admit('ess', 'RemoveInstances')).toBe(true);
    expect(quota.admit('ess', 'RemoveInstances')).toBe(false);
    expect(quota.refusedCalls).toBe(2);
  });

  it('is off by default; `true` turns the default limits on', () => {
    const quota = new ApiQuota(() => 0);
    quota.load(undefined);
    expect(quota.enabled).toBe(false);
    expect(Array.from({ length: 1000 }, () => quota.admit('ess', 'RemoveInstances')).every(Boolean)).toBe(true);
    quota.load(true);
    expect(quota.limitOf('ess', 'RemoveInstances')).toEqual(DEFAULT_API_QUOTA['ess:RemoveInstances']);
    expect(quota.limitOf('slb', 'SetBackendServers')).toEqual(DEFAULT_API_QUOTA['*']);
    const calls = DEFAULT_API_QUOTA['ess:RemoveInstances']?.calls ?? 0;
    const admitted = Array.from({ length: calls + 1 }, () => quota.admit('ess', 'RemoveInstances'));
    expect(admitted.filter(Boolean)).toHaveLength(calls);
    expect(admitted.at(-1)).toBe(false);
  });

  it.each([
    [{ apiQuota: 'on' }, /scenario \.apiQuota: must be true, false or/],
    [{ apiQuota: { limit: {} } }, /scenario \.apiQuota\.limit: is not a field of apiQuota/],
    [
      { apiQuota: { limits: { RemoveInstances: 5 } } },
      /\.apiQuota\.limits\.RemoveInstances: is not "<product>:<Action>"/,
    ],
    [{ apiQuota: { limits: { 'ecs:*': 5 } } }, /\.apiQuota\.limits\.ecs:\*: is not/],
    [{ apiQuota: { limits: { 'ess:*': 0 } } }, /\.apiQuota\.limits\.ess:\*: must be a whole number of calls >= 1/],
    [{ apiQuota: { limits: { '*': { windowSeconds: 60 } } } }, /\.limits\.\*\.calls: is required/],
    [{ apiQuota: { limits: { '*': { calls: 5, windowSeconds: 0.5 } } } }, /\.limits\.\*\.windowSeconds: must be/],
  ])('refuses a bad apiQuota %j, naming the field', (extra, message) => {
    expect(() => validateScenario({ ...buildTestScenario(), ...extra })).toThrow(message);
  });
});
