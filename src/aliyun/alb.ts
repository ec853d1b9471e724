import { AliyunBadResponseError } from './errors';
import type { RpcClient } from './rpc-client';
import type { AlbApi, AlbJob, AlbServer, CallOptions, WithRequestId } from './types';
import {
  albServersBody,
  checkCount,
  chunk,
  flattenList,
  joinRequestIds,
  requestIdOf,
  toAlbJob,
  toAlbServer,
  unwrap,
  WireFormatError,
} from './wire';
import type {
  Loose,
  WireAlbJob,
  WireAlbServer,
  WireListAsynJobsParams,
  WireListAsynJobsResponse,
  WireListServerGroupServersParams,
  WireListServerGroupServersResponse,
  WireUpdateServerGroupServersAttributeQuery,
  WireUpdateServerGroupServersAttributeResponse,
} from './wire';

export const ALB_MAX_RESULTS = 100;
/**
 * IDs per `ServerIds.N` (ListServerGroupServers) and `JobIds.N` (ListAsynJobs) filter. The reference states no
 * limit for either, so calls are split at 20, as the emulator enforces (docs/emulator.md, "Per-call limits").
 */
export const ALB_SERVER_ID_FILTER_MAX = 20;
export const ALB_JOB_ID_FILTER_MAX = 20;
/**
 * Servers per UpdateServerGroupServersAttribute call: "You can specify up to 40 servers in each call" (ALB
 * API reference of the operation, cited in docs/emulator.md). The limit is per operation: other calls have their
 * own, so a caller that sends more (a drain, a restore) splits them into calls of at most this many.
 */
export const ALB_UPDATE_SERVERS_MAX_PER_CALL = 40;
const MAX_PAGES = 1_000;

type Wire<T> = Partial<T>;

/**
 * Application Load Balancer 2020-06-16 over the RPC client. ALB takes no RegionId parameter: the
 * endpoint is regional.
 */
export class AlbClient implements AlbApi {
  constructor(private readonly rpc: RpcClient) {}

  async listServerGroupServers(
    regionId: string,
    serverGroupId: string,
    opts?: CallOptions & { serverIds?: readonly string[] | undefined },
  ): Promise<WithRequestId & { servers: AlbServer[] }> {
    const { serverIds, ...callOpts } = opts ?? {};
    if (serverIds) {
      // Filtering by ID keeps a drain of 20 instances from reading every backend of a big group.
      if (serverIds.length === 0) return { requestId: '', servers: [] };
      const servers: AlbServer[] = [];
      const requestIds: string[] = [];
      for (const part of chunk(serverIds, ALB_SERVER_ID_FILTER_MAX)) {
        const r = await this.listPages(regionId, serverGroupId, part, callOpts);
        servers.push(...r.servers);
        requestIds.push(r.requestId);
      }
      return { requestId: joinRequestIds(requestIds), servers };
    }
    return this.listPages(regionId, serverGroupId, undefined, callOpts);
  }

  private async listPages(
    regionId: string,
    serverGroupId: string,
    serverIds: readonly string[] | undefined,
    opts: CallOptions,
  ): Promise<WithRequestId & { servers: AlbServer[] }> {
    const servers: AlbServer[] = [];
    const requestIds = await this.walk('ListServerGroupServers', async (nextToken) => {
      const params: WireListServerGroupServersParams = {
        ServerGroupId: serverGroupId,
        MaxResults: String(ALB_MAX_RESULTS),
        NextToken: nextToken,
        ...(serverIds ? flattenList('ServerIds', serverIds) : {}),
      };
      return this.rpc.invoke(
        'alb',
        'ListServerGroupServers',
        params,
        (w: Wire<WireListServerGroupServersResponse>) => {
          servers.push(...unwrap<Loose<WireAlbServer>>(w.Servers, 'Server').map(toAlbServer));
          return { requestId: requestIdOf(w), nextToken: w.NextToken || undefined };
        },
        { ...opts, regionId },
      );
    });
    return { requestId: joinRequestIds(requestIds), servers };
  }

  async updateServerGroupServersAttribute(
    regionId: string,
    serverGroupId: string,
    servers: Array<Pick<AlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>>,
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { jobId: string }> {
    checkCount('servers', servers, 1, ALB_UPDATE_SERVERS_MAX_PER_CALL);
    const query: WireUpdateServerGroupServersAttributeQuery = {
      ServerGroupId: serverGroupId,
      ClientToken: clientToken,
    };
    return this.rpc.invoke(
      'alb',
      'UpdateServerGroupServersAttribute',
      query,
      (w: Wire<WireUpdateServerGroupServersAttributeResponse>) => {
        const requestId = requestIdOf(w);
        if (typeof w.JobId !== 'string' || w.JobId === '')
          throw new WireFormatError(`missing JobId (RequestId ${requestId})`);
        return { requestId, jobId: w.JobId };
      },
      { ...opts, regionId, body: albServersBody(servers) },
    );
  }

  async listAsynJobs(
    regionId: string,
    jobIds: string[],
    opts?: CallOptions,
  ): Promise<WithRequestId & { jobs: AlbJob[] }> {
    if (jobIds.length === 0) throw new RangeError('jobIds must have at least 1 item, got 0');
    const jobs: AlbJob[] = [];
    const requestIds: string[] = [];
    for (const part of chunk(jobIds, ALB_JOB_ID_FILTER_MAX)) {
      requestIds.push(...(await this.jobPages(regionId, part, jobs, opts)));
    }
    return { requestId: joinRequestIds(requestIds), jobs };
  }

  /** One `JobIds.N` filter of at most ALB_JOB_ID_FILTER_MAX IDs, every page; the jobs are pushed onto `jobs`. */
  private jobPages(regionId: string, jobIds: string[], jobs: AlbJob[], opts?: CallOptions): Promise<string[]> {
    return this.walk('ListAsynJobs', async (nextToken) => {
      const params: WireListAsynJobsParams = {
        ...flattenList('JobIds', jobIds),
        MaxResults: String(ALB_MAX_RESULTS),
        NextToken: nextToken,
      };
      return this.rpc.invoke(
        'alb',
        'ListAsynJobs',
        params,
        (w: Wire<WireListAsynJobsResponse>) => {
          jobs.push(...unwrap<Loose<WireAlbJob>>(w.Jobs, 'Job').map(toAlbJob));
          return { requestId: requestIdOf(w), nextToken: w.NextToken || undefined };
        },
        { ...opts, regionId },
      );
    });
  }

  /** Follows NextToken until it is empty; a token that repeats would loop forever, so it is an error. */
  private async walk(
    action: string,
    page: (nextToken: string | undefined) => Promise<{ requestId: string; nextToken: string | undefined }>,
  ): Promise<string[]> {
    const requestIds: string[] = [];
    const tokens = new Set<string>();
    let token: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const res = await page(token);
      requestIds.push(res.requestId);
      if (!res.nextToken) return requestIds;
      if (tokens.has(res.nextToken))
        throw new AliyunBadResponseError(action, 200, false, `NextToken ${JSON.stringify(res.nextToken)} repeated`);
      tokens.add(res.nextToken);
      token = res.nextToken;
    }
    throw new AliyunBadResponseError(action, 200, false, `still paging after ${MAX_PAGES} pages`);
  }
}
