import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it } from 'vitest';
import type { RepairOutcome } from '../../src/activities/verify';
import { drainedFromHistories } from '../../src/client/repair-history';
import {
  mergeRepairResults,
  repairInputProblems,
  settleSecondsFor,
  summarizeRepair,
} from '../../src/workflows/repair/shape';
import { restoreInstanceId } from '../../src/shared/restore';

const dir = path.join(__dirname, '../fixtures/histories/v5');
const load = (name: string) => historyFromJSON(JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')));
const read = (...names: string[]) => drainedFromHistories(names.map(load), defaultPayloadConverter);
const instancesOf = (r: ReturnType<typeof read>) => [...new Set(r.restore.map(restoreInstanceId))].sort();
const LB = 'lb-bp1small0000000000001';

describe('drainedFromHistories: what a run drained and did not remove', () => {
  it('a cancelled run: the original weights of its drained batch, on each of its three load balancers', () => {
    const r = read('cancelled');
    expect(r.regionId).toBe('cn-hangzhou');
    expect(r.scalingGroupId).toBe('asg-bp1small000000000001');
    expect(r.removed).toEqual([]);
    expect(instancesOf(r)).toEqual(r.drainedInstanceIds.slice().sort());
    expect(r.drainedInstanceIds).toHaveLength(5);
    // One record per backend: CLB, vserver group and ALB server group, each at the weight read before the drain.
    expect(r.restore).toHaveLength(15);
    expect(new Set(r.restore.map((x) => x.kind))).toEqual(new Set(['clb', 'vsg', 'alb']));
    expect(r.restore.find((x) => x.kind === 'clb')).toEqual({
      kind: 'clb',
      loadBalancerId: LB,
      serverId: r.drainedInstanceIds[0],
      weight: 100,
    });
  });

  it('a completed run: everything drained was removed, so nothing to restore and every removal named', () => {
    const r = read('happy-path');
    expect(r.restore).toEqual([]);
    expect(r.removed.map((x) => x.instanceId).sort()).toEqual(r.drainedInstanceIds.slice().sort());
    expect(r.removed[0]?.why).toMatch(/^removed by the run \(scaling activity asa-[^)]+\): not touched$/);
  });

  it('a batch that failed: its instances stayed in the group and are restored, the removed ones are not', () => {
    const r = read('batch-failed-continue');
    const removed = new Set(r.removed.map((x) => x.instanceId));
    expect(removed.size).toBe(5);
    expect(instancesOf(r)).toHaveLength(5);
    for (const id of instancesOf(r)) expect(removed.has(id)).toBe(false);
    expect([...instancesOf(r), ...removed].sort()).toEqual(r.drainedInstanceIds.slice().sort());
  });

  it('a drain that failed: the weights it read before failing', () => {
    const r = read('drain-failed');
    expect(r.restore).toHaveLength(15);
    expect(r.restore.every((x) => x.kind === 'standby' || x.weight > 0)).toBe(true);
  });

  it('a continue-as-new chain: what the first run drained and the final run removed is not restored', () => {
    const first = read('continue-as-new-drained-first-run');
    expect(instancesOf(first)).toHaveLength(10);
    const chain = read('continue-as-new-drained-first-run', 'continue-as-new-drained-final-run');
    expect(chain.restore).toEqual([]);
    expect(chain.removed.map((x) => x.instanceId)).toEqual(expect.arrayContaining(instancesOf(first)));
  });

  it('a run that changed nothing: nothing to restore', () => {
    for (const name of ['dry-run', 'preflight-failed']) {
      const r = read(name);
      expect(r.restore).toEqual([]);
      expect(r.drainedInstanceIds).toEqual([]);
    }
  });
});

describe('drainedFromHistories: runs that ended abruptly (built event by event)', () => {
  const p = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
  const started = (input: unknown, carry?: unknown) => ({
    eventId: 1,
    workflowExecutionStartedEventAttributes: {
      input: carry ? { payloads: [...p(input).payloads, ...p(carry).payloads] } : p(input),
    },
  });
  const scheduled = (eventId: number, name: string, input: unknown) => ({
    eventId,
    activityTaskScheduledEventAttributes: { activityType: { name }, input: p(input) },
  });
  const completed = (scheduledEventId: number, result: unknown) => ({
    activityTaskCompletedEventAttributes: { scheduledEventId, result: p(result) },
  });
  const clb = (serverId: string, weight: number) => ({
    kind: 'clb' as const,
    loadBalancerId: 'lb-1',
    serverId,
    weight,
  });
  const where = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' };
  const run = (...events: object[]) => drainedFromHistories([{ events }], defaultPayloadConverter);

  it('terminated mid-drain: the snapshot taken before the drain, first read winning over the drain’s own', () => {
    const r = run(
      started({ ...where, instanceIds: ['i-1', 'i-2'] }),
      scheduled(5, 'snapshotWeights', { instanceIds: ['i-1', 'i-2'] }),
      completed(5, { restore: [clb('i-1', 100), clb('i-2', 30)] }),
      scheduled(8, 'drain', { strategy: 'weight', instanceIds: ['i-1', 'i-2'], originals: [clb('i-1', 100)] }),
      // A drain attempt that read weights after an earlier attempt's change: 0 must not win.
      {
        activityTaskTimedOutEventAttributes: {
          scheduledEventId: 8,
          failure: { timeoutFailureInfo: { lastHeartbeatDetails: p({ restore: [clb('i-2', 0)] }) } },
        },
      },
    );
    expect(r.restore).toEqual([clb('i-1', 100), clb('i-2', 30)]);
    expect(r.drainedInstanceIds).toEqual(['i-1', 'i-2']);
  });

  it('a standby drain: every instance it moved, not those already in Standby', () => {
    const r = run(
      started({ ...where }),
      scheduled(5, 'drain', { strategy: 'standby', instanceIds: ['i-1', 'i-2'], alreadyStandby: ['i-2'] }),
    );
    expect(r.restore).toEqual([{ kind: 'standby', instanceId: 'i-1' }]);
  });

  it('removals: accepted ones are left alone unless their poll says the instance stayed', () => {
    const r = run(
      started({ ...where }),
      scheduled(5, 'snapshotWeights', {}),
      completed(5, { restore: [clb('i-1', 100), clb('i-2', 100), clb('i-3', 100), clb('i-4', 100)] }),
      scheduled(9, 'removeBatch', {}),
      completed(9, {
        removals: [{ scalingActivityId: 'asa-1', instanceIds: ['i-1', 'i-2'] }],
        gone: [
          { instanceId: 'i-3', removedByEarlierAttempt: true },
          { instanceId: 'i-4', removedByEarlierAttempt: false },
        ],
      }),
      scheduled(12, 'pollScalingActivity', {}),
      completed(12, {
        scalingActivityId: 'asa-1',
        removedInstanceIds: ['i-1'],
        failedInstances: [{ instanceId: 'i-2' }],
      }),
    );
    expect(r.restore).toEqual([clb('i-2', 100), clb('i-4', 100)]);
    expect(r.removed).toEqual([
      { instanceId: 'i-3', why: 'removed by the run: not touched' },
      { instanceId: 'i-1', why: 'removed by the run (scaling activity asa-1): not touched' },
    ]);
  });

  it('an accepted removal whose poll never answered keeps its weights: its activity may roll back', () => {
    const r = run(
      started({ ...where }),
      scheduled(5, 'drain', { strategy: 'standby', instanceIds: ['i-1', 'i-2'] }),
      completed(5, { restore: [] }),
      scheduled(9, 'removeBatch', {}),
      completed(9, { removals: [{ scalingActivityId: 'asa-1', instanceIds: ['i-1', 'i-2'] }], gone: [] }),
      scheduled(12, 'pollScalingActivity', {}),
    );
    // The repair reads the group first: gone or still Removing is reported gone, back in Standby is restored.
    expect(r.restore).toEqual([
      { kind: 'standby', instanceId: 'i-1' },
      { kind: 'standby', instanceId: 'i-2' },
    ]);
    expect(r.removed).toEqual([]);
  });

  it('terminated while a drain ran: that attempt is open at the close, with its heartbeat timeout', () => {
    const at = (seconds: number) => ({ seconds, nanos: 500_000_000 });
    const r = run(
      started({ ...where }),
      {
        ...scheduled(5, 'snapshotWeights', {}),
        activityTaskScheduledEventAttributes: {
          ...scheduled(5, 'snapshotWeights', {}).activityTaskScheduledEventAttributes,
          heartbeatTimeout: { seconds: 4 },
        },
      },
      completed(5, { restore: [clb('i-1', 100)] }),
      {
        ...scheduled(8, 'drain', { strategy: 'standby', instanceIds: ['i-1'] }),
        activityTaskScheduledEventAttributes: {
          ...scheduled(8, 'drain', { strategy: 'standby', instanceIds: ['i-1'] }).activityTaskScheduledEventAttributes,
          heartbeatTimeout: { seconds: 2, nanos: 500_000_000 },
        },
      },
      { eventId: 11, eventTime: at(1_700_000_000), workflowExecutionTerminatedEventAttributes: { reason: 'x' } },
    );
    expect(r.openAtClose).toEqual([{ activityType: 'drain', heartbeatTimeoutMs: 2500 }]);
    expect(r.closedAtMs).toBe(1_700_000_000_500);
  });

  it('a run whose activities all reported back has nothing open at its close', () => {
    const r = run(
      started({ ...where }),
      scheduled(5, 'drain', { strategy: 'standby', instanceIds: ['i-1'] }),
      { activityTaskFailedEventAttributes: { scheduledEventId: 5, failure: { message: 'denied' } } },
      scheduled(7, 'drain', { strategy: 'standby', instanceIds: ['i-1'] }),
      { activityTaskCanceledEventAttributes: { scheduledEventId: 7 } },
    );
    expect(r.openAtClose).toEqual([]);
  });

  it('a continued run: its carry’s drained batches count even without the earlier history', () => {
    const r = run(started({ ...where }, { drained: [{ restore: [clb('i-7', 60)] }], removed: [] }));
    expect(r.restore).toEqual([clb('i-7', 60)]);
  });
});

describe('the repair report', () => {
  const target = { workflowId: 'ess-scale-in/cn-hangzhou/asg-1', runId: 'run-1' };
  const input = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', target, restore: [] };
  const at = (instanceId: string, place: string, outcome: RepairOutcome) => ({ instanceId, place, outcome, why: 'x' });

  it('per instance, the worst of its places; removed instances are gone; counts add up', () => {
    const r = summarizeRepair({ ...input, removed: [{ instanceId: 'i-0', why: 'removed by the run: not touched' }] }, [
      at('i-2', 'CLB lb-1', 'restored'),
      at('i-2', 'ALB server group sgp-1 port 80', 'failed'),
      at('i-1', 'CLB lb-1', 'already-fine'),
      at('i-1', 'vserver group rsp-1 port 80', 'restored'),
      at('i-3', 'CLB lb-1', 'gone'),
    ]);
    expect(r.instances.map((i) => [i.instanceId, i.outcome])).toEqual([
      ['i-0', 'gone'],
      ['i-1', 'restored'],
      ['i-2', 'failed'],
      ['i-3', 'gone'],
    ]);
    expect(r.instances[2]?.why).toEqual(['CLB lb-1: restored, x', 'ALB server group sgp-1 port 80: failed, x']);
    expect(r.counts).toEqual({ restored: 1, 'already-fine': 0, gone: 2, failed: 1 });
    expect(r.outcome).toBe('incomplete');
    expect(r.message).toBe(
      'Repair of ess-scale-in/cn-hangzhou/asg-1 (run run-1): restored 1, already fine 0, gone 2, failed 1 instance(s)',
    );
  });

  it('a repair done in parts is reported as one', () => {
    const a = summarizeRepair({ ...input, removed: [] }, [at('i-1', 'CLB lb-1', 'restored')]);
    const b = summarizeRepair({ ...input, removed: [] }, [at('i-0', 'CLB lb-1', 'already-fine')]);
    const merged = mergeRepairResults(target, [a, b]);
    expect(merged.instances.map((i) => i.instanceId)).toEqual(['i-0', 'i-1']);
    expect(merged.counts).toEqual({ restored: 1, 'already-fine': 1, gone: 0, failed: 0 });
    expect(merged.outcome).toBe('repaired');
  });
});

describe('settleSecondsFor: how long a repair waits for the run’s last attempts', () => {
  const closed = 1_000_000;
  it('no wait when nothing was running at the close', () => {
    expect(settleSecondsFor([], closed, closed)).toBe(0);
  });
  it('twice the longest heartbeat timeout, plus the request timeout and a margin, from the close', () => {
    const open = [{ heartbeatTimeoutMs: 2000 }, { heartbeatTimeoutMs: 10_000 }];
    expect(settleSecondsFor(open, closed, closed)).toBe(2 * 10 + 10 + 5);
    expect(settleSecondsFor(open, closed, closed + 30_000)).toBe(5);
    expect(settleSecondsFor(open, closed, closed + 35_000)).toBe(0);
    expect(settleSecondsFor(open, closed, closed + 3_600_000)).toBe(0);
  });
  it('an attempt without a heartbeat timeout is waited for at most an hour', () => {
    expect(settleSecondsFor([{ heartbeatTimeoutMs: undefined }], closed, closed)).toBe(3600);
  });
  it('the repair workflow refuses a wait that is not a whole number of seconds within an hour', () => {
    const input = {
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-1',
      target: { workflowId: 'w', runId: 'r' },
      restore: [],
      removed: [],
    };
    expect(repairInputProblems({ ...input, settleSeconds: 12 })).toEqual([]);
    expect(repairInputProblems(input)).toEqual([]);
    for (const bad of [-1, 1.5, 3601, '10'])
      expect(repairInputProblems({ ...input, settleSeconds: bad })).toEqual([
        'settleSeconds: must be a whole number of seconds from 0 to 3600, or absent',
      ]);
  });
});
