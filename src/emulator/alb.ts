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
import type { ActionContext, ActionHandler } from './context';
import type { AlbGroupState, JobState } from './state';

type Body<T> = Omit<T, 'RequestId'>;

const MAX_SERVERS_PER_UPDATE = 200;

function checkDenied(ctx: ActionContext): void {
  if (ctx.state.deniedActions.has(ctx.action)) throw apiError('Forbidden.Unauthorized');
}

function findGroup(ctx: ActionContext): AlbGroupState {
  const id = ctx.params.required('ServerGroupId');
  const g = ctx.state.albGroups.get(id);
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
  const filter = new Set(ctx.params.list('ServerIds'));
  const all: WireAlbServer[] = [...g.servers.values()]
    .filter((s) => filter.size === 0 || filter.has(s.serverId))
    .map((s) => {
      const w: WireAlbServer = {
        ServerId: s.serverId,
        ServerType: s.serverType,
        Port: s.port,
        Weight: s.weight,
        Status: s.pendingJobs > 0 ? 'Configuring' : 'Available',
        ServerGroupId: g.id,
        Description: '',
        RemoteIpEnabled: false,
      };
      const ip = ctx.state.instances.get(s.serverId)?.privateIp;
      if (ip) w.ServerIp = ip;
      return w;
    });
  const { items, next, max } = pageOf(ctx, all);
  const out: Body<WireListServerGroupServersResponse> = { Servers: items, MaxResults: max, TotalCount: all.length };
  if (next !== undefined) out.NextToken = next;
  return out;
};

const updateServerGroupServersAttribute: ActionHandler = (ctx): Body<WireUpdateServerGroupServersAttributeResponse> => {
  const groupId = ctx.params.required('ServerGroupId');
  const entries = ctx.params.objectList('Servers');
  if (entries.length === 0) throw missingParameter('Servers');
  if (entries.length > MAX_SERVERS_PER_UPDATE)
    throw invalidParameter(
      'Servers',
      `The specified parameter "Servers" is not valid: at most ${MAX_SERVERS_PER_UPDATE} servers.`,
    );
  const updates = entries.map((e, i) => {
    const n = i + 1;
    const serverId = e.ServerId;
    if (!serverId) throw missingParameter(`Servers.${n}.ServerId`);
    const serverType = e.ServerType;
    if (!serverType) throw missingParameter(`Servers.${n}.ServerType`);
    if (!['Ecs', 'Eni', 'Eci', 'Ip', 'Fc'].includes(serverType)) throw invalidParameter(`Servers.${n}.ServerType`);
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
  });
  const dryRun = ctx.params.bool('DryRun', false);

  const token = ctx.params.get('ClientToken');
  const fingerprint = JSON.stringify({ groupId, updates: updates.map((u) => [u.key, u.weight ?? null]) });
  const tokenKey =
    token !== undefined && !ctx.state.ignoreClientToken && !dryRun ? `${ctx.action}|${token}` : undefined;
  if (tokenKey) {
    const prior = ctx.state.clientTokens.get(tokenKey);
    if (prior && prior.fingerprint !== fingerprint) throw apiError('IdempotenceSignatureMismatch');
    if (prior) return prior.result as unknown as Body<WireUpdateServerGroupServersAttributeResponse>;
  }

  const g = findGroup(ctx);
  checkDenied(ctx);
  for (const u of updates) {
    if (!g.servers.has(u.key))
      throw apiError(
        'ResourceNotFound.BackendServer',
        `The specified resource of BackendServer (${u.serverId}) is not found.`,
      );
  }
  if (dryRun) throw apiError('DryRunOperation');
  const job = ctx.state.startAlbJob(
    g,
    updates.map((u) => ({ key: u.key, weight: u.weight })),
  );
  ctx.meta.createdJobId = job.id;
  const result = { JobId: job.id };
  if (tokenKey) ctx.state.clientTokens.set(tokenKey, { fingerprint, result });
  return result;
};

function wireJob(j: JobState): WireAlbJob {
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
  const ids = new Set(ctx.params.list('JobIds'));
  const resources = new Set(ctx.params.list('ResourceIds'));
  const all = [...ctx.state.jobs.values()].filter(
    (j) => (ids.size === 0 || ids.has(j.id)) && (resources.size === 0 || resources.has(j.resourceId)),
  );
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
