import { describe, expect, it } from 'vitest';
import type { PollResponse, RemoveBatchResponse } from '../../../src/activities';
import { validateInput } from '../../../src/shared/input';
import type { Plan } from '../../../src/shared/progress';
import type { RestoreRecord } from '../../../src/shared/restore';
import { Ledger, tally, type Batch } from '../../../src/workflows/scale-in/ledger';
import { failedRestore, outcomeOf, planRestore, recordStop } from '../../../src/workflows/scale-in/restore';

// The ledger is the scale-in's bookkeeping as plain data: these tests need no Temporal server.

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `i-bp1${String(from + i).padStart(17, '0')}`);
const input = (instanceIds: string[], batchSize = 2) =>
  validateInput({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-bp1abc', instanceIds, batchSize });
const plan = { batchCount: 1, batchSize: 2, loadBalancers: [] } as unknown as Plan;
const clb = (serverId: string, weight = 100): RestoreRecord => ({
  kind: 'clb',
  loadBalancerId: 'lb-1',
  serverId,
  weight,
});
const accepted = (batch: Batch, activityId: string, extra: Partial<RemoveBatchResponse> = {}): RemoveBatchResponse => ({
  removals: [{ scalingActivityId: activityId, instanceIds: batch.ids, adopted: false, requestId: 'req-1' }],
  gone: [],
  attempt: 1,
  startedAt: '2026-12-02T00:00:00Z',
  requestIds: ['req-1'],
  ...extra,
});
const polled = (removed: string[], failed: string[] = [], statusCode = 'Successful'): PollResponse => ({
  scalingActivityId: 'asa-1',
  statusCode,
  statusMessage: failed.length ? 'some failed' : '',
  progress: 100,
  removedInstanceIds: removed,
  failedInstances: failed.map((instanceId) => ({ instanceId, why: 'ESS could not remove it' })),
  polls: 2,
  endedAt: '2026-12-02T00:01:00Z',
});

/** An undrain answer as workers before best-effort restore gave it: no notRestored. */
function restoredOnly(records: RestoreRecord[], restoredInstanceIds: string[]) {
  return outcomeOf({ restoredInstanceIds, goneInstanceIds: [], requestIds: [] }, records);
}

function batchOf(ledger: Ledger, n: number): Batch {
  const b = ledger.batches[n];
  if (!b) throw new Error(`no batch ${n}`);
  return b;
}

describe('Ledger: batches and counts', () => {
  it('splits the instances into batches numbered from 1, and keys ClientTokens on the first run ID', () => {
    const ledger = new Ledger(input(ids(5)), 'run-1');
    expect(ledger.batches.map((b) => b.progress.index)).toEqual([1, 2, 3]);
    expect(ledger.batches.map((b) => b.ids.length)).toEqual([2, 2, 1]);
    expect(ledger.runKey).toBe('run-1');
    expect(ledger.batchesTotal).toBe(3);
    expect(ledger.counts()).toEqual({
      total: 5,
      removed: 0,
      failed: 0,
      skipped: 0,
      restored: 0,
      drainedNotRestored: 0,
      pending: 5,
    });
  });

  it('counts every outcome, and what is not accounted for is pending', () => {
    const all = ids(6);
    const ledger = new Ledger(input(all), 'run-1');
    ledger.removed.push({
      batch: 1,
      scalingActivityId: 'asa-1',
      statusCode: 'Successful',
      instanceIds: all.slice(0, 2),
      why: '',
    });
    ledger.notRemoved.set(all[2] ?? '', { instanceId: all[2] ?? '', outcome: 'failed', why: 'x' });
    ledger.notRemoved.set(all[3] ?? '', { instanceId: all[3] ?? '', outcome: 'restored', why: 'x' });
    ledger.skip([all[4] ?? ''], 'gone');
    expect(ledger.counts()).toEqual({
      total: 6,
      removed: 2,
      failed: 1,
      skipped: 1,
      restored: 1,
      drainedNotRestored: 0,
      pending: 1,
    });
    expect(tally(ledger.counts())).toBe('removed 2, failed 1, restored 1, skipped 1 of 6');
  });
});

describe('Ledger: one batch', () => {
  it('a removal that is accepted then ends Successful removes the whole batch', () => {
    const ledger = new Ledger(input(ids(2)), 'run-1');
    const b = batchOf(ledger, 0);
    const removal = accepted(b, 'asa-1');
    ledger.recordRemovalAccepted(b, removal);
    expect(b.progress).toMatchObject({
      state: 'polling',
      scalingActivityId: 'asa-1',
      attempts: 1,
      requestIds: ['req-1'],
    });
    expect([...b.sentToRemoval]).toEqual(b.ids);
    expect(ledger.recordPolled(b, 'batch 1/1', removal.removals[0]!, polled(b.ids))).toBe(true);
    ledger.settleBatchState(b, true, removal);
    expect(b.progress.state).toBe('succeeded');
    expect(ledger.removed).toEqual([
      expect.objectContaining({ batch: 1, scalingActivityId: 'asa-1', instanceIds: b.ids }),
    ]);
    expect(ledger.counts().removed).toBe(2);
  });

  it('instances gone before the call are removed when an earlier attempt did it, else skipped', () => {
    const all = ids(3);
    const ledger = new Ledger(input(all, 3), 'run-1');
    const b = batchOf(ledger, 0);
    ledger.recordRemovalAccepted(
      b,
      accepted(b, 'asa-2', {
        removals: [{ scalingActivityId: 'asa-2', instanceIds: [all[2] ?? ''], adopted: true, requestId: 'req-2' }],
        gone: [
          { instanceId: all[0] ?? '', why: 'removed by our lost call', removedByEarlierAttempt: true },
          { instanceId: all[1] ?? '', why: 'left the group', removedByEarlierAttempt: false },
        ],
      }),
    );
    expect(ledger.removed[0]).toMatchObject({ instanceIds: [all[0]], statusCode: 'Gone' });
    expect(ledger.notRemoved.get(all[1] ?? '')).toMatchObject({ outcome: 'skipped', why: 'left the group', batch: 1 });
    expect(b.progress.adopted).toBe(true);
    expect(b.sentToRemoval.size).toBe(3);
  });

  it('a Warning activity marks its failed instances failed, the batch warning, and names the run failure type', () => {
    const all = ids(2);
    const ledger = new Ledger(input(all), 'run-1');
    const b = batchOf(ledger, 0);
    const removal = accepted(b, 'asa-3');
    ledger.recordRemovalAccepted(b, removal);
    const ok = ledger.recordPolled(
      b,
      'batch 1/1',
      removal.removals[0]!,
      polled([all[0] ?? ''], [all[1] ?? ''], 'Warning'),
    );
    ledger.settleBatchState(b, ok, removal);
    expect(ok).toBe(false);
    expect(b.progress.state).toBe('warning');
    expect(ledger.lastErrorCode).toBe('ScalingActivityWarning');
    expect(ledger.lastError).toBe('batch 1/1: scaling activity asa-3 ended Warning: some failed');
    expect(ledger.notRemoved.get(all[1] ?? '')).toMatchObject({ outcome: 'failed', scalingActivityId: 'asa-3' });
    expect(ledger.failedIdsOf(b)).toEqual(new Set([all[1]]));
  });

  it('a batch none of whose instances were removed is failed, not warning', () => {
    const all = ids(2);
    const ledger = new Ledger(input(all), 'run-1');
    const b = batchOf(ledger, 0);
    const removal = accepted(b, 'asa-4');
    ledger.recordRemovalAccepted(b, removal);
    const ok = ledger.recordPolled(b, 'batch 1/1', removal.removals[0]!, polled([], all, 'Failed'));
    ledger.settleBatchState(b, ok, removal);
    expect(b.progress.state).toBe('failed');
  });

  it('a refused RemoveInstances marks every instance of the batch failed with the cloud code', () => {
    const ledger = new Ledger(input(ids(2)), 'run-1');
    const b = batchOf(ledger, 0);
    ledger.recordRemoveFailed(b, 'batch 1/1', 'IncorrectCapacity.MinSize: too small', 'IncorrectCapacity.MinSize');
    expect(b.progress.state).toBe('failed');
    expect(ledger.lastErrorCode).toBe('IncorrectCapacity.MinSize');
    expect(ledger.counts().failed).toBe(2);
    expect([...ledger.notRemoved.values()].every((r) => r.why.startsWith('RemoveInstances failed: '))).toBe(true);
  });

  it('an accepted removal whose end cannot be observed is pending, never failed', () => {
    const ledger = new Ledger(input(ids(2)), 'run-1');
    const b = batchOf(ledger, 0);
    const removal = accepted(b, 'asa-5');
    ledger.recordRemovalAccepted(b, removal);
    ledger.recordPollFailed(b, 'batch 1/1', removal.removals[0]!, 'Throttling: slow down');
    expect([...ledger.notRemoved.values()].map((r) => r.outcome)).toEqual(['pending', 'pending']);
    expect(ledger.counts().pending).toBe(2);
  });

  it('tells a retried removeBatch only real scaling activity IDs, each once, the newest 20', () => {
    const ledger = new Ledger(input(ids(2)), 'run-1');
    for (let i = 0; i < 25; i++) {
      ledger.removed.push({
        batch: 1,
        scalingActivityId: `asa-${i}`,
        statusCode: 'Successful',
        instanceIds: [],
        why: '',
      });
    }
    ledger.removed.push({
      batch: 1,
      scalingActivityId: '(unknown: response lost)',
      statusCode: 'Gone',
      instanceIds: [],
      why: '',
    });
    ledger.notRemoved.set('x', { instanceId: 'x', outcome: 'failed', why: '', scalingActivityId: 'asa-24' });
    const known = ledger.knownActivityIds();
    expect(known).toHaveLength(20);
    expect(known[0]).toBe('asa-5');
    expect(known.at(-1)).toBe('asa-24');
  });
});

describe('Ledger: continue-as-new', () => {
  it('carries what was done and the drained batches, and the next run goes on from there', () => {
    const all = ids(6);
    const ledger = new Ledger(input(all), 'run-1');
    ledger.plan = plan;
    const [b1, b2, b3] = [batchOf(ledger, 0), batchOf(ledger, 1), batchOf(ledger, 2)];
    const removal = accepted(b1, 'asa-1');
    ledger.recordRemovalAccepted(b1, removal);
    ledger.recordPolled(b1, 'batch 1/3', removal.removals[0]!, polled(b1.ids));
    b1.done = true;
    b2.drainDone = true;
    b2.restore = b2.ids.map((id) => clb(id, 70));
    b2.progress.drainedAt = '2026-12-02T00:02:00Z';
    const carry = ledger.carry([b2, b3], true);
    expect(carry).toMatchObject({
      runKey: 'run-1',
      batchOffset: 1,
      totalInstances: 6,
      paused: true,
      continuedAsNew: 1,
    });
    expect(carry.recentBatches.map((b) => b.index)).toEqual([1]);
    expect(carry.drained).toEqual([{ instanceIds: b2.ids, restore: b2.restore, drainedAt: '2026-12-02T00:02:00Z' }]);

    const next = new Ledger(input(all.slice(2)), 'run-2', carry);
    expect(next.runKey).toBe('run-1');
    expect(next.batches.map((b) => b.progress.index)).toEqual([2, 3]);
    expect(next.batchesTotal).toBe(3);
    expect(next.counts()).toMatchObject({ total: 6, removed: 2, pending: 4 });
    expect(next.allBatches().map((b) => b.index)).toEqual([1, 2, 3]);
    const carried = batchOf(next, 0);
    expect(next.takeCarriedDrain(carried)).toBe(true);
    expect(carried.restore).toEqual(b2.restore);
    expect(carried.progress).toMatchObject({ state: 'drained', drainedAt: '2026-12-02T00:02:00Z' });
    expect(next.takeCarriedDrain(batchOf(next, 1))).toBe(false);
  });

  it('refuses to carry a run that has no plan (it never passed its preflight)', () => {
    const ledger = new Ledger(input(ids(4)), 'run-1');
    expect(() => ledger.carry(ledger.batches, false)).toThrow(/after its preflight/);
  });
});

describe('restore after a stop', () => {
  it('gives back traffic to what is still in the group, never to what ESS is removing', () => {
    const all = ids(6);
    const ledger = new Ledger(input(all), 'run-1');
    const [b1, b2, b3] = [batchOf(ledger, 0), batchOf(ledger, 1), batchOf(ledger, 2)];
    for (const b of [b1, b2, b3]) b.restore = b.ids.map((id) => clb(id));
    // Batch 1 finished cleanly: nothing of it comes back.
    b1.done = true;
    b1.progress.state = 'succeeded';
    // Batch 2 was accepted; one instance then failed in the scaling activity.
    const removal = accepted(b2, 'asa-2');
    ledger.recordRemovalAccepted(b2, removal);
    ledger.recordPolled(b2, 'batch 2/3', removal.removals[0]!, polled([b2.ids[0] ?? ''], [b2.ids[1] ?? ''], 'Warning'));
    b2.done = true;
    ledger.settleBatchState(b2, false, removal);
    // Batch 3 was drained only.
    const plan = planRestore(ledger);
    expect(plan.records.map((r) => (r.kind === 'clb' ? r.serverId : ''))).toEqual([b2.ids[1], ...b3.ids]);
    expect(plan.notRemovedIds).toEqual([b2.ids[1], ...b3.ids]);

    recordStop(ledger, plan, restoredOnly(plan.records, [b2.ids[1] ?? '', b3.ids[0] ?? '']), 'the run was cancelled');
    expect(ledger.notRemoved.get(b2.ids[1] ?? '')).toMatchObject({ outcome: 'failed' });
    expect(ledger.notRemoved.get(b2.ids[1] ?? '')?.why).toMatch(/; drained then restored: the run was cancelled$/);
    expect(ledger.notRemoved.get(b3.ids[0] ?? '')).toMatchObject({
      outcome: 'restored',
      why: 'drained then restored: the run was cancelled',
    });
    expect(ledger.notRemoved.get(b3.ids[1] ?? '')).toMatchObject({
      outcome: 'skipped',
      why: 'not removed: the run was cancelled',
    });
    // The batch that was only drained no longer reads "drained": it says what became of it.
    expect([b1, b2, b3].map((b) => b.progress.state)).toEqual(['succeeded', 'warning', 'restored']);
  });

  it('a stopped batch reads drained-not-restored when some traffic stays away, skipped when never drained', () => {
    const ledger = new Ledger(input(ids(4)), 'run-1');
    const [b1, b2] = [batchOf(ledger, 0), batchOf(ledger, 1)];
    b1.restore = b1.ids.map((id) => clb(id));
    b1.progress.state = 'drained';
    const plan = planRestore(ledger);
    const refused = failedRestore(plan.records, new Error('SetBackendServers refused'));
    recordStop(ledger, plan, refused, 'the run was cancelled');
    expect([b1.progress.state, b2.progress.state]).toEqual(['drained-not-restored', 'skipped']);
  });

  it('reports an accepted but unconfirmed removal as pending, naming its scaling activity', () => {
    const ledger = new Ledger(input(ids(2)), 'run-1');
    const b = batchOf(ledger, 0);
    ledger.recordRemovalAccepted(b, accepted(b, 'asa-9'));
    const plan = planRestore(ledger);
    expect(plan).toEqual({ records: [], notRemovedIds: [] });
    recordStop(ledger, plan, restoredOnly([], []), 'the run was cancelled');
    expect([...ledger.notRemoved.values()]).toEqual(
      b.ids.map((id) =>
        expect.objectContaining({ instanceId: id, outcome: 'pending', scalingActivityId: 'asa-9', batch: 1 }),
      ),
    );
  });
});

describe('best-effort restore', () => {
  const vsg = (serverId: string): RestoreRecord => ({
    kind: 'vsg',
    vServerGroupId: 'rsp-1',
    serverId,
    port: 80,
    weight: 100,
  });
  const denied = { place: 'CLB lb-1', code: 'Forbidden.Unauthorized', message: 'SetBackendServers failed' };

  it('reports an instance still drained somewhere as drained-not-restored, where and why, and counts it', () => {
    const all = ids(2);
    const ledger = new Ledger(input(all), 'run-1');
    const b = batchOf(ledger, 0);
    b.restore = b.ids.flatMap((id) => [clb(id), vsg(id)]);
    const plan = planRestore(ledger);
    const answer = {
      restoredInstanceIds: [all[1] ?? ''],
      goneInstanceIds: [],
      requestIds: [],
      notRestored: [{ instanceId: all[0] ?? '', restoredOn: ['vserver group rsp-1'], drainedOn: [denied] }],
    };
    recordStop(ledger, plan, outcomeOf(answer, plan.records), 'the run was cancelled');

    expect(ledger.notRemoved.get(all[0] ?? '')).toEqual({
      instanceId: all[0],
      outcome: 'drained-not-restored',
      why:
        'drained, not removed: the run was cancelled; its traffic could not be restored: it stays drained on ' +
        'CLB lb-1 (Forbidden.Unauthorized); restored on vserver group rsp-1',
      batch: 1,
      drainedOn: [denied],
      restoredOn: ['vserver group rsp-1'],
    });
    expect(ledger.notRemoved.get(all[1] ?? '')).toMatchObject({
      outcome: 'restored',
      restoredOn: ['CLB lb-1', 'vserver group rsp-1'],
    });
    expect(ledger.counts()).toMatchObject({ restored: 1, drainedNotRestored: 1, pending: 0 });
    expect(tally(ledger.counts())).toBe('removed 0, failed 0, restored 1, still drained 1, skipped 0 of 2');
    expect(ledger.stillDrained().map((r) => r.instanceId)).toEqual([all[0]]);
  });

  it('keeps a failed removal visible when its instance also stays drained', () => {
    const all = ids(2);
    const ledger = new Ledger(input(all), 'run-1');
    const b = batchOf(ledger, 0);
    b.restore = b.ids.map((id) => clb(id));
    ledger.recordRemoveFailed(b, 'batch 1/1', 'Throttling: slow down', 'Throttling');
    b.done = true;
    const plan = planRestore(ledger);
    recordStop(ledger, plan, failedRestore(plan.records, new Error('boom')), 'the run stopped');
    const report = ledger.notRemoved.get(all[0] ?? '');
    expect(report?.outcome).toBe('drained-not-restored');
    expect(report?.why).toMatch(
      /^RemoveInstances failed: Throttling: slow down; drained, not removed \(the run stopped\)/,
    );
    expect(report?.drainedOn).toEqual([{ place: 'CLB lb-1', code: 'RestoreFailed', message: 'Error: boom' }]);
  });

  it('a restore that failed for good leaves every instance drained on each place of its records', () => {
    const records = [clb('i-1'), vsg('i-1'), { kind: 'standby', instanceId: 'i-2' } as RestoreRecord];
    const out = failedRestore(records, new Error('gave up'));
    expect(out.restoredIds).toEqual([]);
    expect(out.notRestored).toEqual([
      {
        instanceId: 'i-1',
        restoredOn: [],
        drainedOn: [
          { place: 'CLB lb-1', code: 'RestoreFailed', message: 'Error: gave up' },
          { place: 'vserver group rsp-1', code: 'RestoreFailed', message: 'Error: gave up' },
        ],
      },
      {
        instanceId: 'i-2',
        restoredOn: [],
        drainedOn: [{ place: 'standby', code: 'RestoreFailed', message: 'Error: gave up' }],
      },
    ]);
  });

  it('reads answers of older workers (no notRestored) as everything listed restored', () => {
    const out = restoredOnly([clb('i-1'), vsg('i-1')], ['i-1']);
    expect(out).toEqual({
      restoredIds: ['i-1'],
      restoredOn: new Map([['i-1', ['CLB lb-1', 'vserver group rsp-1']]]),
      notRestored: [],
      goneIds: [],
    });
  });

  it('says what happened to instances that left the group while drained', () => {
    const all = ids(4);
    const ledger = new Ledger(input(all, 4), 'run-1');
    const b = batchOf(ledger, 0);
    const gone = (id: string) => ({ instanceId: id, why: 'left the scaling group', removedByEarlierAttempt: false });
    const removal = accepted(b, 'asa-1', { gone: [gone(all[0] ?? ''), gone(all[1] ?? ''), gone(all[2] ?? '')] });
    removal.removals[0]!.instanceIds = [all[3] ?? ''];
    ledger.recordRemovalAccepted(b, removal);
    expect(ledger.leftGroupIds(b)).toEqual(all.slice(0, 3));

    ledger.noteRestore({
      restoredIds: [all[0] ?? ''],
      restoredOn: new Map([[all[0] ?? '', ['CLB lb-1']]]),
      notRestored: [{ instanceId: all[1] ?? '', restoredOn: [], drainedOn: [denied] }],
      goneIds: [all[2] ?? ''],
    });
    expect(ledger.notRemoved.get(all[0] ?? '')).toMatchObject({
      outcome: 'skipped',
      why: 'left the scaling group; its traffic was restored on CLB lb-1',
      restoredOn: ['CLB lb-1'],
    });
    expect(ledger.notRemoved.get(all[1] ?? '')).toMatchObject({
      outcome: 'drained-not-restored',
      why:
        'left the scaling group; its traffic could not be restored: ' +
        'it stays drained on CLB lb-1 (Forbidden.Unauthorized)',
      drainedOn: [denied],
      batch: 1,
    });
    expect(ledger.notRemoved.get(all[2] ?? '')?.why).toBe(
      'left the scaling group; no longer behind its load balancers, nothing to restore',
    );
  });
});
