import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import {
  echo,
  echoKey,
  InvalidInputError,
  isObject,
  problemsMessage,
  undecodableProblem,
  validateInput,
  type AdvancedOptions,
  type DrainOptions,
  type InputProblem,
  type ScaleInInput,
} from './input';
import type { ScaleInResult } from './progress';

/**
 * Scheduled scale-in windows: the input of the `scaleInWindow` workflow (plain JSON, see
 * schema/scale-in-window-input.schema.json and docs/schedules.md), its validation and its result.
 * Pure: the client validates before creating a schedule, the workflow validates again on every firing.
 */

export const WINDOW_WORKFLOW_TYPE = 'scaleInWindow';
/**
 * Query of a window run: its ScaleInWindowResult as it fills in (picks once selected, childRunId
 * once the scale-in started). `schedule trigger --wait` reads the picks and follows the run with it.
 */
export const WINDOW_STATE_QUERY = 'windowState';

/**
 * How the window picks the instances to remove: one order of ours (`oldest`, `newest`,
 * `oldestScalingConfiguration`), or `groupPolicy`: the order ESS itself would use for the group
 * (zone balance first, then the group's RemovalPolicies; docs/schedules.md).
 */
export const SELECTION_POLICIES = ['oldest', 'newest', 'oldestScalingConfiguration', 'groupPolicy'] as const;
export type SelectionPolicy = (typeof SELECTION_POLICIES)[number];

/** The RemovalPolicies values `groupPolicy` can follow (CustomPolicy, a Function Compute function, cannot). */
export const FOLLOWABLE_REMOVAL_POLICIES = ['OldestInstance', 'NewestInstance', 'OldestScalingConfiguration'] as const;
/** What ESS uses when a group has no RemovalPolicies (CreateScalingGroup: RemovalPolicy.1, RemovalPolicy.2). */
export const DEFAULT_REMOVAL_POLICIES = ['OldestScalingConfiguration', 'OldestInstance'] as const;

/**
 * `groupPolicy` met a RemovalPolicy it cannot follow (CustomPolicy: a Function Compute function
 * decides, which a window cannot ask). Nothing was selected or changed. The activity fails with
 * `code` as its failure type, non-retryable.
 */
export class RemovalPolicyNotFollowableError extends Error {
  override readonly name = 'RemovalPolicyNotFollowableError' as const;
  static readonly code = 'RemovalPolicyNotFollowable' as const;
  readonly code = RemovalPolicyNotFollowableError.code;
  constructor(
    readonly scalingGroupId: string,
    readonly policy: string,
    readonly removalPolicies: readonly string[],
  ) {
    super(
      `selection groupPolicy cannot follow RemovalPolicy ${JSON.stringify(policy)} ` +
        `of scaling group ${scalingGroupId} ` +
        `(RemovalPolicies: ${removalPolicies.join(', ')})` +
        (policy === 'CustomPolicy'
          ? ': a Function Compute function picks the instances there, and a window cannot ask it'
          : '') +
        ". Fix: set the window's selection to oldest, newest or oldestScalingConfiguration, or give the group " +
        `RemovalPolicies from ${FOLLOWABLE_REMOVAL_POLICIES.join(', ')} (ModifyScalingGroup).`,
    );
  }
}

export interface ScaleInWindowInput {
  /** e.g. `cn-hangzhou`. */
  regionId: string;
  /** The ESS scaling group, e.g. `asg-bp1dk4nm0o5ldvzcpe2v`. */
  scalingGroupId: string;
  /**
   * Length of the window, 1–10080 minutes, counted from the firing's scheduled time. Exactly one of
   * windowMinutes / windowSeconds.
   */
  windowMinutes?: number;
  /**
   * Length of the window in seconds, 1–604800: for tests and short windows. Exactly one of
   * windowMinutes / windowSeconds.
   */
  windowSeconds?: number;
  /** Remove instances until TotalCapacity is this (never below MinSize). Exactly one of targetCapacity / count. */
  targetCapacity?: number;
  /** Remove this many instances (capped at TotalCapacity − MinSize). Exactly one of targetCapacity / count. */
  count?: number;
  /**
   * Which instances go first: `oldest` / `newest` by creation time, `oldestScalingConfiguration`,
   * or `groupPolicy` (the group's own RemovalPolicies, zones balanced first).
   */
  selection: SelectionPolicy;
  /** `YYYY-MM-DD` dates (in `timezone`) on which the window does nothing. */
  blackoutDates?: string[];
  /** IANA time zone of the blackout dates (and of the schedule's calendar); default `UTC`. */
  timezone?: string;
  // ---- passed through to each scale-in run ----
  batchSize?: number;
  drain?: DrainOptions;
  removePolicy?: 'release' | 'recycle';
  decreaseDesiredCapacity?: boolean;
  onBatchFailure?: 'abort' | 'continue';
  /** Who set up the window, and why; passed to each run's `reason`. */
  reason?: string;
  advanced?: AdvancedOptions;
}

/**
 * Every top-level field, in the order of the interface; the JSON schema's properties must match
 * (test/unit/window-schema.test.ts).
 */
export const WINDOW_FIELDS = [
  'regionId',
  'scalingGroupId',
  'windowMinutes',
  'windowSeconds',
  'targetCapacity',
  'count',
  'selection',
  'blackoutDates',
  'timezone',
  'batchSize',
  'drain',
  'removePolicy',
  'decreaseDesiredCapacity',
  'onBatchFailure',
  'allowDrainedInstances',
  'leaveUndrained',
  'lifecycleHooks',
  'reason',
  'advanced',
] as const;
export const WINDOW_REQUIRED_FIELDS = ['regionId', 'scalingGroupId', 'selection'] as const;
/** The fields handed to every scale-in run as they are (validated by validateInput). */
export const PASSTHROUGH_FIELDS = [
  'batchSize',
  'drain',
  'removePolicy',
  'decreaseDesiredCapacity',
  'onBatchFailure',
  'allowDrainedInstances',
  'leaveUndrained',
  'lifecycleHooks',
  'reason',
  'advanced',
] as const;
export const WINDOW_LIMITS = {
  windowMinutes: [1, 10_080],
  windowSeconds: [1, 604_800],
  count: [1, 100_000],
  targetCapacity: [0, 100_000],
  blackoutDates: [0, 366],
} as const;
export const DEFAULT_TIMEZONE = 'UTC';
export const BLACKOUT_DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export interface NormalizedWindowInput {
  regionId: string;
  scalingGroupId: string;
  windowMs: number;
  target: { kind: 'count'; count: number } | { kind: 'targetCapacity'; targetCapacity: number };
  selection: SelectionPolicy;
  blackoutDates: string[];
  timezone: string;
  /** The scale-in knobs, for the child run's input (instanceIds added at run time). */
  passthrough: Omit<ScaleInInput, 'regionId' | 'scalingGroupId' | 'instanceIds'>;
  /** The same knobs with their defaults, as the run will see them (batch size, drain...). */
  scaleIn: ReturnType<typeof validateInput>;
}

/**
 * Thrown (client side) or turned into a non-retryable `InvalidInput` failure (workflow side).
 * A subclass of InvalidInputError, so whatever handles bad scale-in input (the CLI's exit code 2)
 * handles bad window input the same way.
 */
export class InvalidWindowInputError extends InvalidInputError {
  constructor(problems: readonly InputProblem[]) {
    super(problems);
    this.message = problemsMessage('Invalid scale-in window input: ', this.problems);
  }
}

function intIn(v: unknown, [min, max]: readonly [number, number]): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** True when `tz` is an IANA zone this runtime knows (the Temporal server checks cron zones itself). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A real calendar date in `YYYY-MM-DD` form (2026-02-30 is not). */
export function isCalendarDate(s: string): boolean {
  if (!BLACKOUT_DATE_RE.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** The calendar date (`YYYY-MM-DD`) of an instant in an IANA time zone. */
export function localDate(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The UTC offset of `timezone` at `at`, as `+08:00` (`Z` is never used, so the zone always shows). */
function offsetOf(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const minutes = Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Wall-clock parts of `at` in `timezone`: `YYYY-MM-DD`, `HH:MM:SS`. */
function wallClock(at: Date, timezone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  return { date: localDate(at, timezone), time: `${get('hour')}:${get('minute')}:${get('second')}` };
}

/**
 * An instant in a zone, for JSON: ISO 8601 with the zone's offset and its name (RFC 9557), e.g.
 * `2026-12-05T02:00:00+08:00[Asia/Shanghai]`. Invalid input gives undefined.
 */
export function zonedIso(at: Date | string, timezone: string): string | undefined {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime()) || !isValidTimeZone(timezone)) return undefined;
  const { date, time } = wallClock(d, timezone);
  return `${date}T${time}${offsetOf(d, timezone)}[${timezone}]`;
}

/** An instant in a zone, for people: `2026-12-05 02:00 Asia/Shanghai (+08:00)`; the input as is if unreadable. */
export function zonedText(at: Date | string, timezone: string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime()) || !isValidTimeZone(timezone)) return String(at);
  const { date, time } = wallClock(d, timezone);
  const seconds = time.endsWith(':00') ? time.slice(0, 5) : time;
  return `${date} ${seconds} ${timezone} (${offsetOf(d, timezone)})`;
}

/** A placeholder instance, only so validateInput checks the pass-through knobs (the real IDs are picked per firing). */
const PLACEHOLDER_INSTANCE = 'i-windowplaceholder0';

type AddProblem = (field: string, problem: string, fix: string) => void;

/**
 * Checks everything that can be checked without the cloud and fills defaults. Pure and
 * deterministic: the client calls it before creating a schedule, the workflow on every firing.
 * The scale-in knobs are checked by validateInput itself, so both inputs share one set of rules.
 */
export function validateWindowInput(raw: unknown): NormalizedWindowInput {
  const undecoded = undecodableProblem(raw, '(input)');
  if (undecoded) throw new InvalidWindowInputError([undecoded]);
  if (!isObject(raw)) {
    throw new InvalidWindowInputError([
      {
        field: '(input)',
        problem: 'is not a JSON object',
        fix: 'pass an object with regionId, scalingGroupId, windowMinutes, count or targetCapacity, and selection',
      },
    ]);
  }
  const problems: InputProblem[] = [];
  const add: AddProblem = (field, problem, fix) => problems.push({ field, problem, fix });
  const known = new Set<string>(WINDOW_FIELDS);
  for (const k of Object.keys(raw))
    if (!known.has(k)) add(echoKey(k), 'is not a known field', `remove it; known fields: ${WINDOW_FIELDS.join(', ')}`);
  const windowMs = checkEitherOr(raw, WINDOW_LENGTH, add) ?? 0;
  const target = checkEitherOr(raw, WINDOW_TARGET, add);
  const selection = checkSelection(raw.selection, add);
  const timezone = raw.timezone === undefined ? DEFAULT_TIMEZONE : raw.timezone;
  if (typeof timezone !== 'string' || !isValidTimeZone(timezone))
    add('timezone', `must be an IANA time zone, got ${echo(timezone)}`, 'use e.g. "Asia/Shanghai" or "UTC"');
  const blackoutDates = raw.blackoutDates === undefined ? [] : checkBlackoutDates(raw.blackoutDates, add);
  const { passthrough, scaleIn } = checkPassthrough(raw, add, problems);
  if (problems.length || !scaleIn || !target) throw new InvalidWindowInputError(problems);
  return {
    regionId: scaleIn.regionId,
    scalingGroupId: scaleIn.scalingGroupId,
    windowMs,
    target,
    selection: selection as SelectionPolicy,
    blackoutDates: blackoutDates.sort(),
    timezone: timezone as string,
    passthrough: passthrough as NormalizedWindowInput['passthrough'],
    scaleIn,
  };
}

/** One of two integer fields, each with its limits, turned into the value the window uses. */
interface EitherOrField<T> {
  field: keyof typeof WINDOW_LIMITS;
  fix: string;
  value: (n: number) => T;
}

interface EitherOr<T> {
  fields: readonly [EitherOrField<T>, EitherOrField<T>];
  /** The fix when both are set, and when neither is. */
  fixBoth: string;
  fixMissing: string;
}

/** Length: exactly one of windowMinutes / windowSeconds. */
const WINDOW_LENGTH: EitherOr<number> = {
  fields: [
    { field: 'windowMinutes', fix: 'the window length in minutes, e.g. 120 for two hours', value: (n) => n * 60_000 },
    { field: 'windowSeconds', fix: 'the window length in seconds', value: (n) => n * 1000 },
  ],
  fixBoth: 'give only one: windowMinutes for real windows, windowSeconds for tests',
  fixMissing: 'give the window length: windowMinutes (or windowSeconds)',
};

/** How many: exactly one of count / targetCapacity. */
const WINDOW_TARGET: EitherOr<NormalizedWindowInput['target']> = {
  fields: [
    { field: 'count', fix: 'how many instances to remove per window', value: (n) => ({ kind: 'count', count: n }) },
    {
      field: 'targetCapacity',
      fix: 'the TotalCapacity to scale in to (MinSize still applies)',
      value: (n) => ({ kind: 'targetCapacity', targetCapacity: n }),
    },
  ],
  fixBoth: 'give only one: count (remove N instances) or targetCapacity (remove down to N)',
  fixMissing: 'give count (remove N instances) or targetCapacity (remove down to N)',
};

/** The value of whichever of the two fields is set; undefined (and a problem) when not exactly one is valid. */
function checkEitherOr<T>(raw: Record<string, unknown>, rule: EitherOr<T>, add: AddProblem): T | undefined {
  const [first, second] = rule.fields;
  if (raw[first.field] !== undefined && raw[second.field] !== undefined) {
    add(first.field, `and ${second.field} are both set`, rule.fixBoth);
    return undefined;
  }
  const given = raw[first.field] !== undefined ? first : raw[second.field] !== undefined ? second : undefined;
  if (!given) {
    add(first.field, 'is missing', rule.fixMissing);
    return undefined;
  }
  const v = raw[given.field];
  const [min, max] = WINDOW_LIMITS[given.field];
  if (intIn(v, [min, max])) return given.value(v);
  add(given.field, `must be an integer from ${min} to ${max}, got ${echo(v)}`, given.fix);
  return undefined;
}

function checkSelection(selection: unknown, add: AddProblem): unknown {
  if (typeof selection !== 'string' || !(SELECTION_POLICIES as readonly string[]).includes(selection)) {
    add(
      'selection',
      `must be one of ${SELECTION_POLICIES.map((s) => `"${s}"`).join(', ')}, got ${echo(selection)}`,
      '"oldest" removes the oldest instances first; "groupPolicy" follows the group\'s RemovalPolicies',
    );
  }
  return selection;
}

/** The dates, each once (malformed ones are reported and, if strings, kept: the input is rejected anyway). */
function checkBlackoutDates(dates: unknown, add: AddProblem): string[] {
  const max = WINDOW_LIMITS.blackoutDates[1];
  if (!Array.isArray(dates)) {
    add('blackoutDates', 'must be an array of "YYYY-MM-DD" dates', 'e.g. ["2026-02-17","2026-10-01"]');
    return [];
  }
  if (dates.length > max) {
    add('blackoutDates', `has ${dates.length} dates; at most ${max}`, 'drop past dates');
    return [];
  }
  const bad = dates.filter((d) => typeof d !== 'string' || !isCalendarDate(d)).map((d) => echo(d));
  if (bad.length) {
    const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
    add(
      'blackoutDates',
      `not calendar dates in YYYY-MM-DD form: ${bad.slice(0, 5).join(', ')}${more}`,
      'write dates like "2026-10-01"',
    );
  }
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const d of dates)
    if (typeof d === 'string') {
      if (seen.has(d)) dupes.push(d);
      else seen.add(d);
    }
  if (dupes.length) {
    const more = dupes.length > 5 ? ` and ${dupes.length - 5} more` : '';
    add('blackoutDates', `duplicate dates: ${dupes.slice(0, 5).map(echo).join(', ')}${more}`, 'list each date once');
  }
  return [...seen];
}

/**
 * The scale-in knobs (and region/group), checked by validateInput's own rules with the same field
 * names; its problems are added to `problems` as they are.
 */
function checkPassthrough(raw: Record<string, unknown>, add: AddProblem, problems: InputProblem[]) {
  const passthrough: Record<string, unknown> = {};
  for (const f of PASSTHROUGH_FIELDS) {
    // validateInput reads null as "use the default"; the window's JSON schema does not allow null,
    // so neither does this.
    if (raw[f] === null) add(f, 'is null', 'omit it to use the default');
    else if (raw[f] !== undefined) passthrough[f] = raw[f];
  }
  let scaleIn: ReturnType<typeof validateInput> | undefined;
  try {
    scaleIn = validateInput({
      regionId: raw.regionId,
      scalingGroupId: raw.scalingGroupId,
      instanceIds: [PLACEHOLDER_INSTANCE],
      ...passthrough,
    });
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    problems.push(...e.problems);
  }
  return { passthrough, scaleIn };
}

/** The workflow ID prefix of window runs, and the default schedule ID: one window schedule per group. */
export function windowIdFor(regionId: string, scalingGroupId: string): string {
  return `ess-scale-in-window/${regionId}/${scalingGroupId}`;
}

/** True when starting a (child) workflow failed because one with that ID is running: the group's lock is taken. */
export function isAlreadyStarted(e: unknown): boolean {
  return e instanceof WorkflowExecutionAlreadyStartedError;
}

/** Set by the Temporal server on every workflow a schedule starts (the firing's nominal time). */
export const SA_TEMPORAL_SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

// ---------------------------------------------------------------------------------------------
// Selection (the activity's answer) and the window's result
// ---------------------------------------------------------------------------------------------

export interface SelectionPick {
  instanceId: string;
  /** 1-based position in the policy's order. */
  rank: number;
  creationTime: string;
  scalingConfigurationId: string | undefined;
  /** One line saying why this instance was chosen. */
  why: string;
  /**
   * The rule that put this instance ahead of the next candidate: `zone balance`, a RemovalPolicy
   * (`OldestInstance`...), the window's own policy (`oldest`...), `auto-created before attached`,
   * `instance ID (tie)` or `last candidate`. Absent in results of older versions.
   */
  rule?: string;
  zoneId?: string | undefined;
  /** `AutoCreated`, `Attached`, `Managed` as DescribeScalingInstances says. */
  creationType?: string;
}

export interface WindowSelection {
  policy: SelectionPolicy;
  group: {
    scalingGroupId: string;
    totalCapacity: number;
    minSize: number;
    maxSize: number;
    desiredCapacity: number | undefined;
  };
  /** What the input asked for: `count`, or TotalCapacity − targetCapacity. */
  requested: number;
  /** What may go without going below MinSize: TotalCapacity − MinSize. */
  maxRemovable: number;
  /** Set when fewer than requested are picked, saying why (MinSize, too few eligible instances). */
  capped: string | undefined;
  picks: SelectionPick[];
  /** Instances not picked, counted by reason (`Protected`, `Standby`, `state Pending`, `not needed`...). */
  excluded: Record<string, number>;
  /** How "oldest scaling configuration" was decided, for that policy. */
  configurationBasis: string | undefined;
  /** `groupPolicy` only: the RemovalPolicies followed (the group's, or ESS's defaults when it has none), and how. */
  removalPolicies?: { followed: string[]; source: 'group' | 'ESS default'; zoneBalance: boolean };
  requestIds: string[];
}

export type WindowOutcome = 'completed' | 'window-closed' | 'blackout' | 'skipped-busy' | 'failed';

export interface RemainingInstance {
  instanceId: string;
  /** Its lifecycle state when checked, or what the run reported. */
  state: string;
  why: string;
}

export interface ScaleInWindowResult {
  workflowId: string;
  outcome: WindowOutcome;
  message: string;
  regionId: string;
  scalingGroupId: string;
  /** The firing's scheduled time (ISO) and where it came from. */
  scheduledAt: string;
  scheduledAtSource: 'TemporalScheduledStartTime' | 'startTime';
  /** That time's date in `timezone`, checked against the blackout dates. */
  localDate: string;
  timezone: string;
  /** scheduledAt in `timezone`, e.g. `2026-12-05T02:00:00+08:00[Asia/Shanghai]` (absent in older results). */
  scheduledAtLocal?: string;
  windowClosesAt: string | undefined;
  /** windowClosesAt in `timezone` (absent in older results). */
  windowClosesAtLocal?: string | undefined;
  selection: WindowSelection | undefined;
  /** The scale-in run of this window: `ess-scale-in/<region>/<group>`. */
  childWorkflowId: string | undefined;
  /** The run ID of the scale-in run, once started (so a client follows this run, not an older one). */
  childRunId?: string | undefined;
  /** The run's result (completed, or the result attached to its failure). */
  childResult: ScaleInResult | undefined;
  /** How the run ended when it did not complete: failure type and message (and details). */
  childFailure: { type: string; message: string; details: unknown[] } | undefined;
  /** Picked instances removed by the run. */
  removed: string[];
  /** Picked instances that are still in the group, with why. */
  remaining: RemainingInstance[];
}
