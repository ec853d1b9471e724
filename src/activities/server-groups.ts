import { Context } from '@temporalio/activity';
import { ALB_UPDATE_SERVERS_MAX_PER_CALL } from '../aliyun/alb';
import { NLB_UPDATE_SERVERS_MAX_PER_CALL } from '../aliyun/nlb';
import type { AlbApi, AlbServer, CloudClient } from '../aliyun/types';
import type { LoadBalancerPlan } from '../shared/progress';
import type { RestoreRecord } from '../shared/restore';
import { AlbJobFailedError, albJobSucceeded } from './alb-job';
import type { Heartbeat } from './heartbeat';
import { NlbJobFailedError, nlbJobSucceeded } from './nlb-job';

/** A backend's weight as ALB's and NLB's update calls both take it. */
export type ServerWeight = Pick<AlbServer, 'serverId' | 'serverType' | 'port' | 'weight'>;

/** The two calls NLB spells as ALB does: `cloud.nlb` is one too. */
type ServerGroupServersApi = Pick<AlbApi, 'listServerGroupServers' | 'updateServerGroupServersAttribute'>;

export type ServerGroupKind = 'alb' | 'nlb';
export type ServerGroupRecord = Extract<RestoreRecord, { kind: ServerGroupKind }>;

/**
 * ALB and NLB server groups hold the same servers and weights, changed by asynchronous jobs; they
 * differ only in how a job is polled (and fails), the restore record's kind and the per-call limit.
 */
export interface ServerGroups {
  kind: ServerGroupKind;
  /** How reports name it: `ALB server group sgp-1`. */
  label: 'ALB' | 'NLB';
  /** Servers per UpdateServerGroupServersAttribute call. */
  maxPerCall: number;
  groupIds: (lbs: LoadBalancerPlan) => readonly string[];
  api: (cloud: CloudClient) => ServerGroupServersApi;
  /** One look at a weight change's job: true once it has succeeded; one that ended `Failed` throws. */
  jobSucceeded: (cloud: CloudClient, regionId: string, jobId: string, signal: AbortSignal) => Promise<boolean>;
  /** The error `jobSucceeded` throws for a job that ended `Failed`. */
  isJobFailed: (e: unknown) => boolean;
  /**
   * Whether the first look at a job waits the first pause (200 ms) instead of looking at once: a
   * job just accepted is still running, so looking at once only costs a call.
   */
  pauseBeforeFirstLook: boolean;
}

/** In the order drains and restores visit them: ALB first, as before NLB was supported. */
export const SERVER_GROUPS: readonly ServerGroups[] = [
  {
    kind: 'alb',
    label: 'ALB',
    maxPerCall: ALB_UPDATE_SERVERS_MAX_PER_CALL,
    groupIds: (lbs) => lbs.albServerGroupIds,
    api: (cloud) => cloud.alb,
    jobSucceeded: albJobSucceeded,
    isJobFailed: (e) => e instanceof AlbJobFailedError,
    // One ListAsynJobs less per weight change: a job is rarely done the moment its call returns.
    pauseBeforeFirstLook: true,
  },
  {
    kind: 'nlb',
    label: 'NLB',
    maxPerCall: NLB_UPDATE_SERVERS_MAX_PER_CALL,
    // Absent from plans made before NLB was drained, which therefore read none.
    groupIds: (lbs) => lbs.nlbServerGroupIds ?? [],
    api: (cloud) => cloud.nlb,
    jobSucceeded: nlbJobSucceeded,
    isJobFailed: (e) => e instanceof NlbJobFailedError,
    // Looks at once, as before: not yet changed for NLB, whose unit tests pin that cadence.
    pauseBeforeFirstLook: false,
  },
];

/** Only the fields the update call takes (a restore record carries more), at `weight`. */
export function serverWeight(s: ServerWeight, weight: number): ServerWeight {
  return { serverId: s.serverId, serverType: s.serverType, port: s.port, weight };
}

export interface ServerGroupCall {
  cloud: CloudClient;
  regionId: string;
  signal: AbortSignal;
  hb: Pick<Heartbeat, 'beat'>;
}

/**
 * One call's worth of weights (at most `maxPerCall`), then the wait for its job: traffic has moved
 * only when the job has succeeded. The request ID is handed over before the wait, so a failed job
 * still leaves it in the audit trail.
 */
export async function updateWeights(
  g: ServerGroups,
  { cloud, regionId, signal, hb }: ServerGroupCall,
  serverGroupId: string,
  servers: ServerWeight[],
  onRequestId: (requestId: string) => void,
): Promise<void> {
  const { jobId, requestId } = await g
    .api(cloud)
    .updateServerGroupServersAttribute(regionId, serverGroupId, servers, undefined, { signal });
  onRequestId(requestId);
  await waitForJob(g, cloud, regionId, jobId, hb);
}

/** Weight changes are asynchronous: traffic has moved only when the job has succeeded. */
async function waitForJob(
  g: ServerGroups,
  cloud: CloudClient,
  regionId: string,
  jobId: string,
  hb: Pick<Heartbeat, 'beat'>,
): Promise<void> {
  const ctx = Context.current();
  let delay = 200;
  if (g.pauseBeforeFirstLook) {
    // Far shorter than any heartbeat timeout: no beat needed before it.
    await ctx.sleep(delay);
    delay *= 2;
  }
  while (!(await g.jobSucceeded(cloud, regionId, jobId, ctx.cancellationSignal))) {
    // Not the earlier attempt's details: that would drop a drain attempt's record of the original weights.
    hb.beat();
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}
