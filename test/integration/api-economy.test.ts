import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RemoveBatchResponse } from '../../src/activities';
import { auditFromHistories } from '../../src/client/audit-history';
import { drainedFromHistories } from '../../src/client/repair-history';
import { completedRun, startStack, type Stack } from '../harness/stack';

type History = temporal.api.history.v1.IHistory;

/**
 * Issue 16, API economy: the weight snapshot is a local activity (patch snapshot-as-local-activity)
 * and removeBatch follows the scaling activity it started to its end (patch remove-and-follow), so
 * a batch costs two activities (drain, removeBatch) and one marker instead of four activities.
 */
describe('history economy: local snapshot, remove-and-follow', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });
  // Each test starts from the scenario's full group.
  beforeEach(async () => {
    await stack.admin.reset();
  });

  function scheduled(h: History, type: string): number {
    return (h.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).length;
  }

  function results<T>(h: History, type: string): T[] {
    const byId = new Map<string, string>();
    const out: T[] = [];
    for (const e of h.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) byId.set(String(e.eventId), s.activityType?.name ?? '');
      const done = e.activityTaskCompletedEventAttributes;
      const payload = done?.result?.payloads?.[0];
      if (done && payload && byId.get(String(done.scheduledEventId)) === type)
        out.push(defaultPayloadConverter.fromPayload<T>(payload));
    }
    return out;
  }

  it('snapshots in a marker and polls inside removeBatch; show and repair read both', async () => {
    const victims = (await stack.instanceIds()).slice(0, 25);
    const { workflowId, result } = await completedRun(stack, victims, { drain: { timeoutSeconds: 0 } });
    expect(result.counts).toMatchObject({ total: 25, removed: 25 });
    const batches = result.batches.length;
    expect(batches).toBe(3);

    const history = await stack.client.handle(workflowId).fetchHistory();
    expect(scheduled(history, 'snapshotWeights')).toBe(0);
    expect(scheduled(history, 'pollScalingActivity')).toBe(0);
    expect(scheduled(history, 'removeBatch')).toBe(batches);
    const markers = (history.events ?? []).filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    );
    expect(markers).toHaveLength(batches);
    for (const r of results<RemoveBatchResponse>(history, 'removeBatch')) {
      expect(r.removals).toHaveLength(1);
      expect(r.followed).toMatchObject({
        statusCode: 'Successful',
        scalingActivityId: r.removals[0]?.scalingActivityId,
      });
      expect(r.notFollowed).toBeUndefined();
    }

    // `show` finds each instance's original weights (from the snapshot markers) and its scaling activity.
    const audit = auditFromHistories([history], defaultPayloadConverter);
    for (const a of audit.instances) {
      expect(a.outcome).toBe('removed');
      expect(a.scalingActivity?.statusCode).toBe('Successful');
    }
    expect(audit.instances.map((a) => a.instanceId).sort()).toEqual([...victims].sort());
    // `repair` would touch nothing: every instance was removed, as the followed polls say.
    const drained = drainedFromHistories([history], defaultPayloadConverter);
    expect(drained.restore).toEqual([]);
    expect(drained.removed.map((r) => r.instanceId).sort()).toEqual([...victims].sort());
  });

  it('repair reads the original weights from the snapshot markers of a run terminated while drained', async () => {
    const victims = (await stack.instanceIds()).slice(0, 10);
    const { workflowId } = await stack.client.start(stack.input(victims, { drain: { timeoutSeconds: 600 } }));
    const handle = stack.client.handle(workflowId);
    // Drained, waiting out its drain timeout: the snapshot marker and the drain are in the history.
    for (let i = 0; i < 200; i++) {
      const h = await handle.fetchHistory();
      if ((h.events ?? []).some((e) => e.timerStartedEventAttributes)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.rawClient.workflow.getHandle(workflowId).terminate('test: terminated while drained');
    const history = await handle.fetchHistory();
    expect(scheduled(history, 'snapshotWeights')).toBe(0);
    const drained = drainedFromHistories([history], defaultPayloadConverter);
    // The small scenario puts each instance on the CLB, the vserver group and the ALB server group at weight 100.
    const onClb = drained.restore.filter((r) => r.kind === 'clb');
    expect(onClb.map((r) => r.serverId).sort()).toEqual([...victims].sort());
    expect(drained.restore.every((r) => r.kind === 'standby' || r.weight === 100)).toBe(true);
    const audit = auditFromHistories([history], defaultPayloadConverter);
    expect(audit.instances.every((a) => a.outcome !== 'removed')).toBe(true);
  });

  it('a poll that fails inside removeBatch leaves the activity to a poll of its own', async () => {
    const victims = (await stack.instanceIds()).slice(0, 5);
    // The first DescribeScalingActivities after the removal is refused for good (an error the poll does not retry).
    await stack.admin.setFaults([
      { action: 'DescribeScalingActivities', kind: 'errorCode', code: 'Forbidden.RAM', times: 1 },
    ]);
    const { workflowId } = await stack.client.start(stack.input(victims, { drain: { timeoutSeconds: 0 } }));
    const result = await stack.client.result(workflowId);
    await stack.admin.clearFaults();
    const history = await stack.client.handle(workflowId).fetchHistory();
    const [removal] = results<RemoveBatchResponse>(history, 'removeBatch');
    expect(removal?.followed).toBeUndefined();
    expect(removal?.notFollowed).toMatch(/Forbidden\.RAM/);
    // The workflow followed it with pollScalingActivity, and the poll's answer is the batch's outcome.
    expect(scheduled(history, 'pollScalingActivity')).toBe(1);
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ total: 5, removed: 5 });
  });
});
