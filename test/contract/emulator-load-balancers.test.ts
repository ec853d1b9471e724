import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient } from '../../src/aliyun';
import { AliyunApiError } from '../../src/aliyun/errors';
import type { EmulatorAdminClient } from '../../src/emulator';
import type { RunningEmulator } from '../../src/emulator';
import {
  TEST_ALB,
  TEST_GROUP,
  TEST_KEY,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

async function apiError(p: Promise<unknown>): Promise<AliyunApiError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AliyunApiError);
  return e as AliyunApiError;
}

const clbCall = (action: string, extra: Record<string, string>) =>
  rawCall(emu.url, { Action: action, Version: '2014-05-15', RegionId: TEST_REGION, ...extra }, TEST_KEY);

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv());
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

beforeEach(async () => {
  await admin.reset();
});

describe('CLB 2014-05-15', () => {
  it('DescribeLoadBalancerAttribute: status and default-group backends with private IPs', async () => {
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.loadBalancerStatus).toBe('active');
    expect(lb.backendServers).toHaveLength(30);
    expect(lb.backendServers[0]).toMatchObject({ serverId: testInstanceId(1), weight: 100, type: 'ecs' });
    const raw = await clbCall('DescribeLoadBalancerAttribute', { LoadBalancerId: TEST_LB });
    expect(raw.json.BackendServers.BackendServer[0].ServerIp).toMatch(/^172\.\d+\.\d+\.\d+$/);
    expect(typeof raw.json.BackendServers.BackendServer[0].Weight).toBe('number');
  });

  it('SetBackendServers changes weights and returns the new weights as strings', async () => {
    const res = await client.clb.setBackendServers(TEST_REGION, TEST_LB, [
      { serverId: testInstanceId(1), weight: 0, type: 'ecs' },
      { serverId: testInstanceId(2), weight: 35, type: 'ecs' },
    ]);
    expect(res.backendServers.map((b) => [b.serverId, b.weight])).toEqual([
      [testInstanceId(1), 0],
      [testInstanceId(2), 35],
    ]);
    const raw = await clbCall('SetBackendServers', {
      LoadBalancerId: TEST_LB,
      BackendServers: JSON.stringify([{ ServerId: testInstanceId(3), Weight: 7 }]),
    });
    expect(raw.json.BackendServers.BackendServer).toEqual([
      { ServerId: testInstanceId(3), Weight: '7', Type: 'ecs', Description: '' },
    ]);
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers.slice(0, 3).map((b) => b.weight)).toEqual([0, 35, 7]);
  });

  it("accepts the docs' single-quoted JSON", async () => {
    const r = await clbCall('SetBackendServers', {
      LoadBalancerId: TEST_LB,
      BackendServers: `[{'ServerId':'${testInstanceId(4)}','Weight':'10'}]`,
    });
    expect(r.status).toBe(200);
    expect(r.json.BackendServers.BackendServer[0].Weight).toBe('10');
  });

  it('rejects bad BackendServers: >20 entries, weight out of range, not JSON, unknown backend', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ ServerId: testInstanceId(i + 1), Weight: '0' }));
    for (const bad of [
      JSON.stringify(many),
      JSON.stringify([{ ServerId: testInstanceId(1), Weight: '101' }]),
      'not json',
      JSON.stringify([{ ServerId: 'i-bp1nosuchinstance001', Weight: '0' }]),
    ]) {
      const r = await clbCall('SetBackendServers', { LoadBalancerId: TEST_LB, BackendServers: bad });
      expect(r.status).toBe(400);
      expect(r.json.Code).toBe('InvalidParameter');
    }
    // Nothing changed.
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers.every((b) => b.weight === 100)).toBe(true);
  });

  it('unknown load balancer is 404 InvalidLoadBalancerId.NotFound', async () => {
    const e = await apiError(client.clb.describeLoadBalancerAttribute(TEST_REGION, 'lb-bp1nothere00000000001'));
    expect([e.code, e.httpStatus]).toEqual(['InvalidLoadBalancerId.NotFound', 404]);
  });

  it('vserver groups: describe, set weights (Port required), unknown group', async () => {
    const before = await client.clb.describeVServerGroupAttribute(TEST_REGION, TEST_VSG);
    expect(before).toMatchObject({ vServerGroupId: TEST_VSG, vServerGroupName: 'test-8080', loadBalancerId: TEST_LB });
    expect(before.backendServers[0]).toMatchObject({ serverId: testInstanceId(1), port: 8080, weight: 100 });
    const set = await client.clb.setVServerGroupAttribute(TEST_REGION, TEST_VSG, [
      { serverId: testInstanceId(1), port: 8080, weight: 0, type: 'ecs' },
    ]);
    expect(set.backendServers.find((b) => b.serverId === testInstanceId(1))?.weight).toBe(0);
    const noPort = await clbCall('SetVServerGroupAttribute', {
      VServerGroupId: TEST_VSG,
      BackendServers: JSON.stringify([{ ServerId: testInstanceId(2), Weight: '0' }]),
    });
    expect(noPort.json.Code).toBe('MissingParameter');
    const wrongPort = await clbCall('SetVServerGroupAttribute', {
      VServerGroupId: TEST_VSG,
      BackendServers: JSON.stringify([{ ServerId: testInstanceId(2), Weight: '0', Port: '9999' }]),
    });
    expect(wrongPort.json.Code).toBe('InvalidParameter');
    const e = await apiError(client.clb.describeVServerGroupAttribute(TEST_REGION, 'rsp-nothere'));
    expect([e.code, e.httpStatus, e.apiMessage]).toEqual([
      'InvalidParameter',
      400,
      'The specified VServerGroupId does not exist.',
    ]);
  });

  it('DescribeHealthStatus: per listener, configurable, unavailable on an inactive LB', async () => {
    await admin.patchLoadBalancer(TEST_LB, { health: { [testInstanceId(2)]: 'abnormal' } });
    const h = await client.clb.describeHealthStatus(TEST_REGION, TEST_LB);
    expect(h.servers).toHaveLength(60); // 30 backends x 2 listeners (80 default group, 8080 vserver group)
    const two = h.servers.filter((s) => s.serverId === testInstanceId(2));
    expect(two.map((s) => [s.listenerPort, s.serverHealthStatus])).toEqual([
      [80, 'abnormal'],
      [8080, 'abnormal'],
    ]);
    expect(h.servers.filter((s) => s.serverHealthStatus === 'normal')).toHaveLength(58);
    await admin.patchLoadBalancer(TEST_LB, { status: 'inactive' });
    const off = await client.clb.describeHealthStatus(TEST_REGION, TEST_LB);
    expect(off.servers.every((s) => s.serverHealthStatus === 'unavailable')).toBe(true);
  });

  it('busy load balancer via faults: ServiceIsConfiguring 400 and BackendServer.configuring 409', async () => {
    await admin.setFaults([
      { action: 'SetBackendServers', kind: 'errorCode', code: 'ServiceIsConfiguring', times: 1 },
      { action: 'SetVServerGroupAttribute', kind: 'errorCode', code: 'BackendServer.configuring', times: 1 },
    ]);
    const a = await apiError(
      client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: testInstanceId(1), weight: 0, type: 'ecs' }]),
    );
    expect([a.code, a.httpStatus]).toEqual(['ServiceIsConfiguring', 400]);
    const b = await apiError(
      client.clb.setVServerGroupAttribute(TEST_REGION, TEST_VSG, [
        { serverId: testInstanceId(1), port: 8080, weight: 0, type: 'ecs' },
      ]),
    );
    expect([b.code, b.httpStatus]).toEqual(['BackendServer.configuring', 409]);
    // Spent: the next call goes through, and the failed ones changed nothing before it.
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers[0]?.weight).toBe(100);
    await client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: testInstanceId(1), weight: 0, type: 'ecs' }]);
  });
});

describe('ALB 2020-06-16', () => {
  it('ListServerGroupServers pages with NextToken / MaxResults and bare arrays', async () => {
    const p1 = await rawCall(
      emu.url,
      { Action: 'ListServerGroupServers', Version: '2020-06-16', ServerGroupId: TEST_ALB, MaxResults: '20' },
      TEST_KEY,
    );
    expect(Array.isArray(p1.json.Servers)).toBe(true);
    expect(p1.json).toMatchObject({ MaxResults: 20, TotalCount: 30 });
    expect(p1.json.Servers).toHaveLength(20);
    expect(p1.json.Servers[0]).toMatchObject({
      ServerId: testInstanceId(1),
      ServerType: 'Ecs',
      Port: 8080,
      Weight: 100,
      Status: 'Available',
    });
    expect(typeof p1.json.NextToken).toBe('string');
    const p2 = await rawCall(
      emu.url,
      {
        Action: 'ListServerGroupServers',
        Version: '2020-06-16',
        ServerGroupId: TEST_ALB,
        MaxResults: '20',
        NextToken: p1.json.NextToken,
      },
      TEST_KEY,
    );
    expect(p2.json.Servers).toHaveLength(10);
    expect(p2.json.NextToken).toBeUndefined();
    const bad = await rawCall(
      emu.url,
      { Action: 'ListServerGroupServers', Version: '2020-06-16', ServerGroupId: TEST_ALB, MaxResults: '101' },
      TEST_KEY,
    );
    expect(bad.json.Code).toBe('InvalidParameter');
    // The typed client walks every page.
    expect((await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers).toHaveLength(30);
  });

  it('UpdateServerGroupServersAttribute: Configuring until the async job succeeds, then weight applies', async () => {
    const sid = testInstanceId(3);
    const { jobId } = await client.alb.updateServerGroupServersAttribute(
      TEST_REGION,
      TEST_ALB,
      [{ serverId: sid, serverType: 'Ecs', port: 8080, weight: 0 }],
      'drain-3',
    );
    const during = (await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers.find(
      (s) => s.serverId === sid,
    );
    expect(during).toMatchObject({ status: 'Configuring', weight: 100 });
    const job0 = (await client.alb.listAsynJobs(TEST_REGION, [jobId])).jobs[0];
    expect(job0).toMatchObject({
      id: jobId,
      apiName: 'UpdateServerGroupServersAttribute',
      resourceId: TEST_ALB,
      status: 'Processing',
    });
    const job = await waitFor(async () => {
      const j = (await client.alb.listAsynJobs(TEST_REGION, [jobId])).jobs[0];
      return j?.status === 'Processing' ? undefined : j;
    });
    expect(job.status).toBe('Succeeded');
    const after = (await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers.find(
      (s) => s.serverId === sid,
    );
    expect(after).toMatchObject({ status: 'Available', weight: 0 });
    const raw = await rawCall(emu.url, { Action: 'ListAsynJobs', Version: '2020-06-16', 'JobIds.1': jobId }, TEST_KEY);
    expect(raw.json).toMatchObject({ TotalCount: 1 });
    expect(typeof raw.json.Jobs[0].CreateTime).toBe('number');
    expect(raw.json.Jobs[0].ModifyTime).toBeGreaterThanOrEqual(raw.json.Jobs[0].CreateTime);
  });

  it('ClientToken: same servers -> same JobId; different servers -> IdempotenceSignatureMismatch', async () => {
    const servers = [{ serverId: testInstanceId(4), serverType: 'Ecs' as const, port: 8080, weight: 0 }];
    const a = await client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, servers, 'tok-a');
    const b = await client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, servers, 'tok-a');
    expect(b.jobId).toBe(a.jobId);
    expect(b.requestId).not.toBe(a.requestId);
    const e = await apiError(
      client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, [{ ...servers[0]!, weight: 50 }], 'tok-a'),
    );
    expect(e.code).toBe('IdempotenceSignatureMismatch');
  });

  it('unknown server or group are 404 ResourceNotFound.*', async () => {
    const e1 = await apiError(
      client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, [
        { serverId: testInstanceId(1), serverType: 'Ecs', port: 9999, weight: 0 },
      ]),
    );
    expect([e1.code, e1.httpStatus]).toEqual(['ResourceNotFound.BackendServer', 404]);
    const e2 = await apiError(
      client.alb.updateServerGroupServersAttribute(TEST_REGION, 'sgp-nothere', [
        { serverId: testInstanceId(1), serverType: 'Ecs', port: 8080, weight: 0 },
      ]),
    );
    expect([e2.code, e2.httpStatus]).toEqual(['ResourceNotFound.ServerGroup', 404]);
    expect((await admin.state()).jobs).toHaveLength(0);
  });
});

describe('EnterStandby / ExitStandby', () => {
  // The reference's default weight (50), not the previous one: see test/contract/emulator-standby.test.ts.
  it('Standby sets weight 0 on every attached LB and ExitStandby sets the default weight 50', async () => {
    const sid = testInstanceId(5);
    await client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: sid, weight: 60, type: 'ecs' }]);
    const r = await client.ess.enterStandby(TEST_REGION, TEST_GROUP, [sid], 'standby-5');
    expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/);
    const g = await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g).toMatchObject({ standbyCapacity: 1, activeCapacity: 29, totalCapacity: 30 });
    const inst = await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [sid],
    });
    expect(inst.instances[0]?.lifecycleState).toBe('Standby');
    const weightsOf = async () => [
      (await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB)).backendServers.find(
        (b) => b.serverId === sid,
      )?.weight,
      (await client.clb.describeVServerGroupAttribute(TEST_REGION, TEST_VSG)).backendServers.find(
        (b) => b.serverId === sid,
      )?.weight,
      (await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers.find((b) => b.serverId === sid)?.weight,
    ];
    expect(await weightsOf()).toEqual([0, 0, 0]);
    await client.ess.exitStandby(TEST_REGION, TEST_GROUP, [sid]);
    expect(await weightsOf()).toEqual([50, 50, 50]);
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.standbyCapacity).toBe(0);
  });

  it('unknown instance is 404; an instance being removed cannot enter standby', async () => {
    const e = await apiError(client.ess.enterStandby(TEST_REGION, TEST_GROUP, ['i-bp1nosuchinstance001']));
    expect([e.code, e.httpStatus]).toEqual(['InvalidInstanceId.NotFound', 404]);
    await admin.setInstanceState(testInstanceId(6), 'Removing');
    const e2 = await apiError(client.ess.enterStandby(TEST_REGION, TEST_GROUP, [testInstanceId(6)]));
    expect(e2.code).toBe('IncorrectInstanceStatus');
  });
});
