import { Context } from '@temporalio/activity';
import type { CloudClient } from '../aliyun/types';
import { chunk } from '../shared/input';
import { restoreKey } from '../shared/restore';
import type { Heartbeat } from './heartbeat';
import { SERVER_GROUPS, serverWeight, updateWeights, type ServerGroups, type ServerWeight } from './server-groups';
import type { DrainRequest, DrainResponse, RestoreRecord } from './types';

export { AlbJobFailedError } from './alb-job';
export { NlbJobFailedError } from './nlb-job';
export { runUndrain } from './undrain';

interface PlannedChanges {
  clb: Array<{ lbId: string; servers: Array<{ serverId: string; weight: number; type: string }> }>;
  vsg: Array<{ vsgId: string; servers: Array<{ serverId: string; weight: number; type: string; port: number }> }>;
  /** ALB and NLB alike: their update calls take the same server fields. */
  alb: Array<{ sgId: string; servers: ServerWeight[] }>;
  nlb: PlannedChanges['alb'];
}

/** What reading one kind of load balancer needs: the batch, where to record originals, where to plan changes. */
interface BackendReader {
  cloud: CloudClient;
  req: DrainRequest;
  ids: Set<string>;
  signal: AbortSignal;
  record: (r: RestoreRecord) => void;
  out: PlannedChanges;
}

/** Reads the batch's backends on every load balancer: what each weighs now, and the changes that set them to 0. */
async function readBackends(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
  record: (r: RestoreRecord) => void,
): Promise<PlannedChanges> {
  const reader: BackendReader = { cloud, req, ids: new Set(req.instanceIds), signal, record, out: emptyChanges() };
  await readClbBackends(reader);
  await readVServerGroupBackends(reader);
  for (const g of SERVER_GROUPS) await readServerGroupBackends(reader, g);
  return reader.out;
}

function emptyChanges(): PlannedChanges {
  return { clb: [], vsg: [], alb: [], nlb: [] };
}

async function readClbBackends({ cloud, req, ids, signal, record, out }: BackendReader): Promise<void> {
  for (const lbId of req.loadBalancers.clbIds) {
    const lb = await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal });
    const mine = lb.backendServers.filter((b) => ids.has(b.serverId));
    for (const b of mine) record({ kind: 'clb', loadBalancerId: lbId, serverId: b.serverId, weight: b.weight });
    if (mine.some((b) => b.weight !== 0))
      out.clb.push({ lbId, servers: mine.map((b) => ({ serverId: b.serverId, weight: 0, type: b.type || 'ecs' })) });
  }
}

async function readVServerGroupBackends({ cloud, req, ids, signal, record, out }: BackendReader): Promise<void> {
  for (const v of req.loadBalancers.vServerGroups) {
    const g = await cloud.clb.describeVServerGroupAttribute(req.regionId, v.vServerGroupId, { signal });
    const mine = g.backendServers.filter((b) => ids.has(b.serverId));
    for (const b of mine)
      record({
        kind: 'vsg',
        vServerGroupId: v.vServerGroupId,
        serverId: b.serverId,
        port: b.port ?? 0,
        weight: b.weight,
      });
    if (mine.some((b) => b.weight !== 0))
      out.vsg.push({
        vsgId: v.vServerGroupId,
        servers: mine.map((b) => ({ serverId: b.serverId, weight: 0, type: b.type || 'ecs', port: b.port ?? 0 })),
      });
  }
}

async function readServerGroupBackends(
  { cloud, req, ids, signal, record, out }: BackendReader,
  g: ServerGroups,
): Promise<void> {
  for (const sgId of g.groupIds(req.loadBalancers)) {
    const { servers } = await g.api(cloud).listServerGroupServers(req.regionId, sgId, {
      signal,
      serverIds: req.instanceIds,
    });
    const mine = servers.filter((s) => ids.has(s.serverId));
    for (const s of mine) record({ kind: g.kind, serverGroupId: sgId, ...serverWeight(s, s.weight) });
    if (mine.some((s) => s.weight !== 0)) out[g.kind].push({ sgId, servers: mine.map((s) => serverWeight(s, 0)) });
  }
}

/**
 * The batch's current weights, before any change: the workflow keeps them in its history, the one
 * place that survives a worker killed between a weight change and the heartbeat that would have
 * recorded the original (a heartbeat is sent asynchronously, with no acknowledgement).
 */
export async function runSnapshotWeights(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
): Promise<{ restore: RestoreRecord[] }> {
  const restore: RestoreRecord[] = [];
  // A standby drain leaves instances in Standby before the run alone: their weights are not its to restore.
  const already = new Set(req.strategy === 'standby' ? req.alreadyStandby : []);
  const instanceIds = req.instanceIds.filter((id) => !already.has(id));
  await readBackends(cloud, { ...req, instanceIds }, signal, (r) => restore.push(r));
  return { restore };
}

/** The restore records a drain has collected, the first one for each backend winning, and its checkpoint. */
class RestoreRecords {
  private readonly known = new Map<string, RestoreRecord>();

  constructor(private readonly hb: Heartbeat) {}

  readonly record = (r: RestoreRecord): void => {
    if (!this.known.has(restoreKey(r))) this.known.set(restoreKey(r), r);
  };

  records(): RestoreRecord[] {
    return [...this.known.values()];
  }

  checkpoint(): void {
    this.hb.beat({ restore: this.records() });
  }
}

/**
 * Takes traffic away from a batch of instances. The original weights come from the workflow's
 * snapshot (`originals`) or, for runs from before it existed, from this activity's heartbeat,
 * written before any change; either way a retried attempt, which reads weight 0, restores the
 * real values.
 */
export async function runDrain(cloud: CloudClient, req: DrainRequest, hb: Heartbeat): Promise<DrainResponse> {
  const signal = Context.current().cancellationSignal;
  const restore = new RestoreRecords(hb);
  const resumed = (hb.resumedFrom as { restore?: RestoreRecord[] } | undefined)?.restore ?? [];
  for (const r of [...(req.originals ?? []), ...resumed]) restore.record(r);
  const requestIds =
    req.strategy === 'standby'
      ? await enterStandby(cloud, req, signal, restore)
      : await setWeightsToZero(cloud, req, signal, restore, hb);
  return { restore: restore.records(), requestIds, drainedAt: new Date().toISOString() };
}

/**
 * ESS sets the weights to 0 itself, and ExitStandby does not give them back (it sets the
 * reference's weight, 50 by default): so the weights are recorded, and checkpointed, before
 * EnterStandby, for the restore to set them back after ExitStandby.
 */
async function enterStandby(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
  restore: RestoreRecords,
): Promise<string[]> {
  const already = new Set(req.alreadyStandby);
  const targets = req.instanceIds.filter((id) => !already.has(id));
  for (const id of targets) restore.record({ kind: 'standby', instanceId: id });
  // Re-entering standby is harmless, but skip instances an earlier attempt already moved.
  const current = await cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: targets },
    { signal },
  );
  const toMove = current.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId);
  // Only an InService instance's weights are originals: one an earlier attempt moved reads 0, and
  // its originals are in that attempt's checkpoint (or the workflow's snapshot).
  if (toMove.length) await readBackends(cloud, { ...req, instanceIds: toMove }, signal, restore.record);
  restore.checkpoint();
  const requestIds: string[] = [];
  try {
    for (const part of chunk(toMove, 20)) {
      const r = await cloud.ess.enterStandby(req.regionId, req.scalingGroupId, part, undefined, { signal });
      requestIds.push(r.requestId);
    }
  } catch (e) {
    // An earlier part may be in Standby already: the failure carries how to bring it back.
    throw new DrainInterruptedError(e, restore.records());
  }
  return requestIds;
}

async function setWeightsToZero(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
  restore: RestoreRecords,
  hb: Heartbeat,
): Promise<string[]> {
  // Read everything first and checkpoint, then change.
  const changes = await readBackends(cloud, req, signal, restore.record);
  restore.checkpoint();
  const requestIds: string[] = [];
  try {
    await applyChanges(cloud, req.regionId, changes, { signal, restore, hb, requestIds });
  } catch (e) {
    // Some weights may already be 0: the failure carries the originals so the workflow can restore them.
    throw new DrainInterruptedError(e, restore.records());
  }
  return requestIds;
}

async function applyChanges(
  cloud: CloudClient,
  regionId: string,
  changes: PlannedChanges,
  {
    signal,
    restore,
    hb,
    requestIds,
  }: { signal: AbortSignal; restore: RestoreRecords; hb: Heartbeat; requestIds: string[] },
): Promise<void> {
  // A heartbeat after every call: a group behind many load balancers must not time out mid-drain.
  for (const c of changes.clb) {
    requestIds.push((await cloud.clb.setBackendServers(regionId, c.lbId, c.servers, { signal })).requestId);
    restore.checkpoint();
  }
  for (const c of changes.vsg) {
    requestIds.push((await cloud.clb.setVServerGroupAttribute(regionId, c.vsgId, c.servers, { signal })).requestId);
    restore.checkpoint();
  }
  for (const g of SERVER_GROUPS)
    for (const c of changes[g.kind])
      for (const servers of chunk(c.servers, g.maxPerCall))
        await updateWeights(g, { cloud, regionId, signal, hb }, c.sgId, servers, (id) => requestIds.push(id));
}

/** A drain that failed part-way: `restore` says how to undo whatever it changed. */
export class DrainInterruptedError extends Error {
  override readonly name = 'DrainInterruptedError' as const;
  constructor(
    override readonly cause: unknown,
    readonly restore: RestoreRecord[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
