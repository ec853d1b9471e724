import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/emulator/testing';
import { startStack, type Stack } from '../harness/stack';

/**
 * Issue 12, case 1, end to end: attempt 1 of removeBatch is refused with Throttling (a 4xx), so
 * its checkpoint is the last one the server has; attempt 2 is accepted, but the worker is SIGKILLed
 * before its answer arrives and before its throttled checkpoint is sent; the activity ends Warning
 * with one instance failed; attempt 3 must not send that instance again, and must credit the two
 * it removed to that activity.
 *
 * Deterministic by the emulator's faults: every DescribeScalingInstances answer takes 2.5 s, so the
 * keep-alive heartbeat (every 5/3 s) goes out before attempt 2 writes its "sent" checkpoint, which the
 * SDK then holds back (throttle 0.8 × 5 s); RemoveInstances takes effect at once but answers only
 * after 8 s, and the worker is killed as soon as the scaling activity exists. In the second case
 * the listing by group lags (emulator `timings.activityListingLagMs`), so only the same call made
 * again with the same ClientToken finds the activity.
 */
describe('exactly once when a throttled attempt is followed by a lost checkpoint', () => {
  let stack: Stack;
  // A stack per case: each needs the group's instances, faults and outcome rules afresh.
  beforeEach(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterEach(async () => {
    await stack?.close();
  });

  it.each([
    ['DescribeScalingActivities lists the activity', 0, false],
    ['DescribeScalingActivities lags 60 s behind the accepted call', 60_000, true],
  ])(
    'attempt 3 sends nothing again and credits the two removed instances to the activity (%s)',
    async (_, lagMs, replayed) => {
      const ids = (await stack.instanceIds()).slice(0, 3);
      const [a, b, failed] = ids as [string, string, string];
      await stack.admin.settings({
        timings: { activityDurationMs: 300, essDrainWaitMs: 100, activityListingLagMs: lagMs },
        activityOutcomes: [{ status: 'Warning', failInstanceIds: [failed], times: 1 }],
      });
      await stack.admin.setFaults([
        { action: 'RemoveInstances', kind: 'Throttling', times: 1 },
        { action: 'RemoveInstances', kind: 'latency', latencyMs: 8000, latencyAfterEffect: true, times: 2 },
        { action: 'DescribeScalingInstances', kind: 'latency', latencyMs: 2500 },
      ]);
      const first = await stack.spawnWorker();
      const { workflowId } = await stack.client.start(
        stack.input(ids, {
          batchSize: 3,
          onBatchFailure: 'continue',
          drain: { strategy: 'none' },
          advanced: {
            pollMinIntervalMs: 100,
            pollMaxIntervalMs: 300,
            retryInitialIntervalMs: 100,
            retryMaxIntervalMs: 300,
            heartbeatTimeoutSeconds: 5,
          },
        }),
      );
      const activities = async () =>
        (await stack.admin.state()).activities.filter(
          (x) => x.scalingGroupId === stack.group && x.kind === 'RemoveInstances',
        );
      await waitFor(async () => (await activities()).length > 0, 90_000, 20);
      await first.kill('SIGKILL');

      const second = await stack.spawnWorker();
      const result = await stack.client.result(workflowId);
      second.child.kill('SIGTERM');

      const removes = await stack.admin.calls({ action: 'RemoveInstances' });
      // Throttled, accepted (its answer never delivered), and, only while the listing lags, the same call
      // again: the same ClientToken, answered with the activity the accepted one created. When the activity
      // is listed, its DestroyedInstances and ErrorMessages prove it, and nothing is sent again.
      // (The log is in order of answers.)
      expect(removes[0]?.outcome).toBe('Throttling');
      const ok = removes.filter((c) => c.outcome === 'ok');
      expect(ok.map((c) => Boolean(c.createdActivityId)).sort()).toEqual(replayed ? [false, true] : [true]);
      expect(new Set(ok.map((c) => c.params.ClientToken)).size).toBe(1);
      expect(removes).toHaveLength(replayed ? 3 : 2);
      // One scaling activity in all: the third attempt created none.
      const created = await activities();
      expect(created, second.output()).toHaveLength(1);
      expect(removes.filter((c) => c.createdActivityId)).toHaveLength(1);
      const activityId = created[0]?.scalingActivityId;
      expect(result.removed).toEqual([
        expect.objectContaining({ scalingActivityId: activityId, instanceIds: [a, b].sort() }),
      ]);
      expect(result.notRemoved).toEqual([
        expect.objectContaining({ instanceId: failed, outcome: 'failed', scalingActivityId: activityId }),
      ]);
      expect(result.counts).toMatchObject({ removed: 2, failed: 1, skipped: 0 });
      expect(result.batches[0]?.attempts).toBe(3);
    },
    120_000,
  );
});
