import {
  CancellationScope,
  CancelledFailure,
  defineQuery,
  isCancellation,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import { workflowIdFor } from '../../shared/input';
import { isScaleInResult } from '../../shared/progress';
import { SA_REGION_ID, SA_SCALING_GROUP_ID } from '../../shared/search-attributes';
import {
  isAlreadyStarted,
  validateWindowInput,
  WINDOW_STATE_QUERY,
  zonedIso,
  type NormalizedWindowInput,
  type ScaleInWindowInput,
  type ScaleInWindowResult,
} from '../../shared/window';
import { describeFailure, failureType, validatedOrFail } from '../failures';
import { windowActivities } from '../options';
import { childFailureOf, endOf, startChildRun, type ChildEnd, type ChildRun } from './child';
import { WindowClock } from './clock';
import { WindowReport } from './report';

type WindowActs = ReturnType<typeof windowActivities>;

/** The window's result so far (a query adds no command to the history: no patch needed). */
export const windowStateQuery = defineQuery<ScaleInWindowResult>(WINDOW_STATE_QUERY);

/** What one window run works with. */
interface Window {
  info: WorkflowInfo;
  input: NormalizedWindowInput;
  acts: WindowActs;
  report: WindowReport;
}

/**
 * One firing of a scheduled scale-in window (docs/schedules.md):
 *  1. blackout: the firing's scheduled date, in the window's time zone, is a blackout date → nothing;
 *  2. the `selectInstancesForWindow` activity picks the instances (policy, protection, MinSize);
 *  3. a `scaleIn` child run removes them, under the group's one-run-per-group workflow ID;
 *  4. when the window closes first, the child is cancelled: no new batch starts, a RemoveInstances
 *     already accepted is followed to its end, drained instances get their traffic back.
 * Completes with a ScaleInWindowResult. Fails (ApplicationFailure, `details[0]` = the result) only
 * when the window could not do its job, so a schedule's pauseOnFailure holds the next firings.
 */
export async function scaleInWindow(rawInput: ScaleInWindowInput): Promise<ScaleInWindowResult> {
  const info = workflowInfo();
  const input = validatedOrFail(validateWindowInput, rawInput);
  upsertSearchAttributes([
    { key: SA_SCALING_GROUP_ID, value: input.scalingGroupId },
    { key: SA_REGION_ID, value: input.regionId },
  ]);
  const w: Window = {
    info,
    input,
    acts: windowActivities(input.scaleIn.advanced),
    report: new WindowReport(info, input),
  };
  const { report } = w;
  setHandler(windowStateQuery, () => report.result);
  report.publish();
  if (input.blackoutDates.includes(report.result.localDate)) {
    const date = `${report.result.localDate} (${input.timezone})`;
    return report.finish('blackout', `${date} is a blackout date: nothing was selected or changed.`);
  }
  const clock = startClock(w);
  if (!clock) {
    const at = report.result.windowClosesAtLocal ?? report.result.windowClosesAt;
    const closed = `The window had already closed (at ${at}) when this run started`;
    return report.finish('window-closed', `${closed}: nothing was selected or changed.`);
  }
  const picks = await selectPicks(w, clock);
  if (!Array.isArray(picks)) return picks;
  const child = await startRun(w, clock, picks);
  if (!('handle' in child)) return child;
  report.publish('Running');
  return await reportRun(w, picks, await raceTheWindow(report, clock, child));
}

/** The window's end is the firing's scheduled time plus its length; undefined when already past. */
function startClock({ info, input, report }: Window): WindowClock | undefined {
  const closesAt = report.scheduledAt.getTime() + input.windowMs;
  report.result.windowClosesAt = new Date(closesAt).toISOString();
  report.result.windowClosesAtLocal = zonedIso(new Date(closesAt), input.timezone);
  const leftMs = closesAt - info.runStartTime.getTime();
  return leftMs > 0 ? new WindowClock(leftMs, report.result.windowClosesAt) : undefined;
}

/** The instances to remove, or the window's result when there is nothing to do. */
async function selectPicks(
  { input, acts, report }: Window,
  clock: WindowClock,
): Promise<string[] | ScaleInWindowResult> {
  report.publish('Selecting');
  const { target } = input;
  try {
    report.result.selection = await acts.selectInstancesForWindow.executeWithOptions(
      { summary: `Select instances of ${input.scalingGroupId} (${input.selection})` },
      [
        {
          regionId: input.regionId,
          scalingGroupId: input.scalingGroupId,
          policy: input.selection,
          count: target.kind === 'count' ? target.count : undefined,
          targetCapacity: target.kind === 'targetCapacity' ? target.targetCapacity : undefined,
          retryDelayCapMs: input.scaleIn.advanced.retryMaxIntervalMs,
        },
      ],
    );
  } catch (e) {
    if (isCancellation(e)) throw e;
    clock.cancel();
    const why = `Selecting the instances failed, nothing was changed: ${describeFailure(e)}`;
    return report.fail(failureType(e) ?? 'SelectionFailed', why);
  }
  const { selection } = report.result;
  const picks = selection.picks.map((p) => p.instanceId);
  if (!picks.length) {
    clock.cancel();
    return report.finish('completed', `Nothing to remove: ${selection.capped ?? 'nothing was asked for'}.`);
  }
  if (clock.closed) {
    report.leaveAll(picks, 'selected, but the window closed before the scale-in could start');
    const why = `the ${picks.length} selected instance(s) were left alone`;
    return report.finish('window-closed', `The window closed before the scale-in could start: ${why}.`);
  }
  return picks;
}

/** Starts the scale-in run; the window's result when it could not start. */
async function startRun({ info, input, report }: Window, clock: WindowClock, picks: string[]) {
  const childId = workflowIdFor(input.regionId, input.scalingGroupId);
  report.result.childWorkflowId = childId;
  try {
    const child = await startChildRun(childId, info, input, picks);
    report.result.childRunId = child.handle.firstExecutionRunId;
    return child;
  } catch (e) {
    if (isAlreadyStarted(e)) {
      clock.cancel();
      report.leaveAll(picks, `not touched: ${childId} was already running`);
      const busy = `A scale-in is already running for this group (${childId})`;
      return report.finish('skipped-busy', `${busy}; this window changed nothing (one run per group at a time).`);
    }
    if (isCancellation(e)) throw e;
    clock.cancel();
    return report.fail(
      failureType(e) ?? 'StartFailed',
      `Starting the scale-in run ${childId} failed: ${describeFailure(e)}`,
    );
  }
}

/** Whichever comes first: the run's end, or the window's (which cancels the run). */
async function raceTheWindow(
  report: WindowReport,
  clock: WindowClock,
  child: ChildRun,
): Promise<{ end: ChildEnd; closedMidRun: boolean }> {
  const childEnd = endOf(child);
  const first = await Promise.race([childEnd, clock.end]);
  if (first === 'closed') {
    report.publish('Closing');
    log.info('window closed while the scale-in runs: cancelling it', { childId: child.id });
    child.scope.cancel();
    return { end: await childEnd, closedMidRun: true };
  }
  if (first === 'timer-cancelled') {
    // This window run is itself being cancelled: so is the child (same scope tree); wait for its cleanup.
    const end = await CancellationScope.nonCancellable(() => childEnd);
    throw end.ok ? new CancelledFailure('the window run was cancelled') : end.error;
  }
  clock.cancel();
  return { end: first, closedMidRun: false };
}

/** The window's result from how its run ended. */
async function reportRun(w: Window, picks: string[], ran: { end: ChildEnd; closedMidRun: boolean }) {
  const { report } = w;
  const { end, closedMidRun } = ran;
  if (end.ok) {
    report.takeRunReport(end.value);
    return report.finish(
      'completed',
      `${end.value.message}${closedMidRun ? ' The window closed as the run ended.' : ''}`,
    );
  }
  const failure = childFailureOf(end.error);
  report.result.childFailure = { type: failure.type, message: failure.message, details: failure.details };
  const attached = failure.details[0];
  if (isScaleInResult(attached)) report.takeRunReport(attached);
  else await checkRemaining(w, picks, failure.cancelled);
  const r = report.result;
  const tally = `Removed ${r.removed.length} of ${picks.length}; ${r.remaining.length} remain in the group.`;
  if (closedMidRun && failure.cancelled) {
    const at = r.windowClosesAtLocal ?? r.windowClosesAt;
    const closed = `The window closed at ${at} before the scale-in ended, so the run was cancelled`;
    const undone = 'no new batch started and drained instances got their traffic back';
    return report.finish('window-closed', `${closed}: ${undone}. ${tally}`);
  }
  const how = failure.cancelled ? 'was cancelled from outside the window' : 'failed';
  return report.fail(failure.type, `The scale-in run ${r.childWorkflowId} ${how}: ${failure.message}. ${tally}`);
}

/** A cancelled run reports nothing: ask the group which picks are still there. */
async function checkRemaining({ input, acts, report }: Window, picks: string[], cancelled: boolean): Promise<void> {
  try {
    const check = await acts.checkWindowInstances.executeWithOptions(
      { summary: `Check which of ${picks.length} instance(s) remain in ${input.scalingGroupId}` },
      [
        {
          regionId: input.regionId,
          scalingGroupId: input.scalingGroupId,
          instanceIds: picks,
          retryDelayCapMs: input.scaleIn.advanced.retryMaxIntervalMs,
        },
      ],
    );
    const there = new Map(check.inGroup.map((i) => [i.instanceId, i.lifecycleState]));
    report.result.removed = picks.filter((id) => !there.has(id));
    report.result.remaining = [...there].map(([instanceId, state]) => ({
      instanceId,
      state,
      why: state.startsWith('Removing')
        ? 'RemoveInstances was accepted before the run stopped; ESS finishes it'
        : `still in the group after the run was ${cancelled ? 'cancelled' : 'stopped'}`,
    }));
  } catch (e) {
    if (isCancellation(e)) throw e;
    const why = `could not check the group: ${describeFailure(e)}`;
    report.result.remaining = picks.map((id) => ({ instanceId: id, state: 'unknown', why }));
  }
}
