/**
 * CLB (SLB) load balancers: the default server group, vserver groups, listeners and per-server
 * health. Backends change only here: weights only on backends that exist, and a vserver group is
 * always found through the index of the CLB that owns it.
 */
import type { LoadBalancerSnapshot, Scenario, ScenarioLoadBalancer } from '../types';
import { backendKey, type ReadonlyDeep } from './shared';

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

/** One backend's new weight in a Set* call; `weight` undefined leaves it as it is. */
export interface WeightUpdate {
  serverId: string;
  port?: number | undefined;
  weight: number | undefined;
}

/** All or nothing: either every update applied, or the first update naming an unknown backend. */
export type WeightChange<T> = { ok: true; after: T[] } | { ok: false; unknown: WeightUpdate };

/** How a backend is (re-)registered when it is missing. */
export interface Registration {
  weight: number;
  type: string;
}

function clbFromScenario(lb: ScenarioLoadBalancer, index: number): ClbState {
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
    address: `192.168.${index & 255}.${(index >> 8) + 100}`,
  };
  for (const b of lb.backendServers ?? [])
    clb.backends.set(b.serverId, { serverId: b.serverId, weight: b.weight ?? 100, type: b.type ?? 'ecs' });
  for (const g of lb.vServerGroups ?? []) {
    const vsg: VsgState = { id: g.id, name: g.name ?? g.id, loadBalancerId: lb.id, backends: new Map() };
    for (const b of g.backendServers ?? []) {
      const backend = { serverId: b.serverId, port: b.port, weight: b.weight ?? 100, type: b.type ?? 'ecs' };
      vsg.backends.set(backendKey(b.serverId, b.port), backend);
    }
    clb.vServerGroups.set(g.id, vsg);
  }
  return clb;
}

function snapshotOf(lb: ClbState): LoadBalancerSnapshot {
  return {
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
  };
}

/** Which change of a load balancer is still in progress, if any (the busy error the API answers). */
export type ClbChange = 'loadBalancer' | 'vServerGroup' | undefined;

export class ClbStore {
  private readonly lbs = new Map<string, ClbState>();
  /** vserver group ID -> CLB ID */
  private readonly vsgIndex = new Map<string, string>();
  /**
   * End times of the changes ESS made (its deregistrations), per CLB and per vserver group: a
   * change of the same load balancer is refused until then (timings.clbChangeWindowMs).
   */
  private readonly lbChangeUntil = new Map<string, number>();
  private readonly vsgChangeUntil = new Map<string, number>();

  /** Replaces every load balancer with the scenario's. */
  load(s: Scenario): void {
    this.lbs.clear();
    this.vsgIndex.clear();
    this.lbChangeUntil.clear();
    this.vsgChangeUntil.clear();
    (s.loadBalancers ?? []).forEach((lb, i) => {
      const clb = clbFromScenario(lb, i + 1);
      for (const vsgId of clb.vServerGroups.keys()) this.vsgIndex.set(vsgId, clb.id);
      this.lbs.set(clb.id, clb);
    });
  }

  loadBalancer(id: string): ReadonlyDeep<ClbState> | undefined {
    return this.lbs.get(id);
  }

  vServerGroup(id: string): ReadonlyDeep<VsgState> | undefined {
    return this.vsgOf(id);
  }

  // --- CLB API calls --------------------------------------------------------------------------

  /** SetBackendServers: each backend as it stands right after its own update, in call order. */
  setServerWeights(lbId: string, updates: readonly WeightUpdate[]): WeightChange<ClbBackend> {
    const lb = this.existing(lbId);
    const unknown = updates.find((u) => !lb.backends.has(u.serverId));
    if (unknown) return { ok: false, unknown };
    const after: ClbBackend[] = [];
    for (const u of updates) {
      const b = lb.backends.get(u.serverId);
      if (!b) continue;
      if (u.weight !== undefined) b.weight = u.weight;
      after.push({ ...b });
    }
    return { ok: true, after };
  }

  /** SetVServerGroupAttribute: weights (all or nothing), then the name. */
  setVServerGroupAttribute(
    vsgId: string,
    change: { updates?: readonly WeightUpdate[] | undefined; name?: string | undefined },
  ): WeightChange<VsgBackend> {
    const vsg = this.vsgOf(vsgId);
    if (!vsg) throw new Error(`emulator: no vserver group ${vsgId}`);
    const keyOf = (u: WeightUpdate): string => backendKey(u.serverId, u.port ?? 0);
    const updates = change.updates ?? [];
    const unknown = updates.find((u) => !vsg.backends.has(keyOf(u)));
    if (unknown) return { ok: false, unknown };
    for (const u of updates) {
      const b = vsg.backends.get(keyOf(u));
      if (b && u.weight !== undefined) b.weight = u.weight;
    }
    if (change.name !== undefined) vsg.name = change.name;
    return { ok: true, after: [...vsg.backends.values()].map((b) => ({ ...b })) };
  }

  // --- change windows (ESS's own changes) ------------------------------------------------------

  /** ESS changed the CLB's default server group: it is configuring until `untilMs`. */
  beginLbChange(lbId: string, untilMs: number): void {
    this.lbChangeUntil.set(lbId, Math.max(untilMs, this.lbChangeUntil.get(lbId) ?? 0));
  }

  /** ESS changed a vserver group: the group, and the CLB it belongs to, are configuring until `untilMs`. */
  beginVsgChange(vsgId: string, untilMs: number): void {
    this.vsgChangeUntil.set(vsgId, Math.max(untilMs, this.vsgChangeUntil.get(vsgId) ?? 0));
    const lbId = this.vsgIndex.get(vsgId);
    if (lbId !== undefined) this.beginLbChange(lbId, untilMs);
  }

  /** The change in progress on the CLB at `now` (any of its server groups), if any. */
  lbChangeAt(lbId: string, now: number): ClbChange {
    return now < (this.lbChangeUntil.get(lbId) ?? 0) ? 'loadBalancer' : undefined;
  }

  /** The vserver group's own change first, then one of its CLB's. */
  vsgChangeAt(vsgId: string, now: number): ClbChange {
    if (now < (this.vsgChangeUntil.get(vsgId) ?? 0)) return 'vServerGroup';
    const lbId = this.vsgIndex.get(vsgId);
    return lbId === undefined ? undefined : this.lbChangeAt(lbId, now);
  }

  // --- admin ----------------------------------------------------------------------------------

  setStatus(lbId: string, status: string): void {
    const lb = this.lbs.get(lbId);
    if (lb) lb.status = status;
  }

  /** ServerHealthStatus per server ID; `null` goes back to `normal`. */
  setHealth(lbId: string, health: ReadonlyMap<string, string | null>): void {
    const lb = this.lbs.get(lbId);
    if (!lb) return;
    for (const [serverId, h] of health) {
      if (h === null) lb.health.delete(serverId);
      else lb.health.set(serverId, h);
    }
  }

  // --- registrations ESS manages (see backends.ts) --------------------------------------------

  /** Registers (or re-registers) a server in the default server group. */
  registerServer(lbId: string, serverId: string, r: Registration): void {
    this.lbs.get(lbId)?.backends.set(serverId, { serverId, weight: r.weight, type: r.type });
  }

  registerVsgServer(vsgId: string, serverId: string, port: number, r: Registration): void {
    this.vsgOf(vsgId)?.backends.set(backendKey(serverId, port), { serverId, port, weight: r.weight, type: r.type });
  }

  /** Sets the weight of an existing backend; with `readdType`, registers it again (that type) if it is gone. */
  setServerWeight(lbId: string, serverId: string, weight: number, readdType?: string): void {
    const b = this.lbs.get(lbId)?.backends.get(serverId);
    if (b) b.weight = weight;
    else if (readdType !== undefined) this.registerServer(lbId, serverId, { weight, type: readdType });
  }

  setVsgServerWeight(vsgId: string, serverId: string, port: number, weight: number, readdType?: string): void {
    const b = this.vsgOf(vsgId)?.backends.get(backendKey(serverId, port));
    if (b) b.weight = weight;
    else if (readdType !== undefined) this.registerVsgServer(vsgId, serverId, port, { weight, type: readdType });
  }

  deregisterServer(lbId: string, serverId: string): void {
    this.lbs.get(lbId)?.backends.delete(serverId);
  }

  deregisterVsgServer(vsgId: string, serverId: string, port: number): void {
    this.vsgOf(vsgId)?.backends.delete(backendKey(serverId, port));
  }

  /** A released ECS instance: gone from every default group, vserver group and health override. */
  purge(serverId: string): void {
    for (const lb of this.lbs.values()) {
      lb.backends.delete(serverId);
      lb.health.delete(serverId);
      for (const vsg of lb.vServerGroups.values())
        for (const [k, b] of vsg.backends) if (b.serverId === serverId) vsg.backends.delete(k);
    }
  }

  snapshot(): LoadBalancerSnapshot[] {
    return [...this.lbs.values()].map(snapshotOf);
  }

  snapshotOne(lbId: string): LoadBalancerSnapshot | undefined {
    const lb = this.lbs.get(lbId);
    return lb ? snapshotOf(lb) : undefined;
  }

  /** Callers look the CLB up first (to answer with the API's error); a miss here is a bug. */
  private existing(lbId: string): ClbState {
    const lb = this.lbs.get(lbId);
    if (!lb) throw new Error(`emulator: no load balancer ${lbId}`);
    return lb;
  }

  private vsgOf(id: string): VsgState | undefined {
    const lbId = this.vsgIndex.get(id);
    return lbId === undefined ? undefined : this.lbs.get(lbId)?.vServerGroups.get(id);
  }
}
