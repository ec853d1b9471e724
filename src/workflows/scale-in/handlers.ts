import { log, setHandler } from '@temporalio/workflow';
import {
  approveUpdate,
  endDrainUpdate,
  pauseUpdate,
  progressQuery,
  resultQuery,
  resumeUpdate,
  type ControlArgs,
} from '../definitions';
import type { DrainPipeline } from './drain-pipeline';
import { isTerminal, type ScaleInRun } from './run';

/** Queries (progress, result) and operator updates: pause, resume, approve, end the drain waits. */
export function registerHandlers(run: ScaleInRun, drains: DrainPipeline): void {
  const notEnded = (_args: ControlArgs) => {
    if (isTerminal(run.phase)) throw new Error(`the run is already ${run.phase}`);
  };
  setHandler(progressQuery, () => run.snapshot());
  setHandler(resultQuery, () => run.currentResult());
  setHandler(
    pauseUpdate,
    (args) => {
      run.paused = true;
      log.info('paused', { by: args.by, note: args.note });
      run.publish();
      return run.control();
    },
    { validator: notEnded },
  );
  setHandler(
    resumeUpdate,
    (args) => {
      run.paused = false;
      log.info('resumed', { by: args.by, note: args.note });
      run.publish();
      return run.control();
    },
    { validator: notEnded },
  );
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
