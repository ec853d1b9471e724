import type { Command } from 'commander';
import type { ScheduleOverlapPolicy } from '@temporalio/client';
import { OVERLAP_POLICIES, ScaleInWindowFailedError, type WindowRun } from '../../client/schedules';
import type { ScaleInWindowResult } from '../../shared/window';
import { globalsOf } from '../connect';
import { EXIT, printJson, type Io } from '../io';
import {
  addScheduleRef,
  checkOverlap,
  guarded,
  scheduleIdOf,
  type ScheduleContext,
  type ScheduleRefFlags,
  type WindowsApi,
} from './common';

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
      'wait for the window to end and print its result; exit 1 unless it completed, was a blackout, or closed',
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
      getClient(self, async (w) => {
        const before = (await w.describeWindow(scheduleId)).recentRuns.length;
        await w.triggerWindow(scheduleId, flags.overlap as ScheduleOverlapPolicy | undefined);
        if (!flags.wait) {
          if (json) printJson(io, { ok: true, scheduleId, action: 'trigger' });
          else io.out(`${scheduleId}: triggered`);
          return EXIT.ok;
        }
        const run = await triggeredRun(w, scheduleId, before);
        if (!json) io.err(`Window run ${run.workflowId} started; waiting for it to end…`);
        return reportWindowEnd(w, scheduleId, run, io, json);
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

async function reportWindowEnd(
  w: WindowsApi,
  scheduleId: string,
  run: WindowRun,
  io: Io,
  json: boolean,
): Promise<number> {
  try {
    const r = await w.windowResult(run.workflowId, run.firstExecutionRunId);
    const ok = r.outcome !== 'failed' && r.outcome !== 'skipped-busy';
    if (json) printJson(io, { ok, scheduleId, workflowId: run.workflowId, outcome: r.outcome, result: r });
    else io.out(resultLines(r).join('\n'));
    return ok ? EXIT.ok : EXIT.failed;
  } catch (e) {
    if (!(e instanceof ScaleInWindowFailedError)) throw e;
    if (json)
      printJson(io, {
        ok: false,
        scheduleId,
        workflowId: run.workflowId,
        outcome: 'failed',
        error: { code: e.code, message: e.message },
        result: e.result ?? null,
      });
    else io.out(e.result ? resultLines(e.result).join('\n') : `${run.workflowId}: failed: ${e.code}: ${e.message}`);
    return EXIT.failed;
  }
}

function resultLines(r: ScaleInWindowResult): string[] {
  const lines = [`${r.workflowId}: ${r.outcome}`, `  ${r.message}`];
  if (r.selection) {
    const { picks, policy } = r.selection;
    lines.push(`  selected ${picks.length} (${policy}), removed ${r.removed.length}, remaining ${r.remaining.length}`);
  }
  for (const x of r.remaining.slice(0, 20)) lines.push(`  remains: ${x.instanceId} (${x.state}) ${x.why}`);
  return lines;
}
