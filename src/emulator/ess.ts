/**
 * ESS 2014-08-28: DescribeScalingGroups, DescribeScalingInstances, DescribeScalingActivities,
 * RemoveInstances, EnterStandby, ExitStandby. List wrappers follow the 2014 shape
 * (`{"ScalingGroups":{"ScalingGroup":[...]}}`).
 */
import type {
  WireActivityErrorMessage,
  WireDescribeScalingActivitiesResponse,
  WireDescribeScalingGroupsResponse,
  WireDescribeScalingInstancesResponse,
  WireRemoveInstancesResponse,
  WireScalingActivity,
  WireScalingGroup,
  WireScalingInstance,
} from '../aliyun/wire';
import type { ApiError } from './api-error';
import { apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import { minuteStamp, secondStamp } from './ids';
import { page, paging } from './params';
import { INSTANCE_LIFECYCLE_STATES } from './scenario';
import type { ActivityState, EmulatorState, GroupState, InstanceState, ReadonlyDeep } from './state';

type Group = ReadonlyDeep<GroupState>;
type Instance = ReadonlyDeep<InstanceState>;
type Activity = ReadonlyDeep<ActivityState>;

/** `.N` lists of 2014-08-28 ("Valid values of N: 1 to 20"; docs/emulator.md "Per-call limits"). */
const MAX_IDS = 20;
const RETENTION_MS = 30 * 24 * 3600_000;
const ACTIVITY_STATUSES = ['InProgress', 'Successful', 'Warning', 'Failed', 'Rejected'];
/** The lifecycle states RemoveInstances accepts. */
const REMOVABLE_STATES = ['InService', 'Standby', 'Protected', 'Stopped'];

export function requireRegion(ctx: ActionContext): string {
  const region = ctx.params.required('RegionId');
  if (!ctx.state.hasRegion(region)) throw apiError('InvalidRegionId.NotFound');
  return region;
}

function groupNotFound(): ApiError {
  return apiError('InvalidScalingGroupId.NotFound');
}

/** The group named by ScalingGroupId, in the request's region when RegionId is given. */
export function findGroup(ctx: ActionContext): Group {
  const id = ctx.params.required('ScalingGroupId');
  const g = ctx.state.scalingGroups.group(id);
  const region = ctx.params.get('RegionId');
  if (!g || (region !== undefined && g.regionId !== region)) throw groupNotFound();
  return g;
}

function instanceNotFound(id: string): ApiError {
  return apiError('InvalidInstanceId.NotFound', `Instance "${id}" does not exist.`);
}

function incorrectInstanceStatus(id: string): ApiError {
  return apiError('IncorrectInstanceStatus', `The current status of instance "${id}" does not support this action.`);
}

/** ClientToken replay: same token + same fingerprint -> stored result; different -> mismatch. */
export function replay(
  ctx: ActionContext,
  fingerprint: string,
  mismatchCode = 'IdempotentParameterMismatch',
): Record<string, string> | undefined {
  const token = ctx.params.get('ClientToken');
  if (token === undefined || ctx.state.settings.ignoreClientToken) return undefined;
  if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) throw invalidParameter('ClientToken');
  const prior = ctx.state.clientTokens.recall(ctx.action, token);
  if (!prior) return undefined;
  if (prior.fingerprint !== fingerprint) throw apiError(mismatchCode);
  return prior.result;
}

export function remember(ctx: ActionContext, fingerprint: string, result: Record<string, string>): void {
  const token = ctx.params.get('ClientToken');
  if (token === undefined || ctx.state.settings.ignoreClientToken) return;
  ctx.state.clientTokens.remember(ctx.action, token, { fingerprint, result });
}

// ---------------------------------------------------------------------------------------------
// wire conversion
// ---------------------------------------------------------------------------------------------

type WireVServerGroupAttribute = { VServerGroupId: string; Port: number; Weight: number };

/** The group's vserver group attachments, grouped by CLB as the 2014 shape nests them. */
function vServerGroupsByLb(g: Group): WireScalingGroup['VServerGroups'] {
  const vsgByLb = new Map<string, WireVServerGroupAttribute[]>();
  for (const v of g.vServerGroups) {
    const list = vsgByLb.get(v.loadBalancerId) ?? [];
    list.push({ VServerGroupId: v.vServerGroupId, Port: v.port, Weight: v.weight });
    vsgByLb.set(v.loadBalancerId, list);
  }
  return {
    VServerGroup: [...vsgByLb.entries()].map(([lb, attrs]) => ({
      LoadBalancerId: lb,
      VServerGroupAttributes: { VServerGroupAttribute: attrs },
    })),
  };
}

export function wireGroup(state: EmulatorState, g: Group): WireScalingGroup {
  const c = state.scalingGroups.capacities(g.id);
  const w: WireScalingGroup = {
    ScalingGroupId: g.id,
    ScalingGroupName: g.name,
    RegionId: g.regionId,
    LifecycleState: g.lifecycleState,
    MinSize: g.minSize,
    MaxSize: g.maxSize,
    TotalCapacity: c.total,
    ActiveCapacity: c.active,
    PendingCapacity: c.pending,
    PendingWaitCapacity: c.pendingWait,
    RemovingCapacity: c.removing,
    RemovingWaitCapacity: c.removingWait,
    StandbyCapacity: c.standby,
    ProtectedCapacity: c.protected,
    DefaultCooldown: g.defaultCooldown,
    ScalingPolicy: g.scalingPolicy,
    CreationTime: minuteStamp(g.creationMs),
    ActiveScalingConfigurationId: g.activeScalingConfigurationId,
    GroupType: 'ECS',
    MultiAZPolicy: 'PRIORITY',
    RemovalPolicies: { RemovalPolicy: [...g.removalPolicies] },
    LoadBalancerIds: { LoadBalancerId: [...g.loadBalancerIds] },
    VServerGroups: vServerGroupsByLb(g),
    AlbServerGroups: {
      AlbServerGroup: g.albServerGroups.map((a) => ({
        AlbServerGroupId: a.albServerGroupId,
        Port: a.port,
        Weight: a.weight,
      })),
    },
    DBInstanceIds: { DBInstanceId: [...g.dbInstanceIds] },
  };
  if (g.desiredCapacity !== undefined) w.DesiredCapacity = g.desiredCapacity;
  const serverGroups = [
    ...g.nlbServerGroups.map((a) => ({
      ServerGroupId: a.nlbServerGroupId,
      Type: 'NLB',
      Port: a.port,
      Weight: a.weight,
    })),
    ...g.otherServerGroups.map((a) => ({
      ServerGroupId: a.serverGroupId,
      Type: a.type,
      Port: a.port ?? 0,
      Weight: a.weight ?? 100,
    })),
  ];
  // NLB (and GWLB) attachments are listed only here, as AttachServerGroups' entries (docs/emulator.md).
  if (serverGroups.length) w.ServerGroups = { ServerGroup: serverGroups };
  return w;
}

function wireInstance(i: Instance): WireScalingInstance {
  const w: WireScalingInstance = {
    InstanceId: i.id,
    ScalingGroupId: i.scalingGroupId,
    HealthStatus: i.healthStatus,
    LifecycleState: i.lifecycleState,
    CreationType: i.creationType,
    CreationTime: minuteStamp(i.creationMs),
    CreatedTime: secondStamp(i.creationMs),
    Entrusted: i.entrusted,
    LoadBalancerWeight: i.weight,
    WarmupState: 'NoNeedWarmup',
    ZoneId: i.zoneId,
    WeightedCapacity: 1,
    PrivateIpAddress: i.privateIp,
  };
  if (i.scalingConfigurationId !== undefined) w.ScalingConfigurationId = i.scalingConfigurationId;
  if (i.scalingActivityId !== undefined) w.ScalingActivityId = i.scalingActivityId;
  return w;
}

/** ErrorCode, ErrorMessage and ErrorMessages of an activity that ended other than Successful. */
function wireActivityErrors(a: Activity, w: WireScalingActivity): void {
  const failedOutright = a.failIds.size > 0 || a.status === 'Failed' || a.status === 'Rejected';
  if (a.errorCode !== undefined && failedOutright) w.ErrorCode = a.errorCode;
  if (a.errorMessage !== undefined && failedOutright) w.ErrorMessage = a.errorMessage;
  const items: WireActivityErrorMessage[] = [];
  if (a.failIds.size > 0) {
    items.push({
      Code: a.errorCode ?? 'InternalError',
      Message: a.errorMessage ?? '',
      FailedInstanceIds: { FailedInstanceIds: [...a.failIds] },
    });
  }
  if (a.ignoredIds.length > 0) {
    items.push({
      Code: 'InvalidInstanceId.NotFound',
      Message:
        'The specified instances do not exist in the scaling group and were ignored: ' + `${a.ignoredIds.join(', ')}.`,
      FailedInstanceIds: { FailedInstanceIds: [...a.ignoredIds] },
    });
  }
  if (items.length > 0) w.ErrorMessages = { ErrorMessagesItem: items };
}

export function wireActivity(state: EmulatorState, a: Activity, now: number): WireScalingActivity {
  const totals = a.totals ?? state.scalingGroups.totalsOf(a.groupId);
  const w: WireScalingActivity = {
    ScalingActivityId: a.id,
    ScalingGroupId: a.groupId,
    Description: a.description,
    Cause: a.cause,
    StatusCode: a.status,
    StatusMessage: a.statusMessage,
    StartTime: minuteStamp(a.startMs),
    Progress: state.activities.progressOf(a, now),
    TotalCapacity: String(totals.total),
    AttachedCapacity: String(totals.attached),
    AutoCreatedCapacity: String(totals.autoCreated),
    ScalingInstanceNumber: a.instanceIds.length,
    CreatedCapacity: 0,
    DestroyedCapacity: a.releasedIds.length,
    StartedCapacity: 0,
    StoppedCapacity: a.stoppedIds.length,
    TriggerSourceType: 'Api',
    Detail: '',
  };
  if (a.endMs !== undefined) w.EndTime = minuteStamp(a.endMs);
  if (a.releasedIds.length > 0) w.DestroyedInstances = { DestroyedInstance: [...a.releasedIds] };
  if (a.stoppedIds.length > 0) w.StoppedInstances = { StoppedInstance: [...a.stoppedIds] };
  if (a.status !== 'InProgress' && a.status !== 'Successful') wireActivityErrors(a, w);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Describe*
// ---------------------------------------------------------------------------------------------

const describeScalingGroups: ActionHandler = (ctx): Body<WireDescribeScalingGroupsResponse> => {
  const region = requireRegion(ctx);
  checkDenied(ctx);
  const ids = ctx.params.list('ScalingGroupId', MAX_IDS);
  const names = [...ctx.params.list('ScalingGroupName')];
  const single = ctx.params.get('ScalingGroupName');
  if (single !== undefined) names.push(single);
  const { pageNumber, pageSize } = paging(ctx.params);
  const groups = ctx.state.scalingGroups
    .groupList()
    .filter(
      (g) =>
        g.regionId === region &&
        (ids.length === 0 || ids.includes(g.id)) &&
        (names.length === 0 || names.includes(g.name)),
    );
  return {
    TotalCount: groups.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    ScalingGroups: { ScalingGroup: page(groups, pageNumber, pageSize).map((g) => wireGroup(ctx.state, g)) },
  };
};

/** DescribeScalingInstances filters, checked; undefined = not filtered. */
interface InstanceFilter {
  groupId: string | undefined;
  ids: Set<string>;
  lifecycle: string | undefined;
  health: string | undefined;
  creationType: string | undefined;
  activityId: string | undefined;
  configId: string | undefined;
}

function instanceFilter(ctx: ActionContext): InstanceFilter {
  const p = ctx.params;
  const groupId = p.get('ScalingGroupId');
  const ids = p.list('InstanceId', MAX_IDS);
  const lifecycle = p.get('LifecycleState');
  if (lifecycle !== undefined && !(INSTANCE_LIFECYCLE_STATES as readonly string[]).includes(lifecycle))
    throw invalidParameter('LifecycleState');
  const health = p.get('HealthStatus');
  if (health !== undefined && health !== 'Healthy' && health !== 'Unhealthy') throw invalidParameter('HealthStatus');
  const creationType = p.get('CreationType');
  if (creationType !== undefined && !['AutoCreated', 'Attached', 'Managed'].includes(creationType))
    throw invalidParameter('CreationType');
  const activityId = p.get('ScalingActivityId');
  const configId = p.get('ScalingConfigurationId');
  return { groupId, ids: new Set(ids), lifecycle, health, creationType, activityId, configId };
}

function instanceMatches(i: Instance, f: InstanceFilter): boolean {
  return (
    (f.groupId === undefined || i.scalingGroupId === f.groupId) &&
    (f.ids.size === 0 || f.ids.has(i.id)) &&
    (f.lifecycle === undefined || i.lifecycleState === f.lifecycle) &&
    (f.health === undefined || i.healthStatus === f.health) &&
    (f.creationType === undefined || i.creationType === f.creationType) &&
    (f.activityId === undefined || i.scalingActivityId === f.activityId) &&
    (f.configId === undefined || i.scalingConfigurationId === f.configId)
  );
}

const describeScalingInstances: ActionHandler = (ctx): Body<WireDescribeScalingInstancesResponse> => {
  const region = requireRegion(ctx);
  checkDenied(ctx);
  const filter = instanceFilter(ctx);
  const { pageNumber, pageSize } = paging(ctx.params);
  const groups = ctx.state.scalingGroups;
  // Filters apply to what is shown: a lagging state is matched as it is shown (timings.lifecycleStateLagMs).
  const matches = groups
    .instanceList()
    .map((i) => ctx.state.activities.shownInstance(i, ctx.now))
    .filter((i) => groups.group(i.scalingGroupId)?.regionId === region && instanceMatches(i, filter));
  return {
    TotalCount: matches.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    ScalingInstances: { ScalingInstance: page(matches, pageNumber, pageSize).map(wireInstance) },
  };
};

const describeScalingActivities: ActionHandler = (ctx): Body<WireDescribeScalingActivitiesResponse> => {
  const region = requireRegion(ctx);
  checkDenied(ctx);
  const p = ctx.params;
  const groupId = p.get('ScalingGroupId');
  const ids = p.list('ScalingActivityId', MAX_IDS);
  if (groupId === undefined && ids.length === 0) throw missingParameter('ScalingGroupId');
  const status = p.get('StatusCode');
  if (status !== undefined && !ACTIVITY_STATUSES.includes(status)) throw invalidParameter('StatusCode');
  const { pageNumber, pageSize } = paging(p);
  const now = ctx.now;
  const idSet = new Set(ids);
  const matches = ctx.state.activities
    .list()
    .filter(
      (a) =>
        (groupId === undefined || a.groupId === groupId) &&
        (idSet.size === 0
          ? ctx.state.activities.listedByGroup(a, now)
          : idSet.has(a.id) && ctx.state.activities.foundById(a, now)) &&
        ctx.state.scalingGroups.group(a.groupId)?.regionId === region &&
        (status === undefined || a.status === status) &&
        now - a.startMs <= RETENTION_MS,
    )
    .reverse() // newest first
    .sort((x, y) => y.startMs - x.startMs);
  return {
    TotalCount: matches.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    ScalingActivities: {
      ScalingActivity: page(matches, pageNumber, pageSize).map((a) => wireActivity(ctx.state, a, now)),
    },
  };
};

// ---------------------------------------------------------------------------------------------
// RemoveInstances: the checks run in the documented order, one function per step
// ---------------------------------------------------------------------------------------------

/** Requested IDs (`InstanceId.1` to `InstanceId.20`, no gaps), de-duplicated, in request order. */
function requestedInstanceIds(ctx: ActionContext): string[] {
  const ids = [...new Set(ctx.params.list('InstanceId', MAX_IDS))];
  if (ids.length === 0) throw missingParameter('InstanceId.N');
  return ids;
}

interface RemoveParams {
  groupId: string;
  ids: string[];
  decreaseDesired: boolean;
  ignoreInvalid: boolean;
  removePolicy: string;
  /** `LifecycleHookContext.DisableLifecycleHook`: every lifecycle hook is bypassed. */
  disableHooks: boolean;
  /** `LifecycleHookContext.IgnoredLifecycleHookIds.N`: these hooks are bypassed. */
  ignoredHookIds: string[];
}

/** 1. required and well-formed parameters. */
function removeParams(ctx: ActionContext): RemoveParams {
  const p = ctx.params;
  const groupId = p.required('ScalingGroupId');
  const ids = requestedInstanceIds(ctx);
  const decreaseDesired = p.bool('DecreaseDesiredCapacity', true);
  const ignoreInvalid = p.bool('IgnoreInvalidInstance', false);
  p.int('StopInstanceTimeout', { min: 30, max: 240 });
  const removePolicy = p.get('RemovePolicy') ?? 'release';
  const disableHooks = p.bool('LifecycleHookContext.DisableLifecycleHook', false);
  // The reference gives no limit for this list; 20 like the others (inferred).
  const ignoredHookIds = [...new Set(p.list('LifecycleHookContext.IgnoredLifecycleHookIds', MAX_IDS))];
  return { groupId, ids, decreaseDesired, ignoreInvalid, removePolicy, disableHooks, ignoredHookIds };
}

/** 2. group exists, 3. authorized, 4. Active, 5. no activity in progress. */
function groupAcceptingRemoval(ctx: ActionContext): Group {
  const group = findGroup(ctx);
  checkDenied(ctx);
  if (group.lifecycleState !== 'Active') throw apiError('IncorrectScalingGroupStatus');
  if (ctx.state.activities.inProgress(group.id)) throw apiError('ScalingActivityInProgress');
  return group;
}

/** 6. every instance belongs to the group (unless IgnoreInvalidInstance) and is in a removable state. */
function partitionInstances(ctx: ActionContext, group: Group, r: RemoveParams): { valid: string[]; ignored: string[] } {
  const valid: string[] = [];
  const ignored: string[] = [];
  for (const id of r.ids) {
    const inst = ctx.state.scalingGroups.instance(id);
    if (inst && inst.scalingGroupId === group.id) valid.push(id);
    else if (r.ignoreInvalid) ignored.push(id);
    else throw instanceNotFound(id);
  }
  for (const id of valid) {
    const st = ctx.state.scalingGroups.instance(id)?.lifecycleState ?? '';
    if (!REMOVABLE_STATES.includes(st)) throw incorrectInstanceStatus(id);
  }
  return { valid, ignored };
}

/** 8. RemovePolicy (the 20-ID limit is checked in step 1, when the list is read). */
function checkRemovePolicy(group: Group, r: RemoveParams): void {
  if (r.removePolicy !== 'release' && r.removePolicy !== 'recycle') throw invalidParameter('RemovePolicy');
  if (r.removePolicy === 'recycle' && group.scalingPolicy !== 'recycle') {
    throw apiError('InvalidParameter', 'The specified group does not support the specified RemovePolicy.');
  }
}

/** 9. attached CLBs active, 10. attached RDS running, 11. MinSize floor. */
function checkAttachedAndCapacity(ctx: ActionContext, group: Group, removing: number): void {
  const lbIds = new Set([...group.loadBalancerIds, ...group.vServerGroups.map((v) => v.loadBalancerId)]);
  for (const lbId of lbIds) {
    const lb = ctx.state.clb.loadBalancer(lbId);
    if (!lb || lb.status !== 'active') throw apiError('IncorrectLoadBalancerStatus');
  }
  for (const dbId of group.dbInstanceIds) {
    const db = ctx.state.rds.dbInstance(dbId);
    if (!db || db.status !== 'Running')
      throw apiError(
        'IncorrectDBInstanceStatus',
        `The current status of DB instance "${dbId}" does not support this action.`,
      );
  }
  if (ctx.state.scalingGroups.capacities(group.id).total - removing < group.minSize)
    throw apiError('IncorrectCapacity.MinSize');
}

const removeInstances: ActionHandler = (ctx): Body<WireRemoveInstancesResponse> => {
  const r = removeParams(ctx);
  // ClientToken replay answers before any state check: the original call may be what blocks the group now.
  const fingerprint = JSON.stringify({
    groupId: r.groupId,
    ids: [...r.ids].sort(),
    removePolicy: r.removePolicy,
    decreaseDesired: r.decreaseDesired,
    disableHooks: r.disableHooks,
    ignoredHookIds: [...r.ignoredHookIds].sort(),
  });
  const prior = replay(ctx, fingerprint);
  if (prior) return prior as unknown as Body<WireRemoveInstancesResponse>;

  const group = groupAcceptingRemoval(ctx);
  const { valid, ignored } = partitionInstances(ctx, group, r);
  checkRemovePolicy(group, r);
  checkAttachedAndCapacity(ctx, group, valid.length);

  const activity = ctx.state.activities.startRemoval({
    group,
    instanceIds: valid,
    ignoredIds: ignored,
    removePolicy: r.removePolicy,
    decreaseDesired: r.decreaseDesired,
    hookIds: ctx.state.lifecycleHooks.scaleInHooks(group.id, r.disableHooks, r.ignoredHookIds),
  });
  ctx.meta.createdActivityId = activity.id;
  const result = { ScalingActivityId: activity.id };
  remember(ctx, fingerprint, result);
  return result;
};

// ---------------------------------------------------------------------------------------------
// EnterStandby / ExitStandby
// ---------------------------------------------------------------------------------------------

/** Every ID (at most 20, checked when the list is read) is an instance of the group, in a state the call accepts. */
function checkStandbyInstances(ctx: ActionContext, group: Group, ids: string[], accepted: string[]): void {
  for (const id of ids) {
    const inst = ctx.state.scalingGroups.instance(id);
    if (!inst || inst.scalingGroupId !== group.id) throw instanceNotFound(id);
  }
  for (const id of ids) {
    const st = ctx.state.scalingGroups.instance(id)?.lifecycleState ?? '';
    if (!accepted.includes(st)) throw incorrectInstanceStatus(id);
  }
}

function standby(enter: boolean): ActionHandler {
  return (ctx) => {
    const groupId = ctx.params.required('ScalingGroupId');
    const ids = requestedInstanceIds(ctx);
    const fingerprint = JSON.stringify({ groupId, ids: [...ids].sort() });
    const prior = replay(ctx, fingerprint);
    if (prior) return {};
    const group = findGroup(ctx);
    checkDenied(ctx);
    // Enter on a Standby instance, or Exit on an InService one, does nothing.
    checkStandbyInstances(ctx, group, ids, enter ? ['InService', 'Standby'] : ['Standby', 'InService']);
    if (enter) ctx.state.scalingGroups.enterStandby(group, ids);
    else ctx.state.scalingGroups.exitStandby(group, ids);
    remember(ctx, fingerprint, {});
    return {};
  };
}

export const ESS_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  DescribeScalingGroups: describeScalingGroups,
  DescribeScalingInstances: describeScalingInstances,
  DescribeScalingActivities: describeScalingActivities,
  RemoveInstances: removeInstances,
  EnterStandby: standby(true),
  ExitStandby: standby(false),
};
