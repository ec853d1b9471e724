/**
 * The emulated cloud: scaling groups, instances, CLB / ALB backends, RDS instances, scaling
 * activities, ALB jobs, and what happened to every ECS instance that left a group.
 *
 * Time-driven work (activity phases, ALB jobs) is kept as due times; `advance()` runs everything
 * that is due, in due-time order. It runs before every request and from one unref'd timer, so a
 * Describe right after a due time always sees the finished state even if the timer is late.
 */
import { apiError } from './api-error';
import { FaultInjector } from './faults';
import { minuteStamp, newActivityId, newJobId, privateIpFor, secondStamp } from './ids';
import { DEFAULT_TIMINGS, expandInstances } from './scenario';
import type {
  ActivityOutcomeRule,
  ActivitySnapshot,
  BackendRef,
  CallLogEntry,
  CallLogFilter,
  EcsRecord,
  EmulatorStateSnapshot,
  GroupSnapshot,
  InstanceSnapshot,
  Scenario,
  ScenarioAlbServerGroupAttachment,
  ScenarioVServerGroupAttachment,
} from './types';

// ---------------------------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------------------------

export interface GroupState {
  id: string;
  name: string;
  regionId: string;
  lifecycleState: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number | undefined;
  scalingPolicy: string;
  removalPolicies: string[];
  loadBalancerIds: string[];
  vServerGroups: Array<Required<ScenarioVServerGroupAttachment>>;
  albServerGroups: Array<Required<ScenarioAlbServerGroupAttachment>>;
  dbInstanceIds: string[];
  defaultCooldown: number;
  activeScalingConfigurationId: string;
  creationMs: number;
}

export interface InstanceState {
  id: string;
  scalingGroupId: string;
  lifecycleState: string;
  creationType: string;
  creationMs: number;
  scalingConfigurationId: string | undefined;
  scalingActivityId: string | undefined;
  healthStatus: string;
  zoneId: string;
  weight: number;
  entrusted: boolean;
  privateIp: string;
  /** Set by EnterStandby: the attached-LB weights to restore on ExitStandby. */
  standbySaved: BackendRef[] | undefined;
}

export interface ClbBackend {
  serverId: string;
  weight: number;
  type: string;
}

export interface VsgBackend extends ClbBackend {
  port: number;
}

export interface VsgState {
  id: string;
  name: string;
  loadBalancerId: string;
  /** Keyed `serverId|port`. */
  backends: Map<string, VsgBackend>;
}

export interface ListenerState {
  port: number;
  protocol: string;
  vServerGroupId: string | undefined;
}

export interface ClbState {
  id: string;
  name: string;
  regionId: string;
  status: string;
  backends: Map<string, ClbBackend>;
  vServerGroups: Map<string, VsgState>;
  listeners: ListenerState[];
  /** ServerHealthStatus overrides; `normal` otherwise. */
  health: Map<string, string>;
  address: string;
}

export interface AlbServerState {
  serverId: string;
  serverType: string;
  port: number;
  weight: number;
  /** Jobs in flight that touch this server; Status is `Configuring` while > 0. */
  pendingJobs: number;
}

export interface AlbGroupState {
  id: string;
  name: string;
  regionId: string;
  /** Keyed `serverId|port`. */
  servers: Map<string, AlbServerState>;
}

export interface JobState {
  id: string;
  apiName: string;
  resourceId: string;
  status: 'Processing' | 'Succeeded' | 'Failed';
  createMs: number;
  modifyMs: number;
  dueMs: number;
  updates: Array<{ key: string; weight: number | undefined }>;
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

interface SavedInstance {
  prevState: string;
  prevActivityId: string | undefined;
  backends: BackendRef[];
}

export interface ActivityState {
  id: string;
  groupId: string;
  kind: 'RemoveInstances' | 'Injected';
  status: 'InProgress' | 'Successful' | 'Warning' | 'Failed' | 'Rejected';
  statusMessage: string;
  description: string;
  cause: string;
  startMs: number;
  endMs: number | undefined;
  drainDueMs: number;
  endDueMs: number;
  phase: 'draining' | 'deregistered' | 'done';
  instanceIds: string[];
  failIds: Set<string>;
  ignoredIds: string[];
  removePolicy: string;
  decreaseDesired: boolean;
  /** Final status chosen at creation (from scenario outcome rules), applied at the end. */
  plannedStatus: 'Successful' | 'Warning' | 'Failed';
  errorCode: string | undefined;
  errorMessage: string | undefined;
  saved: Map<string, SavedInstance>;
  removedIds: string[];
  releasedIds: string[];
  stoppedIds: string[];
  /** Group capacity snapshot at the end (while InProgress: computed live). */
  totals: { total: number; attached: number; autoCreated: number } | undefined;
}

export interface Timings {
  activityDurationMs: number;
  essDrainWaitMs: number;
  albJobDurationMs: number;
}

export interface RemovalRequest {
  group: GroupState;
  instanceIds: string[];
  ignoredIds: string[];
  removePolicy: string;
  decreaseDesired: boolean;
}

const CALL_LOG_LIMIT = 50_000;

/** What every new scaling activity starts with, whatever created it: nothing done yet. */
function activityBookkeeping(): Pick<ActivityState, 'saved' | 'removedIds' | 'releasedIds' | 'stoppedIds' | 'totals'> {
  return { saved: new Map(), removedIds: [], releasedIds: [], stoppedIds: [], totals: undefined };
}

export class EmulatorState {
  scenario: Scenario = {};
  scenarioName = '(empty)';
  regions = new Set<string>();
  groups = new Map<string, GroupState>();
  instances = new Map<string, InstanceState>();
  loadBalancers = new Map<string, ClbState>();
  /** vserver group ID -> CLB ID */
  vsgIndex = new Map<string, string>();
  albGroups = new Map<string, AlbGroupState>();
  dbInstances = new Map<string, { id: string; status: string }>();
  activities = new Map<string, ActivityState>();
  jobs = new Map<string, JobState>();
  ecsRecords: EcsRecord[] = [];
  timings: Timings = { ...DEFAULT_TIMINGS };
  outcomeRules: Array<ActivityOutcomeRule & { remaining: number | undefined }> = [];
  deniedActions = new Set<string>();
  ignoreClientToken = false;
  /** `action|token` -> fingerprint and the result to replay. */
  clientTokens = new Map<string, { fingerprint: string; result: Record<string, string> }>();
  calls: CallLogEntry[] = [];
  /** Fault rules applied to API calls (admin routes are never faulted). */
  readonly faults = new FaultInjector();
  private callSeq = 0;
  /** AccessKeyId -> secret. Never exposed by snapshot(). */
  private accessKeys = new Map<string, string>();
  private fixedAccessKeys: boolean;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private disposed = false;

  constructor(
    readonly timeScale = 1,
    fixedAccessKeys?: Record<string, string>,
    private readonly clock: () => number = Date.now,
  ) {
    this.fixedAccessKeys = fixedAccessKeys !== undefined;
    if (fixedAccessKeys) for (const [id, secret] of Object.entries(fixedAccessKeys)) this.accessKeys.set(id, secret);
  }

  now(): number {
    return this.clock();
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.accessKeys.get(accessKeyId);
  }

  accessKeyIds(): string[] {
    return [...this.accessKeys.keys()];
  }

  /** Durations from the scenario, multiplied by timeScale. */
  scaled(ms: number): number {
    return Math.max(0, Math.round(ms * this.timeScale));
  }

  // -------------------------------------------------------------------------------------------
  // loading
  // -------------------------------------------------------------------------------------------

  /** Replaces the whole state with a (validated) scenario. Clears activities, jobs, tokens and the call log. */
  load(s: Scenario, envAccessKeys?: Record<string, string>): void {
    this.clearTimer();
    this.scenario = s;
    this.scenarioName = s.name ?? '(unnamed)';
    this.groups.clear();
    this.instances.clear();
    this.loadBalancers.clear();
    this.vsgIndex.clear();
    this.albGroups.clear();
    this.dbInstances.clear();
    this.activities.clear();
    this.jobs.clear();
    this.ecsRecords = [];
    this.clientTokens.clear();
    this.calls = [];
    this.callSeq = 0;
    this.faults.clear();
    this.timings = { ...DEFAULT_TIMINGS, ...(s.timings ?? {}) };
    this.outcomeRules = (s.activityOutcomes ?? []).map((r) => ({ ...r, remaining: r.times }));
    this.deniedActions = new Set(s.deniedActions ?? []);
    this.ignoreClientToken = s.ignoreClientToken ?? false;
    if (!this.fixedAccessKeys) {
      const keys = s.accessKeys ?? envAccessKeys;
      if (keys) {
        this.accessKeys.clear();
        for (const [id, secret] of Object.entries(keys)) this.accessKeys.set(id, secret);
      }
    }

    this.regions = new Set(s.regions ?? []);
    let lbIndex = 0;
    for (const lb of s.loadBalancers ?? []) {
      lbIndex++;
      this.regions.add(lb.regionId);
      const clb: ClbState = {
        id: lb.id,
        name: lb.name ?? lb.id,
        regionId: lb.regionId,
        status: lb.status ?? 'active',
        backends: new Map(),
        vServerGroups: new Map(),
        listeners: (lb.listeners ?? [{ port: 80 }]).map((l) => ({
          port: l.port,
          protocol: l.protocol ?? 'http',
          vServerGroupId: l.vServerGroupId,
        })),
        health: new Map(Object.entries(lb.health ?? {})),
        address: `192.168.${lbIndex & 255}.${(lbIndex >> 8) + 100}`,
      };
      for (const b of lb.backendServers ?? [])
        clb.backends.set(b.serverId, { serverId: b.serverId, weight: b.weight ?? 100, type: b.type ?? 'ecs' });
      for (const g of lb.vServerGroups ?? []) {
        const vsg: VsgState = { id: g.id, name: g.name ?? g.id, loadBalancerId: lb.id, backends: new Map() };
        for (const b of g.backendServers ?? []) {
          vsg.backends.set(`${b.serverId}|${b.port}`, {
            serverId: b.serverId,
            port: b.port,
            weight: b.weight ?? 100,
            type: b.type ?? 'ecs',
          });
        }
        clb.vServerGroups.set(g.id, vsg);
        this.vsgIndex.set(g.id, lb.id);
      }
      this.loadBalancers.set(lb.id, clb);
    }
    for (const g of s.albServerGroups ?? []) {
      this.regions.add(g.regionId);
      const alb: AlbGroupState = { id: g.id, name: g.name ?? g.id, regionId: g.regionId, servers: new Map() };
      for (const sv of g.servers ?? []) {
        alb.servers.set(`${sv.serverId}|${sv.port}`, {
          serverId: sv.serverId,
          serverType: sv.serverType ?? 'Ecs',
          port: sv.port,
          weight: sv.weight ?? 100,
          pendingJobs: 0,
        });
      }
      this.albGroups.set(g.id, alb);
    }
    for (const d of s.dbInstances ?? []) this.dbInstances.set(d.id, { id: d.id, status: d.status ?? 'Running' });
    for (const g of s.scalingGroups ?? []) {
      this.regions.add(g.regionId);
      this.groups.set(g.id, {
        id: g.id,
        name: g.name ?? g.id,
        regionId: g.regionId,
        lifecycleState: g.lifecycleState ?? 'Active',
        minSize: g.minSize ?? 0,
        maxSize: g.maxSize ?? 2000,
        desiredCapacity: g.desiredCapacity,
        scalingPolicy: g.scalingPolicy ?? 'release',
        removalPolicies: g.removalPolicies ?? ['OldestScalingConfiguration', 'OldestInstance'],
        loadBalancerIds: g.loadBalancerIds ?? [],
        vServerGroups: (g.vServerGroups ?? []).map((v) => ({ ...v, weight: v.weight ?? 100 })),
        albServerGroups: (g.albServerGroups ?? []).map((v) => ({ ...v, weight: v.weight ?? 100 })),
        dbInstanceIds: g.dbInstanceIds ?? [],
        defaultCooldown: g.defaultCooldown ?? 300,
        activeScalingConfigurationId: g.activeScalingConfigurationId ?? `asc-${g.id.replace(/^asg-/, '')}`,
        creationMs: Date.parse(g.creationTime ?? '2024-01-01T00:00:00Z'),
      });
    }
    let n = 0;
    for (const si of expandInstances(s)) {
      const group = this.groups.get(si.scalingGroupId);
      const inst: InstanceState = {
        id: si.id,
        scalingGroupId: si.scalingGroupId,
        lifecycleState: si.lifecycleState ?? 'InService',
        creationType: si.creationType ?? 'AutoCreated',
        creationMs: si.creationTime ? Date.parse(si.creationTime) : (group?.creationMs ?? 0),
        scalingConfigurationId:
          si.scalingConfigurationId ??
          (si.creationType === 'Attached' ? undefined : `asc-${si.scalingGroupId.replace(/^asg-/, '')}`),
        scalingActivityId: si.scalingActivityId,
        healthStatus: si.healthStatus ?? 'Healthy',
        zoneId: si.zoneId ?? `${group?.regionId ?? 'cn-hangzhou'}-h`,
        weight: si.weight ?? 50,
        entrusted: si.entrusted ?? false,
        privateIp: si.privateIp ?? privateIpFor(n++),
        standbySaved: undefined,
      };
      this.instances.set(inst.id, inst);
      const a = si.attachTo;
      if (a) {
        const weight = a.weight ?? 100;
        const port = a.port ?? 80;
        for (const lbId of a.loadBalancerIds ?? []) {
          this.loadBalancers.get(lbId)?.backends.set(inst.id, { serverId: inst.id, weight, type: 'ecs' });
        }
        for (const vsgId of a.vServerGroupIds ?? []) {
          this.vsg(vsgId)?.backends.set(`${inst.id}|${port}`, { serverId: inst.id, port, weight, type: 'ecs' });
        }
        for (const sg of a.albServerGroupIds ?? []) {
          this.albGroups
            .get(sg)
            ?.servers.set(`${inst.id}|${port}`, { serverId: inst.id, serverType: 'Ecs', port, weight, pendingJobs: 0 });
        }
      }
    }
  }

  vsg(id: string): VsgState | undefined {
    const lbId = this.vsgIndex.get(id);
    return lbId === undefined ? undefined : this.loadBalancers.get(lbId)?.vServerGroups.get(id);
  }

  // -------------------------------------------------------------------------------------------
  // call log
  // -------------------------------------------------------------------------------------------

  nextCallSeq(): number {
    return ++this.callSeq;
  }

  logCall(entry: CallLogEntry): void {
    this.calls.push(entry);
    if (this.calls.length > CALL_LOG_LIMIT) this.calls.splice(0, this.calls.length - CALL_LOG_LIMIT);
  }

  callLog(filter: CallLogFilter = {}): CallLogEntry[] {
    return this.calls.filter(
      (c) =>
        (filter.action === undefined || c.action === filter.action) &&
        (filter.outcome === undefined || c.outcome === filter.outcome) &&
        (filter.sinceSeq === undefined || c.seq > filter.sinceSeq),
    );
  }

  clearCalls(): void {
    this.calls = [];
  }

  // -------------------------------------------------------------------------------------------
  // derived values
  // -------------------------------------------------------------------------------------------

  groupInstances(groupId: string): InstanceState[] {
    const out: InstanceState[] = [];
    for (const i of this.instances.values()) if (i.scalingGroupId === groupId) out.push(i);
    return out;
  }

  capacities(groupId: string): {
    total: number;
    active: number;
    standby: number;
    protected: number;
    removing: number;
    removingWait: number;
    pending: number;
    pendingWait: number;
    attached: number;
    autoCreated: number;
  } {
    const c = {
      total: 0,
      active: 0,
      standby: 0,
      protected: 0,
      removing: 0,
      removingWait: 0,
      pending: 0,
      pendingWait: 0,
      attached: 0,
      autoCreated: 0,
    };
    for (const i of this.instances.values()) {
      if (i.scalingGroupId !== groupId) continue;
      c.total++;
      if (i.creationType === 'Attached') c.attached++;
      else if (i.creationType === 'AutoCreated') c.autoCreated++;
      switch (i.lifecycleState) {
        case 'InService':
          c.active++;
          break;
        case 'Standby':
          c.standby++;
          break;
        case 'Protected':
          c.protected++;
          break;
        case 'Removing':
          c.removing++;
          break;
        case 'Removing:Wait':
          c.removingWait++;
          break;
        case 'Pending':
          c.pending++;
          break;
        case 'Pending:Wait':
          c.pendingWait++;
          break;
      }
    }
    return c;
  }

  inProgressActivity(groupId: string): ActivityState | undefined {
    for (const a of this.activities.values()) if (a.groupId === groupId && a.status === 'InProgress') return a;
    return undefined;
  }

  progressOf(a: ActivityState, now = this.now()): number {
    if (a.status === 'Rejected') return 0;
    if (a.status !== 'InProgress') return 100;
    const span = a.endDueMs - a.startMs;
    if (span <= 0) return 99;
    return Math.max(0, Math.min(99, Math.floor(((now - a.startMs) / span) * 100)));
  }

  /** The backends ESS manages for this instance: the group's attached CLBs, vserver groups (at the attached port) and ALB groups. */
  attachedBackends(group: GroupState, instanceId: string): BackendRef[] {
    const out: BackendRef[] = [];
    for (const lbId of group.loadBalancerIds) {
      const b = this.loadBalancers.get(lbId)?.backends.get(instanceId);
      if (b) out.push({ kind: 'clb', resourceId: lbId, serverId: instanceId, weight: b.weight, type: b.type });
    }
    for (const att of group.vServerGroups) {
      const b = this.vsg(att.vServerGroupId)?.backends.get(`${instanceId}|${att.port}`);
      if (b)
        out.push({
          kind: 'vsg',
          resourceId: att.loadBalancerId,
          vServerGroupId: att.vServerGroupId,
          serverId: instanceId,
          port: att.port,
          weight: b.weight,
          type: b.type,
        });
    }
    for (const att of group.albServerGroups) {
      const s = this.albGroups.get(att.albServerGroupId)?.servers.get(`${instanceId}|${att.port}`);
      if (s)
        out.push({
          kind: 'alb',
          resourceId: att.albServerGroupId,
          serverId: instanceId,
          port: att.port,
          weight: s.weight,
          type: s.serverType,
        });
    }
    return out;
  }

  /** Sets the weight of an existing backend; with `readd`, registers it again if it is gone. */
  private applyBackend(ref: BackendRef, weight: number, readd: boolean): void {
    if (ref.kind === 'clb') {
      const lb = this.loadBalancers.get(ref.resourceId);
      const b = lb?.backends.get(ref.serverId);
      if (b) b.weight = weight;
      else if (lb && readd) lb.backends.set(ref.serverId, { serverId: ref.serverId, weight, type: ref.type });
    } else if (ref.kind === 'vsg') {
      const vsg = this.vsg(ref.vServerGroupId ?? '');
      const key = `${ref.serverId}|${ref.port ?? 0}`;
      const b = vsg?.backends.get(key);
      if (b) b.weight = weight;
      else if (vsg && readd)
        vsg.backends.set(key, { serverId: ref.serverId, port: ref.port ?? 0, weight, type: ref.type });
    } else {
      const g = this.albGroups.get(ref.resourceId);
      const key = `${ref.serverId}|${ref.port ?? 0}`;
      const s = g?.servers.get(key);
      if (s) s.weight = weight;
      else if (g && readd)
        g.servers.set(key, {
          serverId: ref.serverId,
          serverType: ref.type,
          port: ref.port ?? 0,
          weight,
          pendingJobs: 0,
        });
    }
  }

  private removeBackend(ref: BackendRef): void {
    if (ref.kind === 'clb') this.loadBalancers.get(ref.resourceId)?.backends.delete(ref.serverId);
    else if (ref.kind === 'vsg')
      this.vsg(ref.vServerGroupId ?? '')?.backends.delete(`${ref.serverId}|${ref.port ?? 0}`);
    else this.albGroups.get(ref.resourceId)?.servers.delete(`${ref.serverId}|${ref.port ?? 0}`);
  }

  /** A released ECS instance disappears from every load balancer, attached to the group or not. */
  private purgeEverywhere(instanceId: string): void {
    for (const lb of this.loadBalancers.values()) {
      lb.backends.delete(instanceId);
      lb.health.delete(instanceId);
      for (const vsg of lb.vServerGroups.values())
        for (const [k, b] of vsg.backends) if (b.serverId === instanceId) vsg.backends.delete(k);
    }
    for (const g of this.albGroups.values())
      for (const [k, s] of g.servers) if (s.serverId === instanceId) g.servers.delete(k);
  }

  // -------------------------------------------------------------------------------------------
  // ESS mutations
  // -------------------------------------------------------------------------------------------

  /** The first scenario outcome rule matching these instances (consumes one `times`). */
  private takeOutcome(ids: string[]): (ActivityOutcomeRule & { remaining: number | undefined }) | undefined {
    for (const r of this.outcomeRules) {
      if (r.remaining !== undefined && r.remaining <= 0) continue;
      const match = r.match?.instanceIds;
      if (match && !ids.some((id) => match.includes(id))) continue;
      if (r.remaining !== undefined) r.remaining--;
      return r;
    }
    return undefined;
  }

  /** Accepts a RemoveInstances call that passed validation; returns the new activity. */
  startRemoval(req: RemovalRequest): ActivityState {
    const now = this.now();
    const n = req.instanceIds.length;
    const rule = this.takeOutcome(req.instanceIds);
    const duration = this.scaled(this.timings.activityDurationMs);
    const drain = Math.min(this.scaled(this.timings.essDrainWaitMs), duration);
    const a: ActivityState = {
      id: newActivityId(),
      groupId: req.group.id,
      kind: 'RemoveInstances',
      status: 'InProgress',
      statusMessage: '',
      description: `Remove "${n}" ECS instances`,
      cause: `At ${minuteStamp(now)}, ${n} instance(s) were removed by API call.`,
      startMs: now,
      endMs: undefined,
      drainDueMs: now + drain,
      endDueMs: now + Math.max(duration, drain),
      phase: 'draining',
      instanceIds: [...req.instanceIds],
      failIds: new Set(),
      ignoredIds: [...req.ignoredIds],
      removePolicy: req.removePolicy,
      decreaseDesired: req.decreaseDesired,
      plannedStatus: 'Successful',
      errorCode: undefined,
      errorMessage: undefined,
      ...activityBookkeeping(),
    };
    this.activities.set(a.id, a);

    if (rule?.status === 'Rejected') {
      a.status = 'Rejected';
      a.phase = 'done';
      a.endMs = now;
      a.errorCode = rule.errorCode ?? 'Rejected';
      a.errorMessage = rule.errorMessage ?? 'The scaling activity was rejected.';
      a.statusMessage = a.errorMessage;
      a.totals = this.totalsOf(req.group.id);
      return a;
    }
    if (rule?.status === 'Failed') {
      a.plannedStatus = 'Failed';
      for (const id of a.instanceIds) a.failIds.add(id);
    } else if (rule?.status === 'Warning') {
      const wanted = rule.failInstanceIds ?? rule.match?.instanceIds ?? a.instanceIds.slice(0, 1);
      for (const id of a.instanceIds) if (wanted.includes(id)) a.failIds.add(id);
      a.plannedStatus = a.failIds.size > 0 && a.failIds.size === a.instanceIds.length ? 'Failed' : 'Warning';
    }
    if (rule) {
      a.errorCode = rule.errorCode ?? 'InternalError';
      a.errorMessage =
        rule.errorMessage ?? 'The request processing has failed due to some unknown error, exception or failure.';
    }
    if (a.plannedStatus === 'Successful' && a.ignoredIds.length > 0) a.plannedStatus = 'Warning';

    // ESS stops traffic first: every attached backend of the instance goes to weight 0.
    for (const id of a.instanceIds) {
      const inst = this.instances.get(id);
      if (!inst) continue;
      const backends = this.attachedBackends(req.group, id);
      a.saved.set(id, { prevState: inst.lifecycleState, prevActivityId: inst.scalingActivityId, backends });
      inst.lifecycleState = 'Removing';
      inst.scalingActivityId = a.id;
      for (const ref of backends) this.applyBackend(ref, 0, false);
    }
    this.schedule();
    return a;
  }

  /** Admin: an InProgress activity that only blocks the group for `durationMs`. */
  startInjectedActivity(
    groupId: string,
    durationMs: number,
    finalStatus: 'Successful' | 'Warning' | 'Failed' = 'Successful',
  ): ActivityState {
    const now = this.now();
    const a: ActivityState = {
      id: newActivityId(),
      groupId,
      kind: 'Injected',
      status: 'InProgress',
      statusMessage: '',
      description: 'Add "0" ECS instances',
      cause: `At ${minuteStamp(now)}, a user started a scaling activity (emulator admin).`,
      startMs: now,
      endMs: undefined,
      drainDueMs: now,
      endDueMs: now + Math.max(0, durationMs),
      phase: 'deregistered',
      instanceIds: [],
      failIds: new Set(),
      ignoredIds: [],
      removePolicy: 'release',
      decreaseDesired: false,
      plannedStatus: finalStatus,
      errorCode: finalStatus === 'Successful' ? undefined : 'InternalError',
      errorMessage: finalStatus === 'Successful' ? undefined : 'Injected failure.',
      ...activityBookkeeping(),
    };
    this.activities.set(a.id, a);
    this.schedule();
    return a;
  }

  private totalsOf(groupId: string): { total: number; attached: number; autoCreated: number } {
    const c = this.capacities(groupId);
    return { total: c.total, attached: c.attached, autoCreated: c.autoCreated };
  }

  /** Drain wait over: ESS deregisters the instances from the attached load balancers. */
  private deregister(a: ActivityState): void {
    for (const saved of a.saved.values()) for (const ref of saved.backends) this.removeBackend(ref);
    a.phase = 'deregistered';
  }

  private finish(a: ActivityState, at: number): void {
    const group = this.groups.get(a.groupId);
    for (const id of a.instanceIds) {
      const inst = this.instances.get(id);
      const saved = a.saved.get(id);
      if (!inst || !saved) continue;
      if (a.failIds.has(id)) {
        // Roll back: the instance goes back to where it was, in service and registered again.
        inst.lifecycleState = saved.prevState;
        inst.scalingActivityId = saved.prevActivityId;
        for (const ref of saved.backends) this.applyBackend(ref, ref.weight, true);
        continue;
      }
      const autoManaged = inst.creationType === 'AutoCreated' || inst.entrusted;
      const fate: EcsRecord['fate'] = !autoManaged ? 'detached' : a.removePolicy === 'recycle' ? 'stopped' : 'released';
      this.instances.delete(id);
      if (fate === 'released') {
        this.purgeEverywhere(id);
        a.releasedIds.push(id);
      } else if (fate === 'stopped') a.stoppedIds.push(id);
      a.removedIds.push(id);
      this.ecsRecords.push({
        instanceId: id,
        scalingGroupId: a.groupId,
        fate,
        creationType: inst.creationType,
        scalingActivityId: a.id,
        time: secondStamp(at),
      });
    }
    if (group && a.decreaseDesired && group.desiredCapacity !== undefined) {
      group.desiredCapacity = Math.max(group.minSize, group.desiredCapacity - a.removedIds.length);
    }
    a.status = a.plannedStatus;
    a.phase = 'done';
    a.endMs = at;
    a.totals = this.totalsOf(a.groupId);
    const removed = a.removedIds.length;
    const failed = a.failIds.size;
    if (a.kind === 'Injected') a.statusMessage = a.status === 'Successful' ? '' : (a.errorMessage ?? '');
    else if (a.status === 'Successful') a.statusMessage = `"${removed}" ECS instances are removed.`;
    else if (a.status === 'Warning') {
      const parts = [`"${removed}" ECS instances are removed`];
      if (failed > 0) parts.push(`"${failed}" ECS instances failed to be removed`);
      if (a.ignoredIds.length > 0) parts.push(`"${a.ignoredIds.length}" invalid instance IDs were ignored`);
      a.statusMessage = `${parts.join(', ')}.`;
    } else a.statusMessage = a.errorMessage ?? 'The scaling activity failed.';
  }

  enterStandby(group: GroupState, ids: string[]): void {
    for (const id of ids) {
      const inst = this.instances.get(id);
      if (!inst || inst.lifecycleState === 'Standby') continue;
      const backends = this.attachedBackends(group, id);
      inst.standbySaved = backends;
      inst.lifecycleState = 'Standby';
      for (const ref of backends) this.applyBackend(ref, 0, false);
    }
  }

  exitStandby(ids: string[]): void {
    for (const id of ids) {
      const inst = this.instances.get(id);
      if (!inst || inst.lifecycleState !== 'Standby') continue;
      for (const ref of inst.standbySaved ?? []) this.applyBackend(ref, ref.weight, false);
      inst.standbySaved = undefined;
      inst.lifecycleState = 'InService';
    }
  }

  // -------------------------------------------------------------------------------------------
  // ALB jobs
  // -------------------------------------------------------------------------------------------

  startAlbJob(group: AlbGroupState, updates: Array<{ key: string; weight: number | undefined }>): JobState {
    const now = this.now();
    const job: JobState = {
      id: newJobId(),
      apiName: 'UpdateServerGroupServersAttribute',
      resourceId: group.id,
      status: 'Processing',
      createMs: now,
      modifyMs: now,
      dueMs: now + this.scaled(this.timings.albJobDurationMs),
      updates,
      errorCode: undefined,
      errorMessage: undefined,
    };
    for (const u of updates) {
      const s = group.servers.get(u.key);
      if (s) s.pendingJobs++;
    }
    this.jobs.set(job.id, job);
    this.schedule();
    return job;
  }

  private finishJob(job: JobState, at: number): void {
    const group = this.albGroups.get(job.resourceId);
    const missing = job.updates.filter((u) => !group?.servers.has(u.key));
    if (missing.length > 0) {
      job.status = 'Failed';
      job.errorCode = 'ResourceNotFound.BackendServer';
      job.errorMessage = `The specified resource of BackendServer is not found: ${missing.map((m) => m.key.split('|')[0]).join(', ')}.`;
    } else job.status = 'Succeeded';
    for (const u of job.updates) {
      const s = group?.servers.get(u.key);
      if (!s) continue;
      s.pendingJobs = Math.max(0, s.pendingJobs - 1);
      if (job.status === 'Succeeded' && u.weight !== undefined) s.weight = u.weight;
    }
    job.modifyMs = at;
  }

  // -------------------------------------------------------------------------------------------
  // time
  // -------------------------------------------------------------------------------------------

  private nextEvent(): { due: number; run: (at: number) => void } | undefined {
    let best: { due: number; run: (at: number) => void } | undefined;
    for (const a of this.activities.values()) {
      if (a.status !== 'InProgress') continue;
      const ev =
        a.phase === 'draining'
          ? { due: a.drainDueMs, run: () => this.deregister(a) }
          : { due: a.endDueMs, run: (at: number) => this.finish(a, at) };
      if (!best || ev.due < best.due) best = ev;
    }
    for (const j of this.jobs.values()) {
      if (j.status !== 'Processing') continue;
      if (!best || j.dueMs < best.due) best = { due: j.dueMs, run: (at: number) => this.finishJob(j, at) };
    }
    return best;
  }

  /** Runs everything due by `now`, in due-time order, then re-arms the timer. */
  advance(now = this.now()): void {
    for (;;) {
      const ev = this.nextEvent();
      if (!ev || ev.due > now) break;
      ev.run(ev.due);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.disposed) return;
    const ev = this.nextEvent();
    if (!ev) {
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerDue <= ev.due) return;
    this.clearTimer();
    this.timerDue = ev.due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = Number.POSITIVE_INFINITY;
        this.advance();
      },
      Math.max(0, ev.due - this.now()),
    );
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** Stops the timer for good (on close). */
  dispose(): void {
    this.disposed = true;
    this.clearTimer();
  }

  // -------------------------------------------------------------------------------------------
  // admin patches
  // -------------------------------------------------------------------------------------------

  patchInstance(id: string, patch: Record<string, unknown>): InstanceState {
    const inst = this.instances.get(id);
    if (!inst) throw apiError('InvalidInstanceId.NotFound', `Instance "${id}" does not exist.`);
    if (typeof patch.lifecycleState === 'string') inst.lifecycleState = patch.lifecycleState;
    if (typeof patch.healthStatus === 'string') inst.healthStatus = patch.healthStatus;
    if (typeof patch.creationType === 'string') inst.creationType = patch.creationType;
    if (typeof patch.entrusted === 'boolean') inst.entrusted = patch.entrusted;
    if (typeof patch.weight === 'number') inst.weight = patch.weight;
    if (typeof patch.scalingGroupId === 'string') {
      if (!this.groups.has(patch.scalingGroupId)) throw apiError('InvalidScalingGroupId.NotFound');
      inst.scalingGroupId = patch.scalingGroupId;
    }
    return inst;
  }

  // -------------------------------------------------------------------------------------------
  // snapshot (admin GET /state) -- never contains secrets
  // -------------------------------------------------------------------------------------------

  groupSnapshot(g: GroupState): GroupSnapshot {
    const c = this.capacities(g.id);
    return {
      scalingGroupId: g.id,
      scalingGroupName: g.name,
      regionId: g.regionId,
      lifecycleState: g.lifecycleState,
      minSize: g.minSize,
      maxSize: g.maxSize,
      desiredCapacity: g.desiredCapacity,
      totalCapacity: c.total,
      activeCapacity: c.active,
      standbyCapacity: c.standby,
      protectedCapacity: c.protected,
      removingCapacity: c.removing + c.removingWait,
      pendingCapacity: c.pending + c.pendingWait,
      scalingPolicy: g.scalingPolicy,
      loadBalancerIds: [...g.loadBalancerIds],
      vServerGroups: g.vServerGroups.map((v) => ({ ...v })),
      albServerGroups: g.albServerGroups.map((v) => ({ ...v })),
      dbInstanceIds: [...g.dbInstanceIds],
    };
  }

  activitySnapshot(a: ActivityState): ActivitySnapshot {
    const out: ActivitySnapshot = {
      scalingActivityId: a.id,
      scalingGroupId: a.groupId,
      kind: a.kind,
      statusCode: a.status,
      progress: this.progressOf(a),
      instanceIds: [...a.instanceIds],
      failedInstanceIds: [...a.failIds],
      ignoredInstanceIds: [...a.ignoredIds],
      removePolicy: a.removePolicy,
      startTime: new Date(a.startMs).toISOString(),
    };
    if (a.endMs !== undefined) out.endTime = new Date(a.endMs).toISOString();
    if (a.errorCode !== undefined) out.errorCode = a.errorCode;
    if (a.errorMessage !== undefined) out.errorMessage = a.errorMessage;
    return out;
  }

  snapshot(): EmulatorStateSnapshot {
    const instances: InstanceSnapshot[] = [...this.instances.values()].map((i) => {
      const s: InstanceSnapshot = {
        instanceId: i.id,
        scalingGroupId: i.scalingGroupId,
        lifecycleState: i.lifecycleState,
        creationType: i.creationType,
        healthStatus: i.healthStatus,
        creationTime: new Date(i.creationMs).toISOString(),
        entrusted: i.entrusted,
        zoneId: i.zoneId,
        privateIp: i.privateIp,
      };
      if (i.scalingActivityId !== undefined) s.scalingActivityId = i.scalingActivityId;
      if (i.standbySaved) s.standbySavedWeights = i.standbySaved.map((r) => ({ ...r }));
      return s;
    });
    return {
      scenarioName: this.scenarioName,
      now: new Date(this.now()).toISOString(),
      accessKeyIds: this.accessKeyIds(),
      timeScale: this.timeScale,
      groups: [...this.groups.values()].map((g) => this.groupSnapshot(g)),
      instances,
      loadBalancers: [...this.loadBalancers.values()].map((lb) => ({
        loadBalancerId: lb.id,
        regionId: lb.regionId,
        status: lb.status,
        backendServers: [...lb.backends.values()].map((b) => ({
          serverId: b.serverId,
          weight: b.weight,
          type: b.type,
          health: lb.health.get(b.serverId) ?? 'normal',
        })),
        vServerGroups: [...lb.vServerGroups.values()].map((v) => ({
          vServerGroupId: v.id,
          name: v.name,
          backendServers: [...v.backends.values()].map((b) => ({
            serverId: b.serverId,
            port: b.port,
            weight: b.weight,
            type: b.type,
          })),
        })),
      })),
      albServerGroups: [...this.albGroups.values()].map((g) => {
        const servers = [...g.servers.values()].map((s) => ({
          serverId: s.serverId,
          serverType: s.serverType,
          port: s.port,
          weight: s.weight,
          status: s.pendingJobs > 0 ? 'Configuring' : 'Available',
        }));
        return {
          serverGroupId: g.id,
          regionId: g.regionId,
          status: servers.some((s) => s.status === 'Configuring') ? ('Configuring' as const) : ('Available' as const),
          servers,
        };
      }),
      dbInstances: [...this.dbInstances.values()].map((d) => ({ dbInstanceId: d.id, status: d.status })),
      activities: [...this.activities.values()].map((a) => this.activitySnapshot(a)),
      jobs: [...this.jobs.values()].map((j) => ({
        jobId: j.id,
        apiName: j.apiName,
        resourceId: j.resourceId,
        status: j.status,
        createTime: j.createMs,
        modifyTime: j.modifyMs,
      })),
      ecsRecords: this.ecsRecords.map((r) => ({ ...r })),
    };
  }
}
