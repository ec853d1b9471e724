import type { NormalizedInput } from './input';
import type { RestoreRecord } from './restore';

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

/**
 * The states of a batch, each with its one-line meaning: the one vocabulary the CLI, the Temporal
 * UI and the result use (the CLI and the UI print these lines as their legend).
 */
export const BATCH_STATES = {
  pending: 'not started yet',
  draining: 'its load-balancer traffic is being taken away',
  drained: 'traffic taken away; waiting out the drain timeout before RemoveInstances',
  removing:
    'RemoveInstances is being sent (and reconciled with the group); without lifecycle hooks the same activity ' +
    'then follows its scaling activity to its end',
  polling: 'RemoveInstances was accepted; following its scaling activity to its end',
  'waiting-on-hook':
    'its scaling activity holds the instances in Removing:Wait until a lifecycle hook is completed or times out',
  succeeded: 'every instance of the batch was removed',
  warning: 'some instances were removed, others failed (scaling activity ended Warning)',
  failed: 'no instance of the batch was removed',
  restored: 'drained, then the run stopped before removing it: its traffic was given back and read back',
  'drained-not-restored': 'drained, then the run stopped before removing it: some traffic could not be given back',
  skipped: 'not attempted',
} as const;
export type BatchState = keyof typeof BATCH_STATES;

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
  /** While `waiting-on-hook`: the lifecycle hooks that hold it. */
  hookWaits?: HookWait[] | undefined;
  /** Lifecycle actions this run completed (mode `complete`): token and RequestId, for the audit. */
  hookActions?: CompletedHookAction[] | undefined;
  errors: string[];
}

/** A scale-in lifecycle hook as the plan shows it, with what the run does about it. */
export interface PlannedHook {
  lifecycleHookId: string;
  lifecycleHookName: string;
  heartbeatTimeoutSeconds: number;
  defaultResult: string;
  notificationArn: string | undefined;
  /** `wait` for it, `complete` it with CONTINUE, or `skip` it (RemoveInstances bypasses it). */
  handling: 'wait' | 'complete' | 'skip';
}

/** One hook holding one scaling activity's instances. */
export interface HookWait {
  lifecycleHookId: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  defaultResult: string;
  /** When its timeout ends the wait, at the latest unless someone records a heartbeat (worker clock, ISO). */
  timesOutBy: string;
}

export interface CompletedHookAction {
  scalingActivityId: string;
  lifecycleHookId: string;
  lifecycleActionToken: string;
  result: 'CONTINUE';
  /** The CompleteLifecycleAction RequestId, or why nothing was sent (the action had already ended). */
  requestId: string | undefined;
  note?: string | undefined;
}

/** The line the CLI and the UI show for a batch held by hooks. */
export function hookWaitLine(waits: readonly HookWait[]): string {
  return waits
    .map(
      (w) =>
        `waiting on lifecycle hook ${w.lifecycleHookName || w.lifecycleHookId} ` +
        `(times out by ${w.timesOutBy}, default ${w.defaultResult})`,
    )
    .join('; ');
}

/** What became of one requested instance, each with its one-line meaning (see BATCH_STATES). */
export const INSTANCE_OUTCOMES = {
  removed: 'removed from the scaling group by this run',
  failed: 'RemoveInstances or its scaling activity failed; still in the group, its traffic given back',
  skipped: 'not removed by this run (left the group, or never reached); see why',
  restored: 'drained, then not removed: its traffic was given back and its weights read back as before',
  'drained-not-restored': 'drained and not removed, and its traffic could not be given back where drainedOn says',
  pending: 'the outcome is not known yet (run in progress, terminated, or a removal whose end was not seen)',
} as const;
export type InstanceOutcome = keyof typeof INSTANCE_OUTCOMES;

/** One place an instance stays drained (weight 0 or Standby) and the error that kept it so. */
export interface DrainedPlace {
  /** `CLB lb-…`, `vserver group rsp-…`, `ALB server group sgp-…`, `NLB server group sgp-…`, `standby`. */
  place: string;
  /** The cloud error code, or one of ours (e.g. `WeightNotRestored`). */
  code: string;
  message: string;
}

export interface InstanceReport {
  instanceId: string;
  outcome: InstanceOutcome;
  why: string;
  scalingActivityId?: string | undefined;
  batch?: number | undefined;
  /** Where its traffic could not be given back: only with `drained-not-restored`. */
  drainedOn?: DrainedPlace[] | undefined;
  /** Where its traffic was given back and read back, when a restore was attempted. */
  restoredOn?: string[] | undefined;
}

/** Where a restore record puts traffic back, as reports name it. */
export function restorePlace(r: RestoreRecord): string {
  switch (r.kind) {
    case 'clb':
      return `CLB ${r.loadBalancerId}`;
    case 'vsg':
      return `vserver group ${r.vServerGroupId}`;
    case 'alb':
      return `ALB server group ${r.serverGroupId}`;
    case 'nlb':
      return `NLB server group ${r.serverGroupId}`;
    case 'standby':
      return 'standby';
  }
}

export interface LoadBalancerPlan {
  clbIds: string[];
  vServerGroups: Array<{ loadBalancerId: string; vServerGroupId: string }>;
  albServerGroupIds: string[];
  /** Absent in plans from before NLB was drained (and when none is attached): no NLB server group. */
  nlbServerGroupIds?: string[] | undefined;
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
  /** The group's active scale-in lifecycle hooks; absent in plans from before hooks were read. */
  lifecycleHooks?: PlannedHook[];
  /** The longest a batch may wait on the hooks the run waits for (their longest timeout), in seconds. */
  hookWaitSecondsPerBatch?: number;
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

/** How a run ended, each with its one-line meaning. */
export const RUN_OUTCOMES = {
  completed: 'every requested instance was removed (or skipped with a reason)',
  'completed-with-failures': 'the run went through every batch, but some instances failed, stay drained or pending',
  'dry-run': 'preflight only: the plan, nothing changed',
  aborted: 'a batch failed with onBatchFailure "abort": the run stopped and gave back traffic',
  failed: 'the run failed before or outside its batches',
  cancelled: 'cancelled by an operator: no new batch started, traffic of the rest given back',
  'in-progress': 'the run has not ended (only from the result query)',
} as const;
export type Outcome = keyof typeof RUN_OUTCOMES;

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
  /** Drained, not removed, and not given back everywhere (`drained-not-restored`); absent in older results. */
  drainedNotRestored?: number;
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
  /** Instances that stay drained (`drained-not-restored`), the first STILL_DRAINED_SHOWN of them. */
  stillDrained?: InstanceReport[] | undefined;
}

/** How many still-drained instances a progress snapshot (and the UI) lists; the result has them all. */
export const STILL_DRAINED_SHOWN = 50;
