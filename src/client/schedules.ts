import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type CalendarSpec,
  type CalendarSpecDescription,
  type Client,
  type ScheduleDescription,
  type ScheduleExecutionResult,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { ApplicationFailure, type Duration } from '@temporalio/common';
import type { InputProblem } from '../shared/input';
import { SA_REGION_ID, SA_SCALING_GROUP_ID } from '../shared/search-attributes';
import {
  InvalidWindowInputError,
  WINDOW_STATE_QUERY,
  WINDOW_WORKFLOW_TYPE,
  isValidTimeZone,
  validateWindowInput,
  windowIdFor,
  zonedIso,
  type NormalizedWindowInput,
  type ScaleInWindowInput,
  type ScaleInWindowResult,
} from '../shared/window';
import type { scaleInWindow } from '../workflows/window';

/**
 * Scheduled scale-in windows on Temporal Schedules (docs/schedules.md). One schedule per scaling
 * group by default (`ess-scale-in-window/<region>/<group>`); each firing starts a `scaleInWindow`
 * workflow, which picks the instances and runs a `scaleIn` under the group's one-run lock.
 */

export const OVERLAP_POLICIES = [
  'SKIP',
  'BUFFER_ONE',
  'BUFFER_ALL',
  'CANCEL_OTHER',
  'TERMINATE_OTHER',
  'ALLOW_ALL',
] as const satisfies readonly ScheduleOverlapPolicy[];
export const DEFAULT_CATCHUP_WINDOW = '10m';
export const DEFAULT_OVERLAP: ScheduleOverlapPolicy = 'SKIP';
/** A manual selection run is a window of the longest length allowed: 7 days. */
export const MANUAL_WINDOW_MINUTES = 10_080;

export interface WindowSpec {
  /** Cron expressions (5–7 fields), read in `timezone`; e.g. `0 2 * * SAT` for Saturdays at 02:00. */
  cron?: string[];
  /** Calendar specs, read in `timezone`; e.g. `{ dayOfWeek: 'SUNDAY', hour: 2 }`. */
  calendars?: CalendarSpec[];
  /** IANA time zone of the cron / calendars, and of the window's blackout dates. */
  timezone: string;
}

export interface CreateWindowOptions {
  /** Default `ess-scale-in-window/<region>/<group>`: one window schedule per group. */
  scheduleId?: string;
  spec: WindowSpec;
  window: ScaleInWindowInput;
  /** A firing while the previous window still runs: SKIP (default) does not start another. */
  overlap?: ScheduleOverlapPolicy;
  /**
   * How late a missed firing (server down) may still start. Default `10m`, set explicitly (the
   * SDK's own default is unclear).
   */
  catchupWindow?: Duration;
  /**
   * Pause the schedule when a window fails (default true: an unattended scale-in should stop after
   * a failure until someone looks).
   */
  pauseOnFailure?: boolean;
  /** Kept on the schedule, e.g. who set it up and why. */
  note?: string;
  /** Create it paused. */
  paused?: boolean;
  /** Override the task queue of the workers (default: the client's). */
  taskQueue?: string;
}

export interface WindowRun {
  workflowId: string;
  firstExecutionRunId: string;
  /** ISO, UTC. */
  scheduledAt: string;
  takenAt: string;
  /** scheduledAt in the schedule's time zone, e.g. `2026-12-05T02:00:00+08:00[Asia/Shanghai]`. */
  scheduledAtLocal?: string | undefined;
}

export interface WindowScheduleDescription {
  scheduleId: string;
  paused: boolean;
  note: string | undefined;
  /** The window input every firing gets (undefined if the schedule is not a window schedule). */
  window: ScaleInWindowInput | undefined;
  spec: {
    cron: string[];
    calendars: CalendarSpecDescription[];
    skip: CalendarSpecDescription[];
    timezone: string | undefined;
  };
  policies: { overlap: ScheduleOverlapPolicy; catchupWindowMs: number; pauseOnFailure: boolean };
  taskQueue: string;
  workflowType: string;
  /** Firings so far (the latest last), and the ones still running. */
  recentRuns: WindowRun[];
  runningRuns: Array<{ workflowId: string; firstExecutionRunId: string }>;
  /** ISO, UTC. */
  nextRunTimes: string[];
  /** The same firings in the schedule's time zone (`timezone`), e.g. `2026-12-05T02:00:00+08:00[Asia/Shanghai]`. */
  nextRunTimesLocal: string[];
  /** The zone the schedule fires in (spec.timezone; UTC when it has none). */
  timezone: string;
  counts: { taken: number; skippedOverlap: number; missedCatchupWindow: number };
  createdAt: string;
}

export interface WindowScheduleSummary {
  scheduleId: string;
  paused: boolean;
  note: string | undefined;
  regionId: string | undefined;
  scalingGroupId: string | undefined;
  recentRuns: WindowRun[];
  /** ISO, UTC. */
  nextRunTimes: string[];
  /** The same firings in `timezone`. */
  nextRunTimesLocal: string[];
  /** The zone the schedule fires in. */
  timezone: string;
}

/** A schedule with this ID exists already. */
export class WindowScheduleExistsError extends Error {
  override readonly name = 'WindowScheduleExistsError' as const;
  readonly code = 'WindowScheduleExists' as const;
  constructor(readonly scheduleId: string) {
    super(
      `A schedule ${scheduleId} already exists. Look at it (ess-scale-in schedule describe ${scheduleId}), ` +
        'delete it first (schedule delete), or pass another scheduleId.',
    );
  }
}

export class WindowScheduleNotFoundError extends Error {
  override readonly name = 'WindowScheduleNotFoundError' as const;
  readonly code = 'WindowScheduleNotFound' as const;
  constructor(readonly scheduleId: string) {
    super(`No schedule ${scheduleId}. List the window schedules with: ess-scale-in schedule list.`);
  }
}

/** A window run failed; `result` is what it did (its `details[0]`), when it reported it. */
export class ScaleInWindowFailedError extends Error {
  override readonly name = 'ScaleInWindowFailedError' as const;
  constructor(
    readonly code: string,
    message: string,
    readonly workflowId: string,
    readonly result: ScaleInWindowResult | undefined,
  ) {
    super(message);
  }
}

const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;

/** Whole-day skip entries: every field given, since an unset hour/minute/second means 0, not "any". */
export function blackoutSkipCalendars(dates: readonly string[]): CalendarSpec[] {
  return dates.map((d) => {
    const [y, m, day] = d.split('-').map(Number) as [number, number, number];
    return {
      year: y,
      month: MONTHS[m - 1] as (typeof MONTHS)[number],
      dayOfMonth: day,
      hour: '*',
      minute: '*',
      second: '*',
      comment: `blackout ${d}`,
    };
  });
}

/**
 * Checks a createWindow request without a server: the window input (validateWindowInput) and the
 * schedule around it. Returns the window input as the schedule will store it (timezone explicit).
 */
export function validateCreateWindow(opts: CreateWindowOptions): {
  window: ScaleInWindowInput;
  normalized: NormalizedWindowInput;
  scheduleId: string;
} {
  const spec = opts.spec as Partial<WindowSpec> | undefined;
  const problems: InputProblem[] = specProblems(spec);
  const window = windowInZone(opts.window as ScaleInWindowInput | undefined, spec, problems);
  problems.push(...scheduleOptionProblems(opts));
  let normalized: NormalizedWindowInput | undefined;
  try {
    normalized = validateWindowInput(window);
  } catch (e) {
    if (!(e instanceof InvalidWindowInputError)) throw e;
    problems.push(...e.problems.map((p) => ({ ...p, field: `window.${p.field}` })));
  }
  if (problems.length || !normalized || !window) throw new InvalidWindowInputError(problems);
  return {
    window,
    normalized,
    scheduleId: opts.scheduleId ?? windowIdFor(normalized.regionId, normalized.scalingGroupId),
  };
}

function specProblems(spec: Partial<WindowSpec> | undefined): InputProblem[] {
  if (!spec || typeof spec !== 'object')
    return [{ field: 'spec', problem: 'is missing', fix: 'give spec.cron or spec.calendars, and spec.timezone' }];
  const problems: InputProblem[] = [];
  if (!(spec.cron?.length ?? 0) && !(spec.calendars?.length ?? 0))
    problems.push({
      field: 'spec',
      problem: 'has neither cron nor calendars: the window would never fire',
      fix: 'e.g. spec.cron ["0 2 * * SAT"] (or trigger it by hand)',
    });
  if (spec.cron?.some((c) => typeof c !== 'string' || !c.trim()))
    problems.push({
      field: 'spec.cron',
      problem: 'has an empty expression',
      fix: 'cron expressions have 5 to 7 fields, e.g. "0 2 * * SAT"',
    });
  if (spec.cron?.some((c) => /^\s*(CRON_TZ|TZ)=/.test(c)))
    problems.push({
      field: 'spec.cron',
      problem: 'sets its own time zone (CRON_TZ=/TZ=)',
      fix: 'use spec.timezone instead, so blackout dates use the same zone',
    });
  if (typeof spec.timezone !== 'string' || !isValidTimeZone(spec.timezone))
    problems.push({
      field: 'spec.timezone',
      problem: `must be an IANA time zone, got ${JSON.stringify(spec.timezone)}`,
      fix: 'e.g. "Asia/Shanghai" or "UTC"',
    });
  return problems;
}

/**
 * A copy of the window input with the schedule's time zone made explicit; a different zone of its
 * own is a problem, since blackout dates must mean the days the schedule fires on.
 */
function windowInZone(
  raw: ScaleInWindowInput | undefined,
  spec: Partial<WindowSpec> | undefined,
  problems: InputProblem[],
): ScaleInWindowInput | undefined {
  const window: ScaleInWindowInput | undefined = raw && typeof raw === 'object' ? { ...raw } : raw;
  if (window && typeof window === 'object' && typeof spec?.timezone === 'string') {
    if (window.timezone === undefined) window.timezone = spec.timezone;
    else if (window.timezone !== spec.timezone)
      problems.push({
        field: 'window.timezone',
        problem: `is ${JSON.stringify(window.timezone)} but spec.timezone is ${JSON.stringify(spec.timezone)}`,
        fix: 'use one time zone for both, so blackout dates mean the same days as the schedule',
      });
  }
  return window;
}

function scheduleOptionProblems(opts: CreateWindowOptions): InputProblem[] {
  const problems: InputProblem[] = [];
  if (opts.overlap !== undefined && !(OVERLAP_POLICIES as readonly string[]).includes(opts.overlap))
    problems.push({
      field: 'overlap',
      problem: `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(opts.overlap)}`,
      fix: 'omit it for SKIP',
    });
  const id = opts.scheduleId;
  if (id !== undefined && (typeof id !== 'string' || !id.trim() || id.length > 200))
    problems.push({
      field: 'scheduleId',
      problem: 'must be a non-empty string of at most 200 characters',
      fix: 'omit it for ess-scale-in-window/<region>/<group>',
    });
  return problems;
}

function runOf(r: ScheduleExecutionResult, timezone: string): WindowRun {
  return {
    workflowId: r.action.workflow.workflowId,
    firstExecutionRunId: r.action.workflow.firstExecutionRunId,
    scheduledAt: r.scheduledAt.toISOString(),
    takenAt: r.takenAt.toISOString(),
    scheduledAtLocal: zonedIso(r.scheduledAt, timezone),
  };
}

/** Firings in the schedule's zone (RFC 9557: ISO with offset and zone name). */
function localTimes(times: readonly Date[], timezone: string): string[] {
  return times.map((t) => zonedIso(t, timezone) ?? t.toISOString());
}

function staticSummary(n: NormalizedWindowInput): string {
  const howMany = n.target.kind === 'count' ? `remove ${n.target.count}` : `down to ${n.target.targetCapacity}`;
  return `Scale-in window for ${n.scalingGroupId} (${n.regionId}): ${howMany}, ${n.selection} first`;
}

function staticDetails(n: NormalizedWindowInput, spec: WindowSpec): string {
  const when = [...(spec.cron ?? []), ...(spec.calendars ?? []).map((c) => JSON.stringify(c))]
    .join('; ')
    .replace(/\|/g, '/');
  const howMany =
    n.target.kind === 'count' ? `${n.target.count} instance(s)` : `down to TotalCapacity ${n.target.targetCapacity}`;
  const { drain } = n.scaleIn;
  return [
    '| field | value |',
    '|---|---|',
    `| scaling group | ${n.scalingGroupId} (${n.regionId}) |`,
    `| when | ${when} (${spec.timezone}) |`,
    `| window | ${n.windowMs / 1000}s |`,
    `| how many | ${howMany}, never below MinSize |`,
    `| selection | ${n.selection} (InService only; never Protected or Standby) |`,
    `| blackout dates | ${n.blackoutDates.join(', ') || '-'} |`,
    `| batches / drain | ${n.scaleIn.batchSize} per batch; ${drain.strategy}, ${drain.timeoutSeconds}s |`,
  ].join('\n');
}

/**
 * What services call to manage scale-in windows. Build it over any Temporal Client, or from a
 * ScaleInClient: `ScaleInWindows.from(scaleInClient)`.
 */
export class ScaleInWindows {
  constructor(
    readonly client: Client,
    private readonly opts: { taskQueue: string },
  ) {}

  static from(c: { client: Client; config: { taskQueue: string } }): ScaleInWindows {
    return new ScaleInWindows(c.client, { taskQueue: c.config.taskQueue });
  }

  /**
   * Validates, then creates the schedule. Throws InvalidWindowInputError (nothing created) or
   * WindowScheduleExistsError.
   */
  async createWindow(opts: CreateWindowOptions): Promise<{ scheduleId: string; window: ScaleInWindowInput }> {
    const checked = validateCreateWindow(opts);
    const { window, scheduleId } = checked;
    try {
      await this.client.schedule.create<typeof scaleInWindow>(this.scheduleOptions(opts, checked));
    } catch (e) {
      if (e instanceof ScheduleAlreadyRunning) throw new WindowScheduleExistsError(scheduleId);
      // The server's cron / calendar parser said no ("Invalid schedule spec: ...").
      if (e instanceof TypeError)
        throw new InvalidWindowInputError([
          {
            field: 'spec',
            problem: `rejected by the Temporal server: ${e.message}`,
            fix: 'check the cron expressions (5-7 fields) and calendars',
          },
        ]);
      throw e;
    }
    return { scheduleId, window };
  }

  private scheduleOptions(
    opts: CreateWindowOptions,
    { window, normalized: n, scheduleId }: ReturnType<typeof validateCreateWindow>,
  ): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof scaleInWindow>> {
    const skip = blackoutSkipCalendars(n.blackoutDates);
    const searchAttributes = () => [
      { key: SA_SCALING_GROUP_ID, value: n.scalingGroupId },
      { key: SA_REGION_ID, value: n.regionId },
    ];
    return {
      scheduleId,
      spec: {
        ...(opts.spec.cron?.length ? { cronExpressions: opts.spec.cron } : {}),
        ...(opts.spec.calendars?.length ? { calendars: opts.spec.calendars } : {}),
        ...(skip.length ? { skip } : {}),
        timezone: opts.spec.timezone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: WINDOW_WORKFLOW_TYPE,
        taskQueue: opts.taskQueue ?? this.opts.taskQueue,
        args: [window],
        workflowId: windowIdFor(n.regionId, n.scalingGroupId),
        typedSearchAttributes: searchAttributes(),
        staticSummary: staticSummary(n),
        staticDetails: staticDetails(n, opts.spec),
      },
      policies: {
        overlap: opts.overlap ?? DEFAULT_OVERLAP,
        catchupWindow: opts.catchupWindow ?? DEFAULT_CATCHUP_WINDOW,
        pauseOnFailure: opts.pauseOnFailure ?? true,
      },
      // The server turns cron strings into calendars; the memo keeps them as written, for describe.
      memo: {
        kind: 'ess-scale-in-window',
        regionId: n.regionId,
        scalingGroupId: n.scalingGroupId,
        cron: opts.spec.cron ?? [],
        timezone: opts.spec.timezone,
      },
      typedSearchAttributes: searchAttributes(),
      state: { paused: opts.paused ?? false, ...(opts.note ? { note: opts.note } : {}) },
    };
  }

  /**
   * Every schedule whose action starts scaleInWindow; listing is eventually consistent (a new
   * schedule may take a moment).
   */
  async listWindows(filter: { regionId?: string; scalingGroupId?: string } = {}): Promise<WindowScheduleSummary[]> {
    const out: WindowScheduleSummary[] = [];
    for await (const s of this.client.schedule.list()) {
      if (s.action?.workflowType !== WINDOW_WORKFLOW_TYPE) continue;
      const memo = (s.memo ?? {}) as { regionId?: string; scalingGroupId?: string; timezone?: unknown };
      if (filter.regionId && memo.regionId !== filter.regionId) continue;
      if (filter.scalingGroupId && memo.scalingGroupId !== filter.scalingGroupId) continue;
      // Schedules created before the memo kept the zone: the listing may not carry it, describe does.
      const timezone =
        (typeof memo.timezone === 'string' ? memo.timezone : undefined) ??
        s.spec?.timezone ??
        (await this.describeWindow(s.scheduleId)
          .then((d) => d.timezone)
          .catch(() => 'UTC'));
      out.push({
        scheduleId: s.scheduleId,
        paused: s.state.paused,
        note: s.state.note || undefined,
        regionId: memo.regionId,
        scalingGroupId: memo.scalingGroupId,
        recentRuns: s.info.recentActions.map((r) => runOf(r, timezone)),
        nextRunTimes: s.info.nextActionTimes.map((d) => d.toISOString()),
        nextRunTimesLocal: localTimes(s.info.nextActionTimes, timezone),
        timezone,
      });
    }
    return out.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));
  }

  async describeWindow(scheduleId: string): Promise<WindowScheduleDescription> {
    const d: ScheduleDescription = await this.wrap(scheduleId, () =>
      this.client.schedule.getHandle(scheduleId).describe(),
    );
    const memoCron = (d.memo as { cron?: unknown } | undefined)?.cron;
    const cron = Array.isArray(memoCron) ? memoCron.filter((c): c is string => typeof c === 'string') : [];
    const timezone = d.spec.timezone || 'UTC';
    return {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note || undefined,
      window:
        d.action.workflowType === WINDOW_WORKFLOW_TYPE
          ? (d.action.args?.[0] as ScaleInWindowInput | undefined)
          : undefined,
      spec: { cron, calendars: d.spec.calendars ?? [], skip: d.spec.skip ?? [], timezone: d.spec.timezone },
      policies: {
        overlap: d.policies.overlap,
        catchupWindowMs: d.policies.catchupWindow,
        pauseOnFailure: d.policies.pauseOnFailure,
      },
      taskQueue: d.action.taskQueue,
      workflowType: d.action.workflowType,
      recentRuns: d.info.recentActions.map((r) => runOf(r, timezone)),
      runningRuns: d.info.runningActions.map((a) => ({
        workflowId: a.workflow.workflowId,
        firstExecutionRunId: a.workflow.firstExecutionRunId,
      })),
      nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      nextRunTimesLocal: localTimes(d.info.nextActionTimes, timezone),
      timezone,
      counts: {
        taken: d.info.numActionsTaken,
        skippedOverlap: d.info.numActionsSkippedOverlap,
        missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      },
      createdAt: d.info.createdAt.toISOString(),
    };
  }

  /** No firing starts while paused; a window already running goes on (cancel its scale-in to stop it). */
  async pauseWindow(scheduleId: string, note = 'paused via ess-scale-in'): Promise<void> {
    await this.wrap(scheduleId, () => this.client.schedule.getHandle(scheduleId).pause(note));
  }

  async unpauseWindow(scheduleId: string, note = 'unpaused via ess-scale-in'): Promise<void> {
    await this.wrap(scheduleId, () => this.client.schedule.getHandle(scheduleId).unpause(note));
  }

  /**
   * Starts one window now, whatever the calendar says (spec.skip does not apply to a manual
   * trigger; the workflow's own blackout check does). The overlap policy defaults to the
   * schedule's own (the SDK's default would be ALLOW_ALL).
   */
  async triggerWindow(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<void> {
    const handle = this.client.schedule.getHandle(scheduleId);
    const policy = overlap ?? (await this.wrap(scheduleId, () => handle.describe())).policies.overlap;
    await this.wrap(scheduleId, () => handle.trigger(policy));
  }

  /** Deletes the schedule; a window already running goes on. */
  async deleteWindow(scheduleId: string): Promise<void> {
    await this.wrap(scheduleId, () => this.client.schedule.getHandle(scheduleId).delete());
  }

  /**
   * A window run's result so far (query `windowState`): the picks once selected, `childRunId` once
   * its scale-in started. Runs of versions without the query fail with the server's QueryNotRegistered.
   */
  async windowState(workflowId: string, runId?: string): Promise<ScaleInWindowResult> {
    return this.client.workflow.getHandle(workflowId, runId).query<ScaleInWindowResult>(WINDOW_STATE_QUERY);
  }

  /**
   * One window now, without a schedule: `start --count N --selection <policy>`. The window workflow
   * picks exactly as a scheduled firing does and starts the scale-in under the group's lock; the
   * picks are kept in its result. The window is the longest allowed (7 days) unless the input sets
   * one. Throws InvalidWindowInputError before starting anything.
   */
  async startManualWindow(
    window: ScaleInWindowInput,
    opts: { taskQueue?: string; now?: Date } = {},
  ): Promise<{ workflowId: string; runId: string; window: ScaleInWindowInput }> {
    const input: ScaleInWindowInput =
      window.windowMinutes === undefined && window.windowSeconds === undefined
        ? { ...window, windowMinutes: MANUAL_WINDOW_MINUTES }
        : window;
    const n = validateWindowInput(input);
    const workflowId = `${windowIdFor(n.regionId, n.scalingGroupId)}-manual-${(opts.now ?? new Date()).toISOString()}`;
    const handle = await this.client.workflow.start<typeof scaleInWindow>(WINDOW_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: opts.taskQueue ?? this.opts.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: SA_SCALING_GROUP_ID, value: n.scalingGroupId },
        { key: SA_REGION_ID, value: n.regionId },
      ],
      staticSummary: `Manual ${staticSummary(n).replace(/^Scale-in window/, 'scale-in by selection')}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId, window: input };
  }

  /** Waits for a window run's end: its result, or ScaleInWindowFailedError carrying the result it reported. */
  async windowResult(workflowId: string, runId?: string): Promise<ScaleInWindowResult> {
    try {
      return await this.client.workflow.getHandle<typeof scaleInWindow>(workflowId, runId).result();
    } catch (e) {
      if (e instanceof WorkflowFailedError) {
        const cause = e.cause;
        const detail = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
        const result =
          // JSON drops undefined fields: a window that failed before selecting has no `selection` key.
          typeof detail === 'object' && detail !== null && 'outcome' in detail && 'scheduledAt' in detail
            ? (detail as ScaleInWindowResult)
            : undefined;
        throw new ScaleInWindowFailedError(
          cause instanceof ApplicationFailure ? (cause.type ?? 'Failed') : (cause?.name ?? 'Failed'),
          cause?.message ?? e.message,
          workflowId,
          result,
        );
      }
      if (e instanceof WorkflowNotFoundError)
        throw new ScaleInWindowFailedError('RunNotFound', `No window run ${workflowId}`, workflowId, undefined);
      throw e;
    }
  }

  private async wrap<T>(scheduleId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) throw new WindowScheduleNotFoundError(scheduleId);
      throw e;
    }
  }
}
