import { Context } from '@temporalio/activity';
import { AliyunApiError, AliyunError } from '../aliyun/errors';
import type { CloudClient, ScalingInstance } from '../aliyun/types';
import { errorPolicyFor } from '../shared/error-policy';
import { chunk } from '../shared/input';
import { restoreInstanceId, type RestoreRecord } from '../shared/restore';
import type { Heartbeat } from './heartbeat';
import { SERVER_GROUPS, serverWeight, updateWeights, type ServerGroupRecord, type ServerGroups } from './server-groups';

/** What a repair did at one place (a backend on one load balancer, or standby) of one instance. */
export type RepairOutcome = 'restored' | 'already-fine' | 'gone' | 'failed';

export interface RepairPlace {
  instanceId: string;
  /** e.g. `CLB lb-1`, `vserver group rsp-1 port 80`, `ALB server group sgp-1 port 80`, `standby`. */
  place: string;
  outcome: RepairOutcome;
  why: string;
}

export interface RepairWeightsRequest {
  regionId: string;
  scalingGroupId: string;
  /** The weights to put back (from the drained run's history), one per backend. */
  restore: RestoreRecord[];
  retryDelayCapMs?: number;
}

export interface RepairWeightsResponse {
  places: RepairPlace[];
  requestIds: string[];
}

/** DescribeScalingInstances by ID up to this many, else the whole group (as preflight does). */
const MAX_FILTERED_IDS = 200;

interface Backend {
  weight: number;
  type: string;
}

/** One load balancer's records: how to read its backends, how to set weights, how to name a place. */
interface LoadBalancerIo<R extends RestoreRecord> {
  name: string;
  keyOf: (r: R) => string;
  read: () => Promise<Map<string, Backend>>;
  write: (todo: Array<{ rec: R; backend: Backend }>) => Promise<string[]>;
}

interface Repair {
  cloud: CloudClient;
  req: RepairWeightsRequest;
  signal: AbortSignal;
  hb: Heartbeat;
  places: RepairPlace[];
  requestIds: string[];
}

/**
 * Puts back the weights a drained run recorded and reads each one again to verify it. Idempotent:
 * a weight already at its value is verified, not changed; an instance ESS is removing, or a backend
 * no longer behind its load balancer, is reported gone. One load balancer failing for good does not
 * stop the others; a retryable error (throttling…) retries the whole activity, which is safe.
 */
export async function runRepairWeights(
  cloud: CloudClient,
  req: RepairWeightsRequest,
  hb: Heartbeat,
): Promise<RepairWeightsResponse> {
  const r: Repair = { cloud, req, signal: Context.current().cancellationSignal, hb, places: [], requestIds: [] };
  const members = await readMembers(r);
  const leaving = (id: string) => members.get(id)?.lifecycleState.startsWith('Removing') ?? false;
  const todo = req.restore.filter((rec) => !leaving(restoreInstanceId(rec)));
  for (const rec of req.restore)
    if (leaving(restoreInstanceId(rec)))
      r.places.push(
        place(rec, 'gone', `being removed from the group (${members.get(restoreInstanceId(rec))?.lifecycleState})`),
      );
  // Standby first: ExitStandby sets the reference's weight (50 by default), not the one before
  // EnterStandby, so the recorded weights are set after it.
  const stillStandby = await repairStandby(r, ofKind(todo, 'standby'), members);
  const weights = withoutStillStandby(r, todo, stillStandby);
  for (const [lbId, recs] of groupBy(ofKind(weights, 'clb'), (x) => x.loadBalancerId))
    await repairOne(r, recs, clbIo(r, lbId));
  for (const [id, recs] of groupBy(ofKind(weights, 'vsg'), (x) => x.vServerGroupId))
    await repairOne(r, recs, vsgIo(r, id));
  for (const g of SERVER_GROUPS)
    for (const [id, recs] of groupBy(ofKind(weights, g.kind), (x) => x.serverGroupId))
      await repairOne(r, recs, serverGroupIo(r, g, id));
  return { places: r.places, requestIds: r.requestIds };
}

/** Weight records of instances still in Standby fail unset: traffic to one would undo its Standby. */
function withoutStillStandby(r: Repair, recs: RestoreRecord[], stillStandby: Set<string>): RestoreRecord[] {
  const still = (rec: RestoreRecord) => rec.kind !== 'standby' && stillStandby.has(restoreInstanceId(rec));
  for (const rec of recs.filter(still))
    r.places.push(place(rec, 'failed', 'still in Standby: the weight is set after it leaves Standby'));
  return recs.filter((rec) => !still(rec));
}

async function readMembers({ cloud, req, signal }: Repair): Promise<Map<string, ScalingInstance>> {
  const ids = [...new Set(req.restore.map(restoreInstanceId))];
  const { regionId, scalingGroupId } = req;
  const filter = ids.length <= MAX_FILTERED_IDS ? { instanceIds: ids } : {};
  const { instances } = await cloud.ess.describeScalingInstances({ regionId, scalingGroupId, ...filter }, { signal });
  return new Map(instances.filter((i) => ids.includes(i.instanceId)).map((i) => [i.instanceId, i]));
}

/** Reads, sets what differs, reads again: each record ends restored, already fine, gone or failed. */
async function repairOne<R extends RestoreRecord & { serverId: string; weight: number }>(
  r: Repair,
  recs: R[],
  io: LoadBalancerIo<R>,
): Promise<void> {
  try {
    const before = await io.read();
    const differ: Array<{ rec: R; backend: Backend }> = [];
    for (const rec of recs) {
      const backend = before.get(io.keyOf(rec));
      if (!backend) r.places.push(place(rec, 'gone', `no longer a backend of ${placeOf(rec)}`));
      else if (backend.weight === rec.weight)
        r.places.push(place(rec, 'already-fine', `weight ${rec.weight}, as before the run`));
      else differ.push({ rec, backend });
    }
    if (!differ.length) return;
    r.requestIds.push(...(await io.write(differ)));
    r.hb.beat();
    const after = await io.read();
    for (const { rec, backend } of differ) {
      const now = after.get(io.keyOf(rec))?.weight;
      if (now === rec.weight) r.places.push(place(rec, 'restored', `weight ${backend.weight} → ${rec.weight}`));
      else r.places.push(place(rec, 'failed', `weight is ${now ?? 'gone'} after setting ${rec.weight}`));
    }
  } catch (e) {
    if (!failsForGood(e)) throw e;
    // The whole load balancer (or group) is gone: nothing of it is left drained.
    const gone = /NotFound/.test(e.code);
    const why = gone ? `${io.name} no longer exists (${e.code})` : `${io.name}: ${e.code}: ${e.message}`;
    const known = (rec: R) => r.places.some((p) => p.instanceId === rec.serverId && p.place === placeOf(rec));
    for (const rec of recs) if (!known(rec)) r.places.push(place(rec, gone ? 'gone' : 'failed', why));
  }
}

/** A load balancer that is gone or refuses for good fails its own records; anything retryable retries the activity. */
function failsForGood(e: unknown): e is AliyunError {
  if (!(e instanceof AliyunError)) return false;
  const status = e instanceof AliyunApiError ? e.httpStatus : undefined;
  return errorPolicyFor(e.code, status).handling === 'fail';
}

function clbIo(r: Repair, lbId: string): LoadBalancerIo<Extract<RestoreRecord, { kind: 'clb' }>> {
  const { cloud, req, signal } = r;
  return {
    name: `CLB ${lbId}`,
    keyOf: (rec) => rec.serverId,
    read: async () => {
      const lb = await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal });
      return new Map(lb.backendServers.map((b) => [b.serverId, { weight: b.weight, type: b.type || 'ecs' }]));
    },
    write: async (todo) => {
      const servers = todo.map(({ rec, backend }) => ({
        serverId: rec.serverId,
        weight: rec.weight,
        type: backend.type,
      }));
      return [(await cloud.clb.setBackendServers(req.regionId, lbId, servers, { signal })).requestId];
    },
  };
}

function vsgIo(r: Repair, vsgId: string): LoadBalancerIo<Extract<RestoreRecord, { kind: 'vsg' }>> {
  const { cloud, req, signal } = r;
  return {
    name: `vserver group ${vsgId}`,
    keyOf: (rec) => `${rec.serverId}/${rec.port}`,
    read: async () => {
      const g = await cloud.clb.describeVServerGroupAttribute(req.regionId, vsgId, { signal });
      return new Map(
        g.backendServers.map((b) => [`${b.serverId}/${b.port ?? 0}`, { weight: b.weight, type: b.type || 'ecs' }]),
      );
    },
    write: async (todo) => {
      const servers = todo.map(({ rec, backend }) => ({
        serverId: rec.serverId,
        weight: rec.weight,
        type: backend.type,
        port: rec.port,
      }));
      return [(await cloud.clb.setVServerGroupAttribute(req.regionId, vsgId, servers, { signal })).requestId];
    },
  };
}

function serverGroupIo(r: Repair, g: ServerGroups, sgId: string): LoadBalancerIo<ServerGroupRecord> {
  const { cloud, req, signal, hb } = r;
  const serverIds = [...new Set(ofKind(req.restore, g.kind).map((x) => x.serverId))];
  return {
    name: `${g.label} server group ${sgId}`,
    keyOf: (rec) => `${rec.serverId}/${rec.port}`,
    read: async () => {
      const { servers } = await g.api(cloud).listServerGroupServers(req.regionId, sgId, { signal, serverIds });
      return new Map(servers.map((s) => [`${s.serverId}/${s.port}`, { weight: s.weight, type: s.serverType }]));
    },
    write: async (todo) => {
      const ids: string[] = [];
      const call = { cloud, regionId: req.regionId, signal, hb };
      for (const part of chunk(todo, g.maxPerCall)) {
        const servers = part.map(({ rec }) => serverWeight(rec, rec.weight));
        try {
          await updateWeights(g, call, sgId, servers, (id) => ids.push(id));
        } catch (e) {
          // A failed job leaves the weights as they were: the verifying read reports them failed.
          if (!g.isJobFailed(e)) throw e;
        }
      }
      return ids;
    },
  };
}

/**
 * Standby records: out of standby if still in it, verified InService after (the weights are
 * verified at their own places). Answers the instances still in Standby.
 */
async function repairStandby(
  r: Repair,
  recs: Array<Extract<RestoreRecord, { kind: 'standby' }>>,
  members: Map<string, ScalingInstance>,
): Promise<Set<string>> {
  const { cloud, req, signal } = r;
  const inStandby = recs
    .filter((x) => members.get(x.instanceId)?.lifecycleState === 'Standby')
    .map((x) => x.instanceId);
  for (const rec of recs) {
    const state = members.get(rec.instanceId)?.lifecycleState;
    if (!state) r.places.push(place(rec, 'gone', 'no longer in the scaling group'));
    else if (state !== 'Standby') r.places.push(place(rec, 'already-fine', `${state}, not in Standby`));
  }
  if (!inStandby.length) return new Set();
  for (const part of chunk(inStandby, 20))
    r.requestIds.push(
      (await cloud.ess.exitStandby(req.regionId, req.scalingGroupId, part, undefined, { signal })).requestId,
    );
  const { instances } = await cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: inStandby },
    { signal },
  );
  const now = new Map(instances.map((i) => [i.instanceId, i.lifecycleState]));
  for (const id of inStandby) {
    const state = now.get(id);
    const rec = { kind: 'standby' as const, instanceId: id };
    // ExitStandby is synchronous: anything but InService after it is a failure.
    if (state === 'InService') r.places.push(place(rec, 'restored', 'Standby → InService'));
    else if (state === undefined) r.places.push(place(rec, 'gone', 'left the scaling group during ExitStandby'));
    else r.places.push(place(rec, 'failed', `${state === 'Standby' ? 'still in Standby' : state} after ExitStandby`));
  }
  return new Set(inStandby.filter((id) => now.get(id) === 'Standby'));
}

function place(rec: RestoreRecord, outcome: RepairOutcome, why: string): RepairPlace {
  return { instanceId: restoreInstanceId(rec), place: placeOf(rec), outcome, why };
}

/** Where a record puts traffic back, as the report names it. */
function placeOf(rec: RestoreRecord): string {
  switch (rec.kind) {
    case 'clb':
      return `CLB ${rec.loadBalancerId}`;
    case 'vsg':
      return `vserver group ${rec.vServerGroupId} port ${rec.port}`;
    case 'alb':
      return `ALB server group ${rec.serverGroupId} port ${rec.port}`;
    case 'nlb':
      return `NLB server group ${rec.serverGroupId} port ${rec.port}`;
    case 'standby':
      return 'standby';
  }
}

function ofKind<K extends RestoreRecord['kind']>(
  recs: RestoreRecord[],
  kind: K,
): Array<Extract<RestoreRecord, { kind: K }>> {
  return recs.filter((x): x is Extract<RestoreRecord, { kind: K }> => x.kind === kind);
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), i]);
  return m;
}
