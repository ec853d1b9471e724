/**
 * ESS's own deregistration goes through the load balancers' state machines: right after a scaling
 * activity deregisters its instances, a change of the same CLB, vserver group or ALB server group
 * gets the busy error the real service answers, and goes through once the change is over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startContractEnv, stopContractEnv, type ContractEnv } from './harness';
import { AliyunApiError } from '../../src/aliyun/errors';
import {
  TEST_ALB,
  TEST_GROUP,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  buildTestScenario,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';
import type { ScenarioTimings } from '../../src/emulator/types';

const I1 = testInstanceId(1);
const I2 = testInstanceId(2);
const I3 = testInstanceId(3);
/** Deregistration as soon as the activity starts; the CLB change and the ALB job then last 1.5 s. */
const TIMINGS: ScenarioTimings = {
  activityDurationMs: 4000,
  essDrainWaitMs: 0,
  albJobDurationMs: 1500,
  clbChangeWindowMs: 1500,
};

let env: ContractEnv;

beforeAll(async () => {
  env = await startContractEnv({ timings: TIMINGS });
});

afterAll(async () => {
  await stopContractEnv(env);
});

async function load(timings: ScenarioTimings): Promise<void> {
  await env.admin.loadScenario(buildTestScenario({ count: 6, timings }));
}

async function caught(p: Promise<unknown>): Promise<AliyunApiError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AliyunApiError);
  return e as AliyunApiError;
}

/** Drains I3 everywhere, as a run's next batch would. */
const drainI3 = {
  clb: () => env.client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: I3, weight: 0, type: 'ecs' }]),
  vsg: () =>
    env.client.clb.setVServerGroupAttribute(TEST_REGION, TEST_VSG, [
      { serverId: I3, weight: 0, type: 'ecs', port: 8080 },
    ]),
  alb: () =>
    env.client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, [
      { serverId: I3, serverType: 'Ecs', port: 8080, weight: 0 },
    ]),
};

async function removeI1I2(): Promise<string> {
  const r = await env.client.ess.removeInstances({
    regionId: TEST_REGION,
    scalingGroupId: TEST_GROUP,
    instanceIds: [I1, I2],
  });
  return r.scalingActivityId;
}

async function weightsOfI3(): Promise<[number | undefined, number | undefined, number | undefined]> {
  const s = await env.admin.state();
  const lb = s.loadBalancers.find((l) => l.loadBalancerId === TEST_LB);
  const clb = lb?.backendServers.find((b) => b.serverId === I3)?.weight;
  const vsg = lb?.vServerGroups[0]?.backendServers.find((b) => b.serverId === I3)?.weight;
  const alb = s.albServerGroups.find((g) => g.serverGroupId === TEST_ALB)?.servers.find((b) => b.serverId === I3);
  return [clb, vsg, alb?.weight];
}

describe('ESS deregistration collides with the run’s changes (timings.clbChangeWindowMs, ALB jobs)', () => {
  it('during the change: each load balancer answers its busy error, and nothing changes', async () => {
    await load(TIMINGS);
    const activityId = await removeI1I2();

    const clb = await caught(drainI3.clb());
    expect([clb.code, clb.httpStatus, clb.message]).toEqual([
      'ServiceIsConfiguring',
      400,
      expect.stringContaining('A previous configuration is pending'),
    ]);
    const vsg = await caught(drainI3.vsg());
    expect([vsg.code, vsg.httpStatus, vsg.message]).toEqual([
      'VServerGroupProcessing',
      400,
      expect.stringContaining('A previous configuration of the VServer group is pending'),
    ]);
    const alb = await caught(drainI3.alb());
    expect([alb.code, alb.httpStatus]).toEqual(['IncorrectStatus.ServerGroup', 400]);
    expect(await weightsOfI3()).toEqual([100, 100, 100]);

    // CLB backends leave at once; ALB servers are Removing while ESS's job runs, the group Configuring.
    const lb = await env.client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers.map((b) => b.serverId)).not.toContain(I1);
    const { servers } = await env.client.alb.listServerGroupServers(TEST_REGION, TEST_ALB, { serverIds: [I1, I3] });
    expect(servers.map((s) => [s.serverId, s.status])).toEqual([
      [I1, 'Removing'],
      [I3, 'Available'],
    ]);
    const state = await env.admin.state();
    expect(state.albServerGroups.find((g) => g.serverGroupId === TEST_ALB)?.status).toBe('Configuring');
    const essJob = state.jobs.find((j) => j.apiName === 'RemoveServersFromServerGroup');
    expect(essJob).toMatchObject({ resourceId: TEST_ALB, status: 'Processing' });
    const { jobs } = await env.client.alb.listAsynJobs(TEST_REGION, [essJob?.jobId ?? '']);
    expect(jobs[0]).toMatchObject({ apiName: 'RemoveServersFromServerGroup', status: 'Processing' });

    // The activity goes on, and ends, only once its deregistration is over.
    const act = await env.client.ess.describeScalingActivities(TEST_REGION, [activityId]);
    expect(act.activities[0]?.statusCode).toBe('InProgress');
  });

  it('after the change: the same calls go through, and ESS’s job took its servers out', async () => {
    await load(TIMINGS);
    await removeI1I2();
    await caught(drainI3.clb());
    // Bounded retries, as the run makes them (every 100 ms, 5 s at most).
    await waitFor(
      () =>
        drainI3.clb().then(
          () => true,
          () => false,
        ),
      5_000,
      100,
    );
    await waitFor(
      () =>
        drainI3.vsg().then(
          () => true,
          () => false,
        ),
      5_000,
      100,
    );
    const { jobId } = await waitFor(() => drainI3.alb().catch(() => undefined), 5_000, 100);
    const state = await env.admin.state();
    expect(state.jobs.find((j) => j.apiName === 'RemoveServersFromServerGroup')?.status).toBe('Succeeded');
    const alb = state.albServerGroups.find((g) => g.serverGroupId === TEST_ALB);
    expect(alb?.servers.map((s) => s.serverId)).not.toContain(I1);
    expect(alb?.servers.map((s) => s.serverId)).not.toContain(I2);
    await waitFor(
      async () => (await env.client.alb.listAsynJobs(TEST_REGION, [jobId])).jobs[0]?.status === 'Succeeded',
      5_000,
      100,
    );
    expect(await weightsOfI3()).toEqual([0, 0, 0]);
  });

  it('the run’s own ALB job also keeps the group Configuring: a second change waits for it', async () => {
    await load(TIMINGS);
    await drainI3.alb();
    const again = await caught(
      env.client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, [
        { serverId: testInstanceId(4), serverType: 'Ecs', port: 8080, weight: 0 },
      ]),
    );
    expect(again.code).toBe('IncorrectStatus.ServerGroup');
    // CLB changes of the run open no window: only ESS's deregistration does.
    await drainI3.clb();
    await drainI3.vsg();
    await env.client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: I3, weight: 5, type: 'ecs' }]);
  });

  it('clbChangeWindowMs 0 and instant ALB jobs: no busy error at all', async () => {
    await load({ ...TIMINGS, clbChangeWindowMs: 0, albJobDurationMs: 0 });
    await removeI1I2();
    await drainI3.clb();
    await drainI3.vsg();
    await drainI3.alb();
    expect(await env.admin.calls({ outcome: 'ServiceIsConfiguring' })).toEqual([]);
  });

  it('the setting is validated like the other timings', async () => {
    await expect(env.admin.settings({ timings: { clbChangeWindowMs: -1 } })).rejects.toThrow(/clbChangeWindowMs/);
    const view = await env.admin.settings({ timings: { clbChangeWindowMs: 250 } });
    expect(view.timings.clbChangeWindowMs).toBe(250);
  });
});
