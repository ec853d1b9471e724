import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ScaleInInput } from '../client';
import { CliUsageError } from './io';

/** The scale-in knobs that `start` and `schedule create` share, exactly as commander hands them over. */
export interface ScaleInKnobFlags {
  removePolicy?: string;
  decreaseDesiredCapacity?: boolean;
  batchSize?: string;
  drainStrategy?: string;
  drainTimeout?: string;
  maxDrainedAhead?: string;
  onBatchFailure?: string;
  reason?: string;
  pollMinIntervalMs?: string;
  pollMaxIntervalMs?: string;
  retryInitialIntervalMs?: string;
  retryMaxIntervalMs?: string;
  heartbeatTimeout?: string;
  maxBatchesPerRun?: string;
}

/** Raw values of the `start` flags. */
export interface InputFlags extends ScaleInKnobFlags {
  input?: string;
  region?: string;
  group?: string;
  instances?: string[];
  instancesFile?: string;
  dryRun?: boolean;
  requireApproval?: boolean;
  requestId?: string;
}

/** Commander option parser for repeatable flags. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * No defaults here on purpose: a flag that was not given must not override `--input`, and the
 * defaults live in one place (validateInput), which also explains every bad value.
 */
export function addInputOptions(cmd: Command): Command {
  const advanced = (flags: string, description: string) =>
    new Option(flags, description).helpGroup('Advanced tuning (defaults suit production):');
  return cmd
    .option(
      '--input <file.json|->',
      'raw JSON input (the workflow input schema); flags given as well override its fields',
    )
    .option('--region <regionId>', 'region of the scaling group, e.g. cn-hangzhou')
    .option('--group <scalingGroupId>', 'the ESS scaling group, e.g. asg-bp1...')
    .option('--instances <ids>', 'ECS instance IDs, comma-separated (repeatable)', collect)
    .option(
      '--instances-file <path|->',
      'file (or - for stdin) with instance IDs: one per line, commas or spaces; # starts a comment; or a JSON array',
    )
    .option(
      '--remove-policy <policy>',
      'release (default) | recycle (stop, economical mode; the group must use recycle)',
    )
    .option('--no-decrease-desired-capacity', 'keep DesiredCapacity: ESS launches replacements (default: lower it)')
    .option('--batch-size <n>', 'instances per RemoveInstances call, 1-20 (default 20)')
    .option(
      '--drain-strategy <strategy>',
      'weight (default: weight 0 on attached CLB/vserver/ALB groups) | standby | none',
    )
    .option('--drain-timeout <seconds>', 'how long traffic drains before removal, 0-3600 (default 300)')
    .option(
      '--max-drained-ahead <n>',
      'at most this many instances drained ahead of removal (default max(100, batch size))',
    )
    .option('--dry-run', 'run the preflight and return the plan; change nothing')
    .option('--require-approval', 'wait for `ess-scale-in approve` after the preflight, before any change')
    .option('--on-batch-failure <mode>', 'abort (default: stop and restore traffic) | continue')
    .option('--request-id <id>', 'idempotency key: starting again with the same ID follows the same run')
    .option('--reason <text>', 'who asked and why; shown in the Temporal UI and kept in the history')
    .addOption(advanced('--poll-min-interval-ms <ms>', 'first scaling-activity poll interval (default 2000)'))
    .addOption(advanced('--poll-max-interval-ms <ms>', 'longest scaling-activity poll interval (default 30000)'))
    .addOption(advanced('--retry-initial-interval-ms <ms>', 'first activity retry backoff (default 2000)'))
    .addOption(advanced('--retry-max-interval-ms <ms>', 'longest activity retry backoff (default 60000)'))
    .addOption(
      advanced(
        '--heartbeat-timeout <seconds>',
        'heartbeat timeout of every activity: how soon a dead worker is noticed (default 10)',
      ),
    )
    .addOption(advanced('--max-batches-per-run <n>', 'continue-as-new after this many batches (default 100)'));
}

/** Integers become numbers; anything else is kept as typed so validateInput can quote it back. */
function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}

function readSource(path: string, flag: string, stdin: () => string): string {
  if (path === '-') return stdin();
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliUsageError(
      `${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

export function parseInstanceList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new CliUsageError(`--instances-file: not a valid JSON array: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new CliUsageError('--instances-file: expected a JSON array of instance IDs');
    return parsed.map(String);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((s) => s !== '');
}

export interface BuildInputDeps {
  /** Reads all of stdin; injectable for tests. */
  stdin?: () => string;
  /** Whether a negatable flag was actually given (commander also reports its implied default). */
  given?: (option: string) => boolean;
}

/**
 * Turns the flags into a ScaleInInput without judging it: validation (and its messages) is
 * validateInput's job, so a bad value is reported the same way whatever way it came in.
 */
export function buildInput(f: InputFlags, deps: BuildInputDeps = {}): ScaleInInput {
  const stdin = deps.stdin ?? (() => readFileSync(0, 'utf8'));
  const given = deps.given ?? (() => true);
  if (f.input === '-' && f.instancesFile === '-')
    throw new CliUsageError('--input and --instances-file cannot both read stdin');
  let base: Record<string, unknown> = {};
  if (f.input !== undefined) {
    const text = readSource(f.input, '--input', stdin);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliUsageError(`--input: ${f.input} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new CliUsageError(`--input: ${f.input} must hold a JSON object`);
    base = parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = { ...base };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set('regionId', f.region);
  set('scalingGroupId', f.group);
  const ids: string[] = [];
  for (const v of f.instances ?? []) ids.push(...v.split(/[\s,]+/).filter((s) => s !== ''));
  if (f.instancesFile !== undefined)
    ids.push(...parseInstanceList(readSource(f.instancesFile, '--instances-file', stdin)));
  if (f.instances !== undefined || f.instancesFile !== undefined) out.instanceIds = ids;
  set('removePolicy', f.removePolicy);
  if (given('decreaseDesiredCapacity') && f.decreaseDesiredCapacity === false) out.decreaseDesiredCapacity = false;
  set('batchSize', num(f.batchSize));
  if (f.dryRun) out.dryRun = true;
  if (f.requireApproval) out.requireApproval = true;
  set('onBatchFailure', f.onBatchFailure);
  set('requestId', f.requestId);
  set('reason', f.reason);

  const drain: Record<string, unknown> = isRecord(base.drain) ? { ...base.drain } : {};
  const drainFlags = {
    strategy: f.drainStrategy,
    timeoutSeconds: num(f.drainTimeout),
    maxDrainedAhead: num(f.maxDrainedAhead),
  };
  for (const [k, v] of Object.entries(drainFlags)) if (v !== undefined) drain[k] = v;
  if (Object.keys(drain).length || base.drain !== undefined)
    out.drain = isRecord(base.drain) || base.drain === undefined ? drain : base.drain;

  const advanced: Record<string, unknown> = isRecord(base.advanced) ? { ...base.advanced } : {};
  const advFlags = {
    pollMinIntervalMs: num(f.pollMinIntervalMs),
    pollMaxIntervalMs: num(f.pollMaxIntervalMs),
    retryInitialIntervalMs: num(f.retryInitialIntervalMs),
    retryMaxIntervalMs: num(f.retryMaxIntervalMs),
    heartbeatTimeoutSeconds: num(f.heartbeatTimeout),
    maxBatchesPerRun: num(f.maxBatchesPerRun),
  };
  for (const [k, v] of Object.entries(advFlags)) if (v !== undefined) advanced[k] = v;
  if (Object.keys(advanced).length || base.advanced !== undefined)
    out.advanced = isRecord(base.advanced) || base.advanced === undefined ? advanced : base.advanced;
  return out as unknown as ScaleInInput;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
