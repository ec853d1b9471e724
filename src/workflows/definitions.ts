import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ProgressSnapshot, ScaleInResult } from '../shared/progress';

/** Signals/queries/updates of the scale-in workflow, shared by the workflow, the client and the CLI. */

export const SCALE_IN_WORKFLOW_TYPE = 'scaleIn';

export interface ControlState {
  phase: ProgressSnapshot['phase'];
  paused: boolean;
  awaitingApproval: boolean;
}

export interface ControlArgs {
  /** Who did it (user, service), kept in the history. */
  by?: string;
  note?: string;
}

export const progressQuery = defineQuery<ProgressSnapshot>('progress');
/** The result as it stands (every instance with its outcome so far); after a cancel, the only place it is kept. */
export const resultQuery = defineQuery<ScaleInResult>('result');
/** No new batch starts until resumed; running batches finish. */
export const pauseUpdate = defineUpdate<ControlState, [ControlArgs]>('pause');
export const resumeUpdate = defineUpdate<ControlState, [ControlArgs]>('resume');
/** Lets a run with `requireApproval` go past its preflight. */
export const approveUpdate = defineUpdate<ControlState, [ControlArgs]>('approve');
/** Ends the current drain waits now: the instances drained so far may be removed at once. */
export const endDrainUpdate = defineUpdate<ControlState, [ControlArgs]>('endDrain');
