import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { NormalizedInput } from '../../shared/input';
import type { ObservedEnd } from '../../shared/poll-forecast';
import {
  STILL_DRAINED_SHOWN,
  type Outcome,
  type Phase,
  type ProgressSnapshot,
  type ScaleInResult,
} from '../../shared/progress';
import {
  SA_INSTANCES_FAILED,
  SA_INSTANCES_REMOVED,
  SA_INSTANCES_TOTAL,
  SA_PHASE,
  SA_REGION_ID,
  SA_SCALING_GROUP_ID,
} from '../../shared/search-attributes';
import type { ControlState } from '../definitions';
import { renderDetails } from '../details';
import type { ScaleInActivityProxies } from '../options';
import type { Ledger } from './ledger';

/**
 * Versioning decisions, each asked at the moment the code before it would have branched. The
 * orchestrator (index.ts) implements them with patched(), so every marker stays in one place.
 */
export interface Patches {
  reportCancelBeforeRunning(): boolean;
  stopDrainsAfterFailure(): boolean;
  snapshotWeightsBeforeDrain(): boolean;
  noTimerForZeroDrain(): boolean;
  followAcceptedRemovalsOnCancel(): boolean;
  restoreFailedBatchOnce(): boolean;
  /** A restore that fails for good is reported per instance and place instead of failing the run. */
  bestEffortRestore(): boolean;
  /** Instances detached from the group while drained get their traffic back. */
  restoreInstancesThatLeft(): boolean;
  /** A paused run starts no drain (it used to drain ahead while paused). */
  pauseHoldsDrains(): boolean;
  /** Standby drains snapshot the weights too: ExitStandby gives back the default weight (50), not these. */
  snapshotWeightsBeforeStandby(): boolean;
  /** `pause --restore` gives drained batches their traffic back (asked when one is requested). */
  restoreOnPause(): boolean;
  /** `cancel --reason`: who cancelled and why go into the memo too (asked when noted). */
  cancelNoteInMemo(): boolean;
  /** A weight drain changes the backends its snapshot read, without reading them again (first attempt). */
  drainFromSnapshot(): boolean;
  /** Search attributes are upserted only when one of them changed (each upsert is a history event). */
  upsertOnChange(): boolean;
  /** The weight snapshot runs as a local activity: one marker event instead of an activity and its workflow task. */
  snapshotAsLocalActivity(): boolean;
  /** removeBatch follows its scaling activity to the end itself: one activity per batch instead of two. */
  removeAndFollow(): boolean;
}

/** What the result query reports while, or after, a run is in a phase. */
const OUTCOME_BY_PHASE: Partial<Record<Phase, Outcome>> = {
  Completed: 'completed',
  DryRun: 'dry-run',
  Cancelled: 'cancelled',
  Failed: 'aborted',
};

export function isTerminal(p: Phase): boolean {
  return p === 'Completed' || p === 'Failed' || p === 'Cancelled' || p === 'DryRun';
}

/** One run of the scale-in chain: its input, ledger, activities, and the state operators see. */
export class ScaleInRun {
  phase: Phase;
  paused: boolean;
  approved: boolean;
  /** Where this run's scaling activities ended: the forecast for the next poll. Not carried over. */
  activityEnds: ObservedEnd[] = [];
  /** The search attributes last upserted, to skip an upsert that would change nothing. */
  private upserted: string | undefined;
  /** A `pause --restore` is giving back traffic: nothing drains or is removed until it is done. */
  restoring = false;
  /** Who cancelled and why (the noteCancel update before a cancel). */
  cancelNote: { by?: string | undefined; reason?: string | undefined } | undefined;

  constructor(
    readonly workflowId: string,
    readonly input: NormalizedInput,
    readonly ledger: Ledger,
    readonly acts: ScaleInActivityProxies,
    readonly patches: Patches,
    carried: { paused: boolean } | undefined,
  ) {
    this.phase = carried ? 'Running' : 'Preflight';
    this.paused = carried?.paused ?? false;
    this.approved = !input.requireApproval || carried !== undefined;
  }

  /** Paused, or giving back traffic for a `pause --restore`: no drain and no RemoveInstances starts. */
  get held(): boolean {
    return this.paused || this.restoring;
  }

  /** "the run was cancelled by alice (reason: change freeze)": why a cancelled run stopped. */
  cancelledWhy(): string {
    const n = this.cancelNote;
    return `the run was cancelled${n?.by ? ` by ${n.by}` : ''}${n?.reason ? ` (reason: ${n.reason})` : ''}`;
  }

  /** Common to every activity request: where, and how long a retry may wait. */
  get where() {
    const { regionId, scalingGroupId } = this.input;
    return { retryDelayCapMs: this.input.advanced.retryMaxIntervalMs, regionId, scalingGroupId };
  }

  control(): ControlState {
    return { phase: this.phase, paused: this.paused, awaitingApproval: this.phase === 'AwaitingApproval' };
  }

  snapshot(): ProgressSnapshot {
    const { input, ledger } = this;
    return {
      workflowId: this.workflowId,
      phase: this.phase,
      paused: this.paused,
      awaitingApproval: this.phase === 'AwaitingApproval',
      drainEndedEarly: ledger.batches.some((b) => b.drainEndedEarly),
      input: {
        regionId: input.regionId,
        scalingGroupId: input.scalingGroupId,
        batchSize: input.batchSize,
        removePolicy: input.removePolicy,
        onBatchFailure: input.onBatchFailure,
        drain: input.drain,
        dryRun: input.dryRun,
      },
      plan: ledger.plan,
      counts: { ...ledger.counts(), batchesDone: ledger.batchesDone, batchesTotal: ledger.batchesTotal },
      batches: ledger.allBatches(),
      continuedAsNew: ledger.continuedAsNew,
      lastError: ledger.lastError,
      stillDrained: ledger.stillDrained().slice(0, STILL_DRAINED_SHOWN),
    };
  }

  result(outcome: Outcome, message: string): ScaleInResult {
    return this.ledger.result(this.workflowId, outcome, message);
  }

  /** The result as it stands, for the result query. */
  currentResult(): ScaleInResult {
    const outcome = OUTCOME_BY_PHASE[this.phase] ?? 'in-progress';
    if (this.phase === 'Cancelled' && this.cancelNote) return this.result(outcome, upperFirst(this.cancelledWhy()));
    return this.result(outcome, `Phase ${this.phase}`);
  }

  /** The search attributes that never change during a run. */
  publishIdentity(): void {
    upsertSearchAttributes([
      { key: SA_SCALING_GROUP_ID, value: this.input.scalingGroupId },
      { key: SA_REGION_ID, value: this.input.regionId },
      { key: SA_INSTANCES_TOTAL, value: this.ledger.totalInstances },
    ]);
  }

  /** Search attributes and the UI's current details, after every change users care about. */
  publish(): void {
    const c = this.ledger.counts();
    const phase = this.paused && this.phase === 'Running' ? 'Paused' : this.phase;
    const key = `${phase}/${c.removed}/${c.failed}`;
    if (key !== this.upserted || !this.patches.upsertOnChange())
      upsertSearchAttributes([
        { key: SA_PHASE, value: phase },
        { key: SA_INSTANCES_REMOVED, value: c.removed },
        { key: SA_INSTANCES_FAILED, value: c.failed },
      ]);
    this.upserted = key;
    setCurrentDetails(renderDetails(this.snapshot(), this.ledger.notRemoved.values()));
  }

  setPhase(p: Phase): void {
    this.phase = p;
    this.publish();
  }
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
