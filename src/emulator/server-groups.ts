/**
 * What the ALB (2020-06-16) and NLB (2022-04-30) handlers share: ListServerGroupServers and the
 * asynchronous UpdateServerGroupServersAttribute over a ServerGroupStore. Names, limits and error
 * spellings differ between the two products, so each passes its own in a `ServerGroupApi`.
 */
import type { WireAlbServer } from '../aliyun/wire';
import { apiError, invalidParameter, missingParameter, type ApiError } from './api-error';
import { checkDenied, type ActionContext } from './context';
import type { AlbGroupState, ReadonlyDeep } from './state';
import { albServerStatus, type ServerGroupStore } from './state/server-groups';

export interface ServerGroupApi<R extends Record<string, string>> {
  store(ctx: ActionContext): ServerGroupStore;
  /** NextToken is an opaque cursor: base64url of `<prefix>:<offset>`. */
  readonly tokenPrefix: string;
  /** `ServerIds.N` per ListServerGroupServers call. */
  readonly maxServerIds: number;
  /** Fields a listed server carries after Description (ServerIp comes last). */
  readonly serverExtras: Partial<WireAlbServer>;
  readonly serverTypes: readonly string[];
  /** Server types registered without a port (it is 0). */
  readonly portlessTypes: readonly string[];
  readonly minPort: number;
  /** The `Servers.N` entries of an update, their count checked. */
  entries(ctx: ActionContext): Array<Record<string, string>>;
  groupNotFound(id: string): ApiError;
  serverNotFound(serverId: string): ApiError;
  /** A job in flight (the run's or ESS's deregistration) keeps the group Configuring. */
  groupBusy(): ApiError;
  /** Where the ClientTokens of the update are remembered. */
  tokenScope(action: string): string;
  result(groupId: string, jobId: string): R;
}

export function findGroup<R extends Record<string, string>>(
  ctx: ActionContext,
  api: ServerGroupApi<R>,
): ReadonlyDeep<AlbGroupState> {
  const id = ctx.params.required('ServerGroupId');
  const g = api.store(ctx).serverGroup(id);
  if (!g) throw api.groupNotFound(id);
  return g;
}

function encodeToken(prefix: string, offset: number): string {
  return Buffer.from(`${prefix}:${offset}`, 'utf8').toString('base64url');
}

function decodeToken(prefix: string, token: string | undefined): number {
  if (token === undefined) return 0;
  const m = new RegExp(`^${prefix}:(\\d+)$`).exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw invalidParameter('NextToken');
  return Number(m[1]);
}

/** One page of `items` by MaxResults (1..100, default 20) and NextToken. */
export function pageOf<T>(
  ctx: ActionContext,
  tokenPrefix: string,
  items: T[],
): { items: T[]; next: string | undefined; max: number } {
  const max = ctx.params.int('MaxResults', { min: 1, max: 100, default: 20 });
  const offset = decodeToken(tokenPrefix, ctx.params.get('NextToken'));
  const slice = items.slice(offset, offset + max);
  return { items: slice, next: offset + max < items.length ? encodeToken(tokenPrefix, offset + max) : undefined, max };
}

export interface ServerList {
  Servers: WireAlbServer[];
  NextToken?: string;
  MaxResults: number;
  TotalCount: number;
}

export function listServers<R extends Record<string, string>>(ctx: ActionContext, api: ServerGroupApi<R>): ServerList {
  const g = findGroup(ctx, api);
  checkDenied(ctx);
  const filter = new Set(ctx.params.list('ServerIds', api.maxServerIds));
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
        ...api.serverExtras,
      };
      const ip = ctx.state.scalingGroups.instance(s.serverId)?.privateIp;
      if (ip) w.ServerIp = ip;
      return w;
    });
  const { items, next, max } = pageOf(ctx, api.tokenPrefix, all);
  const out: ServerList = { Servers: items, MaxResults: max, TotalCount: all.length };
  if (next !== undefined) out.NextToken = next;
  return out;
}

interface ServerUpdate {
  /** `serverId|port` */
  key: string;
  serverId: string;
  weight: number | undefined;
}

function serverPort<R extends Record<string, string>>(
  api: ServerGroupApi<R>,
  raw: string | undefined,
  type: string,
  n: number,
) {
  if (raw === undefined || raw === '') {
    if (api.portlessTypes.includes(type)) return 0;
    throw missingParameter(`Servers.${n}.Port`);
  }
  if (!/^\d+$/.test(raw) || Number(raw) < api.minPort || Number(raw) > 65535)
    throw invalidParameter(`Servers.${n}.Port`);
  return Number(raw);
}

/** `Servers.N.*` entry number `n` (1-based): ServerId, ServerType, Port (as the kind wants) and Weight 0..100. */
function serverUpdate<R extends Record<string, string>>(
  api: ServerGroupApi<R>,
  e: Record<string, string>,
  n: number,
): ServerUpdate {
  const serverId = e.ServerId;
  if (!serverId) throw missingParameter(`Servers.${n}.ServerId`);
  const serverType = e.ServerType;
  if (!serverType) throw missingParameter(`Servers.${n}.ServerType`);
  if (!api.serverTypes.includes(serverType)) throw invalidParameter(`Servers.${n}.ServerType`);
  const port = serverPort(api, e.Port, serverType, n);
  let weight: number | undefined;
  if (e.Weight !== undefined && e.Weight !== '') {
    if (!/^\d+$/.test(e.Weight) || Number(e.Weight) > 100) throw invalidParameter(`Servers.${n}.Weight`);
    weight = Number(e.Weight);
  }
  return { key: `${serverId}|${port}`, serverId, weight };
}

/** Every server must already be in the group: the job would only change weights. */
function checkServersExist<R extends Record<string, string>>(
  api: ServerGroupApi<R>,
  group: ReadonlyDeep<AlbGroupState>,
  updates: readonly ServerUpdate[],
): void {
  for (const u of updates) if (!group.servers.has(u.key)) throw api.serverNotFound(u.serverId);
}

export function updateServers<R extends Record<string, string>>(ctx: ActionContext, api: ServerGroupApi<R>): R {
  const groupId = ctx.params.required('ServerGroupId');
  const updates = api.entries(ctx).map((e, i) => serverUpdate(api, e, i + 1));
  const dryRun = ctx.params.bool('DryRun', false);

  // ClientToken replay answers before the group is even looked up; dry runs are never remembered.
  const token = ctx.params.get('ClientToken');
  const fingerprint = JSON.stringify({ groupId, updates: updates.map((u) => [u.key, u.weight ?? null]) });
  const idempotent = token !== undefined && !ctx.state.settings.ignoreClientToken && !dryRun ? token : undefined;
  const scope = api.tokenScope(ctx.action);
  if (idempotent !== undefined) {
    const prior = ctx.state.clientTokens.recall(scope, idempotent);
    if (prior && prior.fingerprint !== fingerprint) throw apiError('IdempotenceSignatureMismatch');
    if (prior) return prior.result as unknown as R;
  }

  const g = findGroup(ctx, api);
  checkDenied(ctx);
  checkServersExist(api, g, updates);
  if (dryRun) throw apiError('DryRunOperation');
  const store = api.store(ctx);
  if (store.busy(g.id)) throw api.groupBusy();
  const job = store.startWeightJob(
    g.id,
    updates.map((u) => ({ key: u.key, weight: u.weight })),
  );
  ctx.meta.createdJobId = job.id;
  const result = api.result(g.id, job.id);
  if (idempotent !== undefined) ctx.state.clientTokens.remember(scope, idempotent, { fingerprint, result });
  return result;
}
