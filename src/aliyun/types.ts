/**
 * Domain types of the Alibaba Cloud operations the product uses, and the interfaces the activities
 * depend on. Wire shapes (strings for capacity fields, 2014-08-28 list wrappers) are converted to
 * these at the edge, in the operation modules; nothing above `src/aliyun/` sees wire JSON.
 */

/** Per-call options every operation accepts. */
export interface CallOptions {
  /** Aborts the HTTP request, e.g. when the Temporal activity is cancelled. */
  signal?: AbortSignal | undefined;
  /** Per-call timeout in ms (headers + body). */
  timeoutMs?: number | undefined;
}

/** Every successful call reports its RequestId so the audit trail can name it. */
export interface WithRequestId {
  requestId: string;
}

// ---------- ESS 2014-08-28 ----------

export type ScalingGroupLifecycleState = 'Active' | 'Inactive' | 'Deleting' | (string & {});
export type ScalingPolicy = 'recycle' | 'release' | 'forcerelease' | (string & {});

export interface VServerGroupAttachment {
  loadBalancerId: string;
  vServerGroupId: string;
  port: number;
  weight: number;
}

export interface AlbServerGroupAttachment {
  albServerGroupId: string;
  port: number;
  weight: number;
}

export interface NlbServerGroupAttachment {
  nlbServerGroupId: string;
  port: number;
  weight: number;
}

/** A `ServerGroups` entry of a type the product does not drain (e.g. GWLB), kept so preflight can name it. */
export interface OtherServerGroupAttachment {
  serverGroupId: string;
  type: string;
  port: number;
  weight: number;
}

export interface ScalingGroup {
  scalingGroupId: string;
  scalingGroupName: string;
  regionId: string;
  lifecycleState: ScalingGroupLifecycleState;
  minSize: number;
  maxSize: number;
  desiredCapacity: number | undefined;
  totalCapacity: number;
  activeCapacity: number;
  standbyCapacity: number;
  protectedCapacity: number;
  removingCapacity: number;
  scalingPolicy: ScalingPolicy;
  /** The configuration new instances are launched from; instances on others are "old". */
  activeScalingConfigurationId: string | undefined;
  removalPolicies: string[];
  loadBalancerIds: string[];
  vServerGroups: VServerGroupAttachment[];
  albServerGroups: AlbServerGroupAttachment[];
  /** NLB server groups (`ServerGroups` entries of type NLB). Optional so hand-built groups may leave it out. */
  nlbServerGroups?: NlbServerGroupAttachment[];
  /** `ServerGroups` entries of any other type (GWLB, unknown): the product cannot drain them. */
  otherServerGroups?: OtherServerGroupAttachment[];
  dbInstanceIds: string[];
}

export type InstanceLifecycleState =
  | 'InService'
  | 'Pending'
  | 'Pending:Wait'
  | 'Protected'
  | 'Standby'
  | 'Stopped'
  | 'Removing'
  | 'Removing:Wait'
  | (string & {});

export interface ScalingInstance {
  instanceId: string;
  scalingGroupId: string;
  scalingConfigurationId: string | undefined;
  /** Set while the instance is being removed (or was added) by a scaling activity. */
  scalingActivityId: string | undefined;
  lifecycleState: InstanceLifecycleState;
  healthStatus: string;
  creationType: 'AutoCreated' | 'Attached' | 'Managed' | (string & {});
  /** ISO time as the API gives it (minute or second precision). */
  creationTime: string;
  entrusted: boolean;
  zoneId: string | undefined;
}

export type ScalingActivityStatus = 'InProgress' | 'Successful' | 'Warning' | 'Failed' | 'Rejected' | (string & {});

export interface ScalingActivity {
  scalingActivityId: string;
  scalingGroupId: string;
  statusCode: ScalingActivityStatus;
  statusMessage: string;
  progress: number;
  description: string;
  cause: string;
  startTime: string;
  endTime: string | undefined;
  /** Converted from the wire's string. */
  totalCapacity: number | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  /** Instances the activity could not remove, from ErrorMessages[].FailedInstanceIds. */
  failedInstanceIds: string[];
  /**
   * Why each of them failed: each ErrorMessages item's code and message, with its instances. Optional
   * only so that activities built by hand may leave it out; the client always sets it.
   */
  instanceErrors?: Array<{ code: string; message: string; instanceIds: string[] }>;
  /**
   * Instances the activity removed from the group and released (`DestroyedInstances`, reference 2.2)
   * or stopped (`StoppedInstances`, docs/emulator.md): the proof that this activity removed them.
   * The client always sets both; optional only so that activities built by hand may leave them out.
   */
  destroyedInstanceIds?: string[];
  stoppedInstanceIds?: string[];
}

export interface RemoveInstancesRequest {
  regionId: string;
  scalingGroupId: string;
  /** 1 to 20 IDs. */
  instanceIds: string[];
  removePolicy?: 'release' | 'recycle' | undefined;
  decreaseDesiredCapacity?: boolean | undefined;
  ignoreInvalidInstance?: boolean | undefined;
  clientToken?: string | undefined;
  /** Bypass scale-in lifecycle hooks: all of them, or the listed ones (`LifecycleHookContext.*`). */
  lifecycleHookContext?: LifecycleHookContext | undefined;
}

/** `LifecycleHookContext` of RemoveInstances (2014-08-28: `.DisableLifecycleHook`, `.IgnoredLifecycleHookIds.N`). */
export interface LifecycleHookContext {
  /** Every lifecycle hook of the group is bypassed for this removal. */
  disableLifecycleHook?: boolean | undefined;
  /** These hooks are bypassed; the others still apply. */
  ignoredLifecycleHookIds?: string[] | undefined;
}

export type LifecycleTransition = 'SCALE_IN' | 'SCALE_OUT' | (string & {});
export type LifecycleActionResult = 'CONTINUE' | 'ABANDON' | 'ROLLBACK';

/** A lifecycle hook of a scaling group (DescribeLifecycleHooks). */
export interface LifecycleHook {
  lifecycleHookId: string;
  lifecycleHookName: string;
  scalingGroupId: string;
  lifecycleTransition: LifecycleTransition;
  /** Seconds an instance waits in `Removing:Wait` / `Pending:Wait` before `defaultResult` applies. */
  heartbeatTimeout: number;
  defaultResult: LifecycleActionResult | (string & {});
  /** MNS queue/topic or OOS template the hook notifies; empty when none. */
  notificationArn: string | undefined;
  notificationMetadata: string | undefined;
  /** `Active` or `InActive`: an inactive hook does not hold instances. */
  lifecycleHookStatus: string | undefined;
}

export type LifecycleActionStatus = 'Pending' | 'Timeout' | 'Completed' | (string & {});

/** One hook's wait on the instances of one scaling activity (DescribeLifecycleActions). */
export interface LifecycleAction {
  lifecycleActionToken: string;
  lifecycleHookId: string;
  lifecycleActionStatus: LifecycleActionStatus;
  /** Set once the action ended (by CompleteLifecycleAction or by the timeout's default result). */
  lifecycleActionResult: string | undefined;
  instanceIds: string[];
}

export interface CompleteLifecycleActionRequest {
  regionId: string;
  lifecycleHookId: string;
  lifecycleActionToken: string;
  lifecycleActionResult: LifecycleActionResult;
  clientToken?: string | undefined;
}

export interface RemoveInstancesResult extends WithRequestId {
  scalingActivityId: string;
}

export interface DescribeScalingInstancesRequest {
  regionId: string;
  scalingGroupId: string;
  /** Optional filter, at most 20 per page request; the client splits longer lists. */
  instanceIds?: string[] | undefined;
  lifecycleState?: string | undefined;
  scalingActivityId?: string | undefined;
}

export interface EssApi {
  describeScalingGroup(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<(ScalingGroup & WithRequestId) | undefined>;
  /** Walks every page. */
  describeScalingInstances(
    req: DescribeScalingInstancesRequest,
    opts?: CallOptions,
  ): Promise<{ instances: ScalingInstance[]; requestIds: string[] }>;
  /** 1 to 20 activity IDs. */
  describeScalingActivities(
    regionId: string,
    scalingActivityIds: string[],
    opts?: CallOptions,
  ): Promise<{ activities: ScalingActivity[]; requestId: string }>;
  /** The group's newest scaling activities, newest first (one page of 50). */
  recentScalingActivities(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<{ activities: ScalingActivity[]; requestId: string }>;
  removeInstances(req: RemoveInstancesRequest, opts?: CallOptions): Promise<RemoveInstancesResult>;
  enterStandby(
    regionId: string,
    scalingGroupId: string,
    instanceIds: string[],
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId>;
  exitStandby(
    regionId: string,
    scalingGroupId: string,
    instanceIds: string[],
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId>;
  /** Every lifecycle hook of the group (walks every page). */
  describeLifecycleHooks(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<{ hooks: LifecycleHook[]; requestIds: string[] }>;
  /** Every lifecycle action of one scaling activity (walks NextToken). */
  describeLifecycleActions(
    regionId: string,
    scalingActivityId: string,
    opts?: CallOptions,
  ): Promise<{ actions: LifecycleAction[]; requestIds: string[] }>;
  completeLifecycleAction(req: CompleteLifecycleActionRequest, opts?: CallOptions): Promise<WithRequestId>;
}

// ---------- CLB (SLB) 2014-05-15 ----------

export interface ClbBackendServer {
  serverId: string;
  weight: number;
  type: string;
  port?: number | undefined;
}

export interface ClbLoadBalancer extends WithRequestId {
  loadBalancerId: string;
  loadBalancerStatus: 'active' | 'inactive' | 'locked' | (string & {});
  backendServers: ClbBackendServer[];
}

export interface ClbVServerGroup extends WithRequestId {
  vServerGroupId: string;
  vServerGroupName: string;
  loadBalancerId: string | undefined;
  backendServers: ClbBackendServer[];
}

export interface ClbHealth {
  serverId: string;
  port: number | undefined;
  listenerPort: number | undefined;
  serverHealthStatus: 'normal' | 'abnormal' | 'unavailable' | (string & {});
}

export interface ClbApi {
  describeLoadBalancerAttribute(regionId: string, loadBalancerId: string, opts?: CallOptions): Promise<ClbLoadBalancer>;
  /** Sets weights of default-server-group backends; at most 20 entries per call (the client splits). */
  setBackendServers(
    regionId: string,
    loadBalancerId: string,
    servers: ClbBackendServer[],
    opts?: CallOptions,
  ): Promise<WithRequestId & { backendServers: ClbBackendServer[] }>;
  describeVServerGroupAttribute(regionId: string, vServerGroupId: string, opts?: CallOptions): Promise<ClbVServerGroup>;
  setVServerGroupAttribute(
    regionId: string,
    vServerGroupId: string,
    servers: ClbBackendServer[],
    opts?: CallOptions,
  ): Promise<WithRequestId & { backendServers: ClbBackendServer[] }>;
  describeHealthStatus(
    regionId: string,
    loadBalancerId: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { servers: ClbHealth[] }>;
}

// ---------- ALB 2020-06-16 ----------

export interface AlbServer {
  serverId: string;
  serverType: 'Ecs' | 'Eni' | 'Eci' | 'Ip' | 'Fc' | (string & {});
  port: number;
  weight: number;
  status: string;
  serverIp?: string | undefined;
}

export interface AlbJob {
  id: string;
  apiName: string;
  resourceId: string;
  status: 'Succeeded' | 'Failed' | 'Processing' | (string & {});
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

export interface AlbApi {
  /** Walks every page (NextToken). */
  listServerGroupServers(
    regionId: string,
    serverGroupId: string,
    opts?: CallOptions & { serverIds?: readonly string[] | undefined },
  ): Promise<WithRequestId & { servers: AlbServer[] }>;
  /** Asynchronous: returns the JobId to poll with listAsynJobs. */
  updateServerGroupServersAttribute(
    regionId: string,
    serverGroupId: string,
    servers: Array<Pick<AlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { jobId: string }>;
  listAsynJobs(regionId: string, jobIds: string[], opts?: CallOptions): Promise<WithRequestId & { jobs: AlbJob[] }>;
}

// ---------- NLB 2022-04-30 ----------

export interface NlbServer {
  serverId: string;
  serverType: 'Ecs' | 'Eni' | 'Eci' | 'Ip' | (string & {});
  port: number;
  weight: number;
  status: string;
  serverIp?: string | undefined;
}

/** GetJobStatus documents `Succeeded` and `Processing`; a `Failed` job is handled too, in case it appears. */
export type NlbJobStatus = 'Succeeded' | 'Processing' | 'Failed' | (string & {});

export interface NlbApi {
  /** Walks every page (NextToken). */
  listServerGroupServers(
    regionId: string,
    serverGroupId: string,
    opts?: CallOptions & { serverIds?: readonly string[] | undefined },
  ): Promise<WithRequestId & { servers: NlbServer[] }>;
  /** Asynchronous: returns the JobId to poll with getJobStatus. */
  updateServerGroupServersAttribute(
    regionId: string,
    serverGroupId: string,
    servers: Array<Pick<NlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { jobId: string }>;
  getJobStatus(regionId: string, jobId: string, opts?: CallOptions): Promise<WithRequestId & { status: NlbJobStatus }>;
}

/** What activities depend on. Tests may build fakes of this same type. */
export interface CloudClient {
  ess: EssApi;
  clb: ClbApi;
  alb: AlbApi;
  nlb: NlbApi;
}
