import type { ScaleInClient } from '../../client';
import { ScaleInWindowFailedError } from '../../client/schedules';
import { zonedText, type ScaleInWindowResult, type SelectionPick } from '../../shared/window';
import { followRun } from '../follow';
import { EXIT, printJson, type Io } from '../io';
import { reportEnd } from '../report';
import type { WindowsApi } from './common';

/**
 * Following one window run (a `schedule trigger --wait`, or a `start --count --selection --wait`):
 * its picks as soon as it has selected them, each with the rule that picked it; then its scale-in
 * run with the progress bar and that run's summary (src/cli/follow.ts, src/cli/report.ts); then the
 * window's own end. With --json, or over a client that cannot query the window, only the end.
 */

export interface WindowRunRef {
  workflowId: string;
  /** The run to follow (undefined: the latest run of that ID). */
  runId: string | undefined;
  /** Named in the JSON output (`trigger`); absent for a manual start. */
  scheduleId?: string;
}

export interface FollowWindowOptions {
  json: boolean;
  /** Named in the hint when no worker answers the progress query. */
  taskQueue: string | undefined;
  /** How often the window's state is asked for while it selects; default 300 ms. */
  pollMs?: number;
}

type WindowEnd = { ok: true; result: ScaleInWindowResult } | { ok: false; error: ScaleInWindowFailedError };

export async function followWindow(
  w: WindowsApi,
  client: ScaleInClient | undefined,
  run: WindowRunRef,
  io: Io,
  opts: FollowWindowOptions,
): Promise<number> {
  const ended = w.windowResult(run.workflowId, run.runId).then(
    (result): WindowEnd => ({ ok: true, result }),
    (error: unknown): WindowEnd => {
      if (error instanceof ScaleInWindowFailedError) return { ok: false, error };
      throw error;
    },
  );
  const shown =
    !opts.json && client && w.windowState ? await showAsItGoes(w, client, run, ended, io, opts) : { picks: false };
  return reportWindowEnd(await ended, run, io, opts.json, shown.picks);
}

/** Picks, then the scale-in run; what was printed already (so the end does not repeat it). */
async function showAsItGoes(
  w: WindowsApi,
  client: ScaleInClient,
  run: WindowRunRef,
  ended: Promise<WindowEnd>,
  io: Io,
  opts: FollowWindowOptions,
): Promise<{ picks: boolean }> {
  let over = false;
  void ended.then(
    () => (over = true),
    () => (over = true),
  );
  let picksShown = false;
  while (!over) {
    let state: ScaleInWindowResult;
    try {
      state = await w.windowState!(run.workflowId, run.runId);
    } catch {
      // A window of an older version has no such query; its end still says everything.
      return { picks: picksShown };
    }
    if (state.selection && !picksShown && state.selection.picks.length) {
      io.out(picksLines(state).join('\n'));
      picksShown = true;
    }
    if (state.childWorkflowId && state.childRunId) {
      io.err(`Scale-in run ${state.childWorkflowId} started; following it…`);
      const end = await followRun(client, state.childWorkflowId, io, {
        bar: true,
        taskQueue: opts.taskQueue,
        runId: state.childRunId,
      });
      reportEnd(io, end, false);
      return { picks: picksShown };
    }
    if (state.outcome !== 'completed' || state.message) return { picks: picksShown };
    await Promise.race([ended, new Promise((r) => setTimeout(r, opts.pollMs ?? 300))]);
  }
  return { picks: picksShown };
}

/** `Selected 3 of 27 eligible by …`, then one line per pick: the instance, its zone, the rule that picked it, why. */
export function picksLines(r: ScaleInWindowResult): string[] {
  const s = r.selection;
  if (!s) return [];
  const eligible = s.picks[0]?.why.match(/ of (\d+) eligible/)?.[1];
  const followed = s.removalPolicies
    ? ` (${s.removalPolicies.source === 'group' ? "the group's" : "ESS's default"} RemovalPolicies ` +
      `${s.removalPolicies.followed.join(', ')}, zones balanced first)`
    : '';
  return [
    `${r.workflowId}: selected ${s.picks.length}${eligible ? ` of ${eligible} eligible` : ''} ` +
      `by ${s.policy}${followed}`,
    ...s.picks.map(pickLine),
  ];
}

function pickLine(p: SelectionPick): string {
  const zone = p.zoneId ? ` ${p.zoneId}` : '';
  const why = p.why.replace(/^#\d+ of \d+ eligible by [^:]+: /, '');
  return `  #${p.rank} ${p.instanceId}${zone} picked by ${p.rule ?? 'the policy order'}: ${why}`;
}

function reportWindowEnd(end: WindowEnd, run: WindowRunRef, io: Io, json: boolean, picksShown: boolean): number {
  const scheduleId = run.scheduleId === undefined ? {} : { scheduleId: run.scheduleId };
  if (end.ok) {
    const r = end.result;
    const ok = r.outcome !== 'failed' && r.outcome !== 'skipped-busy';
    if (json) printJson(io, { ok, ...scheduleId, workflowId: run.workflowId, outcome: r.outcome, result: r });
    else io.out(resultLines(r, picksShown).join('\n'));
    return ok ? EXIT.ok : EXIT.failed;
  }
  const e = end.error;
  if (json)
    printJson(io, {
      ok: false,
      ...scheduleId,
      workflowId: run.workflowId,
      outcome: 'failed',
      error: { code: e.code, message: e.message },
      result: e.result ?? null,
    });
  else
    io.out(
      e.result ? resultLines(e.result, picksShown).join('\n') : `${run.workflowId}: failed: ${e.code}: ${e.message}`,
    );
  return EXIT.failed;
}

/** The window's end: outcome, message, when (in its zone), the picks unless shown already, what remains. */
export function resultLines(r: ScaleInWindowResult, picksShown = false): string[] {
  const lines = [`${r.workflowId}: ${r.outcome}`, `  ${r.message}`];
  if (r.scheduledAt && r.timezone) {
    const closes = r.windowClosesAt ? `; the window closes ${zonedText(r.windowClosesAt, r.timezone)}` : '';
    lines.push(`  scheduled ${zonedText(r.scheduledAt, r.timezone)}${closes}`);
  }
  if (r.selection) {
    const { picks, policy } = r.selection;
    lines.push(`  selected ${picks.length} (${policy}), removed ${r.removed.length}, remaining ${r.remaining.length}`);
    if (!picksShown) lines.push(...r.selection.picks.map(pickLine));
  }
  for (const x of r.remaining.slice(0, 20)) lines.push(`  remains: ${x.instanceId} (${x.state}) ${x.why}`);
  return lines;
}
