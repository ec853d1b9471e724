import { Context } from '@temporalio/activity';
import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';
import { chunk } from '../shared/input';
import { restoreKey } from '../shared/restore';
import type { Heartbeat } from './heartbeat';
import type { DrainRequest, DrainResponse, RestoreRecord, UndrainRequest, UndrainResponse } from './types';

interface PlannedChanges {
  clb: Array<{ lbId: string; servers: Array<{ serverId: string; weight: number; type: string }> }>;
  vsg: Array<{ vsgId: string; servers: Array<{ serverId: string; weight: number; type: string; port: number }> }>;
  alb: Array<{ sgId: string; servers: Array<{ serverId: string; serverType: string; port: number; weight: number }> }>;
}

/** Reads the batch's backends on every load balancer: what each weighs now, and the changes that set them to 0. */
async function readBackends(
  cloud: CloudClient,
  req: DrainRequest,
  signal: AbortSignal,
  record: (r: RestoreRecord) => void,
): Promise<PlannedChanges> {
  const ids = new Set(req.instanceIds);
  const { clbIds, vServerGroups, albServerGroupIds } = req.loadBalancers;
  const out: PlannedChanges = { clb: [], vsg: [], alb: [] };
  for (const lbId of clbIds) {
    const lb = await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal });
    const mine = lb.backendServers.filter((b) => ids.has(b.serverId));
    for (const b of mine) record({ kind: 'clb', loadBalancerId: lbId, serverId: b.serverId, weight: b.weight });
    if (mine.some((b) => b.weight !== 0))
      out.clb.push({ lbId, servers: mine.map((b) => ({ serverId: b.serverId, weight: 0, type: b.type || 'ecs' })) });
  }
  for (const v of vServerGroups) {
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
  for (const sgId of albServerGroupIds) {
    const { servers } = await cloud.alb.listServerGroupServers(req.regionId, sgId, {
      signal,
      serverIds: req.instanceIds,
    });
    const mine = servers.filter((s) => ids.has(s.serverId));
    for (const s of mine)
      record({
        kind: 'alb',
        serverGroupId: sgId,
        serverId: s.serverId,
        serverType: s.serverType,
        port: s.port,
        weight: s.weight,
      });
    if (mine.some((s) => s.weight !== 0))
      out.alb.push({
        sgId,
        servers: mine.map((s) => ({ serverId: s.serverId, serverType: s.serverType, port: s.port, weight: 0 })),
      });
  }
  return out;
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
  await readBackends(cloud, req, signal, (r) => restore.push(r));
  return { restore };
}

/**
 * Takes traffic away from a batch of instances. The original weights come from the workflow's
 * snapshot (`originals`) or, for runs from before it existed, from this activity's heartbeat,
 * written before any change; either way a retried attempt, which reads weight 0, restores the
 * real values.
 */
export async function runDrain(cloud: CloudClient, req: DrainRequest, hb: Heartbeat): Promise<DrainResponse> {
  const signal = Context.current().cancellationSignal;
  const previous = [
    ...(req.originals ?? []),
    ...((hb.resumedFrom as { restore?: RestoreRecord[] } | undefined)?.restore ?? []),
  ];
  const known = new Map<string, RestoreRecord>();
  const requestIds: string[] = [];
  const record = (r: RestoreRecord) => {
    if (!known.has(restoreKey(r))) known.set(restoreKey(r), r);
  };
  for (const r of previous) record(r);
  const checkpoint = () => hb.beat({ restore: [...known.values()] });

  if (req.strategy === 'standby') {
    const already = new Set(req.alreadyStandby);
    const targets = req.instanceIds.filter((id) => !already.has(id));
    for (const id of targets) record({ kind: 'standby', instanceId: id });
    checkpoint();
    // Re-entering standby is harmless, but skip instances an earlier attempt already moved.
    const current = await cloud.ess.describeScalingInstances(
      { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: targets },
      { signal },
    );
    const toMove = current.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId);
    for (const part of chunk(toMove, 20)) {
      const r = await cloud.ess.enterStandby(req.regionId, req.scalingGroupId, part, undefined, { signal });
      requestIds.push(r.requestId);
    }
    return { restore: [...known.values()], requestIds, drainedAt: new Date().toISOString() };
  }

  // Read everything first and checkpoint, then change.
  const { clb: clbChanges, vsg: vsgChanges, alb: albChanges } = await readBackends(cloud, req, signal, record);
  checkpoint();

  try {
    // A heartbeat after every call: a group behind many load balancers must not time out mid-drain.
    for (const c of clbChanges) {
      requestIds.push((await cloud.clb.setBackendServers(req.regionId, c.lbId, c.servers, { signal })).requestId);
      checkpoint();
    }
    for (const c of vsgChanges) {
      requestIds.push(
        (await cloud.clb.setVServerGroupAttribute(req.regionId, c.vsgId, c.servers, { signal })).requestId,
      );
      checkpoint();
    }
    for (const c of albChanges) {
      const { jobId, requestId } = await cloud.alb.updateServerGroupServersAttribute(
        req.regionId,
        c.sgId,
        c.servers,
        undefined,
        { signal },
      );
      requestIds.push(requestId);
      await waitForAlbJob(cloud, req.regionId, jobId, hb);
    }
  } catch (e) {
    // Some weights may already be 0: the failure carries the originals so the workflow can restore them.
    throw new DrainInterruptedError(e, [...known.values()]);
  }
  return { restore: [...known.values()], requestIds, drainedAt: new Date().toISOString() };
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

/** ALB weight changes are asynchronous: traffic has moved only when the job has succeeded. */
async function waitForAlbJob(cloud: CloudClient, regionId: string, jobId: string, hb: Heartbeat): Promise<void> {
  const ctx = Context.current();
  let delay = 200;
  for (;;) {
    const { jobs } = await cloud.alb.listAsynJobs(regionId, [jobId], { signal: ctx.cancellationSignal });
    const job = jobs.find((j) => j.id === jobId);
    if (job?.status === 'Succeeded') return;
    if (job?.status === 'Failed') {
      throw new AliyunApiError(
        'AlbJobFailed',
        `ALB job ${jobId} failed: ${job.errorCode ?? ''} ${job.errorMessage ?? ''}`.trim(),
        200,
        undefined,
        undefined,
        'UpdateServerGroupServersAttribute',
      );
    }
    // Not the earlier attempt's details: that would drop this attempt's record of the original weights.
    hb.beat();
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}

/**
 * Puts weights back (or leaves standby) for instances that were drained but not removed.
 * Idempotent: it sets absolute values and skips backends that are gone.
 */
export async function runUndrain(cloud: CloudClient, req: UndrainRequest, hb: Heartbeat): Promise<UndrainResponse> {
  const signal = Context.current().cancellationSignal;
  const restored = new Set<string>();
  const gone = new Set<string>();
  const requestIds: string[] = [];
  const group = <K extends RestoreRecord['kind']>(kind: K) =>
    req.restore.filter((r): r is Extract<RestoreRecord, { kind: K }> => r.kind === kind);
  const by = <T, K>(items: T[], key: (t: T) => K) => {
    const m = new Map<K, T[]>();
    for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), i]);
    return m;
  };

  for (const [lbId, recs] of by(group('clb'), (r) => r.loadBalancerId)) {
    const lb = await cloud.clb.describeLoadBalancerAttribute(req.regionId, lbId, { signal });
    const present = new Map(lb.backendServers.map((b) => [b.serverId, b]));
    const todo = recs.filter((r) => present.has(r.serverId));
    for (const r of recs) if (!present.has(r.serverId)) gone.add(r.serverId);
    if (todo.length) {
      requestIds.push(
        (
          await cloud.clb.setBackendServers(
            req.regionId,
            lbId,
            todo.map((r) => ({ serverId: r.serverId, weight: r.weight, type: present.get(r.serverId)?.type || 'ecs' })),
            { signal },
          )
        ).requestId,
      );
      for (const r of todo) restored.add(r.serverId);
    }
  }
  for (const [vsgId, recs] of by(group('vsg'), (r) => r.vServerGroupId)) {
    const g = await cloud.clb.describeVServerGroupAttribute(req.regionId, vsgId, { signal });
    const present = new Set(g.backendServers.map((b) => `${b.serverId}/${b.port ?? 0}`));
    const todo = recs.filter((r) => present.has(`${r.serverId}/${r.port}`));
    for (const r of recs) if (!present.has(`${r.serverId}/${r.port}`)) gone.add(r.serverId);
    if (todo.length) {
      requestIds.push(
        (
          await cloud.clb.setVServerGroupAttribute(
            req.regionId,
            vsgId,
            todo.map((r) => ({ serverId: r.serverId, weight: r.weight, type: 'ecs', port: r.port })),
            { signal },
          )
        ).requestId,
      );
      for (const r of todo) restored.add(r.serverId);
    }
  }
  for (const [sgId, recs] of by(group('alb'), (r) => r.serverGroupId)) {
    const { servers } = await cloud.alb.listServerGroupServers(req.regionId, sgId, {
      signal,
      serverIds: [...new Set(recs.map((r) => r.serverId))],
    });
    const present = new Set(servers.map((s) => `${s.serverId}/${s.port}`));
    const todo = recs.filter((r) => present.has(`${r.serverId}/${r.port}`));
    for (const r of recs) if (!present.has(`${r.serverId}/${r.port}`)) gone.add(r.serverId);
    if (todo.length) {
      const { jobId, requestId } = await cloud.alb.updateServerGroupServersAttribute(
        req.regionId,
        sgId,
        todo.map((r) => ({ serverId: r.serverId, serverType: r.serverType, port: r.port, weight: r.weight })),
        undefined,
        { signal },
      );
      requestIds.push(requestId);
      await waitForAlbJob(cloud, req.regionId, jobId, hb);
      for (const r of todo) restored.add(r.serverId);
    }
  }
  const standby = group('standby').map((r) => r.instanceId);
  if (standby.length) {
    const { instances } = await cloud.ess.describeScalingInstances(
      { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: standby },
      { signal },
    );
    const inStandby = instances.filter((i) => i.lifecycleState === 'Standby').map((i) => i.instanceId);
    const present = new Set(instances.map((i) => i.instanceId));
    for (const id of standby) if (!present.has(id)) gone.add(id);
    for (const part of chunk(inStandby, 20)) {
      requestIds.push(
        (await cloud.ess.exitStandby(req.regionId, req.scalingGroupId, part, undefined, { signal })).requestId,
      );
    }
    for (const id of standby) if (present.has(id)) restored.add(id);
  }
  for (const id of restored) gone.delete(id);
  return { restoredInstanceIds: [...restored], goneInstanceIds: [...gone], requestIds };
}
