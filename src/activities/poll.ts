import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CloudClient, ScalingActivity } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';
import { ForecastWindow, initialPace, nextPace } from './poll-pacing';
import { estimateEnd, type ObservedEnd, type RunningLook } from '../shared/poll-forecast';
import type { CompletedHookAction, PlannedHook } from '../shared/progress';
import { checkHooks, hookPaceMs, hookVerdict, type HookCheck } from './lifecycle-hooks';
import type { PollRequest, PollResponse } from './types';

const TERMINAL = new Set(['Successful', 'Warning', 'Failed', 'Rejected']);

interface PollCheckpoint {
  polls: number;
  progress: number;
  /** Lifecycle actions this attempt completed: reported by the next attempt if this one dies first. */
  completed?: CompletedHookAction[];
  /** When each hook wait was first seen (token, ms): the timeout estimate survives a retry. */
  firstSeen?: Array<[string, number]>;
  /** Since when (ms) DescribeScalingActivities has not found the activity: the budget survives a retry. */
  notFoundSinceMs?: number;
}

/**
 * How long a poll waits for an accepted call's activity to be found by its ID. ESS may not show
 * an activity right after RemoveInstances answers (docs/emulator.md, "Visibility lag"), so not
 * found is "not yet" for this long, and then a failure of its own.
 */
export const NOT_FOUND_BUDGET_MS = 5 * 60_000;

/**
 * DescribeScalingActivities did not find the activity RemoveInstances named for NOT_FOUND_BUDGET_MS.
 * A condition of our own, not an answer of the API: its type is `ScalingActivityNotFound`. Not
 * retried: a retry would only wait again.
 */
export class ScalingActivityNotFoundError extends ApplicationFailure {
  static readonly code = 'ScalingActivityNotFound';
  readonly code = ScalingActivityNotFoundError.code;

  constructor(
    readonly scalingActivityId: string,
    waitedMs: number,
  ) {
    super(
      `scaling activity ${scalingActivityId}, named by an accepted RemoveInstances call, was not found by ` +
        `DescribeScalingActivities for ${Math.round(waitedMs / 1000)} s; its outcome is unknown: check the group`,
      ScalingActivityNotFoundError.code,
      true,
      [{ code: ScalingActivityNotFoundError.code, scalingActivityId }],
    );
  }
}

/**
 * Follows one scaling activity to its end. Heartbeats carry the poll count so a worker crash
 * resumes where it stopped. The interval follows `Progress` (poll-pacing.ts).
 */
export async function runPoll(cloud: CloudClient, req: PollRequest, hb: Heartbeat): Promise<PollResponse> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const resumed = hb.resumedFrom as PollCheckpoint | undefined;
  let polls = resumed?.polls ?? 0;
  const pacing = { minIntervalMs: req.minIntervalMs, maxIntervalMs: req.maxIntervalMs };
  let pace = initialPace(pacing);
  const freshSinceMs = resumed ? undefined : Date.now();
  const hooks = new HookWatch(req, resumed);
  const ends = resumed || hooks.active ? undefined : new EndWatch(req, pacing.minIntervalMs);
  let notFoundSinceMs = resumed?.notFoundSinceMs;
  if (ends?.firstLookMs) await ctx.sleep(ends.firstLookMs);
  for (;;) {
    const { activities } = await cloud.ess.describeScalingActivities(req.regionId, [req.scalingActivityId], { signal });
    polls++;
    const act = activities.find((a) => a.scalingActivityId === req.scalingActivityId);
    if (act && TERMINAL.has(act.statusCode))
      return { ...(await finish(cloud, req, act, polls, signal)), ...ends?.end(act) };
    notFoundSinceMs = act ? undefined : (notFoundSinceMs ?? Date.now());
    if (notFoundSinceMs !== undefined && Date.now() - notFoundSinceMs >= NOT_FOUND_BUDGET_MS)
      throw new ScalingActivityNotFoundError(req.scalingActivityId, Date.now() - notFoundSinceMs);
    const progress = act?.progress ?? 0;
    ends?.stillRunning(progress);
    const check = act ? await hooks.check(cloud, signal) : undefined;
    const notFound = notFoundSinceMs === undefined ? {} : { notFoundSinceMs };
    hb.beat({ polls, progress, ...hooks.checkpoint(), ...notFound } satisfies PollCheckpoint);
    if (check && hooks.isNews(check)) return heldByHooks(req, progress, polls, check);
    pace = nextPace(pacing, pace, progress, Date.now(), freshSinceMs);
    const paceMs = check?.waitingOn.length ? hooks.paceMs(check, pace.intervalMs) : pace.intervalMs;
    await ctx.sleep(ends ? ends.nextWaitMs({ ...pace, intervalMs: paceMs }) : paceMs);
  }
}

/**
 * Where this poll saw its activity end, for the forecast of the next one (src/shared/poll-forecast.ts),
 * and the forecast window it was given. Only a poll that began with its activity and that no
 * lifecycle hook can hold measures one: a retry's clock does not start with the activity.
 */
class EndWatch {
  private readonly startMs = Date.now();
  private firstRunning: RunningLook | undefined;
  private lastRunning: RunningLook | undefined;
  private readonly window: ForecastWindow | undefined;

  constructor(req: PollRequest, minIntervalMs: number) {
    this.window = req.expectedEnd ? new ForecastWindow(req.expectedEnd, minIntervalMs) : undefined;
  }

  get firstLookMs(): number {
    return this.window?.firstLookMs ?? 0;
  }

  stillRunning(progress: number): void {
    this.lastRunning = { atMs: Date.now() - this.startMs, progress };
    this.firstRunning ??= this.lastRunning;
  }

  nextWaitMs(pace: Parameters<ForecastWindow['next']>[1]): number {
    return this.window ? this.window.next(Date.now() - this.startMs, pace) : pace.intervalMs;
  }

  /** Only activities that ran their course: a Rejected or Failed one ends early and says nothing of the next. */
  end(act: ScalingActivity): { observedEnd: ObservedEnd } | undefined {
    if (act.statusCode !== 'Successful' && act.statusCode !== 'Warning') return undefined;
    const byMs = Date.now() - this.startMs;
    const estimateMs = estimateEnd(this.firstRunning, this.lastRunning, byMs);
    return { observedEnd: { afterMs: this.lastRunning?.atMs ?? 0, byMs, estimateMs } };
  }
}

/** The lifecycle-hook side of a poll: only for activities of a group whose plan has hooks the run does not skip. */
class HookWatch {
  private readonly hooks: PlannedHook[];
  private readonly known: Set<string>;
  private readonly firstSeen: Map<string, number>;
  private readonly completed: CompletedHookAction[];

  constructor(
    private readonly req: PollRequest,
    resumed: PollCheckpoint | undefined,
  ) {
    this.hooks = (req.hooks ?? []).filter((h) => h.handling !== 'skip');
    this.known = new Set(req.knownWaitTokens ?? []);
    this.firstSeen = new Map(resumed?.firstSeen ?? []);
    this.completed = [...(resumed?.completed ?? [])];
  }

  get active(): boolean {
    return this.hooks.length > 0;
  }

  async check(cloud: CloudClient, signal: AbortSignal): Promise<HookCheck | undefined> {
    if (!this.hooks.length) return undefined;
    const where = { regionId: this.req.regionId, scalingActivityId: this.req.scalingActivityId };
    const found = await checkHooks(cloud, where, this.hooks, this.firstSeen, { signal });
    this.completed.push(...found.completed);
    return { waitingOn: found.waitingOn, completed: this.completed };
  }

  /** Something the workflow has not shown yet: an action completed, or a hook that started holding the batch. */
  isNews(check: HookCheck): boolean {
    return check.completed.length > 0 || check.waitingOn.some((w) => !this.known.has(w.lifecycleActionToken));
  }

  checkpoint(): Pick<PollCheckpoint, 'completed' | 'firstSeen'> {
    if (!this.hooks.length) return {};
    return { completed: this.completed, firstSeen: [...this.firstSeen] };
  }

  paceMs(check: HookCheck, intervalMs: number): number {
    return Math.max(intervalMs, hookPaceMs(check.waitingOn, this.hooks, this.req.maxIntervalMs));
  }
}

/** Back to the workflow while the activity runs on: hooks hold it, or the run completed some of its actions. */
function heldByHooks(req: PollRequest, progress: number, polls: number, check: HookCheck): PollResponse {
  return {
    scalingActivityId: req.scalingActivityId,
    statusCode: 'InProgress',
    statusMessage: '',
    progress,
    removedInstanceIds: [],
    failedInstances: [],
    polls,
    endedAt: new Date().toISOString(),
    hookWait: { waitingOn: check.waitingOn, completed: check.completed },
  };
}

async function finish(
  cloud: CloudClient,
  req: PollRequest,
  act: ScalingActivity,
  polls: number,
  signal: AbortSignal,
): Promise<PollResponse> {
  const { statusCode, progress } = act;
  const statusMessage = act.statusMessage || act.errorMessage || '';
  const hooks = (req.hooks ?? []).filter((h) => h.handling !== 'skip');
  // The group itself is the truth about what left it: an instance still there (and not on its way
  // out) was not removed, whatever the activity's summary says. Unless ESS itself names each of them
  // as released by this activity (allReleased): then none is there, and the group is not read.
  const stillThere = new Map<string, string>();
  if (hooks.length || !allReleased(req, act)) {
    const { instances } = await cloud.ess.describeScalingInstances(
      { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: req.instanceIds },
      { signal },
    );
    for (const i of instances) stillThere.set(i.instanceId, i.lifecycleState);
  }
  const kept = req.instanceIds.some((id) => stillThere.has(id));
  const where = { regionId: req.regionId, scalingActivityId: req.scalingActivityId };
  const verdict = kept && hooks.length ? await hookVerdict(cloud, where, hooks, { signal }) : undefined;
  return {
    scalingActivityId: req.scalingActivityId,
    statusCode,
    statusMessage,
    progress,
    ...removedOrNot(req, act, verdict ? `${statusMessage}; ${verdict}`.replace(/^; /, '') : statusMessage, stillThere),
    polls,
    endedAt: new Date().toISOString(),
  };
}

/**
 * The activity ended `Successful` and lists every instance of the batch in `DestroyedInstances`
 * (DescribeScalingActivities reference, 2.2): ESS says it removed and released each of them. Only
 * that list counts: `StoppedInstances` (recycle) is an assumption (docs/emulator.md), and an
 * instance attached by hand is detached, listed in neither, so it is read as before.
 */
function allReleased(req: PollRequest, act: ScalingActivity): boolean {
  if (act.statusCode !== 'Successful') return false;
  const released = new Set(act.destroyedInstanceIds ?? []);
  return req.instanceIds.every((id) => released.has(id));
}

/** Each instance of the batch: removed if it left the group, failed (and why) if it is still there. */
function removedOrNot(
  req: PollRequest,
  act: ScalingActivity,
  statusMessage: string,
  stillThere: Map<string, string>,
): Pick<PollResponse, 'removedInstanceIds' | 'failedInstances'> {
  const reported = new Set(act.failedInstanceIds);
  const causeOf = new Map<string, string>();
  for (const e of act.instanceErrors ?? [])
    for (const id of e.instanceIds)
      if (!causeOf.has(id)) causeOf.set(id, [e.code, e.message].filter(Boolean).join(': '));
  const because = statusMessage ? ` (${statusMessage})` : '';
  const ended = `scaling activity ${req.scalingActivityId} ended ${act.statusCode}${because}`;
  const failedInstances: PollResponse['failedInstances'] = [];
  const removedInstanceIds: string[] = [];
  for (const id of req.instanceIds) {
    const state = stillThere.get(id);
    if (state === undefined) removedInstanceIds.push(id);
    else
      failedInstances.push({
        instanceId: id,
        why:
          `${ended}; the instance is still in the group as ${state}` +
          (reported.has(id) ? ', listed among its failed instances' : '') +
          (causeOf.get(id) ? ` (${causeOf.get(id)})` : ''),
      });
  }
  return { removedInstanceIds, failedInstances };
}
