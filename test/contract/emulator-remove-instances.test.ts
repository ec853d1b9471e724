import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient, ScalingActivity } from '../../src/aliyun';
import { AliyunApiError } from '../../src/aliyun/errors';
import type { EmulatorAdminClient } from '../../src/emulator';
import type { RunningEmulator, Scenario } from '../../src/emulator';
import { KNOWN_ERRORS } from '../../src/emulator/api-error';
import {
  TEST_ALB,
  TEST_DB,
  TEST_GROUP,
  TEST_KEY,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  buildTestScenario,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';

const TIMINGS = { activityDurationMs: 150, essDrainWaitMs: 50, albJobDurationMs: 50 };
/** Slower, for the test that inspects the activity while it runs. */
const OBSERVABLE = { activityDurationMs: 400, essDrainWaitMs: 120, albJobDurationMs: 50 };

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

async function load(s: Scenario = buildTestScenario({ timings: TIMINGS })): Promise<void> {
  await admin.loadScenario(s);
}

function remove(
  instanceIds: string[],
  extra: {
    clientToken?: string;
    removePolicy?: 'release' | 'recycle';
    decreaseDesiredCapacity?: boolean;
    ignoreInvalidInstance?: boolean;
  } = {},
) {
  return client.ess.removeInstances({ regionId: TEST_REGION, scalingGroupId: TEST_GROUP, instanceIds, ...extra });
}

async function expectApiError(
  p: Promise<unknown>,
  code: string,
  status: number,
  message?: string,
): Promise<AliyunApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AliyunApiError);
  const e = err as AliyunApiError;
  expect(e.code).toBe(code);
  expect(e.httpStatus).toBe(status);
  if (message !== undefined) expect(e.apiMessage).toBe(message);
  expect(e.requestId).toMatch(/^[0-9A-F-]{36}$/);
  return e;
}

async function activity(id: string): Promise<ScalingActivity> {
  const r = await client.ess.describeScalingActivities(TEST_REGION, [id]);
  const a = r.activities[0];
  if (!a) throw new Error(`activity ${id} not found`);
  return a;
}

function waitEnded(id: string, timeoutMs = 3_000): Promise<ScalingActivity> {
  return waitFor(async () => {
    const a = await activity(id);
    return a.statusCode !== 'InProgress' ? a : undefined;
  }, timeoutMs);
}

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv({ timings: TIMINGS }));
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

beforeEach(async () => {
  await load();
});

describe('RemoveInstances error table, produced from real state', () => {
  it('404 InvalidScalingGroupId.NotFound for an unknown group', async () => {
    const p = client.ess.removeInstances({
      regionId: TEST_REGION,
      scalingGroupId: 'asg-bp1nothere0000000001',
      instanceIds: [testInstanceId(1)],
    });
    await expectApiError(p, 'InvalidScalingGroupId.NotFound', 404, 'The specified scaling group does not exist.');
  });

  it('403 Forbidden.Unauthorized when the scenario denies the action', async () => {
    await load(buildTestScenario({ timings: TIMINGS, extra: { deniedActions: ['RemoveInstances'] } }));
    await expectApiError(
      remove([testInstanceId(1)]),
      'Forbidden.Unauthorized',
      403,
      'A required authorization for the specified action is not supplied.',
    );
    // Describe calls are not denied.
    expect(await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP)).toBeDefined();
  });

  it('400 IncorrectScalingGroupStatus when the group is Inactive', async () => {
    await admin.patchGroup(TEST_GROUP, { lifecycleState: 'Inactive' });
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.lifecycleState).toBe('Inactive');
    await expectApiError(
      remove([testInstanceId(1)]),
      'IncorrectScalingGroupStatus',
      400,
      'The current status of the specified scaling group does not support this action.',
    );
  });

  it('400 ScalingActivityInProgress while another activity runs (injected, then a real one)', async () => {
    const blocking = await admin.startGroupActivity(TEST_GROUP, 150);
    await expectApiError(
      remove([testInstanceId(1)]),
      'ScalingActivityInProgress',
      400,
      'You cannot delete a scaling group or launch a new scaling activity while there is a scaling activity ' +
        'in progress for the specified scaling group.',
    );
    expect((await waitEnded(blocking)).statusCode).toBe('Successful');
    const first = await remove([testInstanceId(1)]);
    await expectApiError(remove([testInstanceId(2)]), 'ScalingActivityInProgress', 400);
    await waitEnded(first.scalingActivityId);
    await expect(remove([testInstanceId(2)])).resolves.toMatchObject({
      scalingActivityId: expect.stringMatching(/^asa-[a-z0-9]{20}$/),
    });
  });

  it('404 InvalidInstanceId.NotFound for an unknown instance or one of another group', async () => {
    await expectApiError(
      remove([testInstanceId(1), 'i-bp1nosuchinstance001']),
      'InvalidInstanceId.NotFound',
      404,
      'Instance "i-bp1nosuchinstance001" does not exist.',
    );
    const s = buildTestScenario({ timings: TIMINGS });
    s.scalingGroups?.push({ id: 'asg-bp1other000000000001', regionId: TEST_REGION });
    s.instances = [{ id: 'i-bp1otherinstance0001', scalingGroupId: 'asg-bp1other000000000001' }];
    await load(s);
    await expectApiError(
      remove(['i-bp1otherinstance0001']),
      'InvalidInstanceId.NotFound',
      404,
      'Instance "i-bp1otherinstance0001" does not exist.',
    );
    // Nothing was touched.
    expect((await admin.state()).activities).toHaveLength(0);
  });

  it('400 InvalidParameter for more than 20 IDs (the client refuses locally, so a raw call)', async () => {
    const params: Record<string, string> = {
      Action: 'RemoveInstances',
      Version: '2014-08-28',
      RegionId: TEST_REGION,
      ScalingGroupId: TEST_GROUP,
    };
    for (let i = 1; i <= 21; i++) params[`InstanceId.${i}`] = testInstanceId(i);
    const r = await rawCall(emu.url, params, TEST_KEY);
    expect(r.status).toBe(400);
    expect(r.json.Code).toBe('InvalidParameter');
    expect(r.json.Message).toContain('InstanceId');
  });

  it('400 InvalidParameter for RemovePolicy recycle on a release group; accepted on a recycle group', async () => {
    await expectApiError(
      remove([testInstanceId(1)], { removePolicy: 'recycle' }),
      'InvalidParameter',
      400,
      'The specified group does not support the specified RemovePolicy.',
    );
    await admin.patchGroup(TEST_GROUP, { scalingPolicy: 'recycle' });
    const r = await remove([testInstanceId(1)], { removePolicy: 'recycle' });
    await waitEnded(r.scalingActivityId);
    const st = await admin.state();
    expect(st.ecsRecords).toEqual([
      expect.objectContaining({
        instanceId: testInstanceId(1),
        fate: 'stopped',
        scalingActivityId: r.scalingActivityId,
      }),
    ]);
  });

  it('400 IncorrectLoadBalancerStatus when an attached CLB is not active', async () => {
    await admin.patchLoadBalancer(TEST_LB, { status: 'inactive' });
    await expectApiError(
      remove([testInstanceId(1)]),
      'IncorrectLoadBalancerStatus',
      400,
      'The current status of the specified load balancer does not support this action.',
    );
    await admin.patchLoadBalancer(TEST_LB, { status: 'locked' });
    await expectApiError(remove([testInstanceId(1)]), 'IncorrectLoadBalancerStatus', 400);
  });

  it('400 IncorrectDBInstanceStatus when an attached RDS is not Running', async () => {
    await admin.patchDbInstance(TEST_DB, 'Rebooting');
    await expectApiError(
      remove([testInstanceId(1)]),
      'IncorrectDBInstanceStatus',
      400,
      `The current status of DB instance "${TEST_DB}" does not support this action.`,
    );
  });

  it('400 IncorrectCapacity.MinSize when TotalCapacity - n < MinSize', async () => {
    await load(buildTestScenario({ count: 5, minSize: 3, timings: TIMINGS }));
    const ids = [1, 2, 3].map(testInstanceId);
    await expectApiError(
      remove(ids),
      'IncorrectCapacity.MinSize',
      400,
      'To remove the instances, the total capacity will be lesser than the MinSize.',
    );
    // Exactly down to MinSize is allowed.
    await expect(remove(ids.slice(0, 2))).resolves.toBeDefined();
  });

  it('checks in the documented order: group status before instances, instances before MinSize', async () => {
    await load(buildTestScenario({ count: 2, minSize: 2, timings: TIMINGS }));
    await admin.patchGroup(TEST_GROUP, { lifecycleState: 'Inactive' });
    await expectApiError(remove(['i-bp1nosuchinstance001']), 'IncorrectScalingGroupStatus', 400);
    await admin.patchGroup(TEST_GROUP, { lifecycleState: 'Active' });
    await expectApiError(remove(['i-bp1nosuchinstance001']), 'InvalidInstanceId.NotFound', 404);
    await expectApiError(remove([testInstanceId(1)]), 'IncorrectCapacity.MinSize', 400);
  });

  it('every code of the seed table can also be injected with its documented status and message', async () => {
    const table: Array<[string, number]> = [
      ['InvalidScalingGroupId.NotFound', 404],
      ['InvalidInstanceId.NotFound', 404],
      ['InvalidParameter', 400],
      ['Forbidden.Unauthorized', 403],
      ['IncorrectScalingGroupStatus', 400],
      ['ScalingActivityInProgress', 400],
      ['IncorrectLoadBalancerStatus', 400],
      ['IncorrectDBInstanceStatus', 400],
      ['IncorrectCapacity.MinSize', 400],
    ];
    for (const [code, status] of table) {
      await admin.setFaults([{ action: 'RemoveInstances', kind: 'errorCode', code, times: 1 }]);
      await expectApiError(remove([testInstanceId(1)]), code, status, KNOWN_ERRORS[code]?.message);
    }
    // Injected errors have no effect.
    expect((await admin.state()).activities).toHaveLength(0);
  });
});

describe('RemoveInstances activity', () => {
  it('InProgress -> Successful: Removing + activity ID, weight 0, deregistration, removal, capacity', async () => {
    await load(buildTestScenario({ timings: OBSERVABLE }));
    const ids = [1, 2, 3].map(testInstanceId);
    const started = Date.now();
    const { scalingActivityId: id } = await remove(ids);
    expect(id).toMatch(/^asa-[a-z0-9]{20}$/);

    // Accepted: InProgress, instances Removing and tagged with the activity.
    const a0 = await activity(id);
    expect(a0).toMatchObject({ statusCode: 'InProgress', description: 'Remove "3" ECS instances', totalCapacity: 30 });
    expect(a0.cause).toMatch(/^At \d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z, 3 instance\(s\) were removed by API call\.$/);
    expect(a0.startTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    expect(a0.progress).toBeGreaterThanOrEqual(0);
    expect(a0.progress).toBeLessThan(100);
    const removing = await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      scalingActivityId: id,
    });
    expect(removing.instances.map((i) => i.instanceId).sort()).toEqual(ids);
    expect(removing.instances.every((i) => i.lifecycleState === 'Removing' && i.scalingActivityId === id)).toBe(true);
    const g0 = await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g0).toMatchObject({ totalCapacity: 30, removingCapacity: 3, activeCapacity: 27 });

    // ESS stopped traffic first: weight 0 on the CLB default group, the vserver group and the ALB group.
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    const vsg = await client.clb.describeVServerGroupAttribute(TEST_REGION, TEST_VSG);
    const alb = await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB);
    for (const list of [lb.backendServers, vsg.backendServers, alb.servers]) {
      for (const sid of ids) expect(list.find((b) => b.serverId === sid)?.weight).toBe(0);
      expect(list.find((b) => b.serverId === testInstanceId(4))?.weight).toBe(100);
    }

    // Progress moves with time.
    await new Promise((r) => setTimeout(r, 150));
    const mid = await activity(id);
    if (mid.statusCode === 'InProgress') expect(mid.progress).toBeGreaterThan(0);

    // After the drain wait ESS deregisters them from every attached LB (before the activity ends).
    const deregistered = await waitFor(async () => {
      const l = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
      return l.backendServers.some((b) => ids.includes(b.serverId)) ? undefined : l;
    });
    expect(deregistered.backendServers).toHaveLength(27);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);

    const done = await waitEnded(id);
    expect(done).toMatchObject({ statusCode: 'Successful', progress: 100, totalCapacity: 27, failedInstanceIds: [] });
    expect(done.endTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);

    const g1 = await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g1).toMatchObject({ totalCapacity: 27, activeCapacity: 27, removingCapacity: 0, desiredCapacity: 27 });
    const left = await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: ids,
    });
    expect(left.instances).toHaveLength(0);
    expect((await client.clb.describeVServerGroupAttribute(TEST_REGION, TEST_VSG)).backendServers).toHaveLength(27);
    expect((await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers).toHaveLength(27);
    const st = await admin.state();
    expect(st.ecsRecords.map((r) => [r.instanceId, r.fate])).toEqual(ids.map((i) => [i, 'released']));
  });

  it('the wire shape: capacities as strings, minute-precision times', async () => {
    const { scalingActivityId: id } = await remove([testInstanceId(1)]);
    await waitEnded(id);
    const r = await rawCall(
      emu.url,
      { Action: 'DescribeScalingActivities', Version: '2014-08-28', RegionId: TEST_REGION, 'ScalingActivityId.1': id },
      TEST_KEY,
    );
    const w = r.json.ScalingActivities.ScalingActivity[0];
    expect(r.json).toMatchObject({ TotalCount: 1, PageNumber: 1, PageSize: 10 });
    expect(w).toMatchObject({
      StatusCode: 'Successful',
      Progress: 100,
      TotalCapacity: '29',
      AttachedCapacity: '0',
      AutoCreatedCapacity: '29',
      ScalingInstanceNumber: 1,
    });
    expect(w.StartTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    const i = await rawCall(
      emu.url,
      {
        Action: 'DescribeScalingInstances',
        Version: '2014-08-28',
        RegionId: TEST_REGION,
        'InstanceId.1': testInstanceId(2),
      },
      TEST_KEY,
    );
    const wi = i.json.ScalingInstances.ScalingInstance[0];
    expect(wi.CreationTime).toBe('2026-01-05T02:01Z');
    expect(wi.CreatedTime).toBe('2026-01-05T02:01:00Z');
    expect(wi).toMatchObject({
      InstanceId: testInstanceId(2),
      LifecycleState: 'InService',
      CreationType: 'AutoCreated',
      HealthStatus: 'Healthy',
      Entrusted: false,
    });
  });

  it("recentScalingActivities lists the group's activities newest first, with the failed instances", async () => {
    await admin.settings({
      activityOutcomes: [
        {
          match: { instanceIds: [testInstanceId(3)] },
          status: 'Warning',
          failInstanceIds: [testInstanceId(3)],
          times: 1,
        },
      ],
    });
    const first = await remove([testInstanceId(1)]);
    await waitEnded(first.scalingActivityId);
    const second = await remove([testInstanceId(2), testInstanceId(3)]);
    await waitEnded(second.scalingActivityId);
    const { activities } = await client.ess.recentScalingActivities(TEST_REGION, TEST_GROUP);
    expect(activities.map((a) => a.scalingActivityId)).toEqual([second.scalingActivityId, first.scalingActivityId]);
    expect(activities[0]).toMatchObject({ statusCode: 'Warning', failedInstanceIds: [testInstanceId(3)] });
    expect(Date.parse(activities[0]?.startTime ?? '')).toBeGreaterThan(Date.now() - 120_000);
    const call = (await admin.calls({ action: 'DescribeScalingActivities' })).at(-1);
    expect(call?.params).toMatchObject({ ScalingGroupId: TEST_GROUP, PageSize: '50' });
  });

  it('DecreaseDesiredCapacity=false keeps DesiredCapacity; Attached instances are only detached', async () => {
    const s = buildTestScenario({ timings: TIMINGS });
    s.instances = [
      {
        id: 'i-bp1attached000000001',
        scalingGroupId: TEST_GROUP,
        creationType: 'Attached',
        attachTo: { loadBalancerIds: [TEST_LB] },
      },
    ];
    await load(s);
    const { scalingActivityId: id } = await remove(['i-bp1attached000000001', testInstanceId(1)], {
      decreaseDesiredCapacity: false,
    });
    await waitEnded(id);
    const g = await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g).toMatchObject({ totalCapacity: 29, desiredCapacity: 30 });
    const fates = Object.fromEntries((await admin.state()).ecsRecords.map((r) => [r.instanceId, r.fate]));
    expect(fates).toEqual({ 'i-bp1attached000000001': 'detached', [testInstanceId(1)]: 'released' });
  });

  it('ends Warning with FailedInstanceIds; failed instances go back InService and keep their LB weights', async () => {
    const failing = testInstanceId(2);
    await load(
      buildTestScenario({
        timings: TIMINGS,
        extra: {
          activityOutcomes: [
            {
              match: { instanceIds: [failing] },
              status: 'Warning',
              errorCode: 'InstanceStopFailed',
              errorMessage: 'Failed to stop the instance.',
            },
          ],
        },
      }),
    );
    const { scalingActivityId: id } = await remove([testInstanceId(1), failing, testInstanceId(3)]);
    const done = await waitEnded(id);
    expect(done).toMatchObject({
      statusCode: 'Warning',
      progress: 100,
      failedInstanceIds: [failing],
      errorCode: 'InstanceStopFailed',
      errorMessage: 'Failed to stop the instance.',
    });
    const back = await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [failing],
    });
    expect(back.instances[0]).toMatchObject({ lifecycleState: 'InService' });
    expect(back.instances[0]?.scalingActivityId).not.toBe(id);
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers.find((b) => b.serverId === failing)?.weight).toBe(100);
    expect(lb.backendServers.find((b) => b.serverId === testInstanceId(1))).toBeUndefined();
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.totalCapacity).toBe(28);
    const raw = await rawCall(
      emu.url,
      { Action: 'DescribeScalingActivities', Version: '2014-08-28', RegionId: TEST_REGION, 'ScalingActivityId.1': id },
      TEST_KEY,
    );
    expect(raw.json.ScalingActivities.ScalingActivity[0].ErrorMessages).toEqual({
      ErrorMessagesItem: [
        {
          Code: 'InstanceStopFailed',
          Message: 'Failed to stop the instance.',
          FailedInstanceIds: { FailedInstanceIds: [failing] },
        },
      ],
    });
  });

  it('ends Failed with nothing removed, and Rejected without touching anything', async () => {
    await load(
      buildTestScenario({
        timings: TIMINGS,
        extra: {
          activityOutcomes: [
            { match: { instanceIds: [testInstanceId(1)] }, status: 'Failed', errorCode: 'InternalError', times: 1 },
            { match: { instanceIds: [testInstanceId(5)] }, status: 'Rejected' },
          ],
        },
      }),
    );
    const { scalingActivityId: failedId } = await remove([testInstanceId(1), testInstanceId(2)]);
    const failed = await waitEnded(failedId);
    expect(failed.statusCode).toBe('Failed');
    expect(failed.failedInstanceIds.sort()).toEqual([testInstanceId(1), testInstanceId(2)]);
    const g = await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g).toMatchObject({ totalCapacity: 30, activeCapacity: 30, desiredCapacity: 30 });
    const lb = await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB);
    expect(lb.backendServers.filter((b) => b.weight === 100)).toHaveLength(30);

    // `times: 1` spent: the same instance now removes fine.
    const { scalingActivityId: okId } = await remove([testInstanceId(1)]);
    expect((await waitEnded(okId)).statusCode).toBe('Successful');

    const { scalingActivityId: rejectedId } = await remove([testInstanceId(5)]);
    const rejected = await activity(rejectedId);
    expect(rejected.statusCode).toBe('Rejected');
    const five = await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [testInstanceId(5)],
    });
    expect(five.instances[0]?.lifecycleState).toBe('InService');
    // A rejected activity does not block the group.
    await expect(remove([testInstanceId(6)])).resolves.toBeDefined();
  });

  it('IgnoreInvalidInstance=true skips unknown IDs and ends Warning', async () => {
    const { scalingActivityId: id } = await remove([testInstanceId(1), 'i-bp1nosuchinstance001'], {
      ignoreInvalidInstance: true,
    });
    const done = await waitEnded(id);
    expect(done.statusCode).toBe('Warning');
    expect(done.failedInstanceIds).toEqual(['i-bp1nosuchinstance001']);
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.totalCapacity).toBe(29);
  });

  it('a Standby instance can still be removed manually', async () => {
    await client.ess.enterStandby(TEST_REGION, TEST_GROUP, [testInstanceId(1)]);
    const { scalingActivityId: id } = await remove([testInstanceId(1)]);
    expect((await waitEnded(id)).statusCode).toBe('Successful');
    expect((await client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP))?.standbyCapacity).toBe(0);
  });
});

describe('ClientToken idempotence', () => {
  it('same token + params returns the same ScalingActivityId with a new RequestId, even mid-activity', async () => {
    const a = await remove([testInstanceId(1), testInstanceId(2)], { clientToken: 'batch-1' });
    const b = await remove([testInstanceId(2), testInstanceId(1)], { clientToken: 'batch-1' });
    expect(b.scalingActivityId).toBe(a.scalingActivityId);
    expect(b.requestId).not.toBe(a.requestId);
    await waitEnded(a.scalingActivityId);
    // After the end the replay still answers with the original activity (the instances are gone by now).
    const c = await remove([testInstanceId(1), testInstanceId(2)], { clientToken: 'batch-1' });
    expect(c.scalingActivityId).toBe(a.scalingActivityId);
    expect((await admin.state()).activities).toHaveLength(1);
  });

  it('same token + different params is IdempotentParameterMismatch', async () => {
    await remove([testInstanceId(1)], { clientToken: 'batch-2' });
    await expectApiError(remove([testInstanceId(3)], { clientToken: 'batch-2' }), 'IdempotentParameterMismatch', 400);
    await expectApiError(
      remove([testInstanceId(1)], { clientToken: 'batch-2', decreaseDesiredCapacity: false }),
      'IdempotentParameterMismatch',
      400,
    );
  });

  it('with ignoreClientToken (older API behaviour) a retry is a new call', async () => {
    await admin.settings({ ignoreClientToken: true });
    const a = await remove([testInstanceId(1)], { clientToken: 'batch-3' });
    await expectApiError(remove([testInstanceId(1)], { clientToken: 'batch-3' }), 'ScalingActivityInProgress', 400);
    await waitEnded(a.scalingActivityId);
    await expectApiError(remove([testInstanceId(1)], { clientToken: 'batch-3' }), 'InvalidInstanceId.NotFound', 404);
  });
});
