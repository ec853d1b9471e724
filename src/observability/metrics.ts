import type { Logger, MetricCounter, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';
import type { RpcCallEvent } from '../aliyun/rpc-client';
import { ConfigError } from '../config';

/**
 * The product's own metrics, recorded through the Temporal SDK's metric meter so they are served
 * by the same Prometheus endpoint as the SDK's (`temporal_*`) metrics: one scrape target, no
 * extra package. Names follow Prometheus conventions (counters end in `_total`, durations are
 * histograms in seconds).
 */
export const METRICS = {
  apiCalls: {
    name: 'ess_scale_in_api_calls_total',
    kind: 'counter',
    labels: ['product', 'action', 'outcome'],
    help: 'Alibaba Cloud API calls; outcome is ok or the error code',
  },
  apiErrors: {
    name: 'ess_scale_in_api_errors_total',
    kind: 'counter',
    labels: ['product', 'action', 'code'],
    help: 'failed Alibaba Cloud API calls by error code (API, network, timeout)',
  },
  apiDuration: {
    name: 'ess_scale_in_api_call_duration_seconds',
    kind: 'histogram',
    labels: ['product', 'action'],
    help: 'Alibaba Cloud API call latency',
  },
  apiThrottled: {
    name: 'ess_scale_in_api_throttled_total',
    kind: 'counter',
    labels: ['product', 'action', 'code'],
    help: 'Alibaba Cloud API calls refused by flow control (Throttling, Throttling.User, Throttling.Api, ...)',
  },
  apiRateLimitWaits: {
    name: 'ess_scale_in_api_rate_limit_waits_total',
    kind: 'counter',
    labels: ['product', 'action'],
    help: 'Alibaba Cloud API calls that waited for the worker rate limiter (ESS_SCALE_IN_API_RATE)',
  },
  apiRateLimitWait: {
    name: 'ess_scale_in_api_rate_limit_wait_seconds',
    kind: 'histogram',
    labels: ['product', 'action'],
    help: 'time a call waited for the worker rate limiter before it was sent',
  },
  instancesRemoved: {
    name: 'ess_scale_in_instances_removed_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue'],
    help: 'instances a finished scaling activity removed from their group',
  },
  instancesFailed: {
    name: 'ess_scale_in_instances_failed_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue'],
    help: 'instances still in the group after their scaling activity ended',
  },
  instancesDrained: {
    name: 'ess_scale_in_instances_drained_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue', 'strategy'],
    help: 'instances taken out of load-balancer traffic (weight 0 or Standby)',
  },
  instancesRestored: {
    name: 'ess_scale_in_instances_restored_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue'],
    help: 'drained instances given their traffic back (cancel, failure)',
  },
  scalingActivities: {
    name: 'ess_scale_in_scaling_activities_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue', 'status'],
    help: 'scaling activities followed to their end, by final StatusCode',
  },
  polls: {
    name: 'ess_scale_in_scaling_activity_polls_total',
    kind: 'counter',
    labels: ['region_id', 'scaling_group_id', 'task_queue'],
    help: 'DescribeScalingActivities polls of finished scaling activities',
  },
  batchDuration: {
    name: 'ess_scale_in_batch_duration_seconds',
    kind: 'histogram',
    labels: ['region_id', 'scaling_group_id', 'task_queue', 'status'],
    help: 'one batch, from RemoveInstances accepted to its scaling activity ended',
  },
  drainDuration: {
    name: 'ess_scale_in_drain_duration_seconds',
    kind: 'histogram',
    labels: ['region_id', 'scaling_group_id', 'task_queue', 'strategy'],
    help: 'draining one batch, from scheduled to drained (retries included)',
  },
} as const;

/** Bucket bounds in seconds, for `histogramBucketOverrides`; the SDK's defaults end at 10 s. */
export const HISTOGRAM_BUCKETS: Readonly<Record<string, number[]>> = {
  [METRICS.apiDuration.name]: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  [METRICS.apiRateLimitWait.name]: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  [METRICS.batchDuration.name]: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
  [METRICS.drainDuration.name]: [0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800],
};

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `TEMPORAL_METRICS_BIND_ADDRESS` (host:port) or `METRICS_PORT` (binds 0.0.0.0); unset: no
 * metrics endpoint. The bind address wins when both are set.
 */
export function metricsBindAddressFromEnv(env: Env = process.env): string | undefined {
  const bind = env.TEMPORAL_METRICS_BIND_ADDRESS?.trim();
  if (bind) {
    if (
      !/^(\[[0-9a-fA-F:]+\]|[^\s:/[\]]+):\d{1,5}$/.test(bind) ||
      Number(bind.slice(bind.lastIndexOf(':') + 1)) > 65535
    ) {
      throw new ConfigError(
        'TEMPORAL_METRICS_BIND_ADDRESS',
        `expected host:port such as 0.0.0.0:9464, got ${JSON.stringify(bind)}`,
      );
    }
    return bind;
  }
  const port = env.METRICS_PORT?.trim();
  if (!port) return undefined;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw new ConfigError('METRICS_PORT', `expected a port 1..65535, got ${JSON.stringify(port)}`);
  return `0.0.0.0:${Number(port)}`;
}

/** `telemetryOptions.metrics` for `Runtime.install`: Prometheus at `bindAddress/metrics`. */
export function prometheusMetricsOptions(bindAddress: string) {
  return {
    prometheus: { bindAddress, useSecondsForDurations: true, histogramBucketOverrides: { ...HISTOGRAM_BUCKETS } },
  };
}

export interface InstanceTags {
  regionId: string;
  scalingGroupId: string;
  taskQueue: string;
}

/** Records the product metrics on one meter (the Runtime's); safe to call when no exporter is configured. */
export class ScaleInMetrics {
  private readonly apiCalls: MetricCounter;
  private readonly apiErrors: MetricCounter;
  private readonly apiDuration: MetricHistogram;
  private readonly apiThrottled: MetricCounter;
  private readonly apiRateLimitWaits: MetricCounter;
  private readonly apiRateLimitWait: MetricHistogram;
  private readonly instancesRemoved: MetricCounter;
  private readonly instancesFailed: MetricCounter;
  private readonly instancesDrained: MetricCounter;
  private readonly instancesRestored: MetricCounter;
  private readonly scalingActivities: MetricCounter;
  private readonly polls: MetricCounter;
  private readonly batchDuration: MetricHistogram;
  private readonly drainDuration: MetricHistogram;

  constructor(meter: MetricMeter) {
    const counter = (m: { name: string; help: string }) => meter.createCounter(m.name, undefined, m.help);
    const seconds = (m: { name: string; help: string }) => meter.createHistogram(m.name, 'float', 's', m.help);
    this.apiCalls = counter(METRICS.apiCalls);
    this.apiErrors = counter(METRICS.apiErrors);
    this.apiDuration = seconds(METRICS.apiDuration);
    this.apiThrottled = counter(METRICS.apiThrottled);
    this.apiRateLimitWaits = counter(METRICS.apiRateLimitWaits);
    this.apiRateLimitWait = seconds(METRICS.apiRateLimitWait);
    this.instancesRemoved = counter(METRICS.instancesRemoved);
    this.instancesFailed = counter(METRICS.instancesFailed);
    this.instancesDrained = counter(METRICS.instancesDrained);
    this.instancesRestored = counter(METRICS.instancesRestored);
    this.scalingActivities = counter(METRICS.scalingActivities);
    this.polls = counter(METRICS.polls);
    this.batchDuration = seconds(METRICS.batchDuration);
    this.drainDuration = seconds(METRICS.drainDuration);
  }

  apiCall(e: RpcCallEvent): void {
    this.apiCalls.add(1, { product: e.product, action: e.action, outcome: e.outcome });
    if (e.outcome !== 'ok') this.apiErrors.add(1, { product: e.product, action: e.action, code: e.outcome });
    this.apiDuration.record(Math.max(0, e.durationMs) / 1000, { product: e.product, action: e.action });
    if (/Throttling/.test(e.outcome))
      this.apiThrottled.add(1, { product: e.product, action: e.action, code: e.outcome });
    if (e.rateLimitWaitMs !== undefined && e.rateLimitWaitMs > 0) {
      this.apiRateLimitWaits.add(1, { product: e.product, action: e.action });
      this.apiRateLimitWait.record(e.rateLimitWaitMs / 1000, { product: e.product, action: e.action });
    }
  }

  scalingActivityEnded(
    t: InstanceTags,
    r: { status: string; removed: number; failed: number; polls: number; durationSeconds: number },
  ): void {
    const tags = labels(t);
    if (r.removed) this.instancesRemoved.add(r.removed, tags);
    if (r.failed) this.instancesFailed.add(r.failed, tags);
    if (r.polls) this.polls.add(r.polls, tags);
    this.scalingActivities.add(1, { ...tags, status: r.status });
    this.batchDuration.record(Math.max(0, r.durationSeconds), { ...tags, status: r.status });
  }

  drained(t: InstanceTags, r: { strategy: string; instances: number; durationSeconds: number }): void {
    const tags = { ...labels(t), strategy: r.strategy };
    if (r.instances) this.instancesDrained.add(r.instances, tags);
    this.drainDuration.record(Math.max(0, r.durationSeconds), tags);
  }

  restored(t: InstanceTags, instances: number): void {
    if (instances) this.instancesRestored.add(instances, labels(t));
  }
}

function labels(t: InstanceTags): MetricTags {
  return { region_id: t.regionId, scaling_group_id: t.scalingGroupId, task_queue: t.taskQueue };
}

/**
 * The cloud client's `onCall` hook: one metric update and one log line per API call. Inside an
 * activity the line goes through the activity's logger, so it carries the workflow ID, run ID and
 * activity type; elsewhere through `fallback`. Successes log at DEBUG, failures at WARN (Temporal
 * retries most of them; the activity failure itself is logged by the SDK).
 */
export function apiCallObserver(
  metrics: ScaleInMetrics | undefined,
  fallback: Logger,
  activityLogger: () => Logger | undefined,
): (e: RpcCallEvent) => void {
  return (e) => {
    metrics?.apiCall(e);
    const log = activityLogger() ?? fallback;
    const meta = {
      product: e.product,
      action: e.action,
      requestId: e.requestId,
      httpStatus: e.httpStatus,
      durationMs: e.durationMs,
      ...(e.rateLimitWaitMs ? { rateLimitWaitMs: e.rateLimitWaitMs } : {}),
      ...(e.outcome === 'ok' ? {} : { code: e.outcome }),
    };
    if (e.outcome === 'ok') log.debug(`${e.action} ok`, meta);
    else log.warn(`${e.action} failed: ${e.outcome}`, meta);
  };
}
