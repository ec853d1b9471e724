import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { WindowActivities } from '../activities';
import { NON_RETRYABLE_TYPES } from '../shared/error-policy';
import { InvalidInputError, workflowIdFor, type ScaleInInput } from '../shared/input';
import type { ScaleInResult } from '../shared/progress';
import { SA_INSTANCES_TOTAL, SA_REGION_ID, SA_SCALING_GROUP_ID } from '../shared/search-attributes';
import {
  SA_TEMPORAL_SCHEDULED_START_TIME,
  isAlreadyStarted,
  localDate,
  validateWindowInput,
  type NormalizedWindowInput,
  type ScaleInWindowInput,
  type ScaleInWindowResult,
  type WindowOutcome,
} from '../shared/window';
import type { scaleIn } from './scale-in';

type ChildEnd = { ok: true; value: ScaleInResult } | { ok: false; error: unknown };

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
  let input: NormalizedWindowInput;
  try {
    input = validateWindowInput(rawInput);
  } catch (e) {
    if (e instanceof InvalidInputError)
      throw ApplicationFailure.create({
        type: 'InvalidInput',
        message: e.message,
        nonRetryable: true,
        details: [e.problems],
      });
    throw e;
  }
  upsertSearchAttributes([
    { key: SA_SCALING_GROUP_ID, value: input.scalingGroupId },
    { key: SA_REGION_ID, value: input.regionId },
  ]);

  const adv = input.scaleIn.advanced;
  const acts = proxyActivities<WindowActivities>({
    startToCloseTimeout: '2m',
    heartbeatTimeout: adv.heartbeatTimeoutSeconds * 1000,
    retry: {
      initialInterval: adv.retryInitialIntervalMs,
      maximumInterval: adv.retryMaxIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: 20,
      nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
    },
  });

  const scheduled = scheduledTime(info);
  const result: ScaleInWindowResult = {
    workflowId: info.workflowId,
    outcome: 'completed',
    message: '',
    regionId: input.regionId,
    scalingGroupId: input.scalingGroupId,
    scheduledAt: scheduled.at.toISOString(),
    scheduledAtSource: scheduled.source,
    localDate: localDate(scheduled.at, input.timezone),
    timezone: input.timezone,
    windowClosesAt: undefined,
    selection: undefined,
    childWorkflowId: undefined,
    childResult: undefined,
    childFailure: undefined,
    removed: [],
    remaining: [],
  };
  let stage = 'Starting';
  const publish = (s?: string) => {
    if (s) stage = s;
    setCurrentDetails(renderWindowDetails(result, stage));
  };
  const finish = (outcome: WindowOutcome, message: string): ScaleInWindowResult => {
    result.outcome = outcome;
    result.message = message;
    publish(outcome);
    log.info('window ended', { outcome, message });
    return result;
  };
  const fail = (type: string, message: string): never => {
    finish('failed', message);
    throw ApplicationFailure.create({ type, nonRetryable: true, message, details: [result] });
  };
  publish();

  // ---------- 1. blackout ----------
  if (input.blackoutDates.includes(result.localDate)) {
    return finish(
      'blackout',
      `${result.localDate} (${input.timezone}) is a blackout date: nothing was selected or changed.`,
    );
  }

  // ---------- the window's end: scheduled time + length ----------
  const closesAt = scheduled.at.getTime() + input.windowMs;
  result.windowClosesAt = new Date(closesAt).toISOString();
  const leftMs = closesAt - info.runStartTime.getTime();
  if (leftMs <= 0) {
    return finish(
      'window-closed',
      `The window had already closed (at ${result.windowClosesAt}) when this run started: nothing was selected or changed.`,
    );
  }
  let closed = false;
  const timerScope = new CancellationScope();
  const windowEnd: Promise<'closed' | 'timer-cancelled'> = timerScope
    .run(() => sleep(leftMs, { summary: `Window closes at ${result.windowClosesAt}` }))
    .then(
      () => {
        closed = true;
        return 'closed' as const;
      },
      (e: unknown) => {
        if (isCancellation(e)) return 'timer-cancelled' as const;
        throw e;
      },
    );

  // ---------- 2. selection ----------
  publish('Selecting');
  try {
    result.selection = await acts.selectInstancesForWindow.executeWithOptions(
      {
        startToCloseTimeout: '2m',
        heartbeatTimeout: adv.heartbeatTimeoutSeconds * 1000,
        summary: `Select instances of ${input.scalingGroupId} (${input.selection})`,
      },
      [
        {
          regionId: input.regionId,
          scalingGroupId: input.scalingGroupId,
          policy: input.selection,
          count: input.target.kind === 'count' ? input.target.count : undefined,
          targetCapacity: input.target.kind === 'targetCapacity' ? input.target.targetCapacity : undefined,
          retryDelayCapMs: adv.retryMaxIntervalMs,
        },
      ],
    );
  } catch (e) {
    if (isCancellation(e)) throw e;
    timerScope.cancel();
    return fail(
      failureType(e) ?? 'SelectionFailed',
      `Selecting the instances failed, nothing was changed: ${describeFailure(e)}`,
    );
  }
  const picks = result.selection.picks.map((p) => p.instanceId);
  if (!picks.length) {
    timerScope.cancel();
    return finish('completed', `Nothing to remove: ${result.selection.capped ?? 'nothing was asked for'}.`);
  }
  if (closed) {
    result.remaining = picks.map((id) => ({
      instanceId: id,
      state: 'InService',
      why: 'selected, but the window closed before the scale-in could start',
    }));
    return finish(
      'window-closed',
      `The window closed before the scale-in could start: the ${picks.length} selected instance(s) were left alone.`,
    );
  }

  // ---------- 3. the scale-in run, as a child under the group's lock ----------
  const childId = workflowIdFor(input.regionId, input.scalingGroupId);
  result.childWorkflowId = childId;
  const childInput: ScaleInInput = {
    ...input.passthrough,
    regionId: input.regionId,
    scalingGroupId: input.scalingGroupId,
    instanceIds: picks,
    reason:
      input.passthrough.reason ??
      `scheduled window ${info.workflowId}: ${input.selection}, ${input.target.kind === 'count' ? `count ${input.target.count}` : `targetCapacity ${input.target.targetCapacity}`}`,
  };
  // Cancelling this scope cancels the child, and its result then waits for the child's cleanup.
  const childScope = new CancellationScope();
  let child;
  try {
    child = await childScope.run(() =>
      startChild<typeof scaleIn>('scaleIn', {
        workflowId: childId,
        args: [childInput],
        parentClosePolicy: 'REQUEST_CANCEL',
        cancellationType: 'WAIT_CANCELLATION_COMPLETED',
        typedSearchAttributes: [
          { key: SA_SCALING_GROUP_ID, value: input.scalingGroupId },
          { key: SA_REGION_ID, value: input.regionId },
          { key: SA_INSTANCES_TOTAL, value: picks.length },
        ],
        staticSummary: `Scale in ${input.scalingGroupId} (${input.regionId}): remove ${picks.length} instance(s), scheduled window ${info.workflowId}`,
      }),
    );
  } catch (e) {
    if (isAlreadyStarted(e)) {
      timerScope.cancel();
      result.remaining = picks.map((id) => ({
        instanceId: id,
        state: 'InService',
        why: `not touched: ${childId} was already running`,
      }));
      return finish(
        'skipped-busy',
        `A scale-in is already running for this group (${childId}); this window changed nothing (one run per group at a time).`,
      );
    }
    if (isCancellation(e)) throw e;
    timerScope.cancel();
    return fail(failureType(e) ?? 'StartFailed', `Starting the scale-in run ${childId} failed: ${describeFailure(e)}`);
  }
  publish('Running');
  const childEnd: Promise<ChildEnd> = child.result().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

  // ---------- 4. whichever comes first: the run's end, or the window's ----------
  const first = await Promise.race([childEnd, windowEnd]);
  let end: ChildEnd;
  let closedMidRun = false;
  if (first === 'closed') {
    closedMidRun = true;
    publish('Closing');
    log.info('window closed while the scale-in runs: cancelling it', { childId });
    childScope.cancel();
    end = await childEnd;
  } else if (first === 'timer-cancelled') {
    // This window run is itself being cancelled: so is the child (same scope tree); wait for its cleanup.
    end = await CancellationScope.nonCancellable(() => childEnd);
    throw end.ok ? new CancelledFailure('the window run was cancelled') : end.error;
  } else {
    timerScope.cancel();
    end = first;
  }

  if (end.ok) {
    takeReport(result, end.value);
    return finish('completed', `${end.value.message}${closedMidRun ? ' The window closed as the run ended.' : ''}`);
  }
  const failure = childFailureOf(end.error);
  result.childFailure = { type: failure.type, message: failure.message, details: failure.details };
  const attached = failure.details[0];
  if (isScaleInResult(attached)) {
    takeReport(result, attached);
  } else {
    // A cancelled run reports nothing: ask the group which picks are still there.
    try {
      const check = await acts.checkWindowInstances.executeWithOptions(
        {
          startToCloseTimeout: '2m',
          heartbeatTimeout: adv.heartbeatTimeoutSeconds * 1000,
          summary: `Check which of ${picks.length} instance(s) remain in ${input.scalingGroupId}`,
        },
        [
          {
            regionId: input.regionId,
            scalingGroupId: input.scalingGroupId,
            instanceIds: picks,
            retryDelayCapMs: adv.retryMaxIntervalMs,
          },
        ],
      );
      const there = new Map(check.inGroup.map((i) => [i.instanceId, i.lifecycleState]));
      result.removed = picks.filter((id) => !there.has(id));
      result.remaining = [...there].map(([instanceId, state]) => ({
        instanceId,
        state,
        why: state.startsWith('Removing')
          ? 'RemoveInstances was accepted before the run stopped; ESS finishes it'
          : `still in the group after the run was ${failure.cancelled ? 'cancelled' : 'stopped'}`,
      }));
    } catch (e) {
      if (isCancellation(e)) throw e;
      result.remaining = picks.map((id) => ({
        instanceId: id,
        state: 'unknown',
        why: `could not check the group: ${describeFailure(e)}`,
      }));
    }
  }

  if (closedMidRun && failure.cancelled) {
    return finish(
      'window-closed',
      `The window closed at ${result.windowClosesAt} before the scale-in ended, so the run was cancelled: no new batch started and drained instances got their traffic back. Removed ${result.removed.length} of ${picks.length}; ${result.remaining.length} remain in the group.`,
    );
  }
  return fail(
    failure.type,
    `The scale-in run ${childId} ${failure.cancelled ? 'was cancelled from outside the window' : 'failed'}: ${failure.message}. Removed ${result.removed.length} of ${picks.length}; ${result.remaining.length} remain in the group.`,
  );
}

/** Copies a run's per-instance report into the window's result. */
function takeReport(result: ScaleInWindowResult, r: ScaleInResult): void {
  result.childResult = r;
  result.removed = r.removed.flatMap((g) => g.instanceIds);
  result.remaining = r.notRemoved.map((n) => ({ instanceId: n.instanceId, state: n.outcome, why: n.why }));
}

function isScaleInResult(v: unknown): v is ScaleInResult {
  return typeof v === 'object' && v !== null && 'outcome' in v && 'removed' in v && 'notRemoved' in v;
}

function childFailureOf(e: unknown): { type: string; message: string; details: unknown[]; cancelled: boolean } {
  const cause = e instanceof ChildWorkflowFailure ? e.cause : e;
  if (cause instanceof CancelledFailure)
    return { type: 'CancelledFailure', message: cause.message || 'cancelled', details: [], cancelled: true };
  if (cause instanceof ApplicationFailure)
    return {
      type: cause.type ?? 'ApplicationFailure',
      message: cause.message,
      details: cause.details ? [...cause.details] : [],
      cancelled: false,
    };
  if (cause instanceof Error) return { type: cause.name, message: cause.message, details: [], cancelled: false };
  return { type: 'ChildFailed', message: String(cause), details: [], cancelled: false };
}

/** The firing's nominal time: a schedule sets TemporalScheduledStartTime; a plain start has only its start time. */
function scheduledTime(info: WorkflowInfo): { at: Date; source: ScaleInWindowResult['scheduledAtSource'] } {
  const typed = info.typedSearchAttributes.get(SA_TEMPORAL_SCHEDULED_START_TIME);
  if (typed instanceof Date && !Number.isNaN(typed.getTime()))
    return { at: typed, source: 'TemporalScheduledStartTime' };
  // A payload without type metadata lands only in the untyped map.
  const raw = (info.searchAttributes as Record<string, unknown[] | undefined> | undefined)
    ?.TemporalScheduledStartTime?.[0];
  if (raw instanceof Date || typeof raw === 'string') {
    const d = new Date(raw);
    if (!Number.isNaN(d.getTime())) return { at: d, source: 'TemporalScheduledStartTime' };
  }
  return { at: info.startTime, source: 'startTime' };
}

function rootOf(e: unknown): unknown {
  let cur: unknown = e;
  while ((cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure) && cur.cause) cur = cur.cause;
  return cur;
}

function failureType(e: unknown): string | undefined {
  const cur = rootOf(e);
  return cur instanceof ApplicationFailure ? (cur.type ?? undefined) : undefined;
}

function describeFailure(e: unknown): string {
  const cur = rootOf(e);
  if (cur instanceof ApplicationFailure) return `${cur.type ?? 'Error'}: ${cur.message}`;
  if (cur instanceof Error) return `${cur.name}: ${cur.message}`;
  return String(cur);
}

/** The "current details" markdown of a window run, shown in the Temporal UI. */
export function renderWindowDetails(r: ScaleInWindowResult, stage: string): string {
  const s = r.selection;
  const lines = [
    `**Window: ${stage}**: ${r.scalingGroupId} in ${r.regionId}`,
    '',
    `Scheduled ${r.scheduledAt} (${r.localDate} in ${r.timezone}); closes ${r.windowClosesAt ?? '-'}`,
  ];
  if (r.message) lines.push('', r.message);
  if (s) {
    lines.push(
      '',
      `Selection **${s.policy}**: asked for ${s.requested}, at most ${s.maxRemovable} may go (TotalCapacity ${s.group.totalCapacity}, MinSize ${s.group.minSize}), picked ${s.picks.length}${s.capped ? ` (${s.capped})` : ''}`,
    );
    const ex = Object.entries(s.excluded)
      .map(([k, n]) => `${k}: ${n}`)
      .join(' · ');
    if (ex) lines.push('', `Not picked: ${ex}`);
    if (s.configurationBasis) lines.push('', `Configuration order: ${s.configurationBasis}`);
    lines.push('', '| # | instance | why |', '|---|---|---|');
    for (const p of s.picks.slice(0, 30)) lines.push(`| ${p.rank} | ${p.instanceId} | ${p.why.replace(/\|/g, '/')} |`);
    if (s.picks.length > 30) lines.push(`| … | ${s.picks.length - 30} more | |`);
  }
  if (r.childWorkflowId) lines.push('', `Scale-in run: ${r.childWorkflowId}`);
  if (r.remaining.length) {
    const shown = r.remaining
      .slice(0, 30)
      .map((x) => `${x.instanceId} (${x.state})`)
      .join(', ');
    lines.push(
      '',
      `Remaining in the group: ${shown}${r.remaining.length > 30 ? ` and ${r.remaining.length - 30} more` : ''}`,
    );
  }
  return lines.join('\n');
}
