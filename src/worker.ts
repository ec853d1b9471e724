import { missingSearchAttributes, SearchAttributesMissingError } from './client/namespace';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import {
  createCloudClient,
  defaultCredentialChain,
  endpointsFromEnv,
  type ClosableCloudClient,
  type CredentialsProvider,
} from './aliyun';
import { ConfigError, connectionOptions, temporalConfigFromEnv, type TemporalConfig } from './config';
import {
  activityObservability,
  installObservability,
  logOnce,
  observabilityConfigFromEnv,
  type Observability,
  type ObservabilityConfig,
} from './observability';

export interface StartWorkerOptions {
  temporal?: TemporalConfig;
  credentials?: CredentialsProvider;
  endpoints?: ReturnType<typeof endpointsFromEnv>;
  /**
   * A prebuilt bundle (tests, production images); otherwise `WORKFLOW_BUNDLE_PATH`, else the
   * workflows are bundled at start.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How long running activities get to finish or heartbeat out on shutdown. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** How long a run's workflow task waits for this worker's cache before any worker may take it. Default 3 s. */
  stickyQueueScheduleToStartTimeout?: WorkerOptions['stickyQueueScheduleToStartTimeout'];
  /** Log format and level, Prometheus endpoint; default: from the environment (LOG_FORMAT, LOG_LEVEL, METRICS_PORT). */
  observability?: ObservabilityConfig;
}

export interface RunningWorker {
  worker: Worker;
  cloud: ClosableCloudClient;
  connection: NativeConnection;
  observability: Observability;
  /** Resolves when the worker has stopped and everything is closed. */
  done: Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where the workflow code comes from: an explicit bundle, `WORKFLOW_BUNDLE_PATH`, or the sources
 * (bundled at start).
 */
export function workflowSource(
  explicit: WorkerOptions['workflowBundle'] | undefined,
  env: Env = process.env,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'dataConverter'> {
  if (explicit) return { workflowBundle: explicit };
  const codePath = env.WORKFLOW_BUNDLE_PATH?.trim();
  if (codePath) return { workflowBundle: { codePath: path.resolve(codePath) } };
  // Bundled at start: with the payload converter (a prebuilt bundle has it built in).
  return {
    workflowsPath: path.join(__dirname, 'workflows', 'index' + path.extname(__filename)),
    dataConverter: { payloadConverterPath: PAYLOAD_CONVERTER_PATH },
  };
}

/**
 * The payload converter of the workflow code (src/shared/payload-converter.ts): every bundle of the
 * workflows must include it, so a start request whose input cannot be decoded fails as InvalidInput
 * instead of failing the workflow task forever.
 */
/**
 * How often a changed activity checkpoint reaches the server at most. The SDK holds a heartbeat back
 * for up to 80 % of the heartbeat timeout; a removeBatch that follows its scaling activity
 * (remove-and-follow) shows its accepted call to `status` only through its checkpoint, so it should
 * not wait that long. Heartbeats are RPCs to the server, not history events.
 */
export const HEARTBEAT_THROTTLE = {
  maxHeartbeatThrottleInterval: '1s',
  defaultHeartbeatThrottleInterval: '1s',
} as const;

export const PAYLOAD_CONVERTER_PATH = path.join(__dirname, 'shared', 'payload-converter' + path.extname(__filename));

/** Bundles the workflow code once (image build), for `WORKFLOW_BUNDLE_PATH`. */
export async function writeWorkflowBundle(outFile: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows', 'index' + path.extname(__filename)),
    payloadConverterPath: PAYLOAD_CONVERTER_PATH,
  });
  writeFileSync(outFile, code);
}

/**
 * The worker process: the Temporal Runtime (JSON or readable logs, Prometheus metrics), the
 * Temporal connection and Alibaba Cloud client from the environment, activities built over that
 * client and observed by interceptors. SIGINT/SIGTERM shut it down gracefully (the SDK installs
 * those handlers): no new tasks are taken, running activities get `shutdownGraceTime`.
 */
export async function startWorker(opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  const temporal = opts.temporal ?? temporalConfigFromEnv();
  const endpoints = opts.endpoints ?? endpointsFromEnv();
  const source = workflowSource(opts.workflowBundle);
  // Before any connection: Runtime.install must come first.
  const observability = installObservability(opts.observability ?? observabilityConfigFromEnv());
  const cloud = createCloudClient({
    credentials: opts.credentials ?? defaultCredentialChain(),
    endpoints,
    onCall: observability.onCall,
  });
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(connectionOptions(temporal));
    await requireSearchAttributes(connection, temporal.namespace);
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      ...source,
      activities: createActivities({ cloud }),
      interceptors: { activity: [activityObservability(observability.metrics)] },
      shutdownGraceTime: opts.shutdownGraceTime ?? '30s',
      ...HEARTBEAT_THROTTLE,
      // After a worker dies, its runs' next workflow tasks wait this long on its sticky queue before
      // any other worker may take them: the SDK's 10 s was the largest part of recovering from a
      // SIGKILL (bench/resume.ts). A live worker picks sticky tasks up in milliseconds.
      stickyQueueScheduleToStartTimeout: opts.stickyQueueScheduleToStartTimeout ?? '3s',
    });
    const conn = connection;
    const done = worker.run().finally(async () => {
      await cloud.close();
      await conn.close();
    });
    return { worker, cloud, connection, observability, done };
  } catch (e) {
    await cloud.close();
    await connection?.close();
    throw e;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--write-workflow-bundle') {
    const out = argv[1];
    if (!out) throw new ConfigError('--write-workflow-bundle', 'needs an output file');
    await writeWorkflowBundle(out);
    process.stdout.write(`workflow bundle written to ${out}\n`);
    return;
  }
  const cfg = observabilityConfigFromEnv();
  const { worker, done, observability } = await startWorker({ observability: cfg });
  const o = worker.options;
  observability.logger.info(`ess-scale-in worker polling task queue "${o.taskQueue}" in namespace "${o.namespace}"`, {
    taskQueue: o.taskQueue,
    namespace: o.namespace,
    ...(cfg.metricsBindAddress && observability.installed
      ? { metrics: `http://${cfg.metricsBindAddress}/metrics` }
      : {}),
  });
  await done;
  observability.logger.info('ess-scale-in worker stopped');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    try {
      const cfg = observabilityConfigFromEnv();
      logOnce(
        { ...cfg.logging, write: (l) => process.stderr.write(`${l}\n`) },
        'ERROR',
        `worker failed: ${message}`,
        e instanceof ConfigError ? { code: e.code, variable: e.variable } : {},
      );
    } catch {
      process.stderr.write(`worker failed: ${message}\n`);
    }
    process.exit(1);
  });
}

/**
 * Every run sets the project's search attributes: in a namespace without them each run would fail
 * its first workflow task over and over. Refuse to start instead, naming them and the fix. A
 * worker whose identity may not list them (no operator API) is let through.
 */
async function requireSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  let missing: Array<{ name: string; type: string }>;
  try {
    missing = await missingSearchAttributes(connection, namespace);
  } catch {
    return;
  }
  if (missing.length) throw new SearchAttributesMissingError(namespace, missing);
}
