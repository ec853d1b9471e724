import { ApplicationFailure } from '@temporalio/workflow';
import { echo, InvalidInputError, isObject, undecodableProblem, type InputProblem } from '../../shared/input';
import type { BatchProgress, InstanceReport, Plan, RemovedGroup } from '../../shared/progress';
import type { RestoreRecord } from '../../shared/restore';

/** What a run hands to the next one on continue-as-new: compact, no raw API responses. */
export interface ScaleInCarry {
  /** Stable across the whole chain: ClientTokens derive from it. */
  runKey: string;
  batchOffset: number;
  totalInstances: number;
  plan: Plan;
  removed: RemovedGroup[];
  notRemoved: InstanceReport[];
  recentBatches: BatchProgress[];
  /** Batches drained (and waited for) by the previous run, not yet removed. */
  drained: Array<{ instanceIds: string[]; restore: RestoreRecord[]; drainedAt: string }>;
  paused: boolean;
  continuedAsNew: number;
}

/** Where this run sits in its chain (from workflowInfo()). */
export interface ChainInfo {
  firstExecutionRunId: string;
  continuedFromExecutionRunId?: string | undefined;
}

const ARG = '(second argument)';

/**
 * Why `raw` is not a carry this run may take: only a continue-as-new of this chain hands one over
 * (its runKey is the chain's first run ID), so a carry in a start request, which would skip the
 * preflight, the dry run and the approval, is refused. Empty when it is one.
 */
export function carryProblems(raw: unknown, chain: ChainInfo): InputProblem[] {
  const undecoded = undecodableProblem(raw, ARG);
  if (undecoded) return [undecoded];
  if (!chain.continuedFromExecutionRunId)
    return [
      {
        field: ARG,
        problem: `was given in a start request (${echo(raw)}); only a continue-as-new of a run may carry state`,
        fix: 'start scaleIn with the input as its only argument',
      },
    ];
  if (!isObject(raw)) return [{ field: ARG, problem: `is not a carry object: ${echo(raw)}`, fix: BUG_FIX }];
  const problems = shapeProblems(raw);
  if (typeof raw.runKey === 'string' && raw.runKey !== chain.firstExecutionRunId)
    problems.push({
      field: 'carry.runKey',
      problem: `is ${echo(raw.runKey)}, not this chain's first run ${chain.firstExecutionRunId}`,
      fix: BUG_FIX,
    });
  return problems;
}

const BUG_FIX = 'a carry comes only from continue-as-new; report this as a bug in ess-scale-in';

const isNonNegativeInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isObjectList = (v: unknown) => Array.isArray(v) && v.every(isObject);
const isStringList = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Each field of ScaleInCarry and what it must be; fields added later must be optional here. */
const CARRY_SHAPE: ReadonlyArray<[keyof ScaleInCarry, string, (v: unknown) => boolean]> = [
  ['runKey', 'a run ID', (v) => typeof v === 'string' && v.length > 0],
  ['batchOffset', 'an integer ≥ 0', isNonNegativeInt],
  ['totalInstances', 'an integer ≥ 0', isNonNegativeInt],
  ['continuedAsNew', 'an integer ≥ 0', isNonNegativeInt],
  ['plan', 'an object', isObject],
  ['removed', 'a list of objects', isObjectList],
  ['notRemoved', 'a list of objects', isObjectList],
  ['recentBatches', 'a list of objects', isObjectList],
  ['drained', 'a list of drained batches', (v) => Array.isArray(v) && v.every(isDrainedBatch)],
  ['paused', 'a boolean', (v) => typeof v === 'boolean'],
];

function isDrainedBatch(v: unknown): boolean {
  return isObject(v) && isStringList(v.instanceIds) && isObjectList(v.restore) && typeof v.drainedAt === 'string';
}

function shapeProblems(raw: Record<string, unknown>): InputProblem[] {
  return CARRY_SHAPE.filter(([key, , ok]) => !ok(raw[key])).map(([key, what]) => ({
    field: `carry.${key}`,
    problem: `must be ${what}, got ${echo(raw[key])}`,
    fix: BUG_FIX,
  }));
}

/**
 * The carry this run continues with, or undefined for a first run. A carry it may not take fails the
 * run as a non-retryable `InvalidInput` before anything else happens; `rejectForged` is the
 * patched() marker, so a run that took a forged carry before this check existed still replays.
 */
export function carryOrFail(raw: unknown, chain: ChainInfo, rejectForged: () => boolean): ScaleInCarry | undefined {
  if (raw === undefined) return undefined;
  const problems = carryProblems(raw, chain);
  if (problems.length === 0 || !rejectForged()) return raw as ScaleInCarry;
  const e = new InvalidInputError(problems);
  throw ApplicationFailure.create({ type: e.code, message: e.message, nonRetryable: true, details: [e.problems] });
}
