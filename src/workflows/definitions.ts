import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ProgressSnapshot, ScaleInResult } from '../shared/progress';

/** Signals/queries/updates of the scale-in workflow, shared by the workflow, the client and the CLI. */

export const SCALE_IN_WORKFLOW_TYPE = 'scaleIn';

export interface ControlState {
  phase: ProgressSnapshot['phase'];
  paused: boolean;
  awaitingApproval: boolean;
  /** After `pause --restore`: the instances given their traffic back (drained again on resume). */
  restoredInstanceIds?: string[];
  /** After `pause --restore`: instances whose traffic could not be given back everywhere; they stay drained. */
  notRestoredInstanceIds?: string[];
}

export interface ControlArgs {
  /** Who did it (user, service), kept in the history. */
  by?: string;
  note?: string;
}

export interface PauseArgs extends ControlArgs {
  /**
   * Also give their traffic back to the batches drained but not yet sent to RemoveInstances; they
   * are drained again (and waited for) on resume. Absent (older clients) means false.
   */
  restore?: boolean;
}

export interface CancelArgs {
  /** Who cancels (user, service), kept in the history, the result and the progress. */
  by?: string;
  /** Why, kept in the history, the result and the progress. */
  reason?: string;
}

export const progressQuery = defineQuery<ProgressSnapshot>('progress');
/** The result as it stands (every instance with its outcome so far); after a cancel, the only place it is kept. */
export const resultQuery = defineQuery<ScaleInResult>('result');
/**
 * No new drain and no new RemoveInstances until resumed; a RemoveInstances already accepted by ESS is
 * followed to its end. With `restore`, drained batches not yet removed get their traffic back.
 */
export const pauseUpdate = defineUpdate<ControlState, [PauseArgs]>('pause');
export const resumeUpdate = defineUpdate<ControlState, [ControlArgs]>('resume');
/** Lets a run with `requireApproval` go past its preflight. */
export const approveUpdate = defineUpdate<ControlState, [ControlArgs]>('approve');
/** Ends the current drain waits now: the instances drained so far may be removed at once. */
export const endDrainUpdate = defineUpdate<ControlState, [ControlArgs]>('endDrain');
/**
 * Who cancels and why, sent just before a Temporal cancel (which carries no reason): the run's
 * result, progress and memo say it once the cancel takes effect. Changes nothing by itself.
 */
export const noteCancelUpdate = defineUpdate<ControlState, [CancelArgs]>('noteCancel');
