/**
 * NLB 2022-04-30: ListServerGroupServers, UpdateServerGroupServersAttribute (asynchronous: returns
 * a JobId, weights apply when the job finishes) and GetJobStatus. Lists are bare arrays; every
 * parameter may come in the form body (the official SDKs send them there). docs/emulator.md, "NLB".
 */
import type {
  WireNlbGetJobStatusResponse,
  WireNlbListServerGroupServersResponse,
  WireNlbServer,
  WireNlbUpdateServerGroupServersAttributeResponse,
} from '../aliyun/wire';
import { apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import type { NlbGroupState, ReadonlyDeep } from './state';
import { albServerStatus } from './state/alb';

type UpdateResponse = Body<WireNlbUpdateServerGroupServersAttributeResponse>;

/**
 * `Servers.N` per UpdateServerGroupServersAttribute call. The English reference says 40, the
 * Chinese one 200 (docs/emulator.md): the emulator holds the client to the smaller. Its own
 * literal, not the client's constant: the emulator checks the client, it does not follow it.
 */
const MAX_SERVERS_PER_UPDATE = 40;
/** ServerIds per ListServerGroupServers call: "up to 40" (reference of the operation). */
const MAX_SERVER_IDS = 40;
const SERVER_TYPES = ['Ecs', 'Eni', 'Eci', 'Ip'];

function notFound(id: string) {
  return apiError('ResourceNotFound.serverGroup', `The specified resource of serverGroup (${id}) is not found.`, 404);
}

function findGroup(ctx: ActionContext): ReadonlyDeep<NlbGroupState> {
  const id = ctx.params.required('ServerGroupId');
  const g = ctx.state.nlb.serverGroup(id);
  if (!g) throw notFound(id);
  return g;
}

function encodeToken(offset: number): string {
  return Buffer.from(`n:${offset}`, 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^n:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw invalidParameter('NextToken');
  return Number(m[1]);
}

const listServerGroupServers: ActionHandler = (ctx): Body<WireNlbListServerGroupServersResponse> => {
  const g = findGroup(ctx);
  checkDenied(ctx);
  const filter = new Set(ctx.params.list('ServerIds', MAX_SERVER_IDS));
  const all: WireNlbServer[] = [...g.servers.values()]
    .filter((s) => filter.size === 0 || filter.has(s.serverId))
    .map((s) => {
      const w: WireNlbServer = {
        ServerId: s.serverId,
        ServerType: s.serverType,
        Port: s.port,
        Weight: s.weight,
        Status: albServerStatus(s),
        ServerGroupId: g.id,
        Description: '',
      };
      const ip = ctx.state.scalingGroups.instance(s.serverId)?.privateIp;
      if (ip) w.ServerIp = ip;
      return w;
    });
  const max = ctx.params.int('MaxResults', { min: 1, max: 100, default: 20 });
  const offset = decodeToken(ctx.params.get('NextToken'));
  const out: Body<WireNlbListServerGroupServersResponse> = {
    Servers: all.slice(offset, offset + max),
    MaxResults: max,
    TotalCount: all.length,
  };
  if (offset + max < all.length) out.NextToken = encodeToken(offset + max);
  return out;
};

interface ServerUpdate {
  /** `serverId|port` */
  key: string;
  serverId: string;
  weight: number | undefined;
}

/** `Servers.N.*` entry number `n` (1-based): ServerId, ServerType and Port required, Weight 0..100. */
function serverUpdate(e: Record<string, string>, n: number): ServerUpdate {
  const serverId = e.ServerId;
  if (!serverId) throw missingParameter(`Servers.${n}.ServerId`);
  const serverType = e.ServerType;
  if (!serverType) throw missingParameter(`Servers.${n}.ServerType`);
  if (!SERVER_TYPES.includes(serverType)) throw invalidParameter(`Servers.${n}.ServerType`);
  if (e.Port === undefined || e.Port === '') throw missingParameter(`Servers.${n}.Port`);
  if (!/^\d+$/.test(e.Port) || Number(e.Port) < 1 || Number(e.Port) > 65535)
    throw invalidParameter(`Servers.${n}.Port`);
  let weight: number | undefined;
  if (e.Weight !== undefined && e.Weight !== '') {
    if (!/^\d+$/.test(e.Weight) || Number(e.Weight) > 100) throw invalidParameter(`Servers.${n}.Weight`);
    weight = Number(e.Weight);
  }
  return { key: `${serverId}|${Number(e.Port)}`, serverId, weight };
}

function serverUpdates(ctx: ActionContext): ServerUpdate[] {
  const entries = ctx.params.objectList('Servers', MAX_SERVERS_PER_UPDATE);
  if (entries.length === 0) throw missingParameter('Servers');
  return entries.map((e, i) => serverUpdate(e, i + 1));
}

/**
 * A job in flight (the run's or ESS's deregistration) keeps the group Configuring. No page lists the
 * code: spelled as Terraform's NLB resources retry it (inferred, docs/emulator.md "ESS's own
 * load-balancer changes"); its message follows ALB's.
 */
function serverGroupBusy() {
  return apiError('IncorrectStatus.serverGroup', 'The status of serverGroup is incorrect.', 400);
}

function checkServersExist(group: ReadonlyDeep<NlbGroupState>, updates: readonly ServerUpdate[]): void {
  for (const u of updates)
    if (!group.servers.has(u.key))
      throw apiError(
        'ResourceNotFound.backendServer',
        `The specified resource of backendServer (${u.serverId}) is not found.`,
        404,
      );
}

const updateServerGroupServersAttribute: ActionHandler = (ctx): UpdateResponse => {
  const groupId = ctx.params.required('ServerGroupId');
  const updates = serverUpdates(ctx);
  const dryRun = ctx.params.bool('DryRun', false);

  // ClientToken replay answers before the group is looked up; dry runs are never remembered.
  const token = ctx.params.get('ClientToken');
  const fingerprint = JSON.stringify({ groupId, updates: updates.map((u) => [u.key, u.weight ?? null]) });
  const idempotent = token !== undefined && !ctx.state.settings.ignoreClientToken && !dryRun ? token : undefined;
  if (idempotent !== undefined) {
    const prior = ctx.state.clientTokens.recall(`nlb:${ctx.action}`, idempotent);
    if (prior && prior.fingerprint !== fingerprint) throw apiError('IdempotenceSignatureMismatch');
    if (prior) return prior.result as unknown as UpdateResponse;
  }

  const g = findGroup(ctx);
  checkDenied(ctx);
  checkServersExist(g, updates);
  if (dryRun) throw apiError('DryRunOperation');
  if (ctx.state.nlb.busy(g.id)) throw serverGroupBusy();
  const job = ctx.state.nlb.startWeightJob(
    g.id,
    updates.map((u) => ({ key: u.key, weight: u.weight })),
  );
  ctx.meta.createdJobId = job.id;
  const result = { ServerGroupId: g.id, JobId: job.id };
  if (idempotent !== undefined)
    ctx.state.clientTokens.remember(`nlb:${ctx.action}`, idempotent, { fingerprint, result });
  return result;
};

/** `Succeeded` or `Processing` as the reference lists them; a failed job answers `Failed` (not in the reference). */
const getJobStatus: ActionHandler = (ctx): Body<WireNlbGetJobStatusResponse> => {
  const jobId = ctx.params.required('JobId');
  checkDenied(ctx);
  const job = ctx.state.nlb.job(jobId);
  if (!job) throw apiError('ResourceNotFound.job', `The specified resource of job (${jobId}) is not found.`, 404);
  return { Status: job.status };
};

export const NLB_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  ListServerGroupServers: listServerGroupServers,
  UpdateServerGroupServersAttribute: updateServerGroupServersAttribute,
  GetJobStatus: getJobStatus,
};
