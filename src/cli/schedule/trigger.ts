import type { Command } from 'commander';
import type { ScheduleOverlapPolicy } from '@temporalio/client';
import { OVERLAP_POLICIES, type WindowRun } from '../../client/schedules';
import { globalsOf, temporalConfig } from '../connect';
import { EXIT, printJson } from '../io';
import {
  addScheduleRef,
  checkOverlap,
  guarded,
  scheduleIdOf,
  type ScheduleContext,
  type ScheduleRefFlags,
  type WindowsApi,
} from './common';
import { followWindow } from './follow-window';

interface TriggerFlags extends ScheduleRefFlags {
  overlap?: string;
  wait?: boolean;
}

/** How long `--wait` looks for the triggered run to appear: 300 polls, 200 ms apart. */
const RUN_APPEARS_POLLS = 300;
const RUN_APPEARS_POLL_MS = 200;

export function registerTrigger(schedule: Command, ctx: ScheduleContext): void {
  addScheduleRef(schedule.command('trigger').summary('run one window now (the blackout check still applies)'))
    .option(
      '--overlap <policy>',
      `if a window is running: ${OVERLAP_POLICIES.join(' | ')} (default: the schedule's policy)`,
    )
    .option(
      '--wait',
      'print the picks (each with the rule that picked it), follow the scale-in run with a progress bar, then ' +
        'print its summary and the window result; exit 1 unless it completed, was a blackout, or closed',
    )
    .action((id: string | undefined, flags: TriggerFlags, self: Command) => runTrigger(id, flags, self, ctx));
}

async function runTrigger(
  id: string | undefined,
  flags: TriggerFlags,
  self: Command,
  { getClient, io, done }: ScheduleContext,
): Promise<void> {
  const json = globalsOf(self).json === true;
  const scheduleId = scheduleIdOf(id, flags);
  checkOverlap(flags.overlap);
  done(
    await guarded(io, json, () =>
      getClient(self, async (w, client) => {
        const before = (await w.describeWindow(scheduleId)).recentRuns.length;
        await w.triggerWindow(scheduleId, flags.overlap as ScheduleOverlapPolicy | undefined);
        if (!flags.wait) {
          if (json) printJson(io, { ok: true, scheduleId, action: 'trigger' });
          else io.out(`${scheduleId}: triggered`);
          return EXIT.ok;
        }
        const run = await triggeredRun(w, scheduleId, before);
        if (!json) io.err(`Window run ${run.workflowId} started; waiting for its picks…`);
        return followWindow(w, client, { workflowId: run.workflowId, runId: run.firstExecutionRunId, scheduleId }, io, {
          json,
          taskQueue: temporalConfig(globalsOf(self)).taskQueue,
        });
      }),
    ),
  );
}

/** The run the trigger started: the first one past the `before` recent runs the schedule had. */
async function triggeredRun(w: WindowsApi, scheduleId: string, before: number): Promise<WindowRun> {
  for (let i = 0; i < RUN_APPEARS_POLLS; i++) {
    const d = await w.describeWindow(scheduleId);
    const run = d.recentRuns.length > before ? d.recentRuns.at(-1) : undefined;
    if (run) return run;
    await new Promise((r) => setTimeout(r, RUN_APPEARS_POLL_MS));
  }
  throw new Error(
    `${scheduleId} was triggered but no run appeared within a minute ` +
      '(overlap policy SKIP and a window still running?)',
  );
}
