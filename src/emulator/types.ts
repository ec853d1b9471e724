/**
 * Public types of the emulator: the scenario file format, fault rules, call-log entries and the
 * admin state snapshot. Everything here is plain JSON-compatible data.
 */

// ---------------------------------------------------------------------------------------------
// Scenario (the whole initial state). See docs/emulator.md for every field.
// ---------------------------------------------------------------------------------------------

/** Where an instance is registered as a backend when the scenario is loaded. */
export interface ScenarioAttachTo {
  /** CLB instances whose default server group gets the instance (weight below). */
  loadBalancerIds?: string[];
  /** CLB vserver groups (looked up among `loadBalancers[].vServerGroups`). */
  vServerGroupIds?: string[];
  /** ALB server groups. */
  albServerGroupIds?: string[];
  /** NLB server groups. */
  nlbServerGroupIds?: string[];
  /** Backend port in vserver groups and ALB/NLB server groups. Default 80. */
  port?: number;
  /** Backend weight, 0..100. Default 100. */
  weight?: number;
}

export interface ScenarioVServerGroupAttachment {
  loadBalancerId: string;
  vServerGroupId: string;
  port: number;
  weight?: number;
}

export interface ScenarioAlbServerGroupAttachment {
  albServerGroupId: string;
  port: number;
  weight?: number;
}

export interface ScenarioNlbServerGroupAttachment {
  nlbServerGroupId: string;
  port: number;
  weight?: number;
}

/**
 * A `ServerGroups` entry of another type (GWLB, or any type string): reported by
 * DescribeScalingGroups, and nothing else about it is emulated.
 */
export interface ScenarioOtherServerGroupAttachment {
  serverGroupId: string;
  type: string;
  port?: number;
  weight?: number;
}

/** A lifecycle hook of a scaling group (CreateLifecycleHook's fields). */
export interface ScenarioLifecycleHook {
  /** `ash-` + lowercase [a-z0-9]; default one derived from the group ID and the hook's index. */
  id?: string;
  /** 2 to 64 of [A-Za-z0-9_.-], starting with a letter or digit, unique in the group; default the ID. */
  name?: string;
  /** `SCALE_IN` or `SCALE_OUT`. */
  lifecycleTransition: string;
  /** Seconds, 30 to 21600. Default 600. Scaled by the emulator's time scale. */
  heartbeatTimeout?: number;
  /** `CONTINUE` (default), `ABANDON` or `ROLLBACK`. */
  defaultResult?: string;
  /** MNS queue/topic, OOS template or EventBridge bus ARN; nothing is sent to it. */
  notificationArn?: string;
  notificationMetadata?: string;
  /** `Active` (default) or `InActive` (the hook holds no instance). */
  status?: string;
}

export interface ScenarioScalingGroup {
  /** `asg-` + about 20 lowercase alphanumerics, like `asg-bp18p2yfxow2dloq1234`. */
  id: string;
  name?: string;
  regionId: string;
  /** `Active` (default), `Inactive` or `Deleting`. */
  lifecycleState?: string;
  minSize?: number;
  maxSize?: number;
  /** Omit for groups that do not use expected-capacity mode. */
  desiredCapacity?: number;
  /** `release` (default), `recycle` or `forcerelease`. */
  scalingPolicy?: string;
  removalPolicies?: string[];
  loadBalancerIds?: string[];
  vServerGroups?: ScenarioVServerGroupAttachment[];
  albServerGroups?: ScenarioAlbServerGroupAttachment[];
  /** Reported as `ServerGroups` entries of type NLB. */
  nlbServerGroups?: ScenarioNlbServerGroupAttachment[];
  /** Reported as `ServerGroups` entries of their own type. */
  otherServerGroups?: ScenarioOtherServerGroupAttachment[];
  dbInstanceIds?: string[];
  /** Seconds. Default 300. */
  defaultCooldown?: number;
  /** Reported as ActiveScalingConfigurationId; default `asc-` + the group ID's suffix. */
  activeScalingConfigurationId?: string;
  /** ISO time; default `2024-01-01T00:00:00Z`. */
  creationTime?: string;
  /** Scale-in hooks hold RemoveInstances activities in `Removing:Wait`. */
  lifecycleHooks?: ScenarioLifecycleHook[];
}

export interface ScenarioInstance {
  /** `i-` + 20 lowercase [a-z0-9]. */
  id: string;
  scalingGroupId: string;
  /** Default `InService`. */
  lifecycleState?: string;
  /** `AutoCreated` (default), `Attached` or `Managed`. */
  creationType?: string;
  /** ISO time; default the group's creation time. */
  creationTime?: string;
  scalingConfigurationId?: string;
  /** The scale-out activity that created the instance, if any. */
  scalingActivityId?: string;
  /** `Healthy` (default) or `Unhealthy`. */
  healthStatus?: string;
  zoneId?: string;
  /** LoadBalancerWeight reported by DescribeScalingInstances. Default 50. */
  weight?: number;
  entrusted?: boolean;
  privateIp?: string;
  /** Registers the instance as a backend in these load balancers. */
  attachTo?: ScenarioAttachTo;
}

export interface ScenarioInstanceGenerator {
  scalingGroupId: string;
  count: number;
  /**
   * Lowercase [a-z0-9], at most 15 chars. IDs are `i-` + prefix + base36 counter, zero-padded to
   * 20 characters. Default `bp1g` + the generator's index in base36.
   */
  idPrefix?: string;
  /** First counter value. Default 1. */
  startIndex?: number;
  creationType?: string;
  lifecycleState?: string;
  healthStatus?: string;
  /** ISO time of the first instance. */
  startTime: string;
  /** Minutes between consecutive creation times. Default 1. */
  intervalMinutes?: number;
  /** Round-robin over these. Default one derived from the group ID. */
  scalingConfigurationIds?: string[];
  /** Round-robin over these. Default `<regionId>-h`. */
  zoneIds?: string[];
  weight?: number;
  entrusted?: boolean;
  attachTo?: ScenarioAttachTo;
}

export interface ScenarioBackendServer {
  serverId: string;
  weight?: number;
  /** `ecs` (default), `eni` or `eci`. */
  type?: string;
}

export interface ScenarioVServerBackend {
  serverId: string;
  port: number;
  weight?: number;
  type?: string;
}

export interface ScenarioVServerGroup {
  id: string;
  name?: string;
  backendServers?: ScenarioVServerBackend[];
}

export interface ScenarioListener {
  port: number;
  /** `http` (default), `https`, `tcp`, `udp`. */
  protocol?: string;
  /** Forward to this vserver group instead of the default server group. */
  vServerGroupId?: string;
}

export interface ScenarioLoadBalancer {
  /** `lb-` + ID, like `lb-bp1qjwo61pqz3ahl1234`. */
  id: string;
  name?: string;
  regionId: string;
  /** `active` (default), `inactive` or `locked`. */
  status?: string;
  backendServers?: ScenarioBackendServer[];
  vServerGroups?: ScenarioVServerGroup[];
  /** Default one HTTP listener on port 80 using the default server group. */
  listeners?: ScenarioListener[];
  /** ServerHealthStatus per server ID (`normal` when not listed). */
  health?: Record<string, string>;
}

export interface ScenarioAlbServer {
  serverId: string;
  /** `Ecs` (default), `Eni`, `Eci`, `Ip`, `Fc`. */
  serverType?: string;
  port: number;
  weight?: number;
}

export interface ScenarioAlbServerGroup {
  /** `sgp-` + ID. */
  id: string;
  name?: string;
  regionId: string;
  servers?: ScenarioAlbServer[];
}

/** An NLB server group (`sgp-` + ID); its servers as ALB's, without `Fc`. */
export type ScenarioNlbServerGroup = ScenarioAlbServerGroup;

export interface ScenarioDbInstance {
  /** `rm-` + ID. */
  id: string;
  /** `Running` is the only status RemoveInstances accepts. */
  status?: string;
}

export interface ScenarioTimings {
  /** How long a RemoveInstances activity stays InProgress. Default 3000. */
  activityDurationMs?: number;
  /**
   * Each activity's duration is drawn uniformly from activityDurationMs ± this (seeded, so a scenario
   * always draws the same durations): activities of one run take similar, not identical, times. Default 0.
   */
  activityDurationSpreadMs?: number;
  /** Between weight 0 and deregistration from attached load balancers. Default 500 (60 s in the real service). */
  essDrainWaitMs?: number;
  /** How long an ALB UpdateServerGroupServersAttribute job stays Processing. Default 300. */
  albJobDurationMs?: number;
  /** How long an NLB UpdateServerGroupServersAttribute job stays Processing. Default: albJobDurationMs. */
  nlbJobDurationMs?: number;
  /**
   * How long a new scaling activity stays out of DescribeScalingActivities by group (asked by
   * ScalingActivityId it is listed at once): a listing that lags behind an accepted call. Default 0.
   */
  activityListingLagMs?: number;
  /**
   * How long a new scaling activity stays out of DescribeScalingActivities asked by its
   * ScalingActivityId. Not from the reference (docs/emulator.md). Default 0.
   */
  activityLookupLagMs?: number;
  /**
   * How long DescribeScalingInstances keeps showing an instance's LifecycleState and
   * ScalingActivityId from before a RemoveInstances activity took it (RemoveInstances itself sees
   * the new state). Not from the reference (docs/emulator.md). Default 0.
   */
  lifecycleStateLagMs?: number;
  /**
   * How long a CLB (and the vserver group) stays in a change after ESS deregisters instances from
   * it: SetBackendServers / SetVServerGroupAttribute get the busy error meanwhile. Not from the
   * reference, which gives no length (docs/emulator.md). Default 300.
   */
  clbChangeWindowMs?: number;
}

export type ActivityOutcomeStatus = 'Warning' | 'Failed' | 'Rejected';

export interface ActivityOutcomeRule {
  /** Matches a RemoveInstances call naming at least one of these IDs; omitted = every call. */
  match?: { instanceIds?: string[] };
  status: ActivityOutcomeStatus;
  /** Warning: the instances that fail (default: the matched ones). Failed: ignored (all fail). */
  failInstanceIds?: string[];
  errorCode?: string;
  errorMessage?: string;
  /** Apply to the next N matching activities only. */
  times?: number;
}

export interface Scenario {
  /** Free-form name, shown in the admin state. */
  name?: string;
  description?: string;
  /** AccessKeyId -> AccessKeySecret. Never returned by any API or admin route. */
  accessKeys?: Record<string, string>;
  regions?: string[];
  scalingGroups?: ScenarioScalingGroup[];
  instances?: ScenarioInstance[];
  instanceGenerators?: ScenarioInstanceGenerator[];
  loadBalancers?: ScenarioLoadBalancer[];
  albServerGroups?: ScenarioAlbServerGroup[];
  nlbServerGroups?: ScenarioNlbServerGroup[];
  dbInstances?: ScenarioDbInstance[];
  timings?: ScenarioTimings;
  activityOutcomes?: ActivityOutcomeRule[];
  /** Action names answered with 403 Forbidden.Unauthorized. */
  deniedActions?: string[];
  /** Ignore ClientToken everywhere (older API behaviour: every call is new). */
  ignoreClientToken?: boolean;
  /**
   * The weight ExitStandby gives back (docs/emulator.md): `default` (50, the current reference) or
   * `scalingConfiguration` (the configured weight, as an older page says). Default `default`.
   */
  exitStandbyWeight?: ExitStandbyWeight;
  /** Account-wide calls per product and action; past it, 400 `Throttling.User`. Off by default. */
  apiQuota?: ScenarioApiQuota;
}

export type ExitStandbyWeight = 'default' | 'scalingConfiguration';

/** An account API quota: `calls` per fixed window of `windowSeconds`. */
export interface ApiQuotaLimit {
  calls: number;
  windowSeconds: number;
}

/**
 * The account's API quota (docs/emulator.md, "Account API quota"): `true` for the default limits,
 * `{limits}` for the defaults with these keys (`ess:RemoveInstances`, `ess:*`, `*`) replaced, a
 * number being calls per second. Off when absent or `false`.
 */
export type ScenarioApiQuota =
  boolean | { limits?: Record<string, number | { calls: number; windowSeconds?: number | undefined }> | undefined };

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

export type FaultKind =
  | 'Throttling'
  | 'Throttling.User'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'latency'
  | 'reset'
  | 'commitThenDrop'
  | 'errorCode';

export interface FaultRule {
  /** An API action name (e.g. `RemoveInstances`) or `*` for every API call. */
  action: string;
  kind: FaultKind;
  /** For `errorCode`: the code to answer with. */
  code?: string;
  /** Overrides the default HTTP status of the kind / code. */
  httpStatus?: number;
  /** Overrides the default message. */
  message?: string;
  /** For `latency`: the delay in ms. */
  latencyMs?: number;
  /** For `latency`: delay after the call took effect instead of before it. */
  latencyAfterEffect?: boolean;
  /** For throttling kinds: sends `x-acs-retry-after` (ms). */
  retryAfterMs?: number;
  /** Probability 0..1 that a matching call is hit (seeded PRNG: deterministic). Default 1. */
  rate?: number;
  /** Only the next N hits; the rule is spent afterwards. Default unlimited. */
  times?: number;
  /**
   * Only calls whose request parameters include each of these, e.g. `{"ScalingGroupId": "asg-…"}`:
   * a fault aimed at one group's calls while other groups share the emulator.
   */
  params?: Record<string, string>;
}

/** A fault rule as the admin API reports it, with what is left of it. */
export interface FaultRuleStatus extends FaultRule {
  index: number;
  /** Hits so far. */
  hits: number;
  /** Remaining hits when `times` was given. */
  remaining?: number;
}

// ---------------------------------------------------------------------------------------------
// Call log
// ---------------------------------------------------------------------------------------------

export interface CallLogEntry {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  /** ISO time the request arrived. */
  time: string;
  method: string;
  action: string;
  version: string;
  product: 'ess' | 'slb' | 'alb' | 'nlb' | 'unknown';
  /** All request parameters; Signature, AccessKeyId and SecurityToken are redacted. */
  params: Record<string, string>;
  /** HTTP status answered, or 0 when the socket was destroyed without an answer. */
  httpStatus: number;
  /** The error Code, or `ok`. */
  outcome: string;
  requestId: string;
  /** Whether the client received an answer (false for `reset` and `commitThenDrop`). */
  delivered: boolean;
  createdActivityId?: string;
  createdJobId?: string;
  /** The fault kind applied to this call, if any (latency included). */
  fault?: FaultKind;
  durationMs: number;
}

export interface CallLogFilter {
  action?: string;
  outcome?: string;
  /** Only entries with seq greater than this. */
  sinceSeq?: number;
}

// ---------------------------------------------------------------------------------------------
// Admin state snapshot
// ---------------------------------------------------------------------------------------------

export interface BackendRef {
  kind: 'clb' | 'vsg' | 'alb' | 'nlb';
  /** CLB ID for `clb`/`vsg`, ALB (NLB) server group ID for `alb` (`nlb`). */
  resourceId: string;
  vServerGroupId?: string;
  serverId: string;
  port?: number;
  weight: number;
  type: string;
}

export interface GroupSnapshot {
  scalingGroupId: string;
  scalingGroupName: string;
  regionId: string;
  lifecycleState: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number | undefined;
  totalCapacity: number;
  activeCapacity: number;
  standbyCapacity: number;
  protectedCapacity: number;
  removingCapacity: number;
  pendingCapacity: number;
  scalingPolicy: string;
  loadBalancerIds: string[];
  vServerGroups: ScenarioVServerGroupAttachment[];
  albServerGroups: ScenarioAlbServerGroupAttachment[];
  nlbServerGroups?: ScenarioNlbServerGroupAttachment[];
  otherServerGroups?: ScenarioOtherServerGroupAttachment[];
  dbInstanceIds: string[];
}

export interface InstanceSnapshot {
  instanceId: string;
  scalingGroupId: string;
  lifecycleState: string;
  creationType: string;
  healthStatus: string;
  scalingActivityId?: string;
  creationTime: string;
  entrusted: boolean;
  zoneId: string;
  privateIp: string;
}

export interface LoadBalancerSnapshot {
  loadBalancerId: string;
  regionId: string;
  status: string;
  backendServers: Array<{ serverId: string; weight: number; type: string; health: string }>;
  vServerGroups: Array<{
    vServerGroupId: string;
    name: string;
    backendServers: Array<{ serverId: string; port: number; weight: number; type: string }>;
  }>;
}

export interface AlbServerGroupSnapshot {
  serverGroupId: string;
  regionId: string;
  status: 'Available' | 'Configuring';
  servers: Array<{ serverId: string; serverType: string; port: number; weight: number; status: string }>;
}

export interface ActivitySnapshot {
  scalingActivityId: string;
  scalingGroupId: string;
  kind: 'RemoveInstances' | 'Injected';
  statusCode: string;
  progress: number;
  instanceIds: string[];
  failedInstanceIds: string[];
  ignoredInstanceIds: string[];
  removePolicy: string;
  /** The scale-in lifecycle hooks that hold (or held) the activity's instances. */
  lifecycleHookIds?: string[];
  startTime: string;
  endTime?: string;
  errorCode?: string;
  errorMessage?: string;
}

export interface LifecycleHookSnapshot {
  lifecycleHookId: string;
  lifecycleHookName: string;
  scalingGroupId: string;
  lifecycleTransition: string;
  /** Seconds, unscaled. */
  heartbeatTimeout: number;
  defaultResult: string;
  notificationArn?: string;
  notificationMetadata?: string;
  status: 'Active' | 'InActive';
}

export interface LifecycleActionSnapshot {
  lifecycleActionToken: string;
  lifecycleHookId: string;
  scalingActivityId: string;
  scalingGroupId: string;
  instanceIds: string[];
  status: 'Pending' | 'Timeout' | 'Completed';
  /** While Pending: the hook's DefaultResult; once ended: the result that ended it. */
  result: string;
  startTime: string;
  /** ISO time the wait times out (while Pending) or would have. */
  timeoutTime: string;
  endTime?: string;
  heartbeats: number;
}

export interface JobSnapshot {
  jobId: string;
  apiName: string;
  resourceId: string;
  status: string;
  createTime: number;
  modifyTime: number;
}

/** What happened to an ECS instance that left a scaling group. */
export interface EcsRecord {
  instanceId: string;
  scalingGroupId: string;
  /** `released` (AutoCreated/entrusted, release), `stopped` (recycle), `detached` (Attached). */
  fate: 'released' | 'stopped' | 'detached';
  creationType: string;
  scalingActivityId: string;
  time: string;
}

export interface EmulatorStateSnapshot {
  scenarioName: string;
  now: string;
  accessKeyIds: string[];
  timeScale: number;
  groups: GroupSnapshot[];
  instances: InstanceSnapshot[];
  loadBalancers: LoadBalancerSnapshot[];
  albServerGroups: AlbServerGroupSnapshot[];
  /** Always filled by the emulator; optional so hand-built snapshots need not list them. */
  nlbServerGroups?: AlbServerGroupSnapshot[];
  dbInstances: Array<{ dbInstanceId: string; status: string }>;
  activities: ActivitySnapshot[];
  jobs: JobSnapshot[];
  /** NLB jobs (GetJobStatus); always filled by the emulator. */
  nlbJobs?: JobSnapshot[];
  ecsRecords: EcsRecord[];
  /** Always filled by the emulator; optional so hand-built snapshots (test fixtures) need not list them. */
  lifecycleHooks?: LifecycleHookSnapshot[];
  /** Every lifecycle action, oldest first; always filled by the emulator. */
  lifecycleActions?: LifecycleActionSnapshot[];
}
