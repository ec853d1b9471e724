import { AliyunBadResponseError } from './errors';
import type { RpcClient } from './rpc-client';
import type { CallOptions, NlbApi, NlbJobStatus, NlbServer, WithRequestId } from './types';
import {
  checkCount,
  chunk,
  flattenList,
  joinRequestIds,
  nlbServersBody,
  requestIdOf,
  toNlbServer,
  unwrap,
  WireFormatError,
} from './wire';
import type {
  Loose,
  WireNlbGetJobStatusParams,
  WireNlbGetJobStatusResponse,
  WireNlbListServerGroupServersParams,
  WireNlbListServerGroupServersResponse,
  WireNlbServer,
  WireNlbUpdateServerGroupServersAttributeParams,
  WireNlbUpdateServerGroupServersAttributeResponse,
} from './wire';

/** ListServerGroupServers MaxResults: 1 to 100 (NLB reference of the operation). */
export const NLB_MAX_RESULTS = 100;
/** ServerIds per ListServerGroupServers call: "up to 40" (NLB reference of the operation, docs/emulator.md). */
export const NLB_SERVER_ID_FILTER_MAX = 40;
/**
 * Servers per UpdateServerGroupServersAttribute call. The references disagree: the English page
 * says 40, the Chinese page (and the SDK metadata) 200 (both cited in docs/emulator.md). The
 * smaller is right under both, so a drain or restore of more servers is split into calls of 40.
 */
export const NLB_UPDATE_SERVERS_MAX_PER_CALL = 40;
const MAX_PAGES = 1_000;

type Wire<T> = Partial<T>;

/**
 * Network Load Balancer 2022-04-30 over the RPC client. The endpoint is regional; every parameter,
 * RegionId included, travels in the form body, as the official SDKs send it (POST, formData).
 */
export class NlbClient implements NlbApi {
  constructor(private readonly rpc: RpcClient) {}

  async listServerGroupServers(
    regionId: string,
    serverGroupId: string,
    opts?: CallOptions & { serverIds?: readonly string[] | undefined },
  ): Promise<WithRequestId & { servers: NlbServer[] }> {
    const { serverIds, ...callOpts } = opts ?? {};
    if (!serverIds) return this.listPages(regionId, serverGroupId, undefined, callOpts);
    if (serverIds.length === 0) return { requestId: '', servers: [] };
    const servers: NlbServer[] = [];
    const requestIds: string[] = [];
    for (const part of chunk(serverIds, NLB_SERVER_ID_FILTER_MAX)) {
      const r = await this.listPages(regionId, serverGroupId, part, callOpts);
      servers.push(...r.servers);
      requestIds.push(r.requestId);
    }
    return { requestId: joinRequestIds(requestIds), servers };
  }

  private async listPages(
    regionId: string,
    serverGroupId: string,
    serverIds: readonly string[] | undefined,
    opts: CallOptions,
  ): Promise<WithRequestId & { servers: NlbServer[] }> {
    const servers: NlbServer[] = [];
    const requestIds: string[] = [];
    const tokens = new Set<string>();
    let token: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const body: WireNlbListServerGroupServersParams = {
        RegionId: regionId,
        ServerGroupId: serverGroupId,
        MaxResults: String(NLB_MAX_RESULTS),
        NextToken: token,
        ...(serverIds ? flattenList('ServerIds', serverIds) : {}),
      };
      const page = await this.rpc.invoke(
        'nlb',
        'ListServerGroupServers',
        {},
        (w: Wire<WireNlbListServerGroupServersResponse>) => {
          servers.push(...unwrap<Loose<WireNlbServer>>(w.Servers, 'Server').map(toNlbServer));
          return { requestId: requestIdOf(w), nextToken: w.NextToken || undefined };
        },
        { ...opts, regionId, body },
      );
      requestIds.push(page.requestId);
      if (!page.nextToken) return { requestId: joinRequestIds(requestIds), servers };
      if (tokens.has(page.nextToken))
        throw new AliyunBadResponseError(
          'ListServerGroupServers',
          200,
          false,
          `NextToken ${JSON.stringify(page.nextToken)} repeated`,
        );
      tokens.add(page.nextToken);
      token = page.nextToken;
    }
    throw new AliyunBadResponseError('ListServerGroupServers', 200, false, `still paging after ${MAX_PAGES} pages`);
  }

  async updateServerGroupServersAttribute(
    regionId: string,
    serverGroupId: string,
    servers: Array<Pick<NlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { jobId: string }> {
    checkCount('servers', servers, 1, NLB_UPDATE_SERVERS_MAX_PER_CALL);
    const body: WireNlbUpdateServerGroupServersAttributeParams = {
      RegionId: regionId,
      ServerGroupId: serverGroupId,
      ClientToken: clientToken,
      ...nlbServersBody(servers),
    };
    return this.rpc.invoke(
      'nlb',
      'UpdateServerGroupServersAttribute',
      {},
      (w: Wire<WireNlbUpdateServerGroupServersAttributeResponse>) => {
        const requestId = requestIdOf(w);
        if (typeof w.JobId !== 'string' || w.JobId === '')
          throw new WireFormatError(`missing JobId (RequestId ${requestId})`);
        return { requestId, jobId: w.JobId };
      },
      { ...opts, regionId, body },
    );
  }

  async getJobStatus(
    regionId: string,
    jobId: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { status: NlbJobStatus }> {
    if (jobId === '') throw new RangeError('jobId must not be empty');
    const body: WireNlbGetJobStatusParams = { RegionId: regionId, JobId: jobId };
    return this.rpc.invoke(
      'nlb',
      'GetJobStatus',
      {},
      (w: Wire<WireNlbGetJobStatusResponse>) => {
        const requestId = requestIdOf(w);
        if (typeof w.Status !== 'string' || w.Status === '')
          throw new WireFormatError(`missing Status of job ${jobId} (RequestId ${requestId})`);
        return { requestId, status: w.Status };
      },
      { ...opts, regionId, body },
    );
  }
}
