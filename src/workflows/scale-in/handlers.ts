import { log, setHandler, upsertMemo } from '@temporalio/workflow';
import {
  approveUpdate,
  endDrainUpdate,
  noteCancelUpdate,
  pauseUpdate,
  progressQuery,
  resultQuery,
  resumeUpdate,
  type CancelArgs,
  type ControlArgs,
  type PauseArgs,
} from '../definitions';
import type { DrainPipeline } from './drain-pipeline';
import { giveBackDrained } from './restore';
import { isTerminal, type ScaleInRun } from './run';

/** Refuses an operator update once the run has ended. */
type NotEnded = (args: ControlArgs) => void;

/** Queries (progress, result) and operator updates: pause, resume, approve, end the drain waits. */
export function registerHandlers(run: ScaleInRun, drains: DrainPipeline): void {
  const notEnded: NotEnded = (_args) => {
    if (isTerminal(run.phase)) throw new Error(`the run is already ${run.phase}`);
  };
  setHandler(progressQuery, () => run.snapshot());
  setHandler(resultQuery, () => run.currentResult());
  registerPause(run, drains, notEnded);
  registerResume(run, notEnded);
  registerCancelNote(run, notEnded);
  registerApproval(run, notEnded);
  registerEndDrain(run, drains);
}

/** `pause`, and `pause --restore`, which gives drained batches their traffic back. */
function registerPause(run: ScaleInRun, drains: DrainPipeline, notEnded: NotEnded): void {
  setHandler(
    pauseUpdate,
    async (args) => {
      run.paused = true;
      log.info('paused', { by: args.by, note: args.note, restore: args.restore === true });
      run.publish();
      // Versioned: the handler issues an activity (the restore); guarded so the marker says when it began.
      if (!args.restore || !run.patches.restoreOnPause()) return run.control();
      const given = await giveBackDrained(run, drains, args.by);
      log.info('paused: drained batches given their traffic back', { by: args.by, ...given });
      return { ...run.control(), ...given };
    },
    {
      validator: (args: PauseArgs) => {
        notEnded(args);
        if (!args.restore) return;
        if (run.input.drain.strategy === 'none') throw new Error('this run does not drain: nothing to restore');
        if (run.restoring) throw new Error('a pause --restore is already giving back traffic; wait for it');
      },
    },
  );
}

function registerResume(run: ScaleInRun, notEnded: NotEnded): void {
  setHandler(
    resumeUpdate,
    (args) => {
      run.paused = false;
      // Batches given back by `pause --restore` are pending again: drained, then removed, in their turn.
      for (const b of run.ledger.batches) if (b.givenBack && !b.drainIssued) b.progress.state = 'pending';
      log.info('resumed', { by: args.by, note: args.note });
      run.publish();
      return run.control();
    },
    { validator: notEnded },
  );
}

/** `cancel --reason`: who cancelled and why, noted before the cancel itself. */
function registerCancelNote(run: ScaleInRun, notEnded: NotEnded): void {
  setHandler(
    noteCancelUpdate,
    (args) => {
      run.cancelNote = { by: args.by, reason: args.reason };
      log.info('cancel requested', { by: args.by, reason: args.reason });
      if (run.patches.cancelNoteInMemo())
        upsertMemo({ cancelledBy: args.by ?? null, cancelReason: args.reason ?? null });
      return run.control();
    },
    { validator: (args: CancelArgs) => notEnded(args) },
  );
}

function registerApproval(run: ScaleInRun, notEnded: NotEnded): void {
  setHandler(
    approveUpdate,
    (args) => {
      run.approved = true;
      log.info('approved', { by: args.by, note: args.note });
      return run.control();
    },
    {
      validator: (args: ControlArgs) => {
        if (!run.input.requireApproval) throw new Error('this run was not started with requireApproval');
        notEnded(args);
      },
    },
  );
}

function registerEndDrain(run: ScaleInRun, drains: DrainPipeline): void {
  setHandler(
    endDrainUpdate,
    (args) => {
      drains.endWaits();
      log.info('drain ended early by operator', { by: args.by, note: args.note });
      return run.control();
    },
    {
      validator: (_args: ControlArgs) => {
        if (run.input.drain.strategy === 'none') throw new Error('this run does not drain');
      },
    },
  );
}
