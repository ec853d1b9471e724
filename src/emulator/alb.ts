/**
 * ALB 2020-06-16: ListServerGroupServers, UpdateServerGroupServersAttribute (asynchronous: returns
 * a JobId, weights apply when the job finishes) and ListAsynJobs. Lists are bare arrays.
 */
import type {
  WireAlbJob,
  WireAlbServer,
  WireListAsynJobsResponse,
  WireListServerGroupServersResponse,
  WireUpdateServerGroupServersAttributeResponse,
} from '../aliyun/wire';
import { apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import type { AlbGroupState, JobState, ReadonlyDeep } from './state';
import { albServerStatus } from './state/alb';

type UpdateResponse = Body<WireUpdateServerGroupServersAttributeResponse>;

/**
 * `Servers.N` entries per UpdateServerGroupServersAttribute call (docs/emulator.md, "ALB"). Its own
 * literal, not the client's constant: the emulator checks the client, it does not follow it.
 */
const MAX_SERVERS_PER_UPDATE = 40;
/**
 * `ServerIds.N` (ListServerGroupServers) and `JobIds.N` (ListAsynJobs) per call: the reference states no limit,
 * so the emulator takes the usual 20 (inferred; docs/emulator.md "Per-call limits").
 */
const MAX_ID_FILTER = 20;
const SERVER_TYPES = ['Ecs', 'Eni', 'Eci', 'Ip', 'Fc'];

function findGroup(ctx: ActionContext): ReadonlyDeep<AlbGroupState> {
  const id = ctx.params.required('ServerGroupId');
  const g = ctx.state.alb.serverGroup(id);
  if (!g) throw apiError('ResourceNotFound.ServerGroup', `The specified resource of ServerGroup (${id}) is not found.`);
  return g;
}

/** NextToken is an opaque cursor; here base64url of the next offset. */
function encodeToken(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw invalidParameter('NextToken');
  return Number(m[1]);
}

function pageOf<T>(ctx: ActionContext, items: T[]): { items: T[]; next: string | undefined; max: number } {
  const max = ctx.params.int('MaxResults', { min: 1, max: 100, default: 20 });
  const offset = decodeToken(ctx.params.get('NextToken'));
  const slice = items.slice(offset, offset + max);
  return { items: slice, next: offset + max < items.length ? encodeToken(offset + max) : undefined, max };
}

const listServerGroupServers: ActionHandler = (ctx): Body<WireListServerGroupServersResponse> => {
  const g = findGroup(ctx);
  checkDenied(ctx);
  const filter = new Set(ctx.params.list('ServerIds', MAX_ID_FILTER));
  const all: WireAlbServer[] = [...g.servers.values()]
    .filter((s) => filter.size === 0 || filter.has(s.serverId))
    .map((s) => {
      const w: WireAlbServer = {
        ServerId: s.serverId,
        ServerType: s.serverType,
        Port: s.port,
        Weight: s.weight,
        Status: albServerStatus(s),
        ServerGroupId: g.id,
        Description: '',
        RemoteIpEnabled: false,
      };
      const ip = ctx.state.scalingGroups.instance(s.serverId)?.privateIp;
      if (ip) w.ServerIp = ip;
      return w;
    });
  const { items, next, max } = pageOf(ctx, all);
  const out: Body<WireListServerGroupServersResponse> = { Servers: items, MaxResults: max, TotalCount: all.length };
  if (next !== undefined) out.NextToken = next;
  return out;
};

interface ServerUpdate {
  /** `serverId|port` */
  key: string;
  serverId: string;
  weight: number | undefined;
}

/** `Servers.N.*` entry number `n` (1-based): ServerId, ServerType, Port (not for Fc) and Weight. */
function serverUpdate(e: Record<string, string>, n: number): ServerUpdate {
  const serverId = e.ServerId;
  if (!serverId) throw missingParameter(`Servers.${n}.ServerId`);
  const serverType = e.ServerType;
  if (!serverType) throw missingParameter(`Servers.${n}.ServerType`);
  if (!SERVER_TYPES.includes(serverType)) throw invalidParameter(`Servers.${n}.ServerType`);
  let port = 0;
  if (e.Port !== undefined && e.Port !== '') {
    if (!/^\d+$/.test(e.Port) || Number(e.Port) > 65535) throw invalidParameter(`Servers.${n}.Port`);
    port = Number(e.Port);
  } else if (serverType !== 'Fc') throw missingParameter(`Servers.${n}.Port`);
  let weight: number | undefined;
  if (e.Weight !== undefined && e.Weight !== '') {
    if (!/^\d+$/.test(e.Weight) || Number(e.Weight) > 100) throw invalidParameter(`Servers.${n}.Weight`);
    weight = Number(e.Weight);
  }
  return { key: `${serverId}|${port}`, serverId, weight };
}

function serverUpdates(ctx: ActionContext): ServerUpdate[] {
  const entries = ctx.params.objectList('Servers');
  if (entries.length === 0) throw missingParameter('Servers');
  if (entries.length > MAX_SERVERS_PER_UPDATE)
    throw invalidParameter(
      'Servers',
      `The specified parameter "Servers" is not valid: at most ${MAX_SERVERS_PER_UPDATE} servers.`,
    );
  // Servers.41 sent alone, or a gap in the indexes, is refused as well.
  ctx.params.objectList('Servers', MAX_SERVERS_PER_UPDATE);
  return entries.map((e, i) => serverUpdate(e, i + 1));
}

/** Every server must already be in the group: the job would only change weights. */
function checkServersExist(group: ReadonlyDeep<AlbGroupState>, updates: readonly ServerUpdate[]): void {
  for (const u of updates) {
    if (!group.servers.has(u.key))
      throw apiError(
        'ResourceNotFound.BackendServer',
        `The specified resource of BackendServer (${u.serverId}) is not found.`,
      );
  }
}

const updateServerGroupServersAttribute: ActionHandler = (ctx): UpdateResponse => {
  const groupId = ctx.params.required('ServerGroupId');
  const updates = serverUpdates(ctx);
  const dryRun = ctx.params.bool('DryRun', false);

  // ClientToken replay answers before the group is even looked up; dry runs are never remembered.
  const token = ctx.params.get('ClientToken');
  const fingerprint = JSON.stringify({ groupId, updates: updates.map((u) => [u.key, u.weight ?? null]) });
  const idempotent = token !== undefined && !ctx.state.settings.ignoreClientToken && !dryRun ? token : undefined;
  if (idempotent !== undefined) {
    const prior = ctx.state.clientTokens.recall(ctx.action, idempotent);
    if (prior && prior.fingerprint !== fingerprint) throw apiError('IdempotenceSignatureMismatch');
    if (prior) return prior.result as unknown as UpdateResponse;
  }

  const g = findGroup(ctx);
  checkDenied(ctx);
  checkServersExist(g, updates);
  if (dryRun) throw apiError('DryRunOperation');
  // A job in flight (the run's or ESS's deregistration) keeps the group Configuring (docs/emulator.md).
  if (ctx.state.alb.busy(g.id)) throw apiError('IncorrectStatus.ServerGroup');
  const job = ctx.state.alb.startWeightJob(
    g.id,
    updates.map((u) => ({ key: u.key, weight: u.weight })),
  );
  ctx.meta.createdJobId = job.id;
  const result = { JobId: job.id };
  if (idempotent !== undefined) ctx.state.clientTokens.remember(ctx.action, idempotent, { fingerprint, result });
  return result;
};

function wireJob(j: ReadonlyDeep<JobState>): WireAlbJob {
  const w: WireAlbJob = {
    Id: j.id,
    ApiName: j.apiName,
    ResourceId: j.resourceId,
    ResourceType: 'servergroup',
    OperateType: 'Update',
    Status: j.status,
    CreateTime: j.createMs,
    ModifyTime: j.modifyMs,
  };
  if (j.errorCode !== undefined) w.ErrorCode = j.errorCode;
  if (j.errorMessage !== undefined) w.ErrorMessage = j.errorMessage;
  return w;
}

const listAsynJobs: ActionHandler = (ctx): Body<WireListAsynJobsResponse> => {
  checkDenied(ctx);
  const ids = new Set(ctx.params.list('JobIds', MAX_ID_FILTER));
  const resources = new Set(ctx.params.list('ResourceIds'));
  const all = ctx.state.alb
    .jobList()
    .filter((j) => (ids.size === 0 || ids.has(j.id)) && (resources.size === 0 || resources.has(j.resourceId)));
  const { items, next, max } = pageOf(ctx, all);
  const out: Body<WireListAsynJobsResponse> = { Jobs: items.map(wireJob), TotalCount: all.length, MaxResults: max };
  if (next !== undefined) out.NextToken = next;
  return out;
};

export const ALB_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  ListServerGroupServers: listServerGroupServers,
  UpdateServerGroupServersAttribute: updateServerGroupServersAttribute,
  ListAsynJobs: listAsynJobs,
};
