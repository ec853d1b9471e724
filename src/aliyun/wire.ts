/**
 * Wire shapes of the Alibaba Cloud RPC operations this product uses, spelled exactly as the APIs
 * spell them, plus the converters to the domain types of `types.ts`. The emulator builds its
 * responses from these same types, so client and emulator cannot drift apart silently.
 *
 * ESS 2014-08-28 and CLB wrap every list in an object keyed by the singular name
 * (`{"ScalingGroups":{"ScalingGroup":[...]}}`); ALB 2020-06-16 uses bare arrays.
 * Request parameters are flat strings: lists as `Name.1..N`, booleans as `"true"`/`"false"`.
 */
import type {
  AlbJob,
  AlbServer,
  AlbServerGroupAttachment,
  ClbBackendServer,
  NlbServer,
  NlbServerGroupAttachment,
  OtherServerGroupAttachment,
  ClbHealth,
  LifecycleAction,
  LifecycleHook,
  ScalingActivity,
  ScalingGroup,
  ScalingInstance,
  VServerGroupAttachment,
} from './types';

export const API_VERSIONS = { ess: '2014-08-28', slb: '2014-05-15', alb: '2020-06-16', nlb: '2022-04-30' } as const;
export type Product = keyof typeof API_VERSIONS;

// ---------- common ----------

export type Wrapped<K extends string, T> = { [P in K]: T[] };
export type WireBool = 'true' | 'false';
/** `Name.1`, `Name.2`, ... request parameters. */
export type Indexed<P extends string> = { [K in `${P}.${number}`]?: string };

export interface WireResponse {
  RequestId: string;
}

export interface WirePage {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
}

// ---------- ESS 2014-08-28 ----------

export interface WireVServerGroupAttribute {
  VServerGroupId: string;
  Port: number;
  Weight: number;
}

export interface WireVServerGroup {
  LoadBalancerId: string;
  VServerGroupAttributes: Wrapped<'VServerGroupAttribute', WireVServerGroupAttribute>;
}

export interface WireAlbServerGroup {
  AlbServerGroupId: string;
  Port: number;
  Weight: number;
}

export interface WireServerGroup {
  ServerGroupId: string;
  Type: 'ALB' | 'NLB' | 'GWLB' | (string & {});
  Port: number;
  Weight: number;
}

export interface WireScalingGroup {
  ScalingGroupId: string;
  ScalingGroupName: string;
  RegionId: string;
  LifecycleState: 'Active' | 'Inactive' | 'Deleting' | (string & {});
  MinSize: number;
  MaxSize: number;
  DesiredCapacity?: number;
  TotalCapacity: number;
  ActiveCapacity: number;
  PendingCapacity: number;
  PendingWaitCapacity: number;
  RemovingCapacity: number;
  RemovingWaitCapacity: number;
  StandbyCapacity: number;
  ProtectedCapacity: number;
  DefaultCooldown: number;
  ScalingPolicy: 'recycle' | 'release' | 'forcerelease' | (string & {});
  /** Minute precision, e.g. `2014-08-14T10:58Z`. */
  CreationTime: string;
  ModificationTime?: string;
  ActiveScalingConfigurationId?: string;
  LaunchTemplateId?: string;
  LaunchTemplateVersion?: string;
  VpcId?: string;
  VSwitchId?: string;
  VSwitchIds?: Wrapped<'VSwitchId', string>;
  MultiAZPolicy?: string;
  GroupType?: string;
  RemovalPolicies: Wrapped<'RemovalPolicy', string>;
  LoadBalancerIds: Wrapped<'LoadBalancerId', string>;
  VServerGroups: Wrapped<'VServerGroup', WireVServerGroup>;
  AlbServerGroups: Wrapped<'AlbServerGroup', WireAlbServerGroup>;
  ServerGroups?: Wrapped<'ServerGroup', WireServerGroup>;
  DBInstanceIds: Wrapped<'DBInstanceId', string>;
}

export interface WireScalingInstance {
  InstanceId: string;
  ScalingGroupId: string;
  ScalingConfigurationId?: string;
  ScalingActivityId?: string;
  HealthStatus: 'Healthy' | 'Unhealthy' | (string & {});
  LifecycleState: string;
  CreationType: 'AutoCreated' | 'Attached' | 'Managed' | (string & {});
  /** Minute precision, e.g. `2020-05-18T03:11Z`. */
  CreationTime: string;
  /** Second precision, e.g. `2020-05-18T03:11:39Z`. */
  CreatedTime?: string;
  Entrusted: boolean;
  /** Deprecated by the API but still returned. */
  LoadBalancerWeight?: number;
  WarmupState?: string;
  ZoneId?: string;
  LaunchTemplateId?: string;
  LaunchTemplateVersion?: string;
  WeightedCapacity?: number;
  PrivateIpAddress?: string;
}

export interface WireActivityErrorMessage {
  Code: string;
  Message: string;
  FailedInstanceIds: Wrapped<'FailedInstanceIds', string>;
}

export interface WireScalingActivity {
  ScalingActivityId: string;
  ScalingGroupId: string;
  Description: string;
  Cause: string;
  StatusCode: 'InProgress' | 'Successful' | 'Warning' | 'Failed' | 'Rejected' | (string & {});
  StatusMessage: string;
  /** Minute precision, e.g. `2020-09-10T09:54Z`. */
  StartTime: string;
  EndTime?: string;
  /** 0 to 100. */
  Progress: number;
  /** Capacities are strings in every SDK model. */
  TotalCapacity: string;
  AttachedCapacity: string;
  AutoCreatedCapacity: string;
  ScalingInstanceNumber: number;
  CreatedCapacity?: number;
  DestroyedCapacity?: number;
  StartedCapacity?: number;
  StoppedCapacity?: number;
  ErrorCode?: string;
  ErrorMessage?: string;
  Detail?: string;
  TriggerSourceType?: 'Cms' | 'Api' | 'Ess' | (string & {});
  TriggerSourceId?: string;
  CreatedInstances?: Wrapped<'CreatedInstance', string>;
  DestroyedInstances?: Wrapped<'DestroyedInstance', string>;
  StartedInstances?: Wrapped<'StartedInstance', string>;
  StoppedInstances?: Wrapped<'StoppedInstance', string>;
  ErrorMessages?: Wrapped<'ErrorMessagesItem', WireActivityErrorMessage>;
}

export interface WireDescribeScalingGroupsResponse extends WireResponse, WirePage {
  ScalingGroups: Wrapped<'ScalingGroup', WireScalingGroup>;
}
export interface WireDescribeScalingInstancesResponse extends WireResponse, WirePage {
  ScalingInstances: Wrapped<'ScalingInstance', WireScalingInstance>;
}
export interface WireDescribeScalingActivitiesResponse extends WireResponse, WirePage {
  ScalingActivities: Wrapped<'ScalingActivity', WireScalingActivity>;
}
export interface WireRemoveInstancesResponse extends WireResponse {
  ScalingActivityId: string;
}

export type WireDescribeScalingGroupsParams = {
  RegionId: string;
  PageNumber?: string;
  PageSize?: string;
} & Indexed<'ScalingGroupId'>;
export type WireDescribeScalingInstancesParams = {
  RegionId: string;
  ScalingGroupId?: string;
  LifecycleState?: string;
  ScalingActivityId?: string;
  PageNumber?: string;
  PageSize?: string;
} & Indexed<'InstanceId'>;
export type WireDescribeScalingActivitiesParams = {
  RegionId: string;
  ScalingGroupId?: string;
  StatusCode?: string;
  PageNumber?: string;
  PageSize?: string;
} & Indexed<'ScalingActivityId'>;
export type WireRemoveInstancesParams = {
  RegionId: string;
  ScalingGroupId: string;
  RemovePolicy?: 'release' | 'recycle';
  DecreaseDesiredCapacity?: WireBool;
  IgnoreInvalidInstance?: WireBool;
  ClientToken?: string;
  'LifecycleHookContext.DisableLifecycleHook'?: WireBool;
} & Indexed<'InstanceId'> &
  Indexed<'LifecycleHookContext.IgnoredLifecycleHookIds'>;
export type WireStandbyParams = {
  RegionId: string;
  ScalingGroupId: string;
  ClientToken?: string;
} & Indexed<'InstanceId'>;

// ---------- ESS 2014-08-28 lifecycle hooks ----------

export interface WireLifecycleHook {
  ScalingGroupId: string;
  LifecycleHookId: string;
  LifecycleHookName: string;
  /** `CONTINUE`, `ABANDON` or `ROLLBACK`. */
  DefaultResult: string;
  /** Seconds. */
  HeartbeatTimeout: number;
  LifecycleTransition: 'SCALE_IN' | 'SCALE_OUT' | (string & {});
  NotificationMetadata?: string;
  /** `acs:ess:{region}:{account}:null/null` when the hook notifies nothing. */
  NotificationArn?: string;
  /** `Active` or `InActive` (newer models; absent from older answers). */
  LifecycleHookStatus?: string;
}

export interface WireLifecycleAction {
  LifecycleActionToken: string;
  LifecycleHookId: string;
  LifecycleActionStatus: 'Pending' | 'Timeout' | 'Completed' | (string & {});
  LifecycleActionResult?: string;
  InstanceIds: Wrapped<'InstanceId', string>;
}

export interface WireDescribeLifecycleHooksResponse extends WireResponse, WirePage {
  LifecycleHooks: Wrapped<'LifecycleHook', WireLifecycleHook>;
}
export interface WireDescribeLifecycleActionsResponse extends WireResponse {
  TotalCount: number;
  MaxResults: number;
  /** Absent or empty on the last page. */
  NextToken?: string;
  LifecycleActions: Wrapped<'LifecycleAction', WireLifecycleAction>;
}
export interface WireCreateLifecycleHookResponse extends WireResponse {
  LifecycleHookId: string;
}

export type WireDescribeLifecycleHooksParams = {
  RegionId: string;
  ScalingGroupId?: string;
  LifecycleHookName?: string;
  PageNumber?: string;
  PageSize?: string;
} & Indexed<'LifecycleHookId'>;
export type WireDescribeLifecycleActionsParams = {
  RegionId: string;
  ScalingActivityId: string;
  LifecycleActionStatus?: string;
  NextToken?: string;
  MaxResults?: string;
};
export type WireCompleteLifecycleActionParams = {
  RegionId: string;
  LifecycleHookId: string;
  LifecycleActionToken: string;
  LifecycleActionResult?: string;
  ClientToken?: string;
};

// ---------- CLB (SLB) 2014-05-15 ----------

/** One entry of the `BackendServers` JSON-string parameter. Port only for vserver groups. */
export interface WireClbBackendServerParam {
  ServerId: string;
  Weight: string;
  Type: 'ecs' | 'eni' | 'eci' | (string & {});
  Port?: string;
  Description?: string;
}

export interface WireClbBackendServer {
  ServerId: string;
  Weight: number;
  Type: string;
  ServerIp?: string;
  Description?: string;
}

export interface WireDescribeLoadBalancerAttributeResponse extends WireResponse {
  LoadBalancerId: string;
  LoadBalancerName?: string;
  LoadBalancerStatus: 'active' | 'inactive' | 'locked' | (string & {});
  RegionId?: string;
  Address?: string;
  AddressType?: string;
  NetworkType?: string;
  VpcId?: string;
  VSwitchId?: string;
  ListenerPorts?: Wrapped<'ListenerPort', number>;
  BackendServers: Wrapped<'BackendServer', WireClbBackendServer>;
}

export interface WireSetBackendServersResponse extends WireResponse {
  LoadBalancerId: string;
  /** Weight comes back as a string here, unlike DescribeLoadBalancerAttribute. */
  BackendServers: Wrapped<'BackendServer', Omit<WireClbBackendServer, 'Weight'> & { Weight: string }>;
}

export interface WireVServerGroupBackendServer {
  ServerId: string;
  Port: number;
  Weight: number;
  Type: string;
  ServerIp?: string;
  Description?: string;
}

export interface WireSetVServerGroupAttributeResponse extends WireResponse {
  VServerGroupId: string;
  VServerGroupName: string;
  BackendServers: Wrapped<'BackendServer', WireVServerGroupBackendServer>;
}

export interface WireDescribeVServerGroupAttributeResponse extends WireSetVServerGroupAttributeResponse {
  LoadBalancerId: string;
}

export interface WireHealthBackendServer {
  ServerId: string;
  ServerIp: string;
  Port: number;
  ListenerPort: number;
  Protocol: string;
  ServerHealthStatus: 'normal' | 'abnormal' | 'unavailable' | (string & {});
}

export interface WireDescribeHealthStatusResponse extends WireResponse {
  BackendServers: Wrapped<'BackendServer', WireHealthBackendServer>;
}

// Request parameter shapes are type aliases (not interfaces) so they stay assignable to string records.
export type WireSetBackendServersParams = {
  RegionId: string;
  LoadBalancerId: string;
  /** JSON array of WireClbBackendServerParam, at most 20 entries. */
  BackendServers: string;
};
export type WireSetVServerGroupAttributeParams = {
  RegionId: string;
  VServerGroupId: string;
  VServerGroupName?: string;
  /** JSON array of WireClbBackendServerParam (with Port), at most 20 entries. */
  BackendServers: string;
};
export type WireLoadBalancerParams = { RegionId: string; LoadBalancerId: string };
export type WireVServerGroupParams = { RegionId: string; VServerGroupId: string };

// ---------- ALB 2020-06-16 ----------

export interface WireAlbServer {
  ServerId: string;
  ServerType: 'Ecs' | 'Eni' | 'Eci' | 'Ip' | 'Fc' | (string & {});
  Port: number;
  Weight: number;
  Status: 'Adding' | 'Available' | 'Configuring' | 'Removing' | (string & {});
  ServerIp?: string;
  ServerGroupId?: string;
  Description?: string;
  RemoteIpEnabled?: boolean;
}

export interface WireListServerGroupServersResponse extends WireResponse {
  Servers: WireAlbServer[];
  /** Empty or absent on the last page. */
  NextToken?: string;
  MaxResults: number;
  TotalCount: number;
}

export interface WireUpdateServerGroupServersAttributeResponse extends WireResponse {
  JobId: string;
}

export interface WireAlbJob {
  Id: string;
  ApiName: string;
  ResourceId: string;
  ResourceType?: string;
  OperateType?: 'Create' | 'Update' | 'Delete' | (string & {});
  Status: 'Succeeded' | 'Failed' | 'Processing' | (string & {});
  ErrorCode?: string;
  ErrorMessage?: string;
  /** Milliseconds since the epoch. */
  CreateTime?: number;
  ModifyTime?: number;
}

export interface WireListAsynJobsResponse extends WireResponse {
  Jobs: WireAlbJob[];
  NextToken?: string;
  MaxResults?: number;
  TotalCount?: number;
}

export type WireListServerGroupServersParams = {
  ServerGroupId: string;
  NextToken?: string;
  MaxResults?: string;
} & Indexed<'ServerIds'>;
/** In the query; the servers themselves travel in the form body as `Servers.N.*`. */
export type WireUpdateServerGroupServersAttributeQuery = {
  ServerGroupId: string;
  ClientToken?: string;
  DryRun?: WireBool;
};
export type WireUpdateServerGroupServersAttributeBody = {
  [K in `Servers.${number}.${'ServerId' | 'ServerType' | 'Port' | 'Weight' | 'ServerIp' | 'Description'}`]?: string;
};
export type WireListAsynJobsParams = { NextToken?: string; MaxResults?: string } & Indexed<'JobIds'> &
  Indexed<'ResourceIds'>;

// ---------- NLB 2022-04-30 ----------
// Every parameter travels in the form body (the official SDKs send NLB calls as POST formData).

export interface WireNlbServer {
  ServerId: string;
  ServerType: 'Ecs' | 'Eni' | 'Eci' | 'Ip' | (string & {});
  Port: number;
  Weight: number;
  Status: 'Adding' | 'Available' | 'Configuring' | 'Removing' | (string & {});
  ServerIp?: string;
  ServerGroupId?: string;
  Description?: string;
  ZoneId?: string;
}

export interface WireNlbListServerGroupServersResponse extends WireResponse {
  Servers: WireNlbServer[];
  /** Empty or absent on the last page. */
  NextToken?: string;
  MaxResults: number;
  TotalCount: number;
}

export interface WireNlbUpdateServerGroupServersAttributeResponse extends WireResponse {
  ServerGroupId?: string;
  JobId: string;
}

export interface WireNlbGetJobStatusResponse extends WireResponse {
  /** `Succeeded` or `Processing` per the reference; anything else is treated as an unfinished job. */
  Status: 'Succeeded' | 'Processing' | (string & {});
}

export type WireNlbListServerGroupServersParams = {
  RegionId: string;
  ServerGroupId: string;
  NextToken?: string;
  MaxResults?: string;
} & Indexed<'ServerIds'>;
export type WireNlbUpdateServerGroupServersAttributeParams = {
  RegionId: string;
  ServerGroupId: string;
  ClientToken?: string;
  DryRun?: WireBool;
} & {
  [K in `Servers.${number}.${'ServerId' | 'ServerType' | 'Port' | 'Weight' | 'ServerIp' | 'Description'}`]?: string;
};
export type WireNlbGetJobStatusParams = { RegionId: string; JobId: string; ClientToken?: string };

// ---------- request shaping ----------

/** `InstanceId.1=a&InstanceId.2=b`: the 2014-08-28 list form (1-based). */
export function flattenList<P extends string>(name: P, values: readonly string[]): Indexed<P> {
  const out: Record<string, string> = {};
  values.forEach((v, i) => (out[`${name}.${i + 1}`] = v));
  return out as Indexed<P>;
}

export function wireBool(v: boolean): WireBool {
  return v ? 'true' : 'false';
}

/** Throws a RangeError naming the field when `values` has fewer than `min` or more than `max` items. */
export function checkCount(field: string, values: readonly unknown[], min: number, max: number): void {
  if (values.length < min || values.length > max) {
    throw new RangeError(`${field} must have ${min} to ${max} items, got ${values.length}`);
  }
}

export function checkWeight(field: string, weight: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > 100)
    throw new RangeError(`${field} must be an integer 0..100, got ${weight}`);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The `BackendServers` JSON parameter of SetBackendServers / SetVServerGroupAttribute. */
export function clbBackendServersParam(servers: readonly ClbBackendServer[], withPort: boolean): string {
  const entries: WireClbBackendServerParam[] = servers.map((s, i) => {
    checkWeight(`servers[${i}].weight`, s.weight);
    const entry: WireClbBackendServerParam = { ServerId: s.serverId, Weight: String(s.weight), Type: s.type || 'ecs' };
    if (withPort) {
      if (s.port === undefined) throw new RangeError(`servers[${i}].port is required for a vserver group`);
      entry.Port = String(s.port);
    }
    return entry;
  });
  return JSON.stringify(entries);
}

export function albServersBody(
  servers: ReadonlyArray<Pick<AlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
): WireUpdateServerGroupServersAttributeBody {
  const out: Record<string, string> = {};
  servers.forEach((s, i) => {
    checkWeight(`servers[${i}].weight`, s.weight);
    const n = i + 1;
    out[`Servers.${n}.ServerId`] = s.serverId;
    out[`Servers.${n}.ServerType`] = s.serverType;
    out[`Servers.${n}.Port`] = String(s.port);
    out[`Servers.${n}.Weight`] = String(s.weight);
  });
  return out;
}

/** `Servers.N.*` of NLB's UpdateServerGroupServersAttribute (same shape as ALB's). */
export function nlbServersBody(
  servers: ReadonlyArray<Pick<NlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
): WireUpdateServerGroupServersAttributeBody {
  return albServersBody(servers);
}

// ---------- response decoding ----------

/** A 2xx body that lacks a field the product relies on. Turned into AliyunBadResponseError by the client. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError' as const;
}

/** Unwraps `{Key:[...]}`; also takes a bare array (2022 style) or a lone object (XML-to-JSON artefact). */
export function unwrap<T>(wrapper: unknown, key: string): T[] {
  if (Array.isArray(wrapper)) return wrapper as T[];
  if (wrapper === null || typeof wrapper !== 'object') return [];
  const inner = (wrapper as Record<string, unknown>)[key];
  if (Array.isArray(inner)) return inner as T[];
  return inner === undefined || inner === null ? [] : [inner as T];
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  return typeof v === 'number' ? String(v) : undefined;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new WireFormatError(`missing or malformed ${what}`);
  return value;
}

/** What a converter accepts: the wire shape with every field optional and unchecked. */
export type Loose<T> = { [K in keyof T]?: unknown };

export function toScalingGroup(w: Loose<WireScalingGroup>): ScalingGroup {
  const id = need(str(w.ScalingGroupId), 'ScalingGroupId');
  const field = (name: keyof WireScalingGroup): number => need(num(w[name]), `${name} of scaling group ${id}`);
  const vServerGroups: VServerGroupAttachment[] = unwrap<Loose<WireVServerGroup>>(
    w.VServerGroups,
    'VServerGroup',
  ).flatMap((g) =>
    unwrap<Loose<WireVServerGroupAttribute>>(g.VServerGroupAttributes, 'VServerGroupAttribute').map((a) => ({
      loadBalancerId: str(g.LoadBalancerId) ?? '',
      vServerGroupId: str(a.VServerGroupId) ?? '',
      port: num(a.Port) ?? 0,
      weight: num(a.Weight) ?? 0,
    })),
  );
  const albServerGroups: AlbServerGroupAttachment[] = unwrap<Loose<WireAlbServerGroup>>(
    w.AlbServerGroups,
    'AlbServerGroup',
  ).map((g) => ({
    albServerGroupId: str(g.AlbServerGroupId) ?? '',
    port: num(g.Port) ?? 0,
    weight: num(g.Weight) ?? 0,
  }));
  const { nlbServerGroups, otherServerGroups } = foldServerGroups(w.ServerGroups, albServerGroups);
  return {
    scalingGroupId: id,
    scalingGroupName: str(w.ScalingGroupName) ?? '',
    regionId: str(w.RegionId) ?? '',
    lifecycleState: need(str(w.LifecycleState), `LifecycleState of scaling group ${id}`),
    minSize: field('MinSize'),
    maxSize: field('MaxSize'),
    desiredCapacity: num(w.DesiredCapacity),
    totalCapacity: field('TotalCapacity'),
    activeCapacity: num(w.ActiveCapacity) ?? 0,
    standbyCapacity: num(w.StandbyCapacity) ?? 0,
    protectedCapacity: num(w.ProtectedCapacity) ?? 0,
    removingCapacity: num(w.RemovingCapacity) ?? 0,
    // release is the API's default when the field is absent.
    scalingPolicy: str(w.ScalingPolicy) ?? 'release',
    activeScalingConfigurationId: str(w.ActiveScalingConfigurationId),
    removalPolicies: unwrap<string>(w.RemovalPolicies, 'RemovalPolicy'),
    loadBalancerIds: unwrap<string>(w.LoadBalancerIds, 'LoadBalancerId'),
    vServerGroups,
    albServerGroups,
    nlbServerGroups,
    otherServerGroups,
    dbInstanceIds: unwrap<string>(w.DBInstanceIds, 'DBInstanceId'),
  };
}

/**
 * The generic `ServerGroups` list (AttachServerGroups: ALB, NLB, GWLB): ALB entries are folded into
 * `albServerGroups` once each, NLB entries kept apart, and every other type kept as it is, so that
 * preflight can name an attachment the product cannot drain instead of dropping it.
 */
function foldServerGroups(
  wrapper: unknown,
  albServerGroups: AlbServerGroupAttachment[],
): { nlbServerGroups: NlbServerGroupAttachment[]; otherServerGroups: OtherServerGroupAttachment[] } {
  const nlbServerGroups: NlbServerGroupAttachment[] = [];
  const otherServerGroups: OtherServerGroupAttachment[] = [];
  for (const g of unwrap<Loose<WireServerGroup>>(wrapper, 'ServerGroup')) {
    const id = str(g.ServerGroupId) ?? '';
    const port = num(g.Port) ?? 0;
    const weight = num(g.Weight) ?? 0;
    const type = (str(g.Type) ?? '').toUpperCase();
    if (type === 'ALB') {
      if (!albServerGroups.some((a) => a.albServerGroupId === id && a.port === port))
        albServerGroups.push({ albServerGroupId: id, port, weight });
    } else if (type === 'NLB') {
      if (!nlbServerGroups.some((a) => a.nlbServerGroupId === id && a.port === port))
        nlbServerGroups.push({ nlbServerGroupId: id, port, weight });
    } else otherServerGroups.push({ serverGroupId: id, type: str(g.Type) ?? '', port, weight });
  }
  return { nlbServerGroups, otherServerGroups };
}

export function toScalingInstance(w: Loose<WireScalingInstance>): ScalingInstance {
  const id = need(str(w.InstanceId), 'InstanceId');
  return {
    instanceId: id,
    scalingGroupId: str(w.ScalingGroupId) ?? '',
    scalingConfigurationId: str(w.ScalingConfigurationId),
    scalingActivityId: str(w.ScalingActivityId),
    lifecycleState: need(str(w.LifecycleState), `LifecycleState of instance ${id}`),
    healthStatus: str(w.HealthStatus) ?? '',
    creationType: str(w.CreationType) ?? '',
    creationTime: str(w.CreationTime) ?? str(w.CreatedTime) ?? '',
    entrusted: w.Entrusted === true || w.Entrusted === 'true',
    zoneId: str(w.ZoneId),
  };
}

export function toScalingActivity(w: Loose<WireScalingActivity>): ScalingActivity {
  const id = need(str(w.ScalingActivityId), 'ScalingActivityId');
  const items = unwrap<Loose<WireActivityErrorMessage>>(w.ErrorMessages, 'ErrorMessagesItem');
  const instanceErrors = items.map((m) => ({
    code: str(m.Code) ?? '',
    message: str(m.Message) ?? '',
    instanceIds: unwrap<string>(m.FailedInstanceIds, 'FailedInstanceIds'),
  }));
  const failed = instanceErrors.flatMap((e) => e.instanceIds);
  return {
    scalingActivityId: id,
    scalingGroupId: str(w.ScalingGroupId) ?? '',
    statusCode: need(str(w.StatusCode), `StatusCode of activity ${id}`),
    statusMessage: str(w.StatusMessage) ?? '',
    progress: num(w.Progress) ?? 0,
    description: str(w.Description) ?? '',
    cause: str(w.Cause) ?? '',
    startTime: str(w.StartTime) ?? '',
    endTime: str(w.EndTime),
    totalCapacity: num(w.TotalCapacity),
    errorCode: str(w.ErrorCode),
    errorMessage: str(w.ErrorMessage),
    failedInstanceIds: [...new Set(failed)],
    instanceErrors,
    destroyedInstanceIds: unwrap<string>(w.DestroyedInstances, 'DestroyedInstance'),
    stoppedInstanceIds: unwrap<string>(w.StoppedInstances, 'StoppedInstance'),
  };
}

/** The ARN DescribeLifecycleHooks reports for a hook that notifies nothing. */
const NO_NOTIFICATION_ARN = /^acs:ess:[^:]*:[^:]*:null\/null$/;

export function toLifecycleHook(w: Loose<WireLifecycleHook>): LifecycleHook {
  const id = need(str(w.LifecycleHookId), 'LifecycleHookId');
  const arn = str(w.NotificationArn);
  return {
    lifecycleHookId: id,
    lifecycleHookName: str(w.LifecycleHookName) ?? id,
    scalingGroupId: str(w.ScalingGroupId) ?? '',
    lifecycleTransition: need(str(w.LifecycleTransition), `LifecycleTransition of lifecycle hook ${id}`),
    heartbeatTimeout: need(num(w.HeartbeatTimeout), `HeartbeatTimeout of lifecycle hook ${id}`),
    // CONTINUE is the API's default when the field is absent.
    defaultResult: str(w.DefaultResult) ?? 'CONTINUE',
    notificationArn: arn === undefined || NO_NOTIFICATION_ARN.test(arn) ? undefined : arn,
    notificationMetadata: str(w.NotificationMetadata),
    lifecycleHookStatus: str(w.LifecycleHookStatus),
  };
}

export function toLifecycleAction(w: Loose<WireLifecycleAction>): LifecycleAction {
  const token = need(str(w.LifecycleActionToken), 'LifecycleActionToken');
  return {
    lifecycleActionToken: token,
    lifecycleHookId: need(str(w.LifecycleHookId), `LifecycleHookId of lifecycle action ${token}`),
    lifecycleActionStatus: need(str(w.LifecycleActionStatus), `LifecycleActionStatus of lifecycle action ${token}`),
    lifecycleActionResult: str(w.LifecycleActionResult),
    instanceIds: unwrap<string>(w.InstanceIds, 'InstanceId'),
  };
}

export function toClbBackendServer(w: Loose<WireVServerGroupBackendServer>): ClbBackendServer {
  return {
    serverId: need(str(w.ServerId), 'ServerId of backend server'),
    weight: need(num(w.Weight), `Weight of backend server ${String(w.ServerId)}`),
    type: str(w.Type) ?? 'ecs',
    port: num(w.Port),
  };
}

export function toClbHealth(w: Loose<WireHealthBackendServer>): ClbHealth {
  return {
    serverId: need(str(w.ServerId), 'ServerId of health entry'),
    port: num(w.Port),
    listenerPort: num(w.ListenerPort),
    serverHealthStatus: str(w.ServerHealthStatus) ?? '',
  };
}

export function toAlbServer(w: Loose<WireAlbServer>): AlbServer {
  const id = need(str(w.ServerId), 'ServerId of ALB server');
  return {
    serverId: id,
    serverType: str(w.ServerType) ?? '',
    port: need(num(w.Port), `Port of ALB server ${id}`),
    weight: need(num(w.Weight), `Weight of ALB server ${id}`),
    status: str(w.Status) ?? '',
    serverIp: str(w.ServerIp),
  };
}

export function toAlbJob(w: Loose<WireAlbJob>): AlbJob {
  const id = need(str(w.Id), 'Id of ALB job');
  return {
    id,
    apiName: str(w.ApiName) ?? '',
    resourceId: str(w.ResourceId) ?? '',
    status: need(str(w.Status), `Status of ALB job ${id}`),
    errorCode: str(w.ErrorCode),
    errorMessage: str(w.ErrorMessage),
  };
}

export function toNlbServer(w: Loose<WireNlbServer>): NlbServer {
  const id = need(str(w.ServerId), 'ServerId of NLB server');
  return {
    serverId: id,
    serverType: str(w.ServerType) ?? '',
    port: need(num(w.Port), `Port of NLB server ${id}`),
    weight: need(num(w.Weight), `Weight of NLB server ${id}`),
    status: str(w.Status) ?? '',
    serverIp: str(w.ServerIp),
  };
}

/** The RequestId every 2xx body carries. */
export function requestIdOf(w: { RequestId?: unknown }): string {
  return need(str(w.RequestId), 'RequestId');
}

/**
 * An operation split into several calls (chunks, pages) has several RequestIds; all are kept,
 * comma-separated, so the audit trail can name every call.
 */
export function joinRequestIds(ids: readonly string[]): string {
  return [...new Set(ids)].join(',');
}
