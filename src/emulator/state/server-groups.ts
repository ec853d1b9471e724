/**
 * Server groups with asynchronous jobs, as ALB (2020-06-16) and NLB (2022-04-30) both model them.
 * UpdateServerGroupServersAttribute only starts a job; the weights change when the job finishes,
 * and a server is `Configuring` while jobs touching it are in flight. ESS's deregistration is a job
 * too (`RemoveServersFromServerGroup`): its servers are `Removing` until it finishes. A group with a
 * job in flight is `Configuring`, and refuses another change. Jobs finish through the scheduler
 * (`nextEvent`). What differs between the two products (job duration, error spellings) comes in a
 * `ServerGroupKind`.
 */
import { newJobId } from '../ids';
import type { AlbServerGroupSnapshot, JobSnapshot, Scenario, ScenarioAlbServerGroup } from '../types';
import type { DueEvent, EventSource, Scheduler } from './clock';
import type { Settings, Timings } from './settings';
import { backendKey, type ReadonlyDeep } from './shared';

export interface AlbServerState {
  serverId: string;
  serverType: string;
  port: number;
  weight: number;
  /** Jobs in flight that touch this server; Status is `Configuring` while > 0. */
  pendingJobs: number;
  /** An ESS deregistration job will take the server out when it finishes; Status is `Removing`. */
  removing?: boolean;
}

export interface AlbGroupState {
  id: string;
  name: string;
  regionId: string;
  /** Keyed `serverId|port`. */
  servers: Map<string, AlbServerState>;
}

/** One server a job changes: `key` is `serverId|port`; `weight` undefined leaves it as it is. */
export interface JobUpdate {
  key: string;
  weight: number | undefined;
}

/** The run's weight changes, or ESS taking instances out of the group. */
export type JobApi = 'UpdateServerGroupServersAttribute' | 'RemoveServersFromServerGroup';

export interface JobState {
  id: string;
  apiName: JobApi;
  resourceId: string;
  status: 'Processing' | 'Succeeded' | 'Failed';
  createMs: number;
  modifyMs: number;
  dueMs: number;
  updates: JobUpdate[];
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

/** How a server is (re-)registered when it is missing. */
export interface AlbRegistration {
  weight: number;
  serverType: string;
}

/** What one product's server groups do differently. */
export interface ServerGroupKind {
  /** `ALB` or `NLB`, for the emulator's own errors. */
  readonly label: string;
  /** The scenario's groups of this product. */
  groups(s: Scenario): readonly ScenarioAlbServerGroup[] | undefined;
  /** How long a job stays Processing, before scaling. */
  jobDurationMs(t: Readonly<Timings>): number;
  /** ErrorCode and ErrorMessage of a weight job that failed because servers (ids joined) went away. */
  missingServers(ids: string): { code: string; message: string };
}

function groupFromScenario(g: ScenarioAlbServerGroup): AlbGroupState {
  const group: AlbGroupState = { id: g.id, name: g.name ?? g.id, regionId: g.regionId, servers: new Map() };
  for (const sv of g.servers ?? []) {
    group.servers.set(backendKey(sv.serverId, sv.port), {
      serverId: sv.serverId,
      serverType: sv.serverType ?? 'Ecs',
      port: sv.port,
      weight: sv.weight ?? 100,
      pendingJobs: 0,
      removing: false,
    });
  }
  return group;
}

/** ListServerGroupServers' Status of one server. */
export function albServerStatus(s: Readonly<AlbServerState>): 'Removing' | 'Configuring' | 'Available' {
  if (s.removing === true) return 'Removing';
  return s.pendingJobs > 0 ? 'Configuring' : 'Available';
}

function groupSnapshot(g: AlbGroupState, busy: boolean): AlbServerGroupSnapshot {
  const servers = [...g.servers.values()].map((s) => ({
    serverId: s.serverId,
    serverType: s.serverType,
    port: s.port,
    weight: s.weight,
    status: albServerStatus(s),
  }));
  return { serverGroupId: g.id, regionId: g.regionId, status: busy ? 'Configuring' : 'Available', servers };
}

function jobSnapshot(j: JobState): JobSnapshot {
  return {
    jobId: j.id,
    apiName: j.apiName,
    resourceId: j.resourceId,
    status: j.status,
    createTime: j.createMs,
    modifyTime: j.modifyMs,
  };
}

/** A job's servers leave the in-flight count (one gone meanwhile is skipped). */
function settle(group: AlbGroupState | undefined, job: JobState, apply: (s: AlbServerState, u: JobUpdate) => void) {
  for (const u of job.updates) {
    const s = group?.servers.get(u.key);
    if (!s) continue;
    s.pendingJobs = Math.max(0, s.pendingJobs - 1);
    apply(s, u);
  }
}

export class ServerGroupStore implements EventSource {
  private readonly groups = new Map<string, AlbGroupState>();
  private readonly jobs = new Map<string, JobState>();

  constructor(
    private readonly kind: ServerGroupKind,
    private readonly scheduler: Scheduler,
    private readonly settings: Settings,
  ) {}

  /** Replaces every server group with the scenario's and forgets every job. */
  load(s: Scenario): void {
    this.groups.clear();
    this.jobs.clear();
    for (const g of this.kind.groups(s) ?? []) this.groups.set(g.id, groupFromScenario(g));
  }

  serverGroup(id: string): ReadonlyDeep<AlbGroupState> | undefined {
    return this.groups.get(id);
  }

  job(id: string): ReadonlyDeep<JobState> | undefined {
    return this.jobs.get(id);
  }

  jobList(): Array<ReadonlyDeep<JobState>> {
    return [...this.jobs.values()];
  }

  /** Whether a job (the run's or ESS's) is still running on the group: it is `Configuring`. */
  busy(groupId: string): boolean {
    for (const j of this.jobs.values()) if (j.resourceId === groupId && j.status === 'Processing') return true;
    return false;
  }

  /** UpdateServerGroupServersAttribute accepted: the servers are Configuring until the job is due. */
  startWeightJob(groupId: string, updates: readonly JobUpdate[]): ReadonlyDeep<JobState> {
    return this.startJob(groupId, 'UpdateServerGroupServersAttribute', updates);
  }

  /**
   * ESS deregisters servers (keys `serverId|port`): a job like the run's, which keeps the group
   * busy for the kind's job duration and takes the servers out when it finishes.
   */
  startRemovalJob(groupId: string, keys: readonly string[]): ReadonlyDeep<JobState> | undefined {
    const group = this.groups.get(groupId);
    const present = keys.filter((k) => group?.servers.has(k));
    if (!group || present.length === 0) return undefined;
    for (const k of present) {
      const s = group.servers.get(k);
      if (s) s.removing = true;
    }
    return this.startJob(
      groupId,
      'RemoveServersFromServerGroup',
      present.map((key) => ({ key, weight: undefined })),
    );
  }

  private startJob(groupId: string, apiName: JobApi, updates: readonly JobUpdate[]): ReadonlyDeep<JobState> {
    const group = this.groups.get(groupId);
    if (!group) throw new Error(`emulator: no ${this.kind.label} server group ${groupId}`);
    const now = this.scheduler.now();
    const job: JobState = {
      id: newJobId(),
      apiName,
      resourceId: group.id,
      status: 'Processing',
      createMs: now,
      modifyMs: now,
      dueMs: now + this.scheduler.scaled(this.kind.jobDurationMs(this.settings.timings)),
      updates: updates.map((u) => ({ ...u })),
      errorCode: undefined,
      errorMessage: undefined,
    };
    for (const u of job.updates) {
      const s = group.servers.get(u.key);
      if (s) s.pendingJobs++;
    }
    this.jobs.set(job.id, job);
    this.scheduler.schedule();
    return job;
  }

  nextEvent(): DueEvent | undefined {
    let best: DueEvent | undefined;
    for (const j of this.jobs.values()) {
      if (j.status !== 'Processing') continue;
      if (!best || j.dueMs < best.due) best = { due: j.dueMs, run: (at) => this.finishJob(j, at) };
    }
    return best;
  }

  // --- registrations ESS manages (see backends.ts) --------------------------------------------

  registerServer(groupId: string, serverId: string, port: number, r: AlbRegistration): void {
    this.groups.get(groupId)?.servers.set(backendKey(serverId, port), {
      serverId,
      serverType: r.serverType,
      port,
      weight: r.weight,
      pendingJobs: 0,
      removing: false,
    });
  }

  /**
   * Sets the weight of an existing server; with `readdType`, registers it again (that type) if it
   * is gone, and keeps it if an ESS deregistration job was about to take it out (a rollback).
   */
  setServerWeight(groupId: string, serverId: string, port: number, weight: number, readdType?: string): void {
    const s = this.groups.get(groupId)?.servers.get(backendKey(serverId, port));
    if (s) {
      s.weight = weight;
      if (readdType !== undefined) s.removing = false;
    } else if (readdType !== undefined) this.registerServer(groupId, serverId, port, { weight, serverType: readdType });
  }

  deregisterServer(groupId: string, serverId: string, port: number): void {
    this.groups.get(groupId)?.servers.delete(backendKey(serverId, port));
  }

  /** A released ECS instance leaves every server group. */
  purge(serverId: string): void {
    for (const g of this.groups.values())
      for (const [k, s] of g.servers) if (s.serverId === serverId) g.servers.delete(k);
  }

  snapshotGroups(): AlbServerGroupSnapshot[] {
    return [...this.groups.values()].map((g) => groupSnapshot(g, this.busy(g.id)));
  }

  snapshotJobs(): JobSnapshot[] {
    return [...this.jobs.values()].map(jobSnapshot);
  }

  /** A server removed while the job ran fails the whole job; otherwise every weight applies. */
  private finishJob(job: JobState, at: number): void {
    if (job.apiName === 'RemoveServersFromServerGroup') {
      this.finishRemoval(job, at);
      return;
    }
    const group = this.groups.get(job.resourceId);
    const missing = job.updates.filter((u) => !group?.servers.has(u.key));
    if (missing.length > 0) {
      const failure = this.kind.missingServers(missing.map((m) => m.key.split('|')[0]).join(', '));
      job.status = 'Failed';
      job.errorCode = failure.code;
      job.errorMessage = failure.message;
    } else job.status = 'Succeeded';
    settle(group, job, (s, u) => {
      if (job.status === 'Succeeded' && u.weight !== undefined) s.weight = u.weight;
    });
    job.modifyMs = at;
  }

  /** ESS's deregistration: out go the servers still marked (one released meanwhile is already gone). */
  private finishRemoval(job: JobState, at: number): void {
    const group = this.groups.get(job.resourceId);
    settle(group, job, (s, u) => {
      if (s.removing === true) group?.servers.delete(u.key);
    });
    job.status = 'Succeeded';
    job.modifyMs = at;
  }
}
