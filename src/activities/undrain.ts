import { ApplicationFailure, Context } from '@temporalio/activity';
import { AliyunApiError, AliyunError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';
import { errorPolicyFor } from '../shared/error-policy';
import { chunk } from '../shared/input';
import { restorePlace, type DrainedPlace } from '../shared/progress';
import type { Heartbeat } from './heartbeat';
import { SERVER_GROUPS, serverWeight, updateWeights, type ServerGroupRecord, type ServerGroups } from './server-groups';
import type { NotRestored, RestoreRecord, UndrainRequest, UndrainResponse } from './types';

/**
 * From this attempt on, a restore answers with what still failed instead of asking for another
 * attempt: well below the restore proxy's 50 attempts (src/workflows/options.ts), so the workflow
 * gets a structured answer rather than a failure.
 */
export const UNDRAIN_GIVE_UP_ATTEMPT = 20;

/** Our code for a weight (or standby state) that the cloud accepted but did not read back as restored. */
export const NOT_RESTORED_CODE = 'WeightNotRestored';

/** What a restore has found so far, per instance and place. */
class RestoreTally {
  private readonly restoredOn = new Map<string, Set<string>>();
  private readonly drainedOn = new Map<string, DrainedPlace[]>();
  private readonly gone = new Set<string>();
  /** Failures the error table retries, and that this attempt may still retry. */
  readonly transient: AliyunError[] = [];
  readonly requestIds: string[] = [];

  ok(id: string, place: string): void {
    this.restoredOn.set(id, (this.restoredOn.get(id) ?? new Set()).add(place));
  }

  fail(id: string, place: string, code: string, message: string): void {
    const list = this.drainedOn.get(id) ?? [];
    if (!list.some((d) => d.place === place)) list.push({ place, code, message });
    this.drainedOn.set(id, list);
  }

  goneFrom(id: string): void {
    this.gone.add(id);
  }

  /** Instances still drained at `place`. */
  drainedAt(place: string): Set<string> {
    return new Set([...this.drainedOn].filter(([, list]) => list.some((d) => d.place === place)).map(([id]) => id));
  }

  response(): UndrainResponse {
    const notRestored: NotRestored[] = [...this.drainedOn].map(([instanceId, drainedOn]) => ({
      instanceId,
      restoredOn: [...(this.restoredOn.get(instanceId) ?? [])].filter((p) => !drainedOn.some((d) => d.place === p)),
      drainedOn,
    }));
    const restored = [...this.restoredOn.keys()].filter((id) => !this.drainedOn.has(id));
    // Gone from one load balancer but restored (or still drained) on another: not gone.
    const gone = [...this.gone].filter((id) => !this.restoredOn.has(id) && !this.drainedOn.has(id));
    return { restoredInstanceIds: restored, goneInstanceIds: gone, requestIds: this.requestIds, notRestored };
  }
}

/** What one place's restore found: read back as restored, backend gone, and the error behind the rest. */
interface PlaceOutcome<R> {
  restored: R[];
  gone: R[];
  error?: AliyunError | undefined;
}

interface UndrainContext {
  cloud: CloudClient;
  req: UndrainRequest;
  signal: AbortSignal;
  hb: Heartbeat;
  tally: RestoreTally;
}

/**
 * Puts weights back (or leaves standby) for instances that were drained but not removed, place by
 * place: a failure on one load balancer is recorded and the others are still restored. Every
 * change is read back before an instance counts as restored. Idempotent (absolute values, gone
 * backends skipped), so a retried attempt simply does it all again; it is retried only while some
 * failure is one the error table retries.
 */
export async function runUndrain(cloud: CloudClient, req: UndrainRequest, hb: Heartbeat): Promise<UndrainResponse> {
  const signal = Context.current().cancellationSignal;
  const u: UndrainContext = { cloud, req, signal, hb, tally: new RestoreTally() };
  // Standby first: ExitStandby sets the reference's weight (50 by default), not the one before
  // EnterStandby, so the recorded weights are set after it.
  const standby = recordsOf(req.restore, 'standby');
  if (standby.length) await attempt(u, standby, () => leaveStandby(u, standby));
  const restore = weightsToRestore(u);
  for (const [lbId, recs] of groupBy(recordsOf(restore, 'clb'), (r) => r.loadBalancerId))
    await attempt(u, recs, () => restoreClb(u, lbId, recs));
  for (const [vsgId, recs] of groupBy(recordsOf(restore, 'vsg'), (r) => r.vServerGroupId))
    await attempt(u, recs, () => restoreVsg(u, vsgId, recs));
  for (const g of SERVER_GROUPS)
    for (const [sgId, recs] of groupBy(recordsOf(restore, g.kind), (r) => r.serverGroupId))
      await attempt(u, recs, () => restoreServerGroup(u, g, sgId, recs));
  askForRetryIfTransient(u.tally, req.retryDelayCapMs);
  return u.tally.response();
}

/**
 * The weight records to set, without those of instances still in Standby: traffic to one would
 * undo its Standby, and its ExitStandby resets the weight anyway (a retry sets it after that).
 */
function weightsToRestore(u: UndrainContext): RestoreRecord[] {
  const stillStandby = u.tally.drainedAt('standby');
  const weights = u.req.restore.filter((r) => r.kind !== 'standby');
  for (const r of weights.filter((x) => stillStandby.has(idOf(x))))
    u.tally.fail(idOf(r), restorePlace(r), NOT_RESTORED_CODE, 'still in Standby: the weight is set after it leaves');
  return weights.filter((r) => !stillStandby.has(idOf(r)));
}

/** Runs one place's restore; a cloud error there is recorded against its instances, not thrown. */
async function attempt<R extends RestoreRecord>(
  u: UndrainContext,
  records: R[],
  restore: () => Promise<PlaceOutcome<R>>,
): Promise<void> {
  const place = restorePlace(records[0] as R);
  let out: PlaceOutcome<R>;
  try {
    out = await restore();
  } catch (e) {
    // Bugs, and a cancelled activity, are not a place's failure.
    if (!(e instanceof AliyunError) || u.signal.aborted) throw e;
    out = { restored: [], gone: [], error: e };
  }
  if (out.error && isRetriedNow(out.error)) u.tally.transient.push(out.error);
  const done = new Set([...out.restored, ...out.gone]);
  for (const r of out.restored) u.tally.ok(idOf(r), place);
  for (const r of out.gone) u.tally.goneFrom(idOf(r));
  for (const r of records.filter((x) => !done.has(x))) {
    const code = out.error?.code ?? NOT_RESTORED_CODE;
    const message = out.error?.message ?? 'the change was accepted but the weight did not read back as before';
    u.tally.fail(idOf(r), place, code, message);
  }
  u.hb.beat();
}

/** Whether the error table retries `e` and this attempt is not the last one that may. */
function isRetriedNow(e: AliyunError): boolean {
  const policy = errorPolicyFor(e.code, e instanceof AliyunApiError ? e.httpStatus : undefined);
  const last = Math.min(policy.maxAttempts ?? Infinity, UNDRAIN_GIVE_UP_ATTEMPT);
  return policy.handling === 'retry' && Context.current().info.attempt < last;
}

/** A retry of the whole restore (it is idempotent) while some place failed in a way worth retrying. */
function askForRetryIfTransient(tally: RestoreTally, retryDelayCapMs: number | undefined): void {
  const first = tally.transient[0];
  if (!first) return;
  const policy = errorPolicyFor(first.code, first instanceof AliyunApiError ? first.httpStatus : undefined);
  const { notRestored } = tally.response();
  throw ApplicationFailure.create({
    type: first.code,
    message: `${first.message}. ${policy.advice} ${notRestored?.length ?? 0} instance(s) not restored yet.`,
    nonRetryable: false,
    nextRetryDelay: policy.delayMs === undefined ? undefined : Math.min(policy.delayMs, retryDelayCapMs ?? Infinity),
    details: [{ code: first.code, advice: policy.advice, notRestored }],
  });
}

function idOf(r: RestoreRecord): string {
  return r.kind === 'standby' ? r.instanceId : r.serverId;
}

function recordsOf<K extends RestoreRecord['kind']>(
  restore: RestoreRecord[],
  kind: K,
): Array<Extract<RestoreRecord, { kind: K }>> {
  return restore.filter((r): r is Extract<RestoreRecord, { kind: K }> => r.kind === kind);
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), i]);
  return m;
}

/** Records whose backend (by `keyOf`) is still there, and the others. */
function split<R>(recs: R[], present: (r: R) => boolean): { todo: R[]; gone: R[] } {
  return { todo: recs.filter(present), gone: recs.filter((r) => !present(r)) };
}

type ClbRecord = Extract<RestoreRecord, { kind: 'clb' }>;
type VsgRecord = Extract<RestoreRecord, { kind: 'vsg' }>;
type StandbyRecord = Extract<RestoreRecord, { kind: 'standby' }>;

async function restoreClb(u: UndrainContext, lbId: string, recs: ClbRecord[]): Promise<PlaceOutcome<ClbRecord>> {
  const { cloud, req, signal } = u;
  const read = async () =>
    new Map(
      (await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal })).backendServers.map((b) => [
        b.serverId,
        b,
      ]),
    );
  const before = await read();
  const { todo, gone } = split(recs, (r) => before.has(r.serverId));
  if (todo.every((r) => before.get(r.serverId)?.weight === r.weight)) return { restored: todo, gone };
  const servers = todo.map((r) => ({
    serverId: r.serverId,
    weight: r.weight,
    type: before.get(r.serverId)?.type || 'ecs',
  }));
  u.tally.requestIds.push((await cloud.clb.setBackendServers(req.regionId, lbId, servers, { signal })).requestId);
  const after = await read();
  return { restored: todo.filter((r) => after.get(r.serverId)?.weight === r.weight), gone };
}

async function restoreVsg(u: UndrainContext, vsgId: string, recs: VsgRecord[]): Promise<PlaceOutcome<VsgRecord>> {
  const { cloud, req, signal } = u;
  const key = (serverId: string, port: number | undefined) => `${serverId}/${port ?? 0}`;
  const read = async () =>
    new Map(
      (await cloud.clb.describeVServerGroupAttribute(req.regionId, vsgId, { signal })).backendServers.map((b) => [
        key(b.serverId, b.port),
        b,
      ]),
    );
  const before = await read();
  const { todo, gone } = split(recs, (r) => before.has(key(r.serverId, r.port)));
  if (todo.every((r) => before.get(key(r.serverId, r.port))?.weight === r.weight)) return { restored: todo, gone };
  // The backend's own type (ecs, eni, eci), as the drain sent it: ENI and ECI backends need theirs.
  const typeOf = (r: VsgRecord) => before.get(key(r.serverId, r.port))?.type || 'ecs';
  const servers = todo.map((r) => ({ serverId: r.serverId, weight: r.weight, type: typeOf(r), port: r.port }));
  u.tally.requestIds.push(
    (await cloud.clb.setVServerGroupAttribute(req.regionId, vsgId, servers, { signal })).requestId,
  );
  const after = await read();
  return { restored: todo.filter((r) => after.get(key(r.serverId, r.port))?.weight === r.weight), gone };
}

/** In calls of at most the kind's `maxPerCall` (40), each job waited for; a failed call stops no other. */
async function restoreServerGroup(
  u: UndrainContext,
  g: ServerGroups,
  sgId: string,
  recs: ServerGroupRecord[],
): Promise<PlaceOutcome<ServerGroupRecord>> {
  const { cloud, req, signal, hb } = u;
  const key = (serverId: string, port: number) => `${serverId}/${port}`;
  const serverIds = [...new Set(recs.map((r) => r.serverId))];
  const read = async () =>
    new Map(
      (await g.api(cloud).listServerGroupServers(req.regionId, sgId, { signal, serverIds })).servers.map((s) => [
        key(s.serverId, s.port),
        s,
      ]),
    );
  const before = await read();
  const { todo, gone } = split(recs, (r) => before.has(key(r.serverId, r.port)));
  const changes = todo.filter((r) => before.get(key(r.serverId, r.port))?.weight !== r.weight);
  if (!changes.length) return { restored: todo, gone };
  let error: AliyunError | undefined;
  const call = { cloud, regionId: req.regionId, signal, hb };
  for (const part of chunk(changes, g.maxPerCall)) {
    const servers = part.map((r) => serverWeight(r, r.weight));
    try {
      await updateWeights(g, call, sgId, servers, (id) => u.tally.requestIds.push(id));
    } catch (e) {
      if (!(e instanceof AliyunError) || signal.aborted) throw e;
      error ??= e;
    }
  }
  // Read back after every job has ended: the weights, not the calls, say what was restored.
  const after = await read();
  return { restored: todo.filter((r) => after.get(key(r.serverId, r.port))?.weight === r.weight), gone, error };
}

async function leaveStandby(u: UndrainContext, recs: StandbyRecord[]): Promise<PlaceOutcome<StandbyRecord>> {
  const { cloud, req, signal } = u;
  const instanceIds = recs.map((r) => r.instanceId);
  const read = async () =>
    new Map(
      (
        await cloud.ess.describeScalingInstances(
          { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds },
          { signal },
        )
      ).instances.map((i) => [i.instanceId, i.lifecycleState]),
    );
  const before = await read();
  const { todo, gone } = split(recs, (r) => before.has(r.instanceId));
  const inStandby = todo.filter((r) => before.get(r.instanceId) === 'Standby').map((r) => r.instanceId);
  // In the group but not in Standby: nothing to do, its traffic is back.
  if (!inStandby.length) return { restored: todo, gone };
  for (const part of chunk(inStandby, 20)) {
    const r = await cloud.ess.exitStandby(req.regionId, req.scalingGroupId, part, undefined, { signal });
    u.tally.requestIds.push(r.requestId);
  }
  const after = await read();
  // ExitStandby is synchronous: one it moved is InService now (its weights are checked at their own places).
  const isBack = (r: StandbyRecord) => {
    const state = after.get(r.instanceId);
    return inStandby.includes(r.instanceId) ? state === 'InService' : state !== undefined && state !== 'Standby';
  };
  return { restored: todo.filter(isBack), gone };
}
