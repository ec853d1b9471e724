/**
 * The flags that set a scale-in run's input, defined once for `start` and `schedule create`: how
 * they read in --help (RUN_INPUT_OPTIONS) and where their values go (setScalingGroup,
 * setRunSettings). `start` takes them all; `schedule create` takes the scaling group and the
 * fields a window input hands to every run it starts (PASSTHROUGH_FIELDS).
 *
 * No defaults here on purpose: a flag that was not given must not override `--input`, and the
 * defaults live in one place (validateInput), which also explains every bad value.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ScaleInInput } from '../shared/input';
import { SELECTION_POLICIES } from '../shared/window';
import { CliUsageError } from './io';

/** Raw values of the scaling-group flags, exactly as commander hands them over. */
export interface ScalingGroupFlags {
  region?: string;
  group?: string;
}

/** Raw values of the flags that say how a run goes, on `start` and `schedule create` alike. */
export interface RunSettingFlags {
  removePolicy?: string;
  decreaseDesiredCapacity?: boolean;
  batchSize?: string;
  drainStrategy?: string;
  drainTimeout?: string;
  maxDrainedAhead?: string;
  onBatchFailure?: string;
  allowDrained?: boolean;
  leaveUndrained?: string;
  lifecycleHooks?: string;
  reason?: string;
  pollMinIntervalMs?: string;
  pollMaxIntervalMs?: string;
  retryInitialIntervalMs?: string;
  retryMaxIntervalMs?: string;
  heartbeatTimeout?: string;
  maxBatchesPerRun?: string;
  pollForecastSamples?: string;
}

/** The scale-in flags that `start` and `schedule create` share. */
export type ScaleInKnobFlags = ScalingGroupFlags & RunSettingFlags;

export interface RunInputOption {
  flags: string;
  description: string;
  /** The top-level ScaleInInput field the flag sets. */
  field: keyof ScaleInInput;
  /** Repeatable: the values are collected into an array. */
  repeatable?: true;
  /** Listed under ADVANCED_HELP_GROUP rather than with the everyday options. */
  advanced?: true;
}

const ADVANCED_HELP_GROUP = 'Advanced tuning (defaults suit production):';

/** Every flag that sets a ScaleInInput field, in the order `start --help` lists them. */
export const RUN_INPUT_OPTIONS: readonly RunInputOption[] = [
  { flags: '--region <regionId>', description: 'region of the scaling group, e.g. cn-hangzhou', field: 'regionId' },
  { flags: '--group <scalingGroupId>', description: 'the ESS scaling group, e.g. asg-bp1...', field: 'scalingGroupId' },
  {
    flags: '--instances <ids>',
    description: 'ECS instance IDs, comma-separated (repeatable)',
    field: 'instanceIds',
    repeatable: true,
  },
  {
    flags: '--instances-file <path|->',
    description:
      'file (or - for stdin) with instance IDs: one per line, commas or spaces; # starts a comment; ' +
      'or a JSON array',
    field: 'instanceIds',
  },
  {
    flags: '--remove-policy <policy>',
    description: 'release (default) | recycle (stop, economical mode; the group must use recycle)',
    field: 'removePolicy',
  },
  {
    flags: '--no-decrease-desired-capacity',
    description: 'keep DesiredCapacity: ESS launches replacements (default: lower it)',
    field: 'decreaseDesiredCapacity',
  },
  {
    flags: '--batch-size <n>',
    description: 'instances per RemoveInstances call, 1-20 (default 20)',
    field: 'batchSize',
  },
  {
    flags: '--drain-strategy <strategy>',
    description: 'weight (default: weight 0 on attached CLB/vserver/ALB groups) | standby | none',
    field: 'drain',
  },
  {
    flags: '--drain-timeout <seconds>',
    description: 'how long traffic drains before removal, 0-3600 (default 300)',
    field: 'drain',
  },
  {
    flags: '--max-drained-ahead <n>',
    description: 'at most this many instances drained ahead of removal (default max(100, batch size))',
    field: 'drain',
  },
  { flags: '--dry-run', description: 'run the preflight and return the plan; change nothing', field: 'dryRun' },
  {
    flags: '--require-approval',
    description: 'wait for `ess-scale-in approve` after the preflight, before any change',
    field: 'requireApproval',
  },
  {
    flags: '--allow-drained',
    description:
      'go on with instances already at weight 0 or in Standby (e.g. left by a terminated run; ' +
      'see ess-scale-in repair); without it a run refuses them',
    field: 'allowDrainedInstances',
  },
  {
    flags: '--leave-undrained <ids>',
    description:
      'comma-separated server groups attached to the scaling group that cannot be drained (e.g. GWLB), ' +
      'named by preflight: remove the instances while those keep sending traffic; without it a run refuses them',
    field: 'leaveUndrained',
  },
  {
    flags: '--lifecycle-hooks <mode>',
    description:
      "the group's scale-in lifecycle hooks: wait (default) | complete:<hookId>[,<hookId>…] (CONTINUE them " +
      'on its own removals) | skip:<hookId>[,…] | skip:all (RemoveInstances bypasses them)',
    field: 'lifecycleHooks',
  },
  {
    flags: '--on-batch-failure <mode>',
    description: 'abort (default: stop and restore traffic) | continue',
    field: 'onBatchFailure',
  },
  {
    flags: '--request-id <id>',
    description: 'idempotency key: starting again with the same ID follows the same run',
    field: 'requestId',
  },
  {
    flags: '--reason <text>',
    description: 'who asked and why; shown in the Temporal UI and kept in the history',
    field: 'reason',
  },
  ...(
    [
      ['--poll-min-interval-ms <ms>', 'first scaling-activity poll interval (default 2000)'],
      ['--poll-max-interval-ms <ms>', 'longest scaling-activity poll interval (default 30000)'],
      ['--retry-initial-interval-ms <ms>', 'first activity retry backoff (default 2000)'],
      ['--retry-max-interval-ms <ms>', 'longest activity retry backoff (default 60000)'],
      [
        '--heartbeat-timeout <seconds>',
        'heartbeat timeout of every activity: how soon a dead worker is noticed (default 10)',
      ],
      ['--max-batches-per-run <n>', 'continue-as-new after this many batches (default 100)'],
      ['--poll-forecast-samples <n>', "earlier activities' ends that forecast the next one's (default 5; 0: off)"],
    ] as const
  ).map(([flags, description]): RunInputOption => ({ flags, description, field: 'advanced', advanced: true })),
];

/** The options that set one of `fields`, in RUN_INPUT_OPTIONS order. */
export function runInputOptions(fields: readonly string[]): RunInputOption[] {
  return RUN_INPUT_OPTIONS.filter((o) => fields.includes(o.field));
}

/**
 * `--count` and `--selection`, defined once: `schedule create` (what every firing picks) and
 * `start` (a run that picks its instances the same way, instead of --instances).
 */
export function addCountSelectionOptions(cmd: Command): Command {
  return cmd
    .option('--count <n>', 'remove this many instances, picked by --selection (never below MinSize)')
    .option(
      '--selection <policy>',
      `which InService instances go first: ${SELECTION_POLICIES.join(' | ')} (groupPolicy: the group's own ` +
        'RemovalPolicies, zones balanced first)',
    );
}

/** Commander option parser for repeatable flags. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addRunInputOptions(cmd: Command, options: readonly RunInputOption[]): Command {
  for (const o of options) {
    const option = new Option(o.flags, o.description);
    if (o.repeatable) option.argParser(collect);
    if (o.advanced) option.helpGroup(ADVANCED_HELP_GROUP);
    cmd.addOption(option);
  }
  return cmd;
}

/** Integers become numbers; anything else is kept as typed so the validator can quote it back. */
/**
 * `wait`, `complete:a,b`, `skip:a,b` or `skip:all` as the input's lifecycleHooks object; anything
 * else goes through as typed, for validateInput to explain.
 */
export function hookFlag(v: string | undefined): Record<string, unknown> | string | undefined {
  if (v === undefined) return undefined;
  const [mode = '', list] = v.split(/:(.*)/s, 2);
  if (list === undefined) return { mode };
  if (mode === 'skip' && list === 'all') return { mode, all: true };
  return {
    mode,
    hookIds: list
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  };
}

export function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of a file named by `flag`, or of stdin for `-`. */
export function readSource(path: string, flag: string, stdin: () => string): string {
  if (path === '-') return stdin();
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliUsageError(
      `${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/**
 * The JSON object in the `--input` file (or stdin); `what` names it in the error when it is not an
 * object, e.g. ` (the window input)`.
 */
export function readInputObject(path: string, stdin: () => string, what = ''): Record<string, unknown> {
  const text = readSource(path, '--input', stdin);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`--input: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(parsed)) throw new CliUsageError(`--input: ${path} must hold a JSON object${what}`);
  return parsed;
}

/** `a, b,,c` → `['a', 'b', 'c']`; undefined when the flag was not given. */
function idList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').flatMap((s) => (s.trim() ? [s.trim()] : []));
}

/** Sets `out[key]` unless `value` is undefined (a flag that was not given). */
export function setGiven(out: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

export function setScalingGroup(out: Record<string, unknown>, f: ScalingGroupFlags): void {
  setGiven(out, 'regionId', f.region);
  setGiven(out, 'scalingGroupId', f.group);
}

/**
 * Sets the run settings given as flags on `out`, which starts as a copy of `base` (the --input
 * object): flags override its fields, and add to its `drain` and `advanced` objects. `given` says
 * whether a negatable flag was typed (commander also reports its implied default).
 */
export function setRunSettings(
  out: Record<string, unknown>,
  base: Record<string, unknown>,
  f: RunSettingFlags,
  given: (option: string) => boolean,
): void {
  setGiven(out, 'batchSize', num(f.batchSize));
  setGiven(out, 'removePolicy', f.removePolicy);
  if (given('decreaseDesiredCapacity') && f.decreaseDesiredCapacity === false) out.decreaseDesiredCapacity = false;
  setGiven(out, 'onBatchFailure', f.onBatchFailure);
  if (f.allowDrained) out.allowDrainedInstances = true;
  setGiven(out, 'leaveUndrained', idList(f.leaveUndrained));
  setGiven(out, 'lifecycleHooks', hookFlag(f.lifecycleHooks));
  setGiven(out, 'reason', f.reason);
  setNested(out, base, 'drain', {
    strategy: f.drainStrategy,
    timeoutSeconds: num(f.drainTimeout),
    maxDrainedAhead: num(f.maxDrainedAhead),
  });
  setNested(out, base, 'advanced', {
    pollMinIntervalMs: num(f.pollMinIntervalMs),
    pollMaxIntervalMs: num(f.pollMaxIntervalMs),
    retryInitialIntervalMs: num(f.retryInitialIntervalMs),
    retryMaxIntervalMs: num(f.retryMaxIntervalMs),
    heartbeatTimeoutSeconds: num(f.heartbeatTimeout),
    maxBatchesPerRun: num(f.maxBatchesPerRun),
    pollForecastSamples: num(f.pollForecastSamples),
  });
}

/**
 * Merges the given flags into a copy of `base[key]`. A `base[key]` that is not an object is kept as
 * it is, without the flags, so the validator reports it instead of the flags hiding it.
 */
function setNested(
  out: Record<string, unknown>,
  base: Record<string, unknown>,
  key: 'drain' | 'advanced',
  flags: Record<string, unknown>,
): void {
  const fromBase = base[key];
  const merged: Record<string, unknown> = isRecord(fromBase) ? { ...fromBase } : {};
  for (const [k, v] of Object.entries(flags)) setGiven(merged, k, v);
  if (Object.keys(merged).length || fromBase !== undefined)
    out[key] = isRecord(fromBase) || fromBase === undefined ? merged : fromBase;
}
