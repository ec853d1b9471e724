import { Context } from '@temporalio/activity';
import { IllegalStateError, type Logger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { createLogger, loggingConfigFromEnv, type LoggingConfig, type Redactor } from './logger';
import { apiCallObserver, metricsBindAddressFromEnv, prometheusMetricsOptions, ScaleInMetrics } from './metrics';
import type { RpcCallEvent } from '../aliyun/rpc-client';

export interface ObservabilityConfig {
  logging: LoggingConfig;
  /** host:port of the Prometheus endpoint; undefined: none. */
  metricsBindAddress: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export function observabilityConfigFromEnv(
  env: Env = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): ObservabilityConfig {
  return { logging: loggingConfigFromEnv(env, isTTY), metricsBindAddress: metricsBindAddressFromEnv(env) };
}

export interface Observability {
  runtime: Runtime;
  logger: Logger;
  metrics: ScaleInMetrics;
  /** For `createCloudClient({ onCall })`. */
  onCall: (e: RpcCallEvent) => void;
  /** True when this call installed the Runtime (so its logger and metrics endpoint are ours). */
  installed: boolean;
}

/**
 * Installs the process-wide Temporal Runtime with our logger (SDK Core logs forwarded to it) and,
 * when asked, the Prometheus endpoint. `Runtime.install` works once per process and only before
 * any connection; if a Runtime already exists (the demo, tests that embed a worker), it is used
 * as it is and a requested metrics endpoint is reported as not started.
 */
export function installObservability(
  cfg: ObservabilityConfig,
  opts: { write?: (line: string) => void; redactor?: Redactor } = {},
): Observability {
  const logger = createLogger({ ...cfg.logging, ...opts });
  let runtime: Runtime;
  let installed = false;
  try {
    runtime = Runtime.install({
      logger,
      telemetryOptions: {
        logging: {
          forward: {},
          filter: makeTelemetryFilterString({
            core: cfg.logging.level === 'TRACE' || cfg.logging.level === 'DEBUG' ? 'INFO' : 'WARN',
            other: 'ERROR',
          }),
        },
        ...(cfg.metricsBindAddress ? { metrics: prometheusMetricsOptions(cfg.metricsBindAddress) } : {}),
      },
    });
    installed = true;
  } catch (e) {
    if (!(e instanceof IllegalStateError)) throw e;
    runtime = Runtime.instance();
    if (cfg.metricsBindAddress) {
      runtime.logger.warn(
        'Prometheus metrics endpoint not started: a Temporal Runtime already exists in this process',
        { bindAddress: cfg.metricsBindAddress },
      );
    }
  }
  const metrics = new ScaleInMetrics(runtime.metricMeter);
  const onCall = apiCallObserver(metrics, runtime.logger, currentActivityLogger);
  return { runtime, logger: runtime.logger, metrics, onCall, installed };
}

function currentActivityLogger(): Logger | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}
