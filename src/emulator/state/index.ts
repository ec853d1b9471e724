/**
 * The emulated cloud, composed of one store per resource: ESS scaling groups and instances, their
 * scaling activities, CLB and ALB load balancers, RDS instances, plus settings, ClientTokens,
 * access keys, faults, the call log and the clock. Each store keeps its records private and its
 * invariants in its methods; this class wires them together, loads scenarios and takes snapshots.
 */
import { FaultInjector } from '../faults';
import { ApiQuota } from '../quota';
import type { CallLogEntry, CallLogFilter, EmulatorStateSnapshot, Scenario } from '../types';
import { AccessKeys } from './access-keys';
import { ScalingActivities } from './activities';
import { AlbStore } from './alb';
import { Backends } from './backends';
import { CallLog } from './call-log';
import { ClbStore } from './clb';
import { ClientTokens } from './client-tokens';
import { Scheduler } from './clock';
import { LifecycleHooks } from './lifecycle-hooks';
import { NlbStore } from './nlb';
import { RdsStore } from './rds';
import { ScalingGroups, type InstanceState } from './scaling-groups';
import { Settings } from './settings';
import type { ReadonlyDeep } from './shared';
import type { ActivityState } from './activities';

export type { ActivityEndStatus, ActivityState, RemovalRequest } from './activities';
export type { HookPatch, HookResult, HookState, LifecycleActionState, NewHook } from './lifecycle-hooks';
export type { AlbGroupState, AlbServerState, JobState, JobUpdate } from './alb';
export type { NlbGroupState } from './nlb';
export type { ClbBackend, ClbState, ListenerState, VsgBackend, VsgState, WeightUpdate } from './clb';
export type { Capacities, GroupPatch, GroupState, InstancePatch, InstanceState } from './scaling-groups';
export type { SettingsPatch, SettingsView, Timings } from './settings';
export type { ReadonlyDeep } from './shared';

/** Every region the scenario names, in the order it names them (explicit list, then resources). */
function regionsOf(s: Scenario): Set<string> {
  const regions = new Set(s.regions ?? []);
  for (const lb of s.loadBalancers ?? []) regions.add(lb.regionId);
  for (const g of s.albServerGroups ?? []) regions.add(g.regionId);
  for (const g of s.nlbServerGroups ?? []) regions.add(g.regionId);
  for (const g of s.scalingGroups ?? []) regions.add(g.regionId);
  return regions;
}

export class EmulatorState {
  /** Fault rules applied to API calls (admin routes are never faulted). */
  readonly faults = new FaultInjector();
  readonly settings = new Settings();
  readonly clientTokens = new ClientTokens();
  readonly clb = new ClbStore();
  readonly alb: AlbStore;
  readonly nlb: NlbStore;
  readonly rds = new RdsStore();
  readonly scalingGroups: ScalingGroups;
  readonly activities: ScalingActivities;
  readonly lifecycleHooks: LifecycleHooks;
  /** The account's API quota (scenario `apiQuota`); off unless the scenario sets it. */
  readonly quota: ApiQuota;
  private readonly scheduler: Scheduler;
  private readonly accessKeys: AccessKeys;
  private readonly calls = new CallLog();
  private loaded: Scenario = {};
  private loadedName = '(empty)';
  private regions = new Set<string>();

  constructor(timeScale = 1, fixedAccessKeys?: Record<string, string>, clock: () => number = Date.now) {
    this.scheduler = new Scheduler(timeScale, clock);
    this.accessKeys = new AccessKeys(fixedAccessKeys);
    this.quota = new ApiQuota(() => this.scheduler.now());
    this.alb = new AlbStore(this.scheduler, this.settings);
    this.nlb = new NlbStore(this.scheduler, this.settings);
    const backends = new Backends(this.clb, this.alb, this.nlb);
    this.scalingGroups = new ScalingGroups(backends);
    this.lifecycleHooks = new LifecycleHooks(this.scheduler);
    this.activities = new ScalingActivities(
      this.scheduler,
      this.scalingGroups,
      backends,
      this.settings,
      this.lifecycleHooks,
    );
    // On equal due times an activity phase runs before a hook timeout, and both before an ALB job.
    this.scheduler.addSource(this.activities);
    this.scheduler.addSource(this.lifecycleHooks);
    this.scheduler.addSource(this.alb);
    this.scheduler.addSource(this.nlb);
  }

  get timeScale(): number {
    return this.scheduler.timeScale;
  }

  /** The scenario last loaded, as given. */
  get scenario(): Readonly<Scenario> {
    return this.loaded;
  }

  get scenarioName(): string {
    return this.loadedName;
  }

  now(): number {
    return this.scheduler.now();
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.accessKeys.secretOf(accessKeyId);
  }

  accessKeyIds(): string[] {
    return this.accessKeys.ids();
  }

  hasRegion(regionId: string): boolean {
    return this.regions.has(regionId);
  }

  /** The first region the scenario names, if any. */
  firstRegion(): string | undefined {
    return this.regions.values().next().value;
  }

  /** Replaces the whole state with a (validated) scenario. Clears activities, jobs, tokens, faults and the call log. */
  load(s: Scenario, envAccessKeys?: Record<string, string>): void {
    this.scheduler.stop();
    this.loaded = s;
    this.loadedName = s.name ?? '(unnamed)';
    this.regions = regionsOf(s);
    this.accessKeys.load(s.accessKeys, envAccessKeys);
    this.settings.load(s);
    this.quota.load(s.apiQuota);
    this.clientTokens.clear();
    this.calls.reset();
    this.faults.clear();
    this.clb.load(s);
    this.alb.load(s);
    this.nlb.load(s);
    this.rds.load(s);
    this.activities.clear();
    this.lifecycleHooks.load(s);
    // Last: instances register in the load balancers loaded above.
    this.scalingGroups.load(s);
  }

  // --- call log -------------------------------------------------------------------------------

  nextCallSeq(): number {
    return this.calls.nextSeq();
  }

  logCall(entry: CallLogEntry): void {
    this.calls.append(entry);
  }

  callLog(filter: CallLogFilter = {}): CallLogEntry[] {
    return this.calls.list(filter);
  }

  clearCalls(): void {
    this.calls.clear();
  }

  // --- shortcuts for in-process callers (tests, bench) ----------------------------------------

  groupInstances(groupId: string): Array<ReadonlyDeep<InstanceState>> {
    return this.scalingGroups.groupInstances(groupId);
  }

  inProgressActivity(groupId: string): ReadonlyDeep<ActivityState> | undefined {
    return this.activities.inProgress(groupId);
  }

  // --- time -----------------------------------------------------------------------------------

  /** Runs everything due by `now`, in due-time order, then re-arms the timer. */
  advance(now = this.now()): void {
    this.scheduler.advance(now);
  }

  /** Stops the timer for good (on close). */
  dispose(): void {
    this.scheduler.dispose();
  }

  /** What admin GET /state answers; never contains a secret. */
  snapshot(): EmulatorStateSnapshot {
    return {
      scenarioName: this.loadedName,
      now: new Date(this.now()).toISOString(),
      accessKeyIds: this.accessKeyIds(),
      timeScale: this.timeScale,
      groups: this.scalingGroups.groupSnapshots(),
      instances: this.scalingGroups.instanceSnapshots(),
      loadBalancers: this.clb.snapshot(),
      albServerGroups: this.alb.snapshotGroups(),
      nlbServerGroups: this.nlb.snapshotGroups(),
      dbInstances: this.rds.snapshot(),
      activities: this.activities.snapshots(),
      jobs: this.alb.snapshotJobs(),
      nlbJobs: this.nlb.snapshotJobs(),
      ecsRecords: this.scalingGroups.ecsRecordSnapshots(),
      lifecycleHooks: this.lifecycleHooks.hookSnapshots(),
      lifecycleActions: this.lifecycleHooks.actionSnapshots(),
    };
  }
}
