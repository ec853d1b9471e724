import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContractEnv, stopContractEnv } from './harness';
import { AliyunApiError, type ClosableCloudClient } from '../../src/aliyun';
import type { EmulatorAdminClient, RunningEmulator } from '../../src/emulator';
import { TEST_GROUP, TEST_REGION, buildTestScenario, testInstanceId, waitFor } from '../../src/emulator/testing';

/**
 * Issue 14, "Lag": right after RemoveInstances answers, ESS may not find the new activity by its ID
 * yet (`timings.activityLookupLagMs`) and may still show the instances as they were
 * (`timings.lifecycleStateLagMs`), while RemoveInstances itself already sees them Removing.
 */
const TIMINGS = { activityDurationMs: 4000, essDrainWaitMs: 20, albJobDurationMs: 20 };
const LAG = 1500;

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv({ timings: TIMINGS }));
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

const foundById = async (id: string) =>
  (await client.ess.describeScalingActivities(TEST_REGION, [id])).activities.some((a) => a.scalingActivityId === id);

const shown = async (id: string, filter: { lifecycleState?: string; scalingActivityId?: string } = {}) =>
  (
    await client.ess.describeScalingInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [id],
      ...filter,
    })
  ).instances[0];

const remove = (...ids: string[]) =>
  client.ess.removeInstances({ regionId: TEST_REGION, scalingGroupId: TEST_GROUP, instanceIds: ids });

describe('timings.activityLookupLagMs: DescribeScalingActivities by ID lags behind an accepted call', () => {
  it('does not find a new activity by its ID until the lag is over', async () => {
    await admin.loadScenario(buildTestScenario({ timings: { ...TIMINGS, activityLookupLagMs: LAG } }));
    const { scalingActivityId } = await remove(testInstanceId(1));
    const started = Date.now();
    expect(await foundById(scalingActivityId)).toBe(false);
    await waitFor(() => foundById(scalingActivityId), 5_000, 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LAG - 500);
  });

  it('finds it at once by default', async () => {
    await admin.loadScenario(buildTestScenario({ timings: TIMINGS }));
    const { scalingActivityId } = await remove(testInstanceId(1));
    expect(await foundById(scalingActivityId)).toBe(true);
  });
});

describe('timings.lifecycleStateLagMs: DescribeScalingInstances shows the state from before RemoveInstances', () => {
  it('shows InService and the old activity for a while, filters by what it shows, then shows Removing', async () => {
    await admin.loadScenario(buildTestScenario({ timings: { ...TIMINGS, lifecycleStateLagMs: LAG } }));
    const id = testInstanceId(1);
    const { scalingActivityId } = await remove(id);
    const started = Date.now();

    const before = await shown(id);
    expect(before?.lifecycleState).toBe('InService');
    expect(before?.scalingActivityId).not.toBe(scalingActivityId);
    expect(await shown(id, { lifecycleState: 'Removing' })).toBeUndefined();
    expect(await shown(id, { lifecycleState: 'InService' })).toBeDefined();
    expect(await shown(id, { scalingActivityId })).toBeUndefined();
    // The truth is not lagged: the admin state already has it Removing.
    const truth = (await admin.state()).instances.find((i) => i.instanceId === id);
    expect(truth?.lifecycleState).toBe('Removing');

    await waitFor(async () => (await shown(id))?.lifecycleState === 'Removing', 5_000, 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LAG - 500);
    expect((await shown(id, { scalingActivityId }))?.lifecycleState).toBe('Removing');
  });

  it('RemoveInstances already refuses the instance while it is shown InService', async () => {
    await admin.loadScenario(
      buildTestScenario({ timings: { ...TIMINGS, lifecycleStateLagMs: LAG }, extra: { ignoreClientToken: true } }),
    );
    const id = testInstanceId(1);
    await remove(id);
    expect((await shown(id))?.lifecycleState).toBe('InService');
    // The group is busy with the activity that took it: the refusal comes before the instance's own state
    // (docs/emulator.md, RemoveInstances steps 7 and 8). Nothing new is accepted.
    const err = await remove(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AliyunApiError);
    expect((err as AliyunApiError).code).toBe('ScalingActivityInProgress');
    const removals = (await admin.state()).activities.filter((a) => a.kind === 'RemoveInstances');
    expect(removals).toHaveLength(1);
  });

  it('shows the state at once by default, and the admin API sets both lags without a reload', async () => {
    await admin.loadScenario(buildTestScenario({ timings: TIMINGS }));
    const first = await remove(testInstanceId(1));
    expect((await shown(testInstanceId(1)))?.lifecycleState).toBe('Removing');
    expect(await foundById(first.scalingActivityId)).toBe(true);
    await waitFor(async () => !(await shown(testInstanceId(1))), 10_000, 50);

    const view = await admin.settings({ timings: { lifecycleStateLagMs: 60_000, activityLookupLagMs: 60_000 } });
    expect(view.timings).toMatchObject({ lifecycleStateLagMs: 60_000, activityLookupLagMs: 60_000 });
    const second = await remove(testInstanceId(2));
    expect((await shown(testInstanceId(2)))?.lifecycleState).toBe('InService');
    expect(await foundById(second.scalingActivityId)).toBe(false);
  });

  it('refuses a negative lag', async () => {
    await expect(admin.settings({ timings: { lifecycleStateLagMs: -1 } })).rejects.toThrow(/lifecycleStateLagMs/);
    await expect(admin.settings({ timings: { activityLookupLagMs: -1 } })).rejects.toThrow(/activityLookupLagMs/);
  });
});
