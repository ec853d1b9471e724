import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient } from '../../src/aliyun';
import type { EmulatorAdminClient, RunningEmulator } from '../../src/emulator';
import { TEST_GROUP, TEST_REGION, buildTestScenario, testInstanceId, waitFor } from '../../src/emulator/testing';

const TIMINGS = { activityDurationMs: 100, essDrainWaitMs: 20, albJobDurationMs: 20 };

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv({ timings: TIMINGS }));
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

const listedByGroup = async (id: string) =>
  (await client.ess.recentScalingActivities(TEST_REGION, TEST_GROUP)).activities.some(
    (a) => a.scalingActivityId === id,
  );

describe('timings.activityListingLagMs: DescribeScalingActivities by group lags behind an accepted call', () => {
  it('hides a new activity from the listing by group until the lag is over, but not from a lookup by ID', async () => {
    await admin.loadScenario(buildTestScenario({ timings: { ...TIMINGS, activityListingLagMs: 1500 } }));
    const { scalingActivityId } = await client.ess.removeInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [testInstanceId(1)],
    });
    const started = Date.now();
    expect(await listedByGroup(scalingActivityId)).toBe(false);
    const byId = await client.ess.describeScalingActivities(TEST_REGION, [scalingActivityId]);
    expect(byId.activities.map((a) => a.scalingActivityId)).toEqual([scalingActivityId]);
    await waitFor(() => listedByGroup(scalingActivityId), 5_000, 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('lists at once by default, and the admin API sets the lag without a reload', async () => {
    await admin.loadScenario(buildTestScenario({ timings: TIMINGS }));
    const first = await client.ess.removeInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [testInstanceId(1)],
    });
    expect(await listedByGroup(first.scalingActivityId)).toBe(true);
    await waitFor(async () => {
      const [a] = (await client.ess.describeScalingActivities(TEST_REGION, [first.scalingActivityId])).activities;
      return a?.statusCode !== 'InProgress';
    }, 5_000);
    await admin.settings({ timings: { activityListingLagMs: 60_000 } });
    const second = await client.ess.removeInstances({
      regionId: TEST_REGION,
      scalingGroupId: TEST_GROUP,
      instanceIds: [testInstanceId(2)],
    });
    expect(await listedByGroup(second.scalingActivityId)).toBe(false);
    expect(await listedByGroup(first.scalingActivityId)).toBe(false);
  });

  it('refuses a negative lag', async () => {
    await expect(admin.settings({ timings: { activityListingLagMs: -1 } })).rejects.toThrow(/activityListingLagMs/);
  });
});
