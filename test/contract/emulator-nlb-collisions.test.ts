/**
 * ESS's deregistration from NLB server groups is a RemoveServersFromServerGroup job, as for ALB:
 * while it runs the group is `Configuring`, the servers going are `Removing`, a change of the group
 * gets 400 IncorrectStatus.serverGroup, and the scaling activity ends only once the job is done
 * (docs/emulator.md, "ESS's own load-balancer changes").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startContractEnv, stopContractEnv, type ContractEnv } from './harness';
import { AliyunApiError } from '../../src/aliyun/errors';
import type { Scenario } from '../../src/emulator';
import { TEST_GROUP, TEST_REGION, buildTestScenario, testInstanceId, waitFor } from '../../src/emulator/testing';
import type { ScenarioTimings } from '../../src/emulator/types';

const NLB = 'sgp-bp1testnlbcoll001';
const PORT = 8080;
const COUNT = 6;
const I1 = testInstanceId(1);
const I2 = testInstanceId(2);
const I3 = testInstanceId(3);
/** Deregistration as soon as the activity starts; ESS's NLB job then lasts 1.5 s, everything else is instant. */
const TIMINGS: ScenarioTimings = {
  activityDurationMs: 200,
  essDrainWaitMs: 0,
  albJobDurationMs: 0,
  nlbJobDurationMs: 1500,
  clbChangeWindowMs: 0,
};

function withNlb(): Partial<Scenario> {
  const base = buildTestScenario({ count: COUNT });
  const group = base.scalingGroups?.[0];
  const gen = base.instanceGenerators?.[0];
  if (!group || !gen?.attachTo) throw new Error('test scenario changed shape');
  return {
    scalingGroups: [{ ...group, nlbServerGroups: [{ nlbServerGroupId: NLB, port: PORT, weight: 100 }] }],
    instanceGenerators: [{ ...gen, attachTo: { ...gen.attachTo, nlbServerGroupIds: [NLB], port: PORT } }],
    nlbServerGroups: [{ id: NLB, regionId: TEST_REGION }],
  };
}

let env: ContractEnv;

beforeAll(async () => {
  env = await startContractEnv({ count: COUNT, timings: TIMINGS, extra: withNlb() });
});

afterAll(async () => {
  await stopContractEnv(env);
});

async function load(timings: ScenarioTimings): Promise<void> {
  await env.admin.loadScenario(buildTestScenario({ count: COUNT, timings, extra: withNlb() }));
}

async function caught(p: Promise<unknown>): Promise<AliyunApiError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AliyunApiError);
  return e as AliyunApiError;
}

/** Drains one instance in the NLB group, as a run's next batch would. */
const drain = (serverId: string, weight = 0) =>
  env.client.nlb.updateServerGroupServersAttribute(TEST_REGION, NLB, [
    { serverId, serverType: 'Ecs', port: PORT, weight },
  ]);

async function removeI1I2(): Promise<string> {
  const r = await env.client.ess.removeInstances({
    regionId: TEST_REGION,
    scalingGroupId: TEST_GROUP,
    instanceIds: [I1, I2],
  });
  return r.scalingActivityId;
}

async function nlbState() {
  const s = await env.admin.state();
  return {
    group: s.nlbServerGroups?.find((g) => g.serverGroupId === NLB),
    essJob: s.nlbJobs?.find((j) => j.apiName === 'RemoveServersFromServerGroup'),
  };
}

async function activityStatus(activityId: string): Promise<string | undefined> {
  const act = await env.client.ess.describeScalingActivities(TEST_REGION, [activityId]);
  return act.activities[0]?.statusCode;
}

describe('ESS deregistration from an NLB server group is a job that collides with the run’s changes', () => {
  it('during ESS’s job: IncorrectStatus.serverGroup, Removing servers, Configuring group, activity waits', async () => {
    await load(TIMINGS);
    const activityId = await removeI1I2();

    const busy = await caught(drain(I3));
    expect([busy.code, busy.httpStatus]).toEqual(['IncorrectStatus.serverGroup', 400]);

    const { servers } = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB, { serverIds: [I1, I2, I3] });
    // ESS's own drain set I1 and I2 to weight 0 before deregistering them; the refused drain left I3 alone.
    expect(servers.map((s) => [s.serverId, s.status, s.weight])).toEqual([
      [I1, 'Removing', 0],
      [I2, 'Removing', 0],
      [I3, 'Available', 100],
    ]);
    const { group, essJob } = await nlbState();
    expect(group?.status).toBe('Configuring');
    expect(essJob).toMatchObject({ resourceId: NLB, status: 'Processing' });
    // activityDurationMs is 200 ms: only ESS's 1.5 s NLB job keeps the activity running.
    await new Promise((r) => setTimeout(r, 400));
    expect(await activityStatus(activityId)).toBe('InProgress');
  });

  it('after ESS’s job: the servers are gone, the activity ends, and the same drain goes through', async () => {
    await load(TIMINGS);
    const activityId = await removeI1I2();
    await caught(drain(I3));
    // Bounded retries, as the run makes them (every 100 ms, 5 s at most).
    const { jobId } = await waitFor(() => drain(I3).catch(() => undefined), 5_000, 100);
    const { group, essJob } = await nlbState();
    expect(essJob?.status).toBe('Succeeded');
    expect(group?.servers.map((s) => s.serverId)).not.toContain(I1);
    expect(group?.servers.map((s) => s.serverId)).not.toContain(I2);
    await waitFor(async () => (await activityStatus(activityId)) === 'Successful', 5_000, 100);
    await waitFor(
      async () => (await env.client.nlb.getJobStatus(TEST_REGION, jobId)).status === 'Succeeded',
      5_000,
      100,
    );
    const { servers } = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB, { serverIds: [I3] });
    expect(servers.map((s) => [s.status, s.weight])).toEqual([['Available', 0]]);
  });

  it('the run’s own NLB job keeps the group Configuring too: a second change waits for it', async () => {
    await load(TIMINGS);
    await drain(I3);
    const again = await caught(drain(testInstanceId(4)));
    expect(again.code).toBe('IncorrectStatus.serverGroup');
    expect((await nlbState()).group?.status).toBe('Configuring');
  });

  it('instant NLB jobs (nlbJobDurationMs 0): no busy error, and ESS’s deregistration is immediate', async () => {
    await load({ ...TIMINGS, nlbJobDurationMs: 0 });
    await removeI1I2();
    await drain(I3);
    await drain(testInstanceId(4));
    expect(await env.admin.calls({ outcome: 'IncorrectStatus.serverGroup' })).toEqual([]);
    const { group } = await nlbState();
    expect(group?.servers.map((s) => s.serverId)).not.toContain(I1);
  });
});
