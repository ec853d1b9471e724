import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { validateInput, type ScaleInInput } from '../../shared/input';
import type { ScaleInResult } from '../../shared/progress';
import { describeFailure, failureType, validatedOrFail } from '../failures';
import { scaleInActivities } from '../options';
import { runBatch } from './batch';
import { carryOrFail, type ScaleInCarry } from './carry';
import { DrainPipeline } from './drain-pipeline';
import { registerHandlers } from './handlers';
import { Ledger, tally, type Batch } from './ledger';
import { checkBeforeChanging } from './preflight';
import { restoreFailedBatch, restoreInstancesThatLeft, restoreUnremoved } from './restore';
import { ScaleInRun, type Patches } from './run';

export type { ScaleInCarry } from './carry';

/** Versioned changes made before a run exists (ScaleInRun), so not part of its Patches. */
interface StartPatches {
  rejectForgedCarry(): boolean;
}

/** Every versioned change of the scale-in, by its patched() marker (test/fixtures/histories). */
const PATCHES: Patches & StartPatches = {
  rejectForgedCarry: () => patched('reject-forged-carry'),
  reportCancelBeforeRunning: () => patched('report-cancel-before-running'),
  stopDrainsAfterFailure: () => patched('stop-drains-after-failure'),
  snapshotWeightsBeforeDrain: () => patched('snapshot-weights-before-drain'),
  noTimerForZeroDrain: () => patched('no-timer-for-zero-drain'),
  followAcceptedRemovalsOnCancel: () => patched('follow-accepted-removals-on-cancel'),
  restoreFailedBatchOnce: () => patched('restore-failed-batch-once'),
  bestEffortRestore: () => patched('best-effort-restore'),
  restoreInstancesThatLeft: () => patched('restore-instances-that-left'),
  pauseHoldsDrains: () => patched('pause-holds-drains'),
  snapshotWeightsBeforeStandby: () => patched('snapshot-weights-before-standby'),
  restoreOnPause: () => patched('pause-restore'),
  cancelNoteInMemo: () => patched('cancel-note-in-memo'),
  drainFromSnapshot: () => patched('drain-from-snapshot'),
  upsertOnChange: () => patched('upsert-search-attributes-on-change'),
  snapshotAsLocalActivity: () => patched('snapshot-as-local-activity'),
  removeAndFollow: () => patched('remove-and-follow'),
};

type Handover = [ScaleInInput, ScaleInCarry];

/**
 * Removes instances from a scaling group: validate → preflight (dry run, approval) → batches
 * (drained ahead, removed, polled to their end) → result. A cancel or an abort restores what was
 * drained but not removed; a long run continues as new with a compact carry.
 */
export async function scaleIn(rawInput: ScaleInInput, rawCarry?: ScaleInCarry): Promise<ScaleInResult> {
  const input = validatedOrFail(validateInput, rawInput);
  const info = workflowInfo();
  const carry = carryOrFail(rawCarry, info, PATCHES.rejectForgedCarry);
  const ledger = new Ledger(input, info.runId, carry);
  const run = new ScaleInRun(info.workflowId, input, ledger, scaleInActivities(input.advanced), PATCHES, carry);
  const drains = new DrainPipeline(run);
  registerHandlers(run, drains);
  run.publishIdentity();
  run.publish();

  if (!carry) {
    const dryRunResult = await checkBeforeChanging(run);
    if (dryRunResult) return dryRunResult;
  }
  run.setPhase('Running');
  let handover: Handover | undefined;
  try {
    handover = await runBatches(run, drains, rawInput);
  } catch (err) {
    throw await stop(run, drains, err);
  }
  if (handover) return await continueAsNew<typeof scaleIn>(...handover);
  return await complete(run);
}

/** The batches in order, each after its drain wait; a handover when this run should continue as new. */
async function runBatches(
  run: ScaleInRun,
  drains: DrainPipeline,
  rawInput: ScaleInInput,
): Promise<Handover | undefined> {
  const { input, ledger } = run;
  let batchesThisRun = 0;
  for (const batch of ledger.batches) {
    drains.pump();
    await condition(() => !run.held);
    await batch.ready;
    await condition(() => !run.held);
    // Given its traffic back by `pause --restore`: drained again, and waited for, before its removal.
    while (!batch.drainIssued) {
      drains.redrain(batch);
      await batch.ready;
      await condition(() => !run.held);
    }
    const ok = await runBatch(run, batch);
    await restoreInstancesThatLeft(run, batch);
    if (!ok) {
      await restoreFailedBatch(run, batch);
      if (input.onBatchFailure === 'abort') {
        batch.done = true;
        throw ApplicationFailure.create({
          type: ledger.lastErrorCode ?? 'BatchFailed',
          nonRetryable: true,
          message:
            `Batch ${batch.progress.index} failed (${ledger.lastError ?? 'see progress'}); ` +
            'aborting because onBatchFailure is "abort"',
        });
      }
    }
    batch.done = true;
    batchesThisRun++;
    run.publish();
    const remaining = ledger.batches.filter((b) => !b.done);
    const due = batchesThisRun >= input.advanced.maxBatchesPerRun || workflowInfo().continueAsNewSuggested;
    if (remaining.length && due) return await handOver(run, remaining, rawInput);
  }
  return undefined;
}

async function handOver(run: ScaleInRun, remaining: Batch[], rawInput: ScaleInInput): Promise<Handover> {
  // Hand over only drained batches whose wait is over, so the next run need not wait again.
  for (const b of remaining) if (b.drainIssued) await b.ready;
  await condition(allHandlersFinished);
  const carry = run.ledger.carry(remaining, run.paused);
  const instanceIds = remaining.flatMap((b) => b.ids);
  log.info('continuing as new', { batchesDone: carry.batchOffset, remaining: instanceIds.length });
  return [{ ...rawInput, instanceIds, requireApproval: false, dryRun: false }, carry];
}

/** After a cancel or a failure: restore what is still drained, then say exactly what happened. */
async function stop(run: ScaleInRun, drains: DrainPipeline, err: unknown): Promise<unknown> {
  const cancelled = isCancellation(err);
  const why = cancelled ? run.cancelledWhy() : `the run stopped: ${describeFailure(err)}`;
  // Who cancelled and why, where `status` and the UI show the last word on the run.
  const last = run.ledger.lastError;
  if (cancelled && run.cancelNote) run.ledger.lastError = last ? `${last}; then ${why}` : upperFirst(why);
  await CancellationScope.nonCancellable(() => restoreUnremoved(run, drains, why));
  run.setPhase(cancelled ? 'Cancelled' : 'Failed');
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  if (cancelled) return err;
  const res = run.result('aborted', `Aborted: ${describeFailure(err)}`);
  const c = res.counts;
  return ApplicationFailure.create({
    type: failureType(err) ?? 'ScaleInFailed',
    nonRetryable: true,
    message: `${res.message}. ${upperFirst(tally(c))}.${repairHint(run)}`,
    details: [res],
  });
}

async function complete(run: ScaleInRun): Promise<ScaleInResult> {
  const c = run.ledger.counts();
  run.setPhase('Completed');
  await condition(allHandlersFinished);
  const outcome = c.failed || c.pending || c.drainedNotRestored ? 'completed-with-failures' : 'completed';
  const verdict = outcome === 'completed' ? 'Completed' : 'Completed with failures';
  const message = `${verdict}: ${tally(c)} instance(s) in ${run.ledger.batchesTotal} batch(es).${repairHint(run)}`;
  return run.result(outcome, message);
}

/** Instances left drained (`drained-not-restored`): the message says how to give their traffic back. */
function repairHint(run: ScaleInRun): string {
  if (!run.ledger.counts().drainedNotRestored) return '';
  return ` Once the cause is fixed, restore them with: ess-scale-in repair ${run.workflowId}`;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
