import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack';

/**
 * Issue 14, "Lag", end to end: exactly once under visibility lag, a lost answer and an ignored
 * ClientToken together. RemoveInstances takes effect but its answer is dropped; the activity ends
 * Warning (one instance failed and is InService again) before the retry, which comes about 1 s
 * later; ESS lists the activity, finds it by ID and shows the instances' states only 2.5 s after the
 * call; and it judges a repeated call afresh (ClientToken ignored). On its first look the retry
 * finds no trace of the earlier call, and a repeat would remove the failed instance a second time:
 * it must wait for visibility and adopt.
 * The second batch's poll starts while its activity cannot be found by ID yet.
 */
const LAG_MS = 2500;

describe('exactly once under visibility lag, a lost answer and an ignored ClientToken', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('adopts the earlier activity once it shows, never sending an instance twice', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    const failed = ids[1] as string;
    await stack.admin.settings({
      ignoreClientToken: true,
      timings: {
        activityDurationMs: 50,
        essDrainWaitMs: 10,
        activityListingLagMs: LAG_MS,
        activityLookupLagMs: LAG_MS,
        lifecycleStateLagMs: LAG_MS,
      },
      activityOutcomes: [{ match: { instanceIds: [failed] }, status: 'Warning', failInstanceIds: [failed], times: 1 }],
    });
    await stack.admin.setFaults([{ action: 'RemoveInstances', kind: 'commitThenDrop', times: 1 }]);
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        batchSize: 3,
        onBatchFailure: 'continue',
        drain: { strategy: 'none' },
        advanced: {
          pollMinIntervalMs: 100,
          pollMaxIntervalMs: 300,
          // The retry comes long before the lag is over; it waits up to this long for visibility.
          retryInitialIntervalMs: 200,
          retryMaxIntervalMs: 3000,
          heartbeatTimeoutSeconds: 5,
        },
      }),
    );
    const result = await stack.client.result(workflowId);

    // Each instance was accepted for removal exactly once: one call and one activity per batch.
    const removes = await stack.admin.calls({ action: 'RemoveInstances' });
    const created = removes.filter((c) => c.createdActivityId);
    expect(created).toHaveLength(2);
    expect(removes.filter((c) => c.outcome === 'ok')).toHaveLength(2);
    const activities = (await stack.admin.state()).activities.filter(
      (a) => a.scalingGroupId === stack.group && a.kind === 'RemoveInstances',
    );
    expect(activities).toHaveLength(2);
    expect(activities.flatMap((a) => a.instanceIds).sort()).toEqual([...ids].sort());
    // The first call's answer was lost: the retry adopted its activity.
    expect(removes[0]?.delivered).toBe(false);
    expect(result.batches.map((b) => Boolean(b.adopted))).toEqual([true, false]);

    // The result agrees with the emulator: the failed instance is still in the group, the others are gone.
    const inGroup = new Set(
      (await stack.admin.state()).instances.filter((i) => i.scalingGroupId === stack.group).map((i) => i.instanceId),
    );
    expect(ids.filter((id) => inGroup.has(id))).toEqual([failed]);
    const first = activities.find((a) => a.instanceIds.includes(failed));
    expect(result.notRemoved).toEqual([
      expect.objectContaining({ instanceId: failed, outcome: 'failed', scalingActivityId: first?.scalingActivityId }),
    ]);
    expect(result.counts).toMatchObject({ removed: 5, failed: 1 });
    expect(result.removed.flatMap((r) => r.instanceIds).sort()).toEqual(ids.filter((id) => id !== failed).sort());
  }, 60_000);
});
