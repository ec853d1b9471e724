import { MAX_BATCH_SIZE } from './constants';
import { undecodableOf } from './payload-converter';

/**
 * The scale-in workflow's input: plain JSON, so services in any language can start a run
 * (see schema/scale-in-input.schema.json). Everything the workflow needs is here: workflow code
 * never reads env or config.
 */
export interface ScaleInInput {
  /** e.g. `cn-hangzhou`. */
  regionId: string;
  /** The ESS scaling group, e.g. `asg-bp1dk4nm0o5ldvzcpe2v`. */
  scalingGroupId: string;
  /** ECS instance IDs to remove; any number, no duplicates. */
  instanceIds: string[];
  /**
   * `release` (default) deletes auto-created instances; `recycle` stops them (economical mode),
   * only if the group's ScalingPolicy is recycle.
   */
  removePolicy?: 'release' | 'recycle';
  /** Lower DesiredCapacity with the removal (default true) so ESS does not replace the instances. */
  decreaseDesiredCapacity?: boolean;
  /** Instances per RemoveInstances call, 1–20 (default 20). */
  batchSize?: number;
  drain?: DrainOptions;
  /** Run the preflight, return the plan, change nothing. */
  dryRun?: boolean;
  /** Wait for an `approve` update after the preflight, before any change. */
  requireApproval?: boolean;
  /**
   * Go on with instances that are already drained (weight 0 on an attached load balancer, or in
   * Standby) before the run; without it a real run refuses them (default false).
   */
  allowDrainedInstances?: boolean;
  /**
   * Server groups attached to the scaling group that the product cannot drain (a `ServerGroups`
   * entry of a type other than ALB or NLB, such as GWLB), by ID: the run goes on and leaves their
   * traffic as it is. Without it, preflight refuses a group with such an attachment and names it.
   */
  leaveUndrained?: string[];
  /** What to do when a batch's scaling activity fails: stop and restore (`abort`, default) or go on (`continue`). */
  onBatchFailure?: 'abort' | 'continue';
  /** What the run does about the group's scale-in lifecycle hooks (default: wait for them). */
  lifecycleHooks?: LifecycleHookOptions;
  /** Caller's idempotency key: starting again with the same requestId returns the same run. */
  requestId?: string;
  /** Who asked, and why; shown in the UI and kept in the history. */
  reason?: string;
  /** Tuning for tests and unusual environments; defaults suit production. */
  advanced?: AdvancedOptions;
}

export interface DrainOptions {
  /**
   * `weight` (default): weight 0 on every attached CLB backend, vserver group and ALB server group;
   * `standby`: EnterStandby; `none`.
   */
  strategy?: 'weight' | 'standby' | 'none';
  /** How long traffic drains before removal, in seconds (default 300, max 3600). */
  timeoutSeconds?: number;
  /** At most this many instances drained ahead of removal at any time (default 100, at least batchSize). */
  maxDrainedAhead?: number;
}

/**
 * - `wait` (default): every scale-in hook holds each batch as ESS says; the run waits and shows why.
 * - `complete`: the run answers `CONTINUE` for the named hooks (hooks that only hold instances while
 *   traffic drains: the run drained them itself), on its own scaling activities only; other hooks
 *   are waited for.
 * - `skip`: RemoveInstances bypasses the named hooks (`IgnoredLifecycleHookIds`), or all of them
 *   with `all: true` (`DisableLifecycleHook`).
 */
export interface LifecycleHookOptions {
  mode?: 'wait' | 'complete' | 'skip';
  /** Lifecycle hook IDs (`ash-…`): required for `complete`, and for `skip` unless `all`. */
  hookIds?: string[];
  /** `skip` only: bypass every hook of the group. */
  all?: boolean;
}

export interface AdvancedOptions {
  /** Polling of scaling activities: first and longest interval, ms (default 2000 / 30000). */
  pollMinIntervalMs?: number;
  pollMaxIntervalMs?: number;
  /** Activity retry backoff, ms (default 2000 / 60000). */
  retryInitialIntervalMs?: number;
  retryMaxIntervalMs?: number;
  /**
   * Heartbeat timeout of every activity, s (default 10). A SIGKILLed worker is noticed after this
   * long; activities heartbeat every third of it, so it is not a limit on how long a call may take.
   */
  heartbeatTimeoutSeconds?: number;
  /** Continue-as-new after this many batches in one run (default 100; the server's suggestion also counts). */
  maxBatchesPerRun?: number;
  /**
   * Predictive polling: how many of the run's last scaling activities forecast the next one's end
   * (src/shared/poll-forecast.ts; default 5). 0 turns it off: every poll paces on Progress alone.
   */
  pollForecastSamples?: number;
}

export interface NormalizedInput {
  regionId: string;
  scalingGroupId: string;
  instanceIds: string[];
  removePolicy: 'release' | 'recycle';
  decreaseDesiredCapacity: boolean;
  batchSize: number;
  drain: { strategy: 'weight' | 'standby' | 'none'; timeoutSeconds: number; maxDrainedAhead: number };
  dryRun: boolean;
  requireApproval: boolean;
  allowDrainedInstances: boolean;
  /** Attachments the run may leave undrained (empty: none). Optional for inputs built by hand. */
  leaveUndrained?: string[];
  onBatchFailure: 'abort' | 'continue';
  lifecycleHooks: { mode: 'wait' | 'complete' | 'skip'; hookIds: string[]; all: boolean };
  requestId: string | undefined;
  reason: string | undefined;
  advanced: Required<AdvancedOptions>;
}

export interface InputProblem {
  field: string;
  problem: string;
  fix: string;
}

/** At most this many problems are listed (in the failure details); the rest are counted. */
export const MAX_PROBLEMS = 50;
/** The error message lists this many; the details list up to MAX_PROBLEMS. */
const MAX_PROBLEMS_IN_MESSAGE = 10;
/** UTF-8 bytes of all problems listed, and of the message: the failure must fit in a Temporal message. */
const PROBLEMS_BUDGET_BYTES = 32 * 1024;
const MESSAGE_BUDGET_BYTES = 12 * 1024;
/** Echoed input values are cut to this many characters. */
export const ECHO_MAX = 200;
const LIMITS = { field: 100, problem: 400, fix: 300 } as const;

/** `s` cut to `max` characters, marked with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A value as the input gave it, for a message: JSON, cut to ECHO_MAX characters; never throws. */
export function echo(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return truncate(text, ECHO_MAX);
}

/** UTF-8 length, counted by hand: workflow code has no Buffer. */
function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return n;
}

function problemText(p: InputProblem): string {
  return `${p.field}: ${p.problem} (${p.fix})`;
}

/** The problems as listed: each string cut, at most MAX_PROBLEMS within the byte budget, then "and N more". */
export function capProblems(problems: readonly InputProblem[]): InputProblem[] {
  const out: InputProblem[] = [];
  let bytes = 0;
  for (const p of problems) {
    const cut = {
      field: truncate(String(p.field), LIMITS.field),
      problem: truncate(String(p.problem), LIMITS.problem),
      fix: truncate(String(p.fix), LIMITS.fix),
    };
    bytes += utf8Bytes(problemText(cut)) + 40;
    if (out.length === MAX_PROBLEMS || bytes > PROBLEMS_BUDGET_BYTES) break;
    out.push(cut);
  }
  const more = problems.length - out.length;
  if (more > 0)
    out.push({
      field: '(input)',
      problem: `and ${more} more problem(s) not listed`,
      fix: 'fix the problems listed, then validate again to see the rest',
    });
  return out;
}

/** One line naming the first problems; the failure details list the rest. */
export function problemsMessage(prefix: string, problems: readonly InputProblem[]): string {
  const listed: string[] = [];
  let bytes = utf8Bytes(prefix);
  for (const p of problems.slice(0, MAX_PROBLEMS_IN_MESSAGE)) {
    const text = problemText(p);
    bytes += utf8Bytes(text) + 2;
    if (bytes > MESSAGE_BUDGET_BYTES) break;
    listed.push(text);
  }
  const rest = problems.length - listed.length;
  const more = rest > 0 ? `; and ${rest} more (listed in the failure details)` : '';
  return `${prefix}${listed.join('; ')}${more}`;
}

/**
 * Thrown (client side) or turned into a non-retryable `InvalidInput` failure (workflow side). The
 * problems are capped and cut (capProblems), so the failure fits in a Temporal message whatever the input.
 */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError' as const;
  readonly code = 'InvalidInput' as const;
  readonly problems: InputProblem[];
  constructor(problems: readonly InputProblem[]) {
    const capped = capProblems(problems);
    super(problemsMessage('Invalid scale-in input: ', capped));
    this.problems = capped;
  }
}

/** The problem of a payload the worker could not decode (see payload-converter.ts), if `raw` is one. */
export function undecodableProblem(raw: unknown, field: string): InputProblem | undefined {
  const info = undecodableOf(raw);
  if (!info) return undefined;
  const what = `encoding ${echo(info.encoding)}, ${Number(info.bytes)} bytes`;
  return {
    field,
    problem: `could not be decoded (${what}): ${echo(info.reason)}`,
    fix: 'send the input as a JSON object (encoding json/plain)',
  };
}

const REGION_RE = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const GROUP_RE = /^[A-Za-z0-9-]{6,64}$/;
/** ECS instance IDs: `i-` then lowercase letters and digits (real ones have 20 after the prefix). */
export const INSTANCE_ID_RE = /^i-[a-z0-9]{8,30}$/;

export const DEFAULTS = {
  removePolicy: 'release',
  decreaseDesiredCapacity: true,
  batchSize: MAX_BATCH_SIZE,
  drainStrategy: 'weight',
  drainTimeoutSeconds: 300,
  maxDrainedAhead: 100,
  onBatchFailure: 'abort',
  advanced: {
    pollMinIntervalMs: 2000,
    pollMaxIntervalMs: 30_000,
    retryInitialIntervalMs: 2000,
    retryMaxIntervalMs: 60_000,
    heartbeatTimeoutSeconds: 10,
    maxBatchesPerRun: 100,
    pollForecastSamples: 5,
  },
} as const;

/** A plain object, as JSON decodes one (not an array, a Uint8Array from a binary payload, or a class instance). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return Object.prototype.toString.call(v) === '[object Object]';
}

function intInRange(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

const KNOWN_FIELDS = new Set([
  'regionId',
  'scalingGroupId',
  'instanceIds',
  'removePolicy',
  'decreaseDesiredCapacity',
  'batchSize',
  'drain',
  'dryRun',
  'requireApproval',
  'allowDrainedInstances',
  'leaveUndrained',
  'onBatchFailure',
  'lifecycleHooks',
  'requestId',
  'reason',
  'advanced',
]);

type AddProblem = (field: string, problem: string, fix: string) => void;

/**
 * Checks everything that can be checked without the cloud, and fills defaults. Pure and
 * deterministic: the client calls it before starting a run and the workflow calls it again
 * (input may come from any language).
 */
export function validateInput(raw: unknown): NormalizedInput {
  const undecoded = undecodableProblem(raw, '(input)');
  if (undecoded) throw new InvalidInputError([undecoded]);
  if (!isObject(raw)) {
    throw new InvalidInputError([
      {
        field: '(input)',
        problem: 'is not a JSON object',
        fix: 'pass an object with regionId, scalingGroupId and instanceIds',
      },
    ]);
  }
  const problems: InputProblem[] = [];
  const add: AddProblem = (field, problem, fix) => problems.push({ field, problem, fix });
  checkFieldNames(raw, add);
  checkScalingGroup(raw, add);
  const instanceIds = checkInstanceIds(raw.instanceIds, add);
  const removal = checkRemoval(raw, add);
  const drain = checkDrain(raw.drain ?? {}, removal.batchSize, add);
  const onBatchFailure = checkRunControls(raw, add);
  const leaveUndrained = checkLeaveUndrained(raw.leaveUndrained, add);
  const lifecycleHooks = checkLifecycleHooks(raw.lifecycleHooks ?? {}, add);
  const advanced = checkAdvanced(raw.advanced ?? {}, add);
  if (problems.length) throw new InvalidInputError(problems);
  return {
    regionId: raw.regionId as string,
    scalingGroupId: raw.scalingGroupId as string,
    instanceIds,
    removePolicy: removal.removePolicy as 'release' | 'recycle',
    decreaseDesiredCapacity: removal.decrease as boolean,
    batchSize: removal.batchSize as number,
    drain: {
      strategy: drain.strategy as 'weight' | 'standby' | 'none',
      timeoutSeconds: drain.timeoutSeconds as number,
      maxDrainedAhead: drain.maxAhead as number,
    },
    dryRun: raw.dryRun === true,
    requireApproval: raw.requireApproval === true,
    allowDrainedInstances: raw.allowDrainedInstances === true,
    leaveUndrained,
    onBatchFailure: onBatchFailure as 'abort' | 'continue',
    lifecycleHooks,
    requestId: raw.requestId as string | undefined,
    reason: raw.reason as string | undefined,
    advanced: advanced as Required<AdvancedOptions>,
  };
}

/** A field name from the input, cut for messages. */
export function echoKey(k: string): string {
  return truncate(k, LIMITS.field);
}

function checkFieldNames(raw: Record<string, unknown>, add: AddProblem): void {
  for (const k of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(k))
      add(echoKey(k), 'is not a known field', `remove it; known fields: ${[...KNOWN_FIELDS].join(', ')}`);
    // null is not "use the default": the JSON Schema rejects it, so the validator does too.
    else if (raw[k] === null) add(k, 'must not be null', 'omit the field to use its default');
  }
}

function checkScalingGroup({ regionId, scalingGroupId }: Record<string, unknown>, add: AddProblem): void {
  if (typeof regionId !== 'string' || !REGION_RE.test(regionId))
    add('regionId', `must be a region ID, got ${echo(regionId)}`, 'use e.g. "cn-hangzhou"');
  if (typeof scalingGroupId !== 'string' || !GROUP_RE.test(scalingGroupId))
    add(
      'scalingGroupId',
      `must be a scaling group ID, got ${echo(scalingGroupId)}`,
      'use the ScalingGroupId from the ESS console or DescribeScalingGroups',
    );
}

/** The well-formed IDs, each once, in the order given. */
function checkInstanceIds(instanceIds: unknown, add: AddProblem): string[] {
  if (!Array.isArray(instanceIds) || instanceIds.length === 0) {
    add(
      'instanceIds',
      'must be a non-empty array of ECS instance IDs',
      'list at least one instance ID such as "i-bp1a2b3c4d5e6f7g8h9i"',
    );
    return [];
  }
  const ids: string[] = [];
  const seen = new Set<string>();
  const malformed: string[] = [];
  const dupes: string[] = [];
  for (const id of instanceIds) {
    if (typeof id !== 'string' || !INSTANCE_ID_RE.test(id))
      malformed.push(typeof id === 'string' ? truncate(id, 40) : echo(id));
    else if (seen.has(id)) dupes.push(id);
    else {
      seen.add(id);
      ids.push(id);
    }
  }
  if (malformed.length)
    add(
      'instanceIds',
      `malformed instance IDs: ${preview(malformed)}`,
      'ECS instance IDs look like "i-" followed by lowercase letters and digits',
    );
  if (dupes.length) add('instanceIds', `duplicate instance IDs: ${preview(dupes)}`, 'list each instance once');
  return ids;
}

/** removePolicy, decreaseDesiredCapacity and batchSize, defaults filled; checked, not yet narrowed. */
function checkRemoval(raw: Record<string, unknown>, add: AddProblem) {
  const removePolicy = raw.removePolicy ?? DEFAULTS.removePolicy;
  if (removePolicy !== 'release' && removePolicy !== 'recycle')
    add('removePolicy', `must be "release" or "recycle", got ${echo(removePolicy)}`, 'omit it for "release"');
  const decrease = raw.decreaseDesiredCapacity ?? DEFAULTS.decreaseDesiredCapacity;
  if (typeof decrease !== 'boolean') add('decreaseDesiredCapacity', 'must be a boolean', 'use true or false');
  const batchSize = raw.batchSize ?? DEFAULTS.batchSize;
  if (!intInRange(batchSize, 1, MAX_BATCH_SIZE))
    add(
      'batchSize',
      `must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${echo(batchSize)}`,
      `RemoveInstances takes at most ${MAX_BATCH_SIZE} instances per call`,
    );
  return { removePolicy, decrease, batchSize };
}

const DRAIN_FIELDS = ['strategy', 'timeoutSeconds', 'maxDrainedAhead'];

/** The drain options, defaults filled (maxDrainedAhead at least batchSize); checked, not yet narrowed. */
function checkDrain(drainRaw: unknown, batchSize: unknown, add: AddProblem) {
  let strategy: unknown = DEFAULTS.drainStrategy;
  let timeoutSeconds: unknown = DEFAULTS.drainTimeoutSeconds;
  let maxAhead: unknown = DEFAULTS.maxDrainedAhead;
  if (!isObject(drainRaw)) add('drain', 'must be an object', 'e.g. {"strategy":"weight","timeoutSeconds":300}');
  else {
    for (const k of Object.keys(drainRaw))
      if (!DRAIN_FIELDS.includes(k))
        add(`drain.${echoKey(k)}`, 'is not a known field', `known: ${DRAIN_FIELDS.join(', ')}`);
    strategy = drainRaw.strategy ?? strategy;
    timeoutSeconds = drainRaw.timeoutSeconds ?? timeoutSeconds;
    maxAhead =
      drainRaw.maxDrainedAhead ?? Math.max(DEFAULTS.maxDrainedAhead, typeof batchSize === 'number' ? batchSize : 0);
  }
  if (strategy !== 'weight' && strategy !== 'standby' && strategy !== 'none')
    add('drain.strategy', `must be "weight", "standby" or "none", got ${echo(strategy)}`, 'omit it for "weight"');
  if (!intInRange(timeoutSeconds, 0, 3600))
    add(
      'drain.timeoutSeconds',
      `must be an integer from 0 to 3600, got ${echo(timeoutSeconds)}`,
      'seconds to let connections drain; 300 is the usual CLB default',
    );
  if (!intInRange(maxAhead, 1, 100_000) || (typeof batchSize === 'number' && (maxAhead as number) < batchSize))
    add(
      'drain.maxDrainedAhead',
      `must be an integer of at least batchSize, got ${echo(maxAhead)}`,
      'raise it to batchSize or more',
    );
  return { strategy, timeoutSeconds, maxAhead };
}

/** dryRun, requireApproval, allowDrainedInstances, onBatchFailure, requestId and reason; returns onBatchFailure. */
function checkRunControls(raw: Record<string, unknown>, add: AddProblem): unknown {
  for (const f of ['dryRun', 'requireApproval', 'allowDrainedInstances'] as const)
    if (raw[f] !== undefined && typeof raw[f] !== 'boolean') add(f, 'must be a boolean', 'use true or false');
  const onBatchFailure = raw.onBatchFailure ?? DEFAULTS.onBatchFailure;
  if (onBatchFailure !== 'abort' && onBatchFailure !== 'continue')
    add('onBatchFailure', `must be "abort" or "continue", got ${echo(onBatchFailure)}`, 'omit it for "abort"');
  if (raw.requestId !== undefined && (typeof raw.requestId !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(raw.requestId)))
    add('requestId', 'must be 1–64 printable ASCII characters', 'use e.g. a UUID');
  if (raw.reason !== undefined && (typeof raw.reason !== 'string' || raw.reason.length > 500))
    add('reason', 'must be a string of at most 500 characters', 'shorten it');
  return onBatchFailure;
}

/** A scaling group holds at most 100 server groups (AttachServerGroups); a longer list is a mistake. */
const MAX_LEAVE_UNDRAINED = 100;
const ATTACHMENT_ID_RE = /^[\x21-\x7e]{1,128}$/;

/** leaveUndrained: distinct attachment IDs, printable ASCII. */
function checkLeaveUndrained(v: unknown, add: AddProblem): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_LEAVE_UNDRAINED || !v.every((x) => typeof x === 'string')) {
    add(
      'leaveUndrained',
      `must be a list of at most ${MAX_LEAVE_UNDRAINED} server group IDs`,
      'e.g. ["sgp-gwlb…"], the IDs preflight named as undrainable',
    );
    return [];
  }
  const bad = (v as string[]).filter((x) => !ATTACHMENT_ID_RE.test(x));
  if (bad.length)
    add(
      'leaveUndrained',
      `IDs must be 1–128 printable ASCII characters: ${echo(bad[0])}`,
      'copy the IDs from preflight',
    );
  return [...new Set(v as string[])];
}

/** Lifecycle hook IDs as ESS issues them, e.g. `ash-bp1fxuqyi98w0aqc****` without the mask. */
export const HOOK_ID_RE = /^ash-[A-Za-z0-9]{4,64}$/;
const HOOK_FIELDS = ['mode', 'hookIds', 'all'];
/** A group has a handful of hooks; a longer list is a mistake. */
const MAX_HOOK_IDS = 50;

/** lifecycleHooks, defaults filled: which hooks the run completes or bypasses, and which it waits for. */
function checkLifecycleHooks(v: unknown, add: AddProblem): NormalizedInput['lifecycleHooks'] {
  const wait: NormalizedInput['lifecycleHooks'] = { mode: 'wait', hookIds: [], all: false };
  if (!isObject(v)) {
    add('lifecycleHooks', 'must be an object', 'e.g. {"mode":"complete","hookIds":["ash-…"]}, or omit it to wait');
    return wait;
  }
  for (const k of Object.keys(v))
    if (!HOOK_FIELDS.includes(k))
      add(`lifecycleHooks.${echoKey(k)}`, 'is not a known field', `known: ${HOOK_FIELDS.join(', ')}`);
  const mode = v.mode ?? 'wait';
  if (mode !== 'wait' && mode !== 'complete' && mode !== 'skip') {
    add('lifecycleHooks.mode', `must be "wait", "complete" or "skip", got ${echo(mode)}`, 'omit it to wait');
    return wait;
  }
  const all = v.all ?? false;
  if (typeof all !== 'boolean') add('lifecycleHooks.all', 'must be a boolean', 'use true or false');
  else if (all && mode !== 'skip')
    add('lifecycleHooks.all', `is only for mode "skip", not "${mode}"`, 'name the hooks in hookIds instead');
  const hookIds = checkHookIds(v.hookIds, add);
  if (mode === 'wait' && hookIds.length)
    add('lifecycleHooks.hookIds', 'is not used with mode "wait"', 'use mode "complete" or "skip", or omit hookIds');
  const needsIds = mode === 'complete' || (mode === 'skip' && all !== true);
  if (needsIds && !hookIds.length && v.hookIds === undefined)
    add(
      'lifecycleHooks.hookIds',
      `is required for mode "${mode}"`,
      mode === 'skip'
        ? 'name the hooks to bypass (ess-scale-in start --dry-run lists them), or set all: true'
        : 'name the hooks to complete (ess-scale-in start --dry-run lists them)',
    );
  if (mode === 'skip' && all === true && hookIds.length)
    add('lifecycleHooks.hookIds', 'is not used with all: true', 'omit hookIds, or all');
  return { mode, hookIds, all: all === true };
}

function checkHookIds(v: unknown, add: AddProblem): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_HOOK_IDS) {
    add('lifecycleHooks.hookIds', `must be a list of 1 to ${MAX_HOOK_IDS} lifecycle hook IDs`, 'e.g. ["ash-bp1…"]');
    return [];
  }
  const bad = v.filter((id) => typeof id !== 'string' || !HOOK_ID_RE.test(id)).map((id) => echo(id));
  if (bad.length)
    add(
      'lifecycleHooks.hookIds',
      `malformed lifecycle hook IDs: ${preview(bad)}`,
      'lifecycle hook IDs look like "ash-" followed by letters and digits (DescribeLifecycleHooks)',
    );
  const ids = (v as unknown[]).filter((id): id is string => typeof id === 'string' && HOOK_ID_RE.test(id));
  return [...new Set(ids)];
}

const ADVANCED_LIMITS: Record<keyof AdvancedOptions, [number, number]> = {
  pollMinIntervalMs: [10, 600_000],
  pollMaxIntervalMs: [10, 3_600_000],
  retryInitialIntervalMs: [10, 600_000],
  retryMaxIntervalMs: [10, 3_600_000],
  heartbeatTimeoutSeconds: [1, 3600],
  maxBatchesPerRun: [1, 10_000],
  pollForecastSamples: [0, 20],
};

/** The advanced options over their defaults. */
function checkAdvanced(advRaw: unknown, add: AddProblem): Record<string, number> {
  const advanced: Record<string, number> = { ...DEFAULTS.advanced };
  if (!isObject(advRaw)) {
    add('advanced', 'must be an object', 'omit it to use the defaults');
    return advanced;
  }
  for (const [k, v] of Object.entries(advRaw)) {
    // Own keys only: "constructor" or "__proto__" are unknown fields, not limits.
    const lim = Object.prototype.hasOwnProperty.call(ADVANCED_LIMITS, k)
      ? ADVANCED_LIMITS[k as keyof AdvancedOptions]
      : undefined;
    if (!lim)
      add(`advanced.${echoKey(k)}`, 'is not a known field', `known: ${Object.keys(ADVANCED_LIMITS).join(', ')}`);
    else if (!intInRange(v, lim[0], lim[1]))
      add(`advanced.${k}`, `must be an integer from ${lim[0]} to ${lim[1]}`, 'omit it to use the default');
    else advanced[k] = v;
  }
  // Temporal refuses a retry policy whose maximum is below its initial interval.
  if ((advanced.retryMaxIntervalMs ?? 0) < (advanced.retryInitialIntervalMs ?? 0))
    add(
      'advanced.retryMaxIntervalMs',
      `must be at least retryInitialIntervalMs (${advanced.retryInitialIntervalMs})`,
      'raise it, or lower retryInitialIntervalMs',
    );
  if ((advanced.pollMaxIntervalMs ?? 0) < (advanced.pollMinIntervalMs ?? 0))
    add(
      'advanced.pollMaxIntervalMs',
      `must be at least pollMinIntervalMs (${advanced.pollMinIntervalMs})`,
      'raise it, or lower pollMinIntervalMs',
    );
  return advanced;
}

function preview(list: string[]): string {
  return list.length <= 5 ? list.join(', ') : `${list.slice(0, 5).join(', ')} and ${list.length - 5} more`;
}

/** One run per scaling group: the workflow ID is the lock. */
export function workflowIdFor(regionId: string, scalingGroupId: string): string {
  return `ess-scale-in/${regionId}/${scalingGroupId}`;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
