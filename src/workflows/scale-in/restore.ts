import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { UndrainResponse } from '../../activities';
import { restorePlace } from '../../shared/progress';
import { mergeRestore, restoreInstanceId, type RestoreRecord } from '../../shared/restore';
import { describeFailure, failureType } from '../failures';
import type { DrainPipeline } from './drain-pipeline';
import { stillDrained, type Batch, type Ledger, type RestoreOutcome } from './ledger';
import type { ScaleInRun } from './run';

export interface RestorePlan {
  /** What to put back: the drain records of every instance still in the group. */
  records: RestoreRecord[];
  /** Instances of unfinished batches that this run did not remove. */
  notRemovedIds: string[];
}

/** After a stop: what was drained but not removed, across every batch not finished cleanly. */
export function planRestore(ledger: Ledger): RestorePlan {
  const plan: RestorePlan = { records: [], notRemovedIds: [] };
  // Accepted by RemoveInstances and not failed: ESS removes it, its traffic must not come back.
  const leaving = (b: Batch, id: string) => b.sentToRemoval.has(id) && !ledger.isFailed(id);
  for (const b of ledger.batches) {
    if (b.done && b.progress.state !== 'failed' && b.progress.state !== 'warning') continue;
    plan.records.push(...b.restore.filter((r) => !leaving(b, restoreInstanceId(r))));
    plan.notRemovedIds.push(...b.ids.filter((id) => !leaving(b, id) && !ledger.isRemoved(id)));
  }
  return plan;
}

/** Writes what a stop left: restored, still drained, skipped, or still being removed by ESS. */
export function recordStop(ledger: Ledger, plan: RestorePlan, restored: RestoreOutcome, why: string): void {
  for (const id of restored.restoredIds) {
    const prior = ledger.notRemoved.get(id);
    const failed = prior?.outcome === 'failed';
    ledger.notRemoved.set(id, {
      instanceId: id,
      outcome: failed ? 'failed' : 'restored',
      why: `${failed ? `${prior.why}; ` : ''}drained then restored: ${why}`,
      batch: prior?.batch,
      restoredOn: restored.restoredOn.get(id),
    });
  }
  for (const n of restored.notRestored) {
    const prior = ledger.notRemoved.get(n.instanceId);
    const before =
      prior?.outcome === 'failed' ? `${prior.why}; drained, not removed (${why})` : `drained, not removed: ${why}`;
    const batch = prior?.batch ?? ledger.batchOf(n.instanceId);
    ledger.notRemoved.set(n.instanceId, { instanceId: n.instanceId, batch, ...stillDrained(n, before) });
  }
  for (const id of plan.notRemovedIds) {
    const givenBack = ledger.batches.find((b) => b.givenBack && b.ids.includes(id));
    if (givenBack?.givenBack && !ledger.notRemoved.has(id)) {
      const by = givenBack.givenBack.by ? ` (by ${givenBack.givenBack.by})` : '';
      ledger.notRemoved.set(id, {
        instanceId: id,
        outcome: 'restored',
        why: `drained, then given its traffic back by pause --restore${by}; not removed: ${why}`,
        batch: givenBack.progress.index,
        restoredOn: givenBack.givenBack.restoredOn.get(id),
      });
    }
    if (!ledger.notRemoved.has(id))
      ledger.notRemoved.set(id, { instanceId: id, outcome: 'skipped', why: `not removed: ${why}` });
  }
  recordAcceptedRemovals(ledger, why);
  settleStoppedBatches(ledger);
}

/** States a batch cannot end in: what a stop finds it doing. */
const UNFINISHED = new Set(['pending', 'draining', 'drained']);

/**
 * After a stop, a batch that was only drained (or never reached) says what became of it, in the
 * words of its instances: restored, drained-not-restored, or skipped; never still "drained".
 */
function settleStoppedBatches(ledger: Ledger): void {
  for (const b of ledger.batches) {
    if (!UNFINISHED.has(b.progress.state)) continue;
    const outcomes = new Set(b.ids.map((id) => ledger.notRemoved.get(id)?.outcome));
    if (outcomes.has('drained-not-restored')) b.progress.state = 'drained-not-restored';
    else if (outcomes.has('restored')) b.progress.state = 'restored';
    else b.progress.state = 'skipped';
  }
}

/** Accepted by RemoveInstances before the stop and not seen to end: ESS finishes them. */
function recordAcceptedRemovals(ledger: Ledger, why: string): void {
  for (const b of ledger.batches) {
    for (const id of b.sentToRemoval) {
      if (ledger.notRemoved.has(id) || ledger.isRemoved(id)) continue;
      const activity = b.progress.scalingActivityId;
      ledger.notRemoved.set(id, {
        instanceId: id,
        outcome: 'pending',
        why:
          `RemoveInstances was accepted (scaling activity ${activity ?? '?'}) ` +
          `before the run stopped (${why}); ESS finishes it`,
        scalingActivityId: activity,
        batch: b.progress.index,
      });
    }
  }
}

/** After a cancel or an abort: let in-flight drains end so their weights are known, then give back traffic. */
export async function restoreUnremoved(run: ScaleInRun, drains: DrainPipeline, why: string): Promise<void> {
  // A `pause --restore` in progress ends first: what it gave back is not restored twice.
  await condition(() => !run.restoring);
  await drains.settled();
  const plan = planRestore(run.ledger);
  let restored = NOTHING_RESTORED;
  if (plan.records.length) {
    run.setPhase('Restoring');
    const instances = new Set(plan.records.map(restoreInstanceId)).size;
    restored = await undrain(run, plan.records, `Restore traffic to ${instances} drained instance(s)`);
  }
  recordStop(run.ledger, plan, restored, why);
  // A stop during a batch's poll comes before that batch could give back instances that left the group.
  for (const b of run.ledger.batches) await restoreInstancesThatLeft(run, b);
}

/** The instances of a failed batch that stayed in the group are still drained: give them back. */
export async function restoreFailedBatch(run: ScaleInRun, batch: Batch): Promise<void> {
  const failedIds = run.ledger.failedIdsOf(batch);
  const back = batch.restore.filter((r) => failedIds.has(restoreInstanceId(r)));
  if (!back.length) return;
  const summary = `Restore traffic to ${failedIds.size} instance(s) of failed batch ${batch.progress.index}`;
  const res = await CancellationScope.nonCancellable(() => undrain(run, back, summary));
  run.ledger.noteTrafficRestored(res.restoredIds);
  for (const n of res.notRestored) {
    const prior = run.ledger.notRemoved.get(n.instanceId);
    if (prior) run.ledger.notRemoved.set(n.instanceId, { ...prior, ...stillDrained(n, prior.why) });
  }
  // Restored once is enough: a later abort must not restore (and report) them again.
  // Versioned: runs recorded before this change restored them twice (test/fixtures/histories).
  if (run.patches.restoreFailedBatchOnce()) {
    batch.restore = batch.restore.filter((r) => !failedIds.has(restoreInstanceId(r)));
  }
}

/**
 * Instances that left the group (another actor detached them) while this run had them drained:
 * their traffic comes back wherever they are still behind the load balancer, and their report
 * says so. Once: their records are dropped from the batch afterwards.
 */
export async function restoreInstancesThatLeft(run: ScaleInRun, batch: Batch): Promise<void> {
  const left = new Set(run.ledger.leftGroupIds(batch));
  const back = batch.restore.filter((r) => left.has(restoreInstanceId(r)));
  // Versioned: runs before this change left them drained (test/fixtures/histories).
  if (!back.length || !run.patches.restoreInstancesThatLeft()) return;
  const summary = `Restore traffic to ${left.size} instance(s) that left the group (batch ${batch.progress.index})`;
  const res = await CancellationScope.nonCancellable(() => undrain(run, back, summary));
  batch.restore = batch.restore.filter((r) => !left.has(restoreInstanceId(r)));
  run.ledger.noteRestore(res);
  run.publish();
}

/** What `pause --restore` did: the instances given their traffic back, and those that stay drained. */
export interface GiveBack {
  restoredInstanceIds: string[];
  notRestoredInstanceIds: string[];
}

/**
 * `pause --restore`: once the drain in flight (if any) has ended, every batch drained but not sent to
 * RemoveInstances gets its traffic back, and drains held by the pause are taken back. On resume those
 * batches are drained again, and waited for, before their removal; a RemoveInstances already accepted
 * by ESS is not touched. Not cancellable half-way: a cancel waits for it, then restores the rest.
 */
export async function giveBackDrained(run: ScaleInRun, drains: DrainPipeline, by: string | undefined) {
  run.restoring = true;
  run.publish();
  try {
    return await CancellationScope.nonCancellable(async (): Promise<GiveBack> => {
      await condition(() => !drains.busy);
      drains.takeBackHeld();
      const batches = run.ledger.batches.filter(
        (b) => b.drainDone && !b.done && b.progress.state === 'drained' && b.sentToRemoval.size === 0,
      );
      const records = batches.flatMap((b) => b.restore);
      const instances = new Set(records.map(restoreInstanceId)).size;
      const summary = `Restore traffic to ${instances} drained instance(s) while paused (pause --restore)`;
      const res = records.length ? await undrain(run, records, summary) : NOTHING_RESTORED;
      for (const b of batches) markGivenBack(run, drains, b, res, by);
      const notRestored = res.notRestored.map((n) => n.instanceId);
      const restored = batches.flatMap((b) => b.ids).filter((id) => !notRestored.includes(id));
      return { restoredInstanceIds: restored, notRestoredInstanceIds: notRestored };
    });
  } finally {
    run.restoring = false;
    run.publish();
  }
}

/** A batch given back: `restored` while paused, drained again on resume; what stays drained is kept for a stop. */
function markGivenBack(run: ScaleInRun, drains: DrainPipeline, b: Batch, res: RestoreOutcome, by?: string): void {
  const still = res.notRestored.filter((n) => b.ids.includes(n.instanceId));
  const stillIds = new Set(still.map((n) => n.instanceId));
  b.originals = mergeRestore(b.originals ?? [], b.restore);
  b.restore = b.restore.filter((r) => stillIds.has(restoreInstanceId(r)));
  drains.takeBack(b);
  b.progress.state = run.paused ? 'restored' : 'pending';
  b.givenBack = { by, restoredOn: new Map(b.ids.map((id) => [id, res.restoredOn.get(id) ?? []])) };
  for (const n of still) {
    const where = n.drainedOn.map((d) => `${d.place} (${d.code})`).join(', ');
    const error = `pause --restore could not give back the traffic of ${n.instanceId}: it stays drained on ${where}`;
    b.progress.errors.push(error);
    run.ledger.lastError = `batch ${b.progress.index}: ${error}`;
  }
}

const NOTHING_RESTORED: RestoreOutcome = { restoredIds: [], restoredOn: new Map(), notRestored: [], goneIds: [] };

/**
 * Gives back traffic and says, per instance, where it came back and where not. Best effort: a
 * restore that fails for good (retries spent) leaves every instance of it drained where its
 * records are, reported so, instead of failing the run with its phase stuck at Restoring.
 */
async function undrain(run: ScaleInRun, restore: RestoreRecord[], summary: string): Promise<RestoreOutcome> {
  try {
    const res = await run.acts.restores.undrain.executeWithOptions({ summary }, [{ ...run.where, restore }]);
    return outcomeOf(res, restore);
  } catch (e) {
    // Versioned: before best-effort restore a failed undrain failed the run (test/fixtures/histories).
    if (isCancellation(e) || !run.patches.bestEffortRestore()) throw e;
    return failedRestore(restore, e);
  }
}

/** The activity's answer as the ledger needs it; answers of workers before best-effort restore lack notRestored. */
export function outcomeOf(res: UndrainResponse, records: readonly RestoreRecord[]): RestoreOutcome {
  const placesOf = placesByInstance(records);
  const restoredOn = new Map(res.restoredInstanceIds.map((id) => [id, placesOf.get(id) ?? []]));
  return {
    restoredIds: res.restoredInstanceIds,
    restoredOn,
    notRestored: res.notRestored ?? [],
    goneIds: res.goneInstanceIds,
  };
}

/** A restore that failed for good: every instance stays drained wherever it has records. */
export function failedRestore(records: readonly RestoreRecord[], e: unknown): RestoreOutcome {
  const code = failureType(e) ?? 'RestoreFailed';
  const message = describeFailure(e);
  const notRestored = [...placesByInstance(records)].map(([instanceId, places]) => ({
    instanceId,
    restoredOn: [],
    drainedOn: places.map((place) => ({ place, code, message })),
  }));
  return { ...NOTHING_RESTORED, restoredOn: new Map(), notRestored };
}

function placesByInstance(records: readonly RestoreRecord[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of records) {
    const places = m.get(restoreInstanceId(r)) ?? [];
    if (!places.includes(restorePlace(r))) places.push(restorePlace(r));
    m.set(restoreInstanceId(r), places);
  }
  return m;
}
