import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALB_JOB_ID_FILTER_MAX, ALB_MAX_RESULTS, ALB_SERVER_ID_FILTER_MAX } from '../../src/aliyun/alb';
import { CLB_MAX_BACKENDS } from '../../src/aliyun/clb';
import { ESS_LIFECYCLE_ACTIONS_MAX_RESULTS, ESS_MAX_IDS, ESS_PAGE_SIZE } from '../../src/aliyun/ess';
import {
  TEST_ALB,
  TEST_GROUP,
  TEST_KEY,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  rawCall,
  testInstanceId,
  type RawResponse,
} from '../../src/emulator/testing';
import { startContractEnv, stopContractEnv, type ContractEnv } from './harness';

/**
 * Every per-call limit of docs/emulator.md "Per-call limits": each at the limit (accepted) and one past it
 * (refused with 400 InvalidParameter and no effect), out-of-range and gapped `.N` indexes, and the client's
 * splitting or local refusal. Raw signed calls go past the client, which never sends an oversized call.
 */
const COUNT = 60;
let env: ContractEnv;

beforeAll(async () => {
  env = await startContractEnv({ count: COUNT });
});

afterAll(async () => {
  await stopContractEnv(env);
});

beforeEach(async () => {
  await env.admin.reset();
});

const VERSIONS = { ess: '2014-08-28', slb: '2014-05-15', alb: '2020-06-16' } as const;

function call(product: keyof typeof VERSIONS, action: string, params: Record<string, string>): Promise<RawResponse> {
  const region: Record<string, string> = product === 'alb' ? {} : { RegionId: TEST_REGION };
  return rawCall(env.emu.url, { Action: action, Version: VERSIONS[product], ...region, ...params }, TEST_KEY);
}

/** `Name.1` .. `Name.n` = values(1) .. values(n). */
function indexed(name: string, n: number, value: (i: number) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i++) out[`${name}.${i}`] = value(i);
  return out;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => testInstanceId(i + 1));

function expectRefused(r: RawResponse, param: string, code = 'InvalidParameter'): void {
  expect([r.status, r.json.Code]).toEqual([400, code]);
  expect(r.json.Message).toContain(param);
}

function callsOf(action: string): Array<Record<string, string>> {
  return env.emu.state.callLog({ action }).map((c) => c.params);
}

function countIndexed(params: Record<string, string>, name: string): number {
  return Object.keys(params).filter((k) => new RegExp(`^${name.replace(/\./g, '\\.')}\\.\\d+$`).test(k)).length;
}

describe('the client and the emulator agree on the limits', () => {
  it('has the documented values', () => {
    expect([ESS_MAX_IDS, ESS_PAGE_SIZE, ESS_LIFECYCLE_ACTIONS_MAX_RESULTS]).toEqual([20, 50, 50]);
    expect([CLB_MAX_BACKENDS, ALB_MAX_RESULTS, ALB_SERVER_ID_FILTER_MAX, ALB_JOB_ID_FILTER_MAX]).toEqual([
      20, 100, 20, 20,
    ]);
  });
});

describe('ESS RemoveInstances InstanceId.N: 1 to 20', () => {
  const remove = (params: Record<string, string>) =>
    call('ess', 'RemoveInstances', { ScalingGroupId: TEST_GROUP, ...params });

  it('accepts 20 IDs and starts one activity', async () => {
    const r = await remove(indexed('InstanceId', 20, testInstanceId));
    expect(r.status).toBe(200);
    expect((await env.admin.state()).activities).toHaveLength(1);
  });

  it('refuses 21 IDs, InstanceId.21 alone and a gap, and starts nothing', async () => {
    expectRefused(await remove(indexed('InstanceId', 21, testInstanceId)), 'InstanceId.N');
    expectRefused(await remove({ 'InstanceId.21': testInstanceId(1) }), 'InstanceId.21');
    expectRefused(
      await remove({ 'InstanceId.1': testInstanceId(1), 'InstanceId.3': testInstanceId(3) }),
      'InstanceId.2',
    );
    expect((await env.admin.state()).activities).toHaveLength(0);
  });

  it('the client refuses 21 IDs locally and sends nothing', async () => {
    const req = { regionId: TEST_REGION, scalingGroupId: TEST_GROUP, instanceIds: ids(21) };
    await expect(env.client.ess.removeInstances(req)).rejects.toThrow(/instanceIds must have 1 to 20 items, got 21/);
    expect(callsOf('RemoveInstances')).toHaveLength(0);
  });
});

describe('ESS RemoveInstances LifecycleHookContext.IgnoredLifecycleHookIds.N: 1 to 20 (inferred)', () => {
  const name = 'LifecycleHookContext.IgnoredLifecycleHookIds';
  const remove = (n: number) =>
    call('ess', 'RemoveInstances', {
      ScalingGroupId: TEST_GROUP,
      'InstanceId.1': testInstanceId(1),
      ...indexed(name, n, (i) => `ash-bp1nosuchhook${String(i).padStart(4, '0')}`),
    });

  it('accepts 20 and refuses 21', async () => {
    expectRefused(await remove(21), `${name}.N`);
    expect((await env.admin.state()).activities).toHaveLength(0);
    expect((await remove(20)).status).toBe(200);
  });

  it('the client refuses 21 locally', async () => {
    const req = {
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: ids(1),
      lifecycleHookContext: { ignoredLifecycleHookIds: Array.from({ length: 21 }, (_, i) => `ash-${i}`) },
    };
    await expect(env.client.ess.removeInstances(req)).rejects.toThrow(/ignoredLifecycleHookIds must have 0 to 20/);
    expect(callsOf('RemoveInstances')).toHaveLength(0);
  });
});

describe.each(['EnterStandby', 'ExitStandby'] as const)('ESS %s InstanceId.N: 1 to 20', (action) => {
  const standby = (params: Record<string, string>) => call('ess', action, { ScalingGroupId: TEST_GROUP, ...params });

  it('accepts 20 IDs and refuses 21, InstanceId.21 alone and a gap', async () => {
    // ExitStandby accepts InService instances as a no-op, so both start from InService.
    expectRefused(await standby(indexed('InstanceId', 21, testInstanceId)), 'InstanceId.N');
    expectRefused(await standby({ 'InstanceId.21': testInstanceId(1) }), 'InstanceId.21');
    expectRefused(await standby({ 'InstanceId.2': testInstanceId(2) }), 'InstanceId.1');
    const standbyNow = (await env.admin.state()).instances.filter((i) => i.lifecycleState === 'Standby');
    expect(standbyNow).toHaveLength(0);
    expect((await standby(indexed('InstanceId', 20, testInstanceId))).status).toBe(200);
  });

  it('the client refuses 21 IDs locally', async () => {
    const method = action === 'EnterStandby' ? 'enterStandby' : 'exitStandby';
    await expect(env.client.ess[method](TEST_REGION, TEST_GROUP, ids(21))).rejects.toThrow(/instanceIds/);
    expect(callsOf(action)).toHaveLength(0);
  });
});

describe('ESS DescribeScalingInstances: InstanceId.N 1 to 20, PageSize 1 to 50', () => {
  const describeInstances = (params: Record<string, string>) => call('ess', 'DescribeScalingInstances', params);

  it('InstanceId.N: accepts 20, refuses 21, InstanceId.21 alone and a gap', async () => {
    const ok = await describeInstances(indexed('InstanceId', 20, testInstanceId));
    expect([ok.status, ok.json.TotalCount]).toEqual([200, 20]);
    expectRefused(await describeInstances(indexed('InstanceId', 21, testInstanceId)), 'InstanceId.N');
    expectRefused(await describeInstances({ 'InstanceId.21': testInstanceId(1) }), 'InstanceId.21');
    expectRefused(
      await describeInstances({ 'InstanceId.1': testInstanceId(1), 'InstanceId.5': testInstanceId(5) }),
      'InstanceId.N',
    );
  });

  it('PageSize: 50 answers 50 instances, 51 is refused', async () => {
    const ok = await describeInstances({ ScalingGroupId: TEST_GROUP, PageSize: '50' });
    expect([ok.status, ok.json.ScalingInstances.ScalingInstance.length]).toEqual([200, 50]);
    expectRefused(await describeInstances({ ScalingGroupId: TEST_GROUP, PageSize: '51' }), 'PageSize');
  });

  it('the client splits 45 IDs into calls of at most 20 and pages at 50', async () => {
    const byIds = await env.client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: ids(45),
    });
    expect(byIds.instances).toHaveLength(45);
    expect(callsOf('DescribeScalingInstances').map((p) => countIndexed(p, 'InstanceId'))).toEqual([20, 20, 5]);
    const all = await env.client.ess.describeScalingInstances({ regionId: TEST_REGION, scalingGroupId: TEST_GROUP });
    expect(all.instances).toHaveLength(COUNT);
    const paged = callsOf('DescribeScalingInstances').slice(3);
    expect(paged.map((p) => [p.PageNumber, p.PageSize])).toEqual([
      ['1', '50'],
      ['2', '50'],
    ]);
  });
});

describe('ESS DescribeScalingActivities: ScalingActivityId.N 1 to 20, PageSize 1 to 50', () => {
  const activityId = (i: number) => `asa-bp1nosuchactivity${String(i).padStart(3, '0')}`;
  const describeActivities = (params: Record<string, string>) => call('ess', 'DescribeScalingActivities', params);

  it('ScalingActivityId.N: accepts 20, refuses 21 and ScalingActivityId.21 alone', async () => {
    expect((await describeActivities(indexed('ScalingActivityId', 20, activityId))).status).toBe(200);
    expectRefused(await describeActivities(indexed('ScalingActivityId', 21, activityId)), 'ScalingActivityId.N');
    expectRefused(await describeActivities({ 'ScalingActivityId.21': activityId(1) }), 'ScalingActivityId.21');
  });

  it('PageSize: accepts 50, refuses 51', async () => {
    expect((await describeActivities({ ScalingGroupId: TEST_GROUP, PageSize: '50' })).status).toBe(200);
    expectRefused(await describeActivities({ ScalingGroupId: TEST_GROUP, PageSize: '51' }), 'PageSize');
  });

  it('the client refuses 21 IDs locally and asks for pages of 50', async () => {
    const many = Array.from({ length: 21 }, (_, i) => activityId(i + 1));
    await expect(env.client.ess.describeScalingActivities(TEST_REGION, many)).rejects.toThrow(/scalingActivityIds/);
    expect(callsOf('DescribeScalingActivities')).toHaveLength(0);
    await env.client.ess.describeScalingActivities(TEST_REGION, many.slice(0, 20));
    expect(callsOf('DescribeScalingActivities').map((p) => [countIndexed(p, 'ScalingActivityId'), p.PageSize])).toEqual(
      [[20, '50']],
    );
  });
});

describe('ESS DescribeScalingGroups: ScalingGroupId.N 1 to 20, PageSize 1 to 50', () => {
  const groupId = (i: number) => `asg-bp1nosuchgroup${String(i).padStart(6, '0')}`;
  const describeGroups = (params: Record<string, string>) => call('ess', 'DescribeScalingGroups', params);

  it('accepts 20 IDs and PageSize 50; refuses 21 IDs, ScalingGroupId.21 alone and PageSize 51', async () => {
    expect((await describeGroups({ ...indexed('ScalingGroupId', 20, groupId), PageSize: '50' })).status).toBe(200);
    expectRefused(await describeGroups(indexed('ScalingGroupId', 21, groupId)), 'ScalingGroupId.N');
    expectRefused(await describeGroups({ 'ScalingGroupId.21': TEST_GROUP }), 'ScalingGroupId.21');
    expectRefused(await describeGroups({ PageSize: '51' }), 'PageSize');
  });
});

describe('ESS lifecycle listings: hooks PageSize 1 to 50, actions MaxResults 1 to 50', () => {
  it('DescribeLifecycleHooks: accepts PageSize 50, refuses 51 (the reference spells it InvalidParamter)', async () => {
    const hooks = (size: string) =>
      call('ess', 'DescribeLifecycleHooks', { ScalingGroupId: TEST_GROUP, PageSize: size });
    expect((await hooks('50')).status).toBe(200);
    expectRefused(await hooks('51'), 'PageSize', 'InvalidParamter');
  });

  it('DescribeLifecycleActions: accepts MaxResults 50, refuses 51', async () => {
    const removed = await call('ess', 'RemoveInstances', {
      ScalingGroupId: TEST_GROUP,
      'InstanceId.1': testInstanceId(1),
    });
    const activity = removed.json.ScalingActivityId as string;
    const actions = (max: string) =>
      call('ess', 'DescribeLifecycleActions', { ScalingActivityId: activity, MaxResults: max });
    expect((await actions('50')).status).toBe(200);
    expectRefused(await actions('51'), 'MaxResults');
  });
});

describe.each([
  ['SetBackendServers', { LoadBalancerId: TEST_LB }, false],
  ['SetVServerGroupAttribute', { VServerGroupId: TEST_VSG }, true],
] as const)('CLB %s BackendServers: at most 20 entries', (action, target, withPort) => {
  const entries = (n: number) =>
    JSON.stringify(
      ids(n).map((id) => ({ ServerId: id, Weight: '0', Type: 'ecs', ...(withPort ? { Port: '8080' } : {}) })),
    );

  it('accepts 20 entries and refuses 21 without changing a weight', async () => {
    expectRefused(await call('slb', action, { ...target, BackendServers: entries(21) }), 'BackendServers');
    const afterRefusal = JSON.stringify((await env.admin.state()).loadBalancers);
    expect(afterRefusal).not.toContain('"weight":0');
    const ok = await call('slb', action, { ...target, BackendServers: entries(20) });
    // SetVServerGroupAttribute answers every backend of the group, SetBackendServers only those it set.
    expect([ok.status, ok.json.BackendServers.BackendServer.length]).toEqual([200, withPort ? COUNT : 20]);
  });

  it('the client splits 45 servers into calls of 20, 20 and 5', async () => {
    const servers = ids(45).map((serverId) => ({ serverId, weight: 0, type: 'ecs', port: 8080 }));
    const r =
      action === 'SetBackendServers'
        ? await env.client.clb.setBackendServers(TEST_REGION, TEST_LB, servers)
        : await env.client.clb.setVServerGroupAttribute(TEST_REGION, TEST_VSG, servers);
    expect(r.backendServers).toHaveLength(withPort ? 3 * COUNT : 45);
    const sizes = callsOf(action).map((p) => (JSON.parse(p.BackendServers ?? '[]') as unknown[]).length);
    expect(sizes).toEqual([20, 20, 5]);
  });
});

describe('ALB UpdateServerGroupServersAttribute Servers.N: 1 to 40', () => {
  const server = (n: number, i: number) => ({
    [`Servers.${n}.ServerId`]: testInstanceId(i),
    [`Servers.${n}.ServerType`]: 'Ecs',
    [`Servers.${n}.Port`]: '8080',
    [`Servers.${n}.Weight`]: '0',
  });
  const update = (servers: Record<string, string>) =>
    call('alb', 'UpdateServerGroupServersAttribute', { ServerGroupId: TEST_ALB, ...servers });

  it('refuses Servers.41 sent alone and a gap in the indexes, and starts no job', async () => {
    expectRefused(await update(server(41, 1)), 'Servers.41');
    expectRefused(await update({ ...server(1, 1), ...server(3, 3) }), 'Servers.2');
    expect((await env.admin.state()).jobs).toHaveLength(0);
    expect((await update({ ...server(1, 1), ...server(2, 2) })).status).toBe(200);
  });
});

describe('ALB ListServerGroupServers: MaxResults 1 to 100, ServerIds.N 1 to 20 (inferred)', () => {
  const list = (params: Record<string, string>) =>
    call('alb', 'ListServerGroupServers', { ServerGroupId: TEST_ALB, ...params });

  it('MaxResults: accepts 100, refuses 101', async () => {
    const ok = await list({ MaxResults: '100' });
    expect([ok.status, ok.json.Servers.length]).toEqual([200, COUNT]);
    expectRefused(await list({ MaxResults: '101' }), 'MaxResults');
  });

  it('ServerIds.N: accepts 20, refuses 21, ServerIds.21 alone and a gap', async () => {
    const ok = await list(indexed('ServerIds', 20, testInstanceId));
    expect([ok.status, ok.json.Servers.length]).toEqual([200, 20]);
    expectRefused(await list(indexed('ServerIds', 21, testInstanceId)), 'ServerIds.N');
    expectRefused(await list({ 'ServerIds.21': testInstanceId(1) }), 'ServerIds.21');
    expectRefused(await list({ 'ServerIds.2': testInstanceId(2) }), 'ServerIds.1');
  });

  it('the client splits 45 server IDs into filters of 20, 20 and 5, with MaxResults 100', async () => {
    const r = await env.client.alb.listServerGroupServers(TEST_REGION, TEST_ALB, { serverIds: ids(45) });
    expect(r.servers).toHaveLength(45);
    const sent = callsOf('ListServerGroupServers');
    expect(sent.map((p) => [countIndexed(p, 'ServerIds'), p.MaxResults])).toEqual([
      [20, '100'],
      [20, '100'],
      [5, '100'],
    ]);
  });
});

describe('ALB ListAsynJobs: JobIds.N 1 to 20 (inferred), MaxResults 1 to 100', () => {
  const jobId = (i: number) => `job-nosuch-${String(i).padStart(4, '0')}`;
  const jobs = (params: Record<string, string>) => call('alb', 'ListAsynJobs', params);

  it('accepts 20 IDs and MaxResults 100; refuses 21 IDs, JobIds.21 alone and MaxResults 101', async () => {
    expect((await jobs({ ...indexed('JobIds', 20, jobId), MaxResults: '100' })).status).toBe(200);
    expectRefused(await jobs(indexed('JobIds', 21, jobId)), 'JobIds.N');
    expectRefused(await jobs({ 'JobIds.21': jobId(1) }), 'JobIds.21');
    expectRefused(await jobs({ MaxResults: '101' }), 'MaxResults');
  });

  it('the client splits 25 job IDs into filters of 20 and 5 and finds the real one', async () => {
    const servers = [{ serverId: testInstanceId(1), serverType: 'Ecs' as const, port: 8080, weight: 0 }];
    const { jobId: real } = await env.client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, servers);
    const wanted = [...Array.from({ length: 24 }, (_, i) => jobId(i + 1)), real];
    const r = await env.client.alb.listAsynJobs(TEST_REGION, wanted);
    expect(r.jobs.map((j) => j.id)).toEqual([real]);
    expect(callsOf('ListAsynJobs').map((p) => countIndexed(p, 'JobIds'))).toEqual([20, 5]);
  });
});
