/**
 * ESS scaling groups and their instances, plus what happened to every ECS instance that left a
 * group. Membership changes only here: an instance always belongs to an existing group, the
 * group's capacities are counted from its members (so they change with them), and an instance's
 * lifecycle and its load-balancer weights change together (Standby, Removing, roll-back).
 */
import { privateIpFor, secondStamp } from '../ids';
import { expandInstances } from '../scenario';
import { apiError } from '../api-error';
import type {
  BackendRef,
  EcsRecord,
  ExitStandbyWeight,
  GroupSnapshot,
  InstanceSnapshot,
  Scenario,
  ScenarioAlbServerGroupAttachment,
  ScenarioInstance,
  ScenarioNlbServerGroupAttachment,
  ScenarioOtherServerGroupAttachment,
  ScenarioScalingGroup,
  ScenarioVServerGroupAttachment,
} from '../types';
import type { Backends } from './backends';
import type { ReadonlyDeep } from './shared';

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
  nlbServerGroups: Array<Required<ScenarioNlbServerGroupAttachment>>;
  otherServerGroups: ScenarioOtherServerGroupAttachment[];
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
}

export interface Capacities {
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
}

/** The capacity figures a scaling activity reports. */
export type ActivityTotals = Pick<Capacities, 'total' | 'attached' | 'autoCreated'>;

/** An instance as it was before a RemoveInstances activity took it: what a roll-back restores. */
export interface SavedInstance {
  prevState: string;
  prevActivityId: string | undefined;
  backends: BackendRef[];
}

/** Admin patch of a group, already validated. `desiredCapacity: null` clears it. */
export interface GroupPatch {
  lifecycleState?: string | undefined;
  scalingPolicy?: string | undefined;
  minSize?: number | undefined;
  maxSize?: number | undefined;
  desiredCapacity?: number | null | undefined;
}

/** Admin patch of an instance, already validated. */
export interface InstancePatch {
  lifecycleState?: string | undefined;
  healthStatus?: string | undefined;
  creationType?: string | undefined;
  entrusted?: boolean | undefined;
  weight?: number | undefined;
  scalingGroupId?: string | undefined;
}

/** How an instance leaves its group at the end of a RemoveInstances activity. */
export interface Departure {
  groupId: string;
  activityId: string;
  removePolicy: string;
  at: number;
}

/** Which capacity counter each lifecycle state adds to (a Map: states are free-form admin input). */
const LIFECYCLE_COUNTERS = new Map<string, keyof Capacities>([
  ['InService', 'active'],
  ['Standby', 'standby'],
  ['Protected', 'protected'],
  ['Removing', 'removing'],
  ['Removing:Wait', 'removingWait'],
  ['Pending', 'pending'],
  ['Pending:Wait', 'pendingWait'],
]);

function noCapacity(): Capacities {
  return {
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
}

function groupFromScenario(g: ScenarioScalingGroup): GroupState {
  return {
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
    nlbServerGroups: (g.nlbServerGroups ?? []).map((v) => ({ ...v, weight: v.weight ?? 100 })),
    otherServerGroups: (g.otherServerGroups ?? []).map((v) => ({ ...v })),
    dbInstanceIds: g.dbInstanceIds ?? [],
    defaultCooldown: g.defaultCooldown ?? 300,
    activeScalingConfigurationId: g.activeScalingConfigurationId ?? `asc-${g.id.replace(/^asg-/, '')}`,
    creationMs: Date.parse(g.creationTime ?? '2024-01-01T00:00:00Z'),
  };
}

/** `nextIp` hands out the scenario's private IPs, in order, to instances that name none. */
function instanceFromScenario(
  si: ScenarioInstance,
  group: GroupState | undefined,
  nextIp: () => string,
): InstanceState {
  const defaultConfig = si.creationType === 'Attached' ? undefined : `asc-${si.scalingGroupId.replace(/^asg-/, '')}`;
  return {
    id: si.id,
    scalingGroupId: si.scalingGroupId,
    lifecycleState: si.lifecycleState ?? 'InService',
    creationType: si.creationType ?? 'AutoCreated',
    creationMs: si.creationTime ? Date.parse(si.creationTime) : (group?.creationMs ?? 0),
    scalingConfigurationId: si.scalingConfigurationId ?? defaultConfig,
    scalingActivityId: si.scalingActivityId,
    healthStatus: si.healthStatus ?? 'Healthy',
    zoneId: si.zoneId ?? `${group?.regionId ?? 'cn-hangzhou'}-h`,
    weight: si.weight ?? 50,
    entrusted: si.entrusted ?? false,
    privateIp: si.privateIp ?? nextIp(),
  };
}

function instanceSnapshotOf(i: InstanceState): InstanceSnapshot {
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
  return s;
}

/** AutoCreated and entrusted instances are ESS's to release or stop; others are only detached. */
function fateOf(inst: InstanceState, removePolicy: string): EcsRecord['fate'] {
  const autoManaged = inst.creationType === 'AutoCreated' || inst.entrusted;
  if (!autoManaged) return 'detached';
  return removePolicy === 'recycle' ? 'stopped' : 'released';
}

/**
 * ExitStandby's weight when the scaling configuration sets none: the current 2014-08-28 reference
 * (docs/emulator.md, EnterStandby / ExitStandby).
 */
export const EXIT_STANDBY_DEFAULT_WEIGHT = 50;

/**
 * The weight an instance leaving Standby gets at one registration. `default`: 50, as the current
 * page says. `scalingConfiguration`: as the older page says, the configured weight, which the
 * emulator takes from the group's attachment (vserver and ALB server groups) or the instance's
 * LoadBalancerWeight (CLB default server group).
 */
function weightAfterStandby(
  mode: ExitStandbyWeight,
  group: ReadonlyDeep<GroupState>,
  inst: InstanceState,
  ref: BackendRef,
): number {
  if (mode === 'default') return EXIT_STANDBY_DEFAULT_WEIGHT;
  if (ref.kind === 'clb') return inst.weight;
  const attachment =
    ref.kind === 'vsg'
      ? group.vServerGroups.find((v) => v.vServerGroupId === ref.vServerGroupId && v.port === ref.port)
      : ref.kind === 'nlb'
        ? group.nlbServerGroups.find((a) => a.nlbServerGroupId === ref.resourceId && a.port === ref.port)
        : group.albServerGroups.find((a) => a.albServerGroupId === ref.resourceId && a.port === ref.port);
  return attachment?.weight ?? EXIT_STANDBY_DEFAULT_WEIGHT;
}

export class ScalingGroups {
  private readonly groups = new Map<string, GroupState>();
  private readonly instances = new Map<string, InstanceState>();
  private ecsRecords: EcsRecord[] = [];
  private exitStandbyWeight: ExitStandbyWeight = 'default';

  constructor(private readonly backends: Backends) {}

  /** Replaces every group and instance with the scenario's and registers the instances' `attachTo`. */
  load(s: Scenario): void {
    this.groups.clear();
    this.instances.clear();
    this.ecsRecords = [];
    this.exitStandbyWeight = s.exitStandbyWeight ?? 'default';
    for (const g of s.scalingGroups ?? []) this.groups.set(g.id, groupFromScenario(g));
    let ipIndex = 0;
    const nextIp = (): string => privateIpFor(ipIndex++);
    for (const si of expandInstances(s)) {
      const inst = instanceFromScenario(si, this.groups.get(si.scalingGroupId), nextIp);
      this.instances.set(inst.id, inst);
      if (si.attachTo) this.backends.registerFromScenario(inst.id, si.attachTo);
    }
  }

  // --- reads ----------------------------------------------------------------------------------

  group(id: string): ReadonlyDeep<GroupState> | undefined {
    return this.groups.get(id);
  }

  groupList(): Array<ReadonlyDeep<GroupState>> {
    return [...this.groups.values()];
  }

  groupCount(): number {
    return this.groups.size;
  }

  instance(id: string): ReadonlyDeep<InstanceState> | undefined {
    return this.instances.get(id);
  }

  /** Every instance, in scenario order. */
  instanceList(): Array<ReadonlyDeep<InstanceState>> {
    return [...this.instances.values()];
  }

  instanceCount(): number {
    return this.instances.size;
  }

  groupInstances(groupId: string): Array<ReadonlyDeep<InstanceState>> {
    return [...this.instances.values()].filter((i) => i.scalingGroupId === groupId);
  }

  capacities(groupId: string): Capacities {
    const c = noCapacity();
    for (const i of this.instances.values()) {
      if (i.scalingGroupId !== groupId) continue;
      c.total++;
      if (i.creationType === 'Attached') c.attached++;
      else if (i.creationType === 'AutoCreated') c.autoCreated++;
      const counter = LIFECYCLE_COUNTERS.get(i.lifecycleState);
      if (counter) c[counter]++;
    }
    return c;
  }

  totalsOf(groupId: string): ActivityTotals {
    const c = this.capacities(groupId);
    return { total: c.total, attached: c.attached, autoCreated: c.autoCreated };
  }

  // --- admin ----------------------------------------------------------------------------------

  patchGroup(id: string, patch: GroupPatch): void {
    const g = this.groups.get(id);
    if (!g) throw apiError('InvalidScalingGroupId.NotFound');
    if (patch.lifecycleState !== undefined) g.lifecycleState = patch.lifecycleState;
    if (patch.scalingPolicy !== undefined) g.scalingPolicy = patch.scalingPolicy;
    if (patch.minSize !== undefined) g.minSize = patch.minSize;
    if (patch.maxSize !== undefined) g.maxSize = patch.maxSize;
    if (patch.desiredCapacity === null) g.desiredCapacity = undefined;
    else if (patch.desiredCapacity !== undefined) g.desiredCapacity = patch.desiredCapacity;
  }

  /** All or nothing: a move to a group that does not exist changes nothing. */
  patchInstance(id: string, patch: InstancePatch): void {
    const inst = this.instances.get(id);
    if (!inst) throw apiError('InvalidInstanceId.NotFound', `Instance "${id}" does not exist.`);
    if (patch.scalingGroupId !== undefined && !this.groups.has(patch.scalingGroupId))
      throw apiError('InvalidScalingGroupId.NotFound');
    if (patch.lifecycleState !== undefined) inst.lifecycleState = patch.lifecycleState;
    if (patch.healthStatus !== undefined) inst.healthStatus = patch.healthStatus;
    if (patch.creationType !== undefined) inst.creationType = patch.creationType;
    if (patch.entrusted !== undefined) inst.entrusted = patch.entrusted;
    if (patch.weight !== undefined) inst.weight = patch.weight;
    if (patch.scalingGroupId !== undefined) inst.scalingGroupId = patch.scalingGroupId;
  }

  // --- Standby --------------------------------------------------------------------------------

  /** EnterStandby: out of traffic (weight 0) on every attached LB; the weights before are not kept. */
  enterStandby(group: ReadonlyDeep<GroupState>, ids: readonly string[]): void {
    for (const id of ids) {
      const inst = this.instances.get(id);
      if (!inst || inst.lifecycleState === 'Standby') continue;
      inst.lifecycleState = 'Standby';
      for (const ref of this.backends.attachedTo(group, id)) this.backends.setWeight(ref, 0);
    }
  }

  /**
   * ExitStandby: back to InService with the reference's weight (not the one before EnterStandby)
   * wherever the instance is still registered; whoever wants the old weights sets them again.
   */
  exitStandby(group: ReadonlyDeep<GroupState>, ids: readonly string[]): void {
    for (const id of ids) {
      const inst = this.instances.get(id);
      if (!inst || inst.lifecycleState !== 'Standby') continue;
      for (const ref of this.backends.attachedTo(group, id))
        this.backends.setWeight(ref, weightAfterStandby(this.exitStandbyWeight, group, inst, ref));
      inst.lifecycleState = 'InService';
    }
  }

  // --- RemoveInstances ------------------------------------------------------------------------

  /** The activity takes the instance: Removing, under the activity's ID, and out of traffic (weight 0). */
  beginRemoval(group: ReadonlyDeep<GroupState>, id: string, activityId: string): SavedInstance | undefined {
    const inst = this.instances.get(id);
    if (!inst) return undefined;
    const backends = this.backends.attachedTo(group, id);
    const saved = { prevState: inst.lifecycleState, prevActivityId: inst.scalingActivityId, backends };
    inst.lifecycleState = 'Removing';
    inst.scalingActivityId = activityId;
    for (const ref of backends) this.backends.setWeight(ref, 0);
    return saved;
  }

  /** A lifecycle hook holds (or lets go of) an instance its activity is removing. */
  setRemovalWait(id: string, waiting: boolean): void {
    const inst = this.instances.get(id);
    if (!inst || !inst.lifecycleState.startsWith('Removing')) return;
    inst.lifecycleState = waiting ? 'Removing:Wait' : 'Removing';
  }

  /** A failed removal: back to where the instance was, in service and registered again. */
  rollBack(id: string, saved: SavedInstance): void {
    const inst = this.instances.get(id);
    if (!inst) return;
    inst.lifecycleState = saved.prevState;
    inst.scalingActivityId = saved.prevActivityId;
    for (const ref of saved.backends) this.backends.restore(ref);
  }

  /** The instance leaves its group; its fate is recorded, and a released one leaves every LB. */
  leave(id: string, d: Departure): EcsRecord['fate'] | undefined {
    const inst = this.instances.get(id);
    if (!inst) return undefined;
    const fate = fateOf(inst, d.removePolicy);
    this.instances.delete(id);
    if (fate === 'released') this.backends.purge(id);
    this.ecsRecords.push({
      instanceId: id,
      scalingGroupId: d.groupId,
      fate,
      creationType: inst.creationType,
      scalingActivityId: d.activityId,
      time: secondStamp(d.at),
    });
    return fate;
  }

  /** DecreaseDesiredCapacity: never below MinSize, and only for groups that have a desired capacity. */
  decreaseDesired(groupId: string, removed: number): void {
    const g = this.groups.get(groupId);
    if (g?.desiredCapacity !== undefined) g.desiredCapacity = Math.max(g.minSize, g.desiredCapacity - removed);
  }

  // --- snapshots ------------------------------------------------------------------------------

  groupSnapshot(g: ReadonlyDeep<GroupState>): GroupSnapshot {
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
      nlbServerGroups: g.nlbServerGroups.map((v) => ({ ...v })),
      otherServerGroups: g.otherServerGroups.map((v) => ({ ...v })),
      dbInstanceIds: [...g.dbInstanceIds],
    };
  }

  groupSnapshots(): GroupSnapshot[] {
    return [...this.groups.values()].map((g) => this.groupSnapshot(g));
  }

  instanceSnapshot(id: string): InstanceSnapshot | undefined {
    const inst = this.instances.get(id);
    return inst ? instanceSnapshotOf(inst) : undefined;
  }

  instanceSnapshots(): InstanceSnapshot[] {
    return [...this.instances.values()].map(instanceSnapshotOf);
  }

  ecsRecordSnapshots(): EcsRecord[] {
    return this.ecsRecords.map((r) => ({ ...r }));
  }
}
