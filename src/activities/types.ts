import type { RestoreRecord } from '../shared/restore';
import type { EndForecast, ObservedEnd } from '../shared/poll-forecast';
import type {
  CompletedHookAction,
  DrainedPlace,
  HookWait,
  LoadBalancerPlan,
  PlannedHook,
  PreflightResult,
} from '../shared/progress';
import type { NormalizedInput } from '../shared/input';
import type { ServerWeight } from './server-groups';

/** Activity request/response shapes. Workflow code imports this file as types only. */

/**
 * Every request may bound the fixed retry delays of the error-policy table (e.g. 10 s for
 * ScalingActivityInProgress).
 */
interface Retrying {
  retryDelayCapMs?: number;
}

export interface PreflightRequest extends Retrying {
  input: NormalizedInput;
}
export type PreflightResponse = PreflightResult;

/** How to put one backend back the way it was (src/shared/restore.ts). */
export type { RestoreRecord };

export interface DrainRequest extends Retrying {
  regionId: string;
  scalingGroupId: string;
  strategy: 'weight' | 'standby';
  instanceIds: string[];
  loadBalancers: LoadBalancerPlan;
  /** Already in Standby before the run: leave them alone. */
  alreadyStandby: string[];
  batchIndex: number;
  /** The weights before any change, from snapshotWeights: they win over whatever this drain reads. */
  originals?: RestoreRecord[];
  /** snapshotWeights: return the backends it read too (`backends`), so the drain need not read them again. */
  handBackends?: boolean;
  /** drain: the snapshot's backends; a first attempt changes these, while fresh, instead of reading again. */
  snapshot?: SnapshotBackends;
}

/**
 * The changes that set a batch's weights to 0: one entry per load balancer (or server group) where
 * the batch has backends. ALB and NLB alike: their update calls take the same server fields.
 */
export interface ZeroWeightChanges {
  clb: Array<{ lbId: string; servers: Array<{ serverId: string; weight: number; type: string }> }>;
  vsg: Array<{ vsgId: string; servers: Array<{ serverId: string; weight: number; type: string; port: number }> }>;
  alb: Array<{ sgId: string; servers: ServerWeight[] }>;
  nlb: Array<{ sgId: string; servers: ServerWeight[] }>;
}

/** What snapshotWeights read, handed to the drain: every backend of the batch, whatever its weight. */
export interface SnapshotBackends extends ZeroWeightChanges {
  /** When the snapshot's reads began (activity clock, ISO): how fresh they are when the drain starts. */
  readAt: string;
}

export interface SnapshotWeightsResponse {
  restore: RestoreRecord[];
  /** Only when asked (`handBackends`): absent from the answers of workers before it. */
  backends?: SnapshotBackends;
}

export interface DrainResponse {
  restore: RestoreRecord[];
  requestIds: string[];
  /** When the last weight change took effect (activity clock, ISO). */
  drainedAt: string;
}

export interface UndrainRequest extends Retrying {
  regionId: string;
  scalingGroupId: string;
  restore: RestoreRecord[];
}

export interface UndrainResponse {
  /** Given back, and read back, on every place of their records. */
  restoredInstanceIds: string[];
  /** Instances whose backends no longer exist (e.g. removed meanwhile): nothing to restore. */
  goneInstanceIds: string[];
  requestIds: string[];
  /**
   * Instances still drained somewhere: where, why, and where they were given back. Absent from the
   * answers of workers before best-effort restore (which failed instead), so readers take it as [].
   */
  notRestored?: NotRestored[];
}

export interface NotRestored {
  instanceId: string;
  restoredOn: string[];
  drainedOn: DrainedPlace[];
}

export interface RemoveBatchRequest extends Retrying {
  regionId: string;
  scalingGroupId: string;
  instanceIds: string[];
  removePolicy: 'release' | 'recycle';
  decreaseDesiredCapacity: boolean;
  /** Stable across retries and continue-as-new; the ClientToken derives from it and the instance set. */
  idempotencyKey: string;
  /** Scaling activities this run already accounts for (earlier batches), so a retry never mistakes one for its own. */
  knownScalingActivityIds?: string[];
  /** Lifecycle hooks RemoveInstances bypasses: all, or these IDs (input lifecycleHooks mode `skip`). */
  skipHooks?: { all: boolean; hookIds: string[] };
  /**
   * How long after a retry starts an earlier attempt's call is assumed visible (its activity listed,
   * its instances `Removing`): a retry that finds no trace of it looks again once this has passed,
   * before it sends anything again or concludes that an instance left without us. 0 or absent: it
   * does not wait.
   */
  visibilityWaitMs?: number;
  /**
   * Follow the accepted call's scaling activity to its end in the same activity (patch
   * remove-and-follow): the result carries the poll's answer in `followed`. Only when the call
   * started exactly one activity; the workflow polls anything not followed as before.
   */
  follow?: FollowRequest;
}

/** How removeBatch polls the activity it started: a PollRequest without what the removal itself says. */
export type FollowRequest = Omit<PollRequest, 'regionId' | 'scalingGroupId' | 'scalingActivityId' | 'instanceIds'>;

export interface AcceptedRemoval {
  scalingActivityId: string;
  instanceIds: string[];
  /** Found already Removing under this activity (an earlier attempt's call was accepted). */
  adopted: boolean;
  requestId: string | undefined;
}

export interface RemoveBatchResponse {
  removals: AcceptedRemoval[];
  /**
   * Not in the group any more, and no scaling activity of this run was found that removed them
   * (an instance such an activity removed is in `removals`, under it). `removedByEarlierAttempt`
   * is only in results recorded before that rule: such an instance was counted as removed.
   */
  gone: Array<{ instanceId: string; why: string; removedByEarlierAttempt?: boolean }>;
  attempt: number;
  startedAt: string;
  requestIds: string[];
  /** The poll of the one activity the call started, to its end (request `follow`). */
  followed?: PollResponse;
  /** Why the activity was not followed to its end after all: the workflow polls it itself. */
  notFollowed?: string;
}

export interface PollRequest extends Retrying {
  regionId: string;
  scalingGroupId: string;
  scalingActivityId: string;
  instanceIds: string[];
  minIntervalMs: number;
  maxIntervalMs: number;
  /** The plan's scale-in hooks: the poll reports waits on them and completes those marked `complete`. */
  hooks?: PlannedHook[];
  /** Tokens of the waits already reported to the workflow: a poll returns early only for news. */
  knownWaitTokens?: string[];
  /**
   * When the run's earlier activities ended (src/shared/poll-forecast.ts): the poll sleeps until
   * this window opens and looks densely inside it. Absent for the first batch and with hooks.
   */
  expectedEnd?: EndForecast;
}

export interface PollResponse {
  scalingActivityId: string;
  statusCode: string;
  statusMessage: string;
  progress: number;
  removedInstanceIds: string[];
  failedInstances: Array<{ instanceId: string; why: string }>;
  polls: number;
  endedAt: string;
  /**
   * With statusCode InProgress: the poll came back early because lifecycle hooks hold the instances
   * (or it completed some), so the workflow can show it; it polls again. Absent in older results.
   */
  hookWait?: { waitingOn: HookWait[]; completed: CompletedHookAction[] };
  /** Where the activity's end fell, for the next poll's forecast; only from a poll that began with it. */
  observedEnd?: ObservedEnd;
}
