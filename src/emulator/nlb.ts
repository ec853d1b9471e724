/**
 * NLB 2022-04-30: ListServerGroupServers, UpdateServerGroupServersAttribute (asynchronous: returns
 * a JobId, weights apply when the job finishes) and GetJobStatus. Lists are bare arrays; every
 * parameter may come in the form body (the official SDKs send them there). docs/emulator.md, "NLB".
 */
import type {
  WireNlbGetJobStatusResponse,
  WireNlbListServerGroupServersResponse,
  WireNlbUpdateServerGroupServersAttributeResponse,
} from '../aliyun/wire';
import { apiError, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import { listServers, updateServers, type ServerGroupApi } from './server-groups';

type UpdateResponse = Body<WireNlbUpdateServerGroupServersAttributeResponse>;

/**
 * `Servers.N` per UpdateServerGroupServersAttribute call. The English reference says 40, the
 * Chinese one 200 (docs/emulator.md): the emulator holds the client to the smaller. Its own
 * literal, not the client's constant: the emulator checks the client, it does not follow it.
 */
const MAX_SERVERS_PER_UPDATE = 40;
/** ServerIds per ListServerGroupServers call: "up to 40" (reference of the operation). */
const MAX_SERVER_IDS = 40;

function serverEntries(ctx: ActionContext): Array<Record<string, string>> {
  const entries = ctx.params.objectList('Servers', MAX_SERVERS_PER_UPDATE);
  if (entries.length === 0) throw missingParameter('Servers');
  return entries;
}

/**
 * A job in flight (the run's or ESS's deregistration) keeps the group Configuring. No page lists the
 * code: spelled as Terraform's NLB resources retry it (inferred, docs/emulator.md "ESS's own
 * load-balancer changes"); its message follows ALB's.
 */
function serverGroupBusy() {
  return apiError('IncorrectStatus.serverGroup', 'The status of serverGroup is incorrect.', 400);
}

const NLB: ServerGroupApi<UpdateResponse> = {
  store: (ctx) => ctx.state.nlb,
  tokenPrefix: 'n',
  maxServerIds: MAX_SERVER_IDS,
  serverExtras: {},
  serverTypes: ['Ecs', 'Eni', 'Eci', 'Ip'],
  portlessTypes: [],
  minPort: 1,
  entries: serverEntries,
  groupNotFound: (id) =>
    apiError('ResourceNotFound.serverGroup', `The specified resource of serverGroup (${id}) is not found.`, 404),
  serverNotFound: (serverId) =>
    apiError(
      'ResourceNotFound.backendServer',
      `The specified resource of backendServer (${serverId}) is not found.`,
      404,
    ),
  groupBusy: serverGroupBusy,
  // Kept apart from ALB's tokens: the action names are the same.
  tokenScope: (action) => `nlb:${action}`,
  result: (groupId, jobId) => ({ ServerGroupId: groupId, JobId: jobId }),
};

const listServerGroupServers: ActionHandler = (ctx): Body<WireNlbListServerGroupServersResponse> =>
  listServers(ctx, NLB);

const updateServerGroupServersAttribute: ActionHandler = (ctx): UpdateResponse => updateServers(ctx, NLB);

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
