import { Context, log } from '@temporalio/activity';
import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';
import { errorPolicyFor } from '../shared/error-policy';
import { chunk } from '../shared/input';
import { restoreKey } from '../shared/restore';
import type { Heartbeat } from './heartbeat';
import { SERVER_GROUPS, serverWeight, updateWeights, type ServerGroups } from './server-groups';
import type {
  DrainRequest,
  DrainResponse,
  RestoreRecord,
  SnapshotBackends,
  SnapshotWeightsResponse,
  ZeroWeightChanges,
} from './types';

export { AlbJobFailedError } from './alb-job';
export { NlbJobFailedError } from './nlb-job';
export { runUndrain } from './undrain';

type PlannedChanges = ZeroWeightChanges;

/**
 * How old the snapshot's reads may be for a drain to change what they saw without reading again.
 * The drain is scheduled as soon as the snapshot ends (one workflow task); an older snapshot means
 * the drain waited (e.g. for a worker), and a backend attached meanwhile would be missed.
 */
export const SNAPSHOT_FRESH_MS = 15_000;
/** Worker clocks may differ a little: a snapshot this far "in the future" still counts as fresh. */
const CLOCK_SKEW_MS = 2_000;

/** What reading one kind of load balancer needs: the batch, where to record originals, where to plan changes. */
interface BackendReader {
  cloud: CloudClient;
  req: DrainRequest;
  ids: Set<string>;
  signal: AbortSignal;
  record: (r: RestoreRecord) => void;
  out: PlannedChanges;
  /** Plan a change wherever the batch has backends, even all at 0 (a snapshot's plan: see runSnapshotWeights). */
  everyBackend: boolean;
}

/** Reads the batch's backends on every load balancer: what each weighs now, and the changes that set them to 0. */
async function readBackends(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
  record: (r: RestoreRecord) => void,
  everyBackend = false,
): Promise<PlannedChanges> {
  const ids = new Set(req.instanceIds);
  const reader: BackendReader = { cloud, req, ids, signal, record, out: emptyChanges(), everyBackend };
  await readClbBackends(reader);
  await readVServerGroupBackends(reader);
  for (const g of SERVER_GROUPS) await readServerGroupBackends(reader, g);
  return reader.out;
}

function emptyChanges(): PlannedChanges {
  return { clb: [], vsg: [], alb: [], nlb: [] };
}

/** Whether a load balancer (or group) where the batch has the backends `mine` needs a change. */
function needsChange(mine: ReadonlyArray<{ weight: number }>, everyBackend: boolean): boolean {
  return everyBackend ? mine.length > 0 : mine.some((b) => b.weight !== 0);
}

async function readClbBackends({ cloud, req, ids, signal, record, out, everyBackend }: BackendReader): Promise<void> {
  for (const lbId of req.loadBalancers.clbIds) {
    const lb = await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal });
    const mine = lb.backendServers.filter((b) => ids.has(b.serverId));
    for (const b of mine) record({ kind: 'clb', loadBalancerId: lbId, serverId: b.serverId, weight: b.weight });
    if (needsChange(mine, everyBackend))
      out.clb.push({ lbId, servers: mine.map((b) => ({ serverId: b.serverId, weight: 0, type: b.type || 'ecs' })) });
  }
}

async function readVServerGroupBackends(r: BackendReader): Promise<void> {
  const { cloud, req, ids, signal, record, out, everyBackend } = r;
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
    if (needsChange(mine, everyBackend))
      out.vsg.push({
        vsgId: v.vServerGroupId,
        servers: mine.map((b) => ({ serverId: b.serverId, weight: 0, type: b.type || 'ecs', port: b.port ?? 0 })),
      });
  }
}

async function readServerGroupBackends(
  { cloud, req, ids, signal, record, out, everyBackend }: BackendReader,
  g: ServerGroups,
): Promise<void> {
  for (const sgId of g.groupIds(req.loadBalancers)) {
    const { servers } = await g.api(cloud).listServerGroupServers(req.regionId, sgId, {
      signal,
      serverIds: req.instanceIds,
    });
    const mine = servers.filter((s) => ids.has(s.serverId));
    for (const s of mine) record({ kind: g.kind, serverGroupId: sgId, ...serverWeight(s, s.weight) });
    if (needsChange(mine, everyBackend)) out[g.kind].push({ sgId, servers: mine.map((s) => serverWeight(s, 0)) });
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
): Promise<SnapshotWeightsResponse> {
  const restore: RestoreRecord[] = [];
  // A standby drain leaves instances in Standby before the run alone: their weights are not its to restore.
  const already = new Set(req.strategy === 'standby' ? req.alreadyStandby : []);
  const instanceIds = req.instanceIds.filter((id) => !already.has(id));
  const readAt = new Date().toISOString();
  // Handed to the drain, the plan sets every backend of the batch to 0, even one read at 0: another
  // actor may give it weight before the drain runs, and the drain will not read it again to see.
  const everyBackend = req.handBackends === true;
  const changes = await readBackends(cloud, { ...req, instanceIds }, signal, (r) => restore.push(r), everyBackend);
  return everyBackend ? { restore, backends: { readAt, ...changes } } : { restore };
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
  const requestIds: string[] = [];
  const call: ApplyCall = { signal, restore, hb, requestIds };
  const snapshot = usableSnapshot(req, hb);
  let changes: PlannedChanges;
  if (snapshot) {
    const instead = await drainFromSnapshot(cloud, req, snapshot, call);
    if (!instead) return requestIds;
    changes = instead;
  } else {
    // Read everything first, then checkpoint and change.
    changes = await readBackends(cloud, req, signal, restore.record);
  }
  restore.checkpoint();
  try {
    await applyChanges(cloud, req.regionId, changes, call);
  } catch (e) {
    // Some weights may already be 0: the failure carries the originals so the workflow can restore them.
    throw new DrainInterruptedError(e, restore.records());
  }
  return requestIds;
}

interface ApplyCall {
  signal: AbortSignal;
  restore: RestoreRecords;
  hb: Heartbeat;
  requestIds: string[];
}

/**
 * Changes the backends the snapshot read, without reading them again. Undefined once done. When a
 * change is refused for good because a backend the snapshot saw has left since (ESS or another
 * actor detached it), it returns the changes read now, for the caller to make instead; any other
 * failure fails the attempt as a drain that reads would.
 */
async function drainFromSnapshot(
  cloud: CloudClient,
  req: DrainRequest,
  snapshot: SnapshotBackends,
  call: ApplyCall,
): Promise<PlannedChanges | undefined> {
  const { signal, restore } = call;
  // The snapshot's reads are this drain's: their originals are in the workflow's history already.
  restore.checkpoint();
  try {
    await applyChanges(cloud, req.regionId, snapshot, call);
    return undefined;
  } catch (e) {
    // Retryable (throttled, busy...): Temporal's retry reads again. Refused for good: read to tell why.
    if (signal.aborted || !refusedForGood(e)) throw new DrainInterruptedError(e, restore.records());
    const seen = new Set<string>();
    const record = (r: RestoreRecord) => {
      seen.add(restoreKey(r));
      restore.record(r);
    };
    // Some weights may already be 0: a failed read must still say what to restore.
    const changes = await readBackends(cloud, req, signal, record).catch((readError: unknown) => {
      throw new DrainInterruptedError(readError, restore.records());
    });
    const left = (req.originals ?? []).filter((r) => !seen.has(restoreKey(r)));
    // Every backend is still there: the refusal is not the snapshot's age, and stands.
    if (!left.length) throw new DrainInterruptedError(e, restore.records());
    log.warn('drain: backends read by the weight snapshot have left since; draining what is there now', {
      left: left.map(restoreKey),
      refused: e instanceof Error ? e.message : String(e),
    });
    return changes;
  }
}

/**
 * The snapshot's backends, when this drain may change them without reading again: on its first
 * attempt only (a retry follows a failure or a lost answer after which anything may have changed)
 * and while fresh. Its restore records, the workflow's originals, cover every backend it names.
 */
function usableSnapshot(req: DrainRequest, hb: Heartbeat): SnapshotBackends | undefined {
  const s = req.snapshot;
  if (!s || !req.originals || hb.resumedFrom !== undefined || Context.current().info.attempt > 1) return undefined;
  const age = Date.now() - Date.parse(s.readAt);
  return age >= -CLOCK_SKEW_MS && age <= SNAPSHOT_FRESH_MS ? s : undefined;
}

/** An API answer the retry policy would not retry (e.g. a backend that no longer exists). */
function refusedForGood(e: unknown): boolean {
  return e instanceof AliyunApiError && errorPolicyFor(e.code, e.httpStatus).handling === 'fail';
}

async function applyChanges(
  cloud: CloudClient,
  regionId: string,
  changes: PlannedChanges,
  { signal, restore, hb, requestIds }: ApplyCall,
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
