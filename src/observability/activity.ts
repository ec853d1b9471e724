import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type {
  DrainRequest,
  DrainResponse,
  PollRequest,
  PollResponse,
  RemoveBatchRequest,
  RemoveBatchResponse,
  UndrainRequest,
  UndrainResponse,
} from '../activities/types';
import type { InstanceTags, ScaleInMetrics } from './metrics';

/**
 * Worker interceptors that observe activities from the outside, so the activity code stays about
 * the cloud: every activity log line (the SDK's own, ours, the cloud client's) gets the batch
 * number and scaling group; finished activities update the product metrics and log one INFO line
 * through the activity logger, which carries workflowId, runId and activity type.
 */
export function activityObservability(metrics: ScaleInMetrics | undefined): ActivityInterceptorsFactory {
  return (ctx) => {
    let attrs: Record<string, unknown> = {};
    return {
      inbound: {
        async execute(input, next) {
          attrs = requestAttributes(input.args[0]);
          const result = await next(input);
          try {
            observe(ctx, metrics, input.args[0], result);
          } catch {
            // Observing must never fail an activity that did its work.
          }
          return result;
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          return next({ ...attrs, ...input });
        },
      },
    };
  };
}

/** `batch` from the request: drain carries it, removeBatch's idempotency key ends with it. */
function requestAttributes(arg: unknown): Record<string, unknown> {
  if (!arg || typeof arg !== 'object') return {};
  const a = arg as Partial<DrainRequest & RemoveBatchRequest & { input: { scalingGroupId?: string } }>;
  const out: Record<string, unknown> = {};
  const group = a.scalingGroupId ?? a.input?.scalingGroupId;
  if (typeof group === 'string') out.scalingGroupId = group;
  if (typeof a.batchIndex === 'number') out.batch = a.batchIndex;
  else if (typeof a.idempotencyKey === 'string') {
    const m = /\/(\d+)$/.exec(a.idempotencyKey);
    if (m) out.batch = Number(m[1]);
  }
  return out;
}

type Observer = (ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown) => void;

/** What each finished activity adds to the metrics and the log; activities not listed add nothing. */
const OBSERVERS: ReadonlyMap<string, Observer> = new Map([
  ['drain', observeDrain],
  ['undrain', observeUndrain],
  ['removeBatch', observeRemoveBatch],
  ['pollScalingActivity', observePoll],
]);

function observe(ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown): void {
  OBSERVERS.get(ctx.info.activityType)?.(ctx, metrics, arg, result);
}

function tagsOf(ctx: Context, req: { regionId: string; scalingGroupId: string }): InstanceTags {
  return { regionId: req.regionId, scalingGroupId: req.scalingGroupId, taskQueue: ctx.info.taskQueue };
}

function observeDrain(ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown): void {
  const req = arg as DrainRequest;
  const res = result as DrainResponse;
  const sinceScheduled = (Date.now() - ctx.info.scheduledTimestampMs) / 1000;
  const instances = new Set(res.restore.map((r) => ('instanceId' in r ? r.instanceId : r.serverId))).size;
  metrics?.drained(tagsOf(ctx, req), { strategy: req.strategy, instances, durationSeconds: sinceScheduled });
  ctx.log.info(`drained batch ${req.batchIndex}: ${instances} instance(s) out of traffic (${req.strategy})`, {
    requestIds: res.requestIds,
    durationMs: Math.round(sinceScheduled * 1000),
  });
}

function observeUndrain(ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown): void {
  const req = arg as UndrainRequest;
  const res = result as UndrainResponse;
  metrics?.restored(tagsOf(ctx, req), res.restoredInstanceIds.length);
  ctx.log.info(`restored traffic to ${res.restoredInstanceIds.length} instance(s)`, {
    instanceIds: res.restoredInstanceIds,
    goneInstanceIds: res.goneInstanceIds,
    requestIds: res.requestIds,
  });
}

function observeRemoveBatch(ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown): void {
  const res = result as RemoveBatchResponse;
  logRemovals(ctx, res);
  // With `follow` the same activity polled its scaling activity to the end: observed as a poll would be.
  const followed = res.followed;
  if (!followed) return;
  const req = arg as RemoveBatchRequest;
  const ids = res.removals.find((r) => r.scalingActivityId === followed.scalingActivityId)?.instanceIds ?? [];
  const pollReq = { ...req.follow, ...req, scalingActivityId: followed.scalingActivityId, instanceIds: ids };
  observePoll(ctx, metrics, pollReq, followed);
}

function logRemovals(ctx: Context, res: RemoveBatchResponse): void {
  for (const r of res.removals) {
    const how = r.adopted ? 'adopted' : 'accepted';
    ctx.log.info(
      `RemoveInstances ${how}: scaling activity ${r.scalingActivityId} for ${r.instanceIds.length} instance(s)`,
      {
        action: 'RemoveInstances',
        requestId: r.requestId,
        scalingActivityId: r.scalingActivityId,
        instanceIds: r.instanceIds,
      },
    );
  }
}

function observePoll(ctx: Context, metrics: ScaleInMetrics | undefined, arg: unknown, result: unknown): void {
  const req = arg as PollRequest;
  const res = result as PollResponse;
  const ended = Date.parse(res.endedAt);
  const durationSeconds = ((Number.isFinite(ended) ? ended : Date.now()) - ctx.info.scheduledTimestampMs) / 1000;
  const removed = res.removedInstanceIds.length;
  const failed = res.failedInstances.length;
  metrics?.scalingActivityEnded(tagsOf(ctx, req), {
    status: res.statusCode,
    removed,
    failed,
    polls: res.polls,
    durationSeconds,
  });
  const msg =
    `scaling activity ${res.scalingActivityId} ended ${res.statusCode}: ` + `${removed} removed, ${failed} not removed`;
  const meta = {
    scalingActivityId: res.scalingActivityId,
    statusCode: res.statusCode,
    polls: res.polls,
    durationMs: Math.round(durationSeconds * 1000),
  };
  if (failed) ctx.log.warn(msg, { ...meta, failedInstances: res.failedInstances });
  else ctx.log.info(msg, meta);
}
