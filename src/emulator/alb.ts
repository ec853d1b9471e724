/**
 * ALB 2020-06-16: ListServerGroupServers, UpdateServerGroupServersAttribute (asynchronous: returns
 * a JobId, weights apply when the job finishes) and ListAsynJobs. Lists are bare arrays.
 */
import type {
  WireAlbJob,
  WireListAsynJobsResponse,
  WireListServerGroupServersResponse,
  WireUpdateServerGroupServersAttributeResponse,
} from '../aliyun/wire';
import { apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import { listServers, pageOf, updateServers, type ServerGroupApi } from './server-groups';
import type { JobState, ReadonlyDeep } from './state';

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

function serverEntries(ctx: ActionContext): Array<Record<string, string>> {
  const entries = ctx.params.objectList('Servers');
  if (entries.length === 0) throw missingParameter('Servers');
  if (entries.length > MAX_SERVERS_PER_UPDATE)
    throw invalidParameter(
      'Servers',
      `The specified parameter "Servers" is not valid: at most ${MAX_SERVERS_PER_UPDATE} servers.`,
    );
  // Servers.41 sent alone, or a gap in the indexes, is refused as well.
  ctx.params.objectList('Servers', MAX_SERVERS_PER_UPDATE);
  return entries;
}

const ALB: ServerGroupApi<UpdateResponse> = {
  store: (ctx) => ctx.state.alb,
  tokenPrefix: 'o',
  maxServerIds: MAX_ID_FILTER,
  serverExtras: { RemoteIpEnabled: false },
  serverTypes: ['Ecs', 'Eni', 'Eci', 'Ip', 'Fc'],
  portlessTypes: ['Fc'],
  minPort: 0,
  entries: serverEntries,
  groupNotFound: (id) =>
    apiError('ResourceNotFound.ServerGroup', `The specified resource of ServerGroup (${id}) is not found.`),
  serverNotFound: (serverId) =>
    apiError('ResourceNotFound.BackendServer', `The specified resource of BackendServer (${serverId}) is not found.`),
  // A job in flight (the run's or ESS's deregistration) keeps the group Configuring (docs/emulator.md).
  groupBusy: () => apiError('IncorrectStatus.ServerGroup'),
  tokenScope: (action) => action,
  result: (_groupId, jobId) => ({ JobId: jobId }),
};

const listServerGroupServers: ActionHandler = (ctx): Body<WireListServerGroupServersResponse> => listServers(ctx, ALB);

const updateServerGroupServersAttribute: ActionHandler = (ctx): UpdateResponse => updateServers(ctx, ALB);

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
  const { items, next, max } = pageOf(ctx, ALB.tokenPrefix, all);
  const out: Body<WireListAsynJobsResponse> = { Jobs: items.map(wireJob), TotalCount: all.length, MaxResults: max };
  if (next !== undefined) out.NextToken = next;
  return out;
};

export const ALB_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  ListServerGroupServers: listServerGroupServers,
  UpdateServerGroupServersAttribute: updateServerGroupServersAttribute,
  ListAsynJobs: listAsynJobs,
};
