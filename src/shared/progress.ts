import type { NormalizedInput } from './input';

/** The phases a run goes through; also the `EssPhase` search attribute. */
export type Phase =
  | 'Preflight'
  | 'AwaitingApproval'
  | 'Running'
  | 'Paused'
  | 'Restoring'
  | 'Completed'
  | 'DryRun'
  | 'Failed'
  | 'Cancelled';

export type BatchState =
  'pending' | 'draining' | 'drained' | 'removing' | 'polling' | 'succeeded' | 'warning' | 'failed' | 'skipped';

export interface BatchProgress {
  /** 1-based, across continue-as-new. */
  index: number;
  instanceIds: string[];
  state: BatchState;
  scalingActivityId?: string | undefined;
  /** Whether the activity was adopted from an earlier, ambiguous attempt rather than created by this call. */
  adopted?: boolean | undefined;
  /** Alibaba Cloud RequestIds of the calls that changed something (drain, RemoveInstances). */
  requestIds: string[];
  drainedAt?: string | undefined;
  removeStartedAt?: string | undefined;
  endedAt?: string | undefined;
  /** RemoveInstances activity attempts it took. */
  attempts?: number | undefined;
  errors: string[];
}

export type InstanceOutcome = 'removed' | 'failed' | 'skipped' | 'restored' | 'pending';

export interface InstanceReport {
  instanceId: string;
  outcome: InstanceOutcome;
  why: string;
  scalingActivityId?: string | undefined;
  batch?: number | undefined;
}

export interface LoadBalancerPlan {
  clbIds: string[];
  vServerGroups: Array<{ loadBalancerId: string; vServerGroupId: string }>;
  albServerGroupIds: string[];
}

/** What the preflight found: compact, since it lands in the history once. */
export interface Plan {
  group: {
    scalingGroupId: string;
    scalingGroupName: string;
    lifecycleState: string;
    minSize: number;
    maxSize: number;
    totalCapacity: number;
    desiredCapacity: number | undefined;
    scalingPolicy: string;
  };
  instanceCount: number;
  batchCount: number;
  batchSize: number;
  capacityAfter: number;
  drainStrategy: 'weight' | 'standby' | 'none';
  drainTimeoutSeconds: number;
  loadBalancers: LoadBalancerPlan;
  /** Instances already in Standby before the run: the run must not take them out of standby. */
  alreadyStandby: string[];
  warnings: string[];
}

export interface PreflightProblem {
  field: string;
  instanceIds?: string[] | undefined;
  problem: string;
  fix: string;
}

export interface PreflightResult {
  plan: Plan;
  problems: PreflightProblem[];
}

/** `in-progress` only ever comes from the `result` query of a run that has not ended. */
export type Outcome =
  'completed' | 'completed-with-failures' | 'dry-run' | 'aborted' | 'failed' | 'cancelled' | 'in-progress';

/** Instances removed together by one scaling activity (grouped so 10,000 instances stay small). */
export interface RemovedGroup {
  batch: number;
  scalingActivityId: string;
  statusCode: string;
  instanceIds: string[];
  why: string;
}

export interface Counts {
  total: number;
  removed: number;
  failed: number;
  skipped: number;
  restored: number;
  pending: number;
}

export interface ScaleInResult {
  workflowId: string;
  outcome: Outcome;
  message: string;
  plan: Plan | undefined;
  counts: Counts;
  /** Every instance appears exactly once, in `removed` or in `notRemoved`, with why. */
  removed: RemovedGroup[];
  notRemoved: InstanceReport[];
  /** The batches of the last run (and the most recent ones before a continue-as-new). */
  batches: BatchProgress[];
}

/**
 * Whether a value (e.g. the first detail of a failure) is a ScaleInResult, by the fields the type
 * always has: `plan` is left out because it may be undefined and so absent once serialized. Plain
 * checks, no I/O, so workflow code may use it too.
 */
export function isScaleInResult(v: unknown): v is ScaleInResult {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Partial<Record<keyof ScaleInResult, unknown>>;
  return (
    typeof r.workflowId === 'string' &&
    typeof r.outcome === 'string' &&
    typeof r.message === 'string' &&
    typeof r.counts === 'object' &&
    r.counts !== null &&
    Array.isArray(r.removed) &&
    Array.isArray(r.notRemoved) &&
    Array.isArray(r.batches)
  );
}

export interface ProgressSnapshot {
  workflowId: string;
  phase: Phase;
  paused: boolean;
  awaitingApproval: boolean;
  drainEndedEarly: boolean;
  input: Pick<
    NormalizedInput,
    'regionId' | 'scalingGroupId' | 'batchSize' | 'removePolicy' | 'onBatchFailure' | 'drain' | 'dryRun'
  >;
  plan: Plan | undefined;
  counts: Counts & { batchesDone: number; batchesTotal: number };
  /** Batches of this run and, compacted, of earlier runs after continue-as-new. */
  batches: BatchProgress[];
  continuedAsNew: number;
  lastError: string | undefined;
}
