/**
 * NLB server groups and their asynchronous jobs (NLB 2022-04-30). Like ALB's:
 * UpdateServerGroupServersAttribute only starts a job, the weights change when it ends, and a
 * server is `Configuring` meanwhile. Unlike ALB, a job is read back by GetJobStatus, which reports
 * only its Status. ESS's deregistration is a `RemoveServersFromServerGroup` job too, and a group
 * with any job in flight is `Configuring` and refuses another change (IncorrectStatus.serverGroup,
 * inferred: docs/emulator.md). Jobs finish through the scheduler (`nextEvent`).
 */
import { newJobId } from '../ids';
import type { AlbServerGroupSnapshot, JobSnapshot, Scenario, ScenarioNlbServerGroup } from '../types';
import {
  albServerStatus,
  type AlbGroupState,
  type AlbRegistration,
  type JobApi,
  type JobState,
  type JobUpdate,
} from './alb';
import type { DueEvent, EventSource, Scheduler } from './clock';
import type { Settings } from './settings';
import { backendKey, type ReadonlyDeep } from './shared';

/** Same records as ALB's: a server group of typed servers keyed `serverId|port`. */
export type NlbGroupState = AlbGroupState;

function groupFromScenario(g: ScenarioNlbServerGroup): NlbGroupState {
  const group: NlbGroupState = { id: g.id, name: g.name ?? g.id, regionId: g.regionId, servers: new Map() };
  for (const sv of g.servers ?? [])
    group.servers.set(backendKey(sv.serverId, sv.port), {
      serverId: sv.serverId,
      serverType: sv.serverType ?? 'Ecs',
      port: sv.port,
      weight: sv.weight ?? 100,
      pendingJobs: 0,
    });
  return group;
}

/** Servers as ListServerGroupServers shows them (`Removing` while ESS's job takes them out). */
function groupSnapshot(g: NlbGroupState, busy: boolean): AlbServerGroupSnapshot {
  const servers = [...g.servers.values()].map((s) => ({
    serverId: s.serverId,
    serverType: s.serverType,
    port: s.port,
    weight: s.weight,
    status: albServerStatus(s),
  }));
  return { serverGroupId: g.id, regionId: g.regionId, status: busy ? 'Configuring' : 'Available', servers };
}

export class NlbStore implements EventSource {
  private readonly groups = new Map<string, NlbGroupState>();
  private readonly jobs = new Map<string, JobState>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly settings: Settings,
  ) {}

  /** Replaces every NLB server group with the scenario's and forgets every job. */
  load(s: Scenario): void {
    this.groups.clear();
    this.jobs.clear();
    for (const g of s.nlbServerGroups ?? []) this.groups.set(g.id, groupFromScenario(g));
  }

  serverGroup(id: string): ReadonlyDeep<NlbGroupState> | undefined {
    return this.groups.get(id);
  }

  job(id: string): ReadonlyDeep<JobState> | undefined {
    return this.jobs.get(id);
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
   * busy for `nlbJobDurationMs` and takes the servers out when it finishes.
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
    if (!group) throw new Error(`emulator: no NLB server group ${groupId}`);
    const now = this.scheduler.now();
    const t = this.settings.timings;
    const job: JobState = {
      id: newJobId(),
      apiName,
      resourceId: group.id,
      status: 'Processing',
      createMs: now,
      modifyMs: now,
      dueMs: now + this.scheduler.scaled(t.nlbJobDurationMs ?? t.albJobDurationMs),
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
    return [...this.jobs.values()].map((j) => ({
      jobId: j.id,
      apiName: j.apiName,
      resourceId: j.resourceId,
      status: j.status,
      createTime: j.createMs,
      modifyTime: j.modifyMs,
    }));
  }

  /** A server removed while the job ran fails the whole job (as ALB's); otherwise every weight applies. */
  private finishJob(job: JobState, at: number): void {
    if (job.apiName === 'RemoveServersFromServerGroup') {
      this.finishRemoval(job, at);
      return;
    }
    const group = this.groups.get(job.resourceId);
    const missing = job.updates.filter((u) => !group?.servers.has(u.key));
    if (missing.length > 0) {
      job.status = 'Failed';
      job.errorCode = 'ResourceNotFound.backendServer';
      job.errorMessage = `backend servers not found: ${missing.map((m) => m.key.split('|')[0]).join(', ')}`;
    } else job.status = 'Succeeded';
    for (const u of job.updates) {
      const s = group?.servers.get(u.key);
      if (!s) continue;
      s.pendingJobs = Math.max(0, s.pendingJobs - 1);
      if (job.status === 'Succeeded' && u.weight !== undefined) s.weight = u.weight;
    }
    job.modifyMs = at;
  }

  /** ESS's deregistration: out go the servers still marked (one released meanwhile is already gone). */
  private finishRemoval(job: JobState, at: number): void {
    const group = this.groups.get(job.resourceId);
    for (const u of job.updates) {
      const s = group?.servers.get(u.key);
      if (!s) continue;
      s.pendingJobs = Math.max(0, s.pendingJobs - 1);
      if (s.removing === true) group?.servers.delete(u.key);
    }
    job.status = 'Succeeded';
    job.modifyMs = at;
  }
}
