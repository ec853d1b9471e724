import { CancellationScope } from '@temporalio/workflow';
import type { UndrainResponse } from '../../activities';
import { restoreInstanceId, type RestoreRecord } from '../../shared/restore';
import type { DrainPipeline } from './drain-pipeline';
import type { Batch, Ledger } from './ledger';
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

/** Writes what a stop left: restored, skipped, or still being removed by ESS. */
export function recordStop(ledger: Ledger, plan: RestorePlan, restoredIds: readonly string[], why: string): void {
  for (const id of restoredIds) {
    const prior = ledger.notRemoved.get(id);
    const failed = prior?.outcome === 'failed';
    ledger.notRemoved.set(id, {
      instanceId: id,
      outcome: failed ? 'failed' : 'restored',
      why: `${failed ? `${prior.why}; ` : ''}drained then restored: ${why}`,
      batch: prior?.batch,
    });
  }
  for (const id of plan.notRemovedIds) {
    if (!ledger.notRemoved.has(id))
      ledger.notRemoved.set(id, { instanceId: id, outcome: 'skipped', why: `not removed: ${why}` });
  }
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
  await drains.settled();
  const plan = planRestore(run.ledger);
  let restoredIds: string[] = [];
  if (plan.records.length) {
    run.setPhase('Restoring');
    const instances = new Set(plan.records.map(restoreInstanceId)).size;
    const res = await undrain(run, plan.records, `Restore traffic to ${instances} drained instance(s)`);
    restoredIds = res.restoredInstanceIds;
  }
  recordStop(run.ledger, plan, restoredIds, why);
}

/** The instances of a failed batch that stayed in the group are still drained: give them back. */
export async function restoreFailedBatch(run: ScaleInRun, batch: Batch): Promise<void> {
  const failedIds = run.ledger.failedIdsOf(batch);
  const back = batch.restore.filter((r) => failedIds.has(restoreInstanceId(r)));
  if (!back.length) return;
  const summary = `Restore traffic to ${failedIds.size} instance(s) of failed batch ${batch.progress.index}`;
  const res = await CancellationScope.nonCancellable(() => undrain(run, back, summary));
  run.ledger.noteTrafficRestored(res.restoredInstanceIds);
  // Restored once is enough: a later abort must not restore (and report) them again.
  // Versioned: runs recorded before this change restored them twice (test/fixtures/histories).
  if (run.patches.restoreFailedBatchOnce()) {
    batch.restore = batch.restore.filter((r) => !failedIds.has(restoreInstanceId(r)));
  }
}

function undrain(run: ScaleInRun, restore: RestoreRecord[], summary: string): Promise<UndrainResponse> {
  return run.acts.restores.undrain.executeWithOptions({ summary }, [{ ...run.where, restore }]);
}
