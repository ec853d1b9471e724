import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { createCloudClient, defaultCredentialChain, endpointsFromEnv, type ClosableCloudClient, type CredentialsProvider } from './aliyun';
import { connectionOptions, temporalConfigFromEnv, type TemporalConfig } from './config';

export interface StartWorkerOptions {
  temporal?: TemporalConfig;
  credentials?: CredentialsProvider;
  endpoints?: ReturnType<typeof endpointsFromEnv>;
  /** A prebuilt bundle (tests, production images); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How long running activities get to finish or heartbeat out on shutdown. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

export interface RunningWorker {
  worker: Worker;
  cloud: ClosableCloudClient;
  connection: NativeConnection;
  /** Resolves when the worker has stopped and everything is closed. */
  done: Promise<void>;
}

/**
 * The worker process: Temporal connection and Alibaba Cloud client from the environment,
 * activities built over that client. SIGINT/SIGTERM shut it down gracefully (the SDK installs
 * those handlers): no new tasks are taken, running activities get `shutdownGraceTime`.
 */
export async function startWorker(opts: StartWorkerOptions = {}): Promise<RunningWorker> {
  const temporal = opts.temporal ?? temporalConfigFromEnv();
  const cloud = createCloudClient({ credentials: opts.credentials ?? defaultCredentialChain(), endpoints: opts.endpoints ?? endpointsFromEnv() });
  const connection = await NativeConnection.connect(connectionOptions(temporal));
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: path.join(__dirname, 'workflows', 'index' + path.extname(__filename)) }),
    activities: createActivities({ cloud }),
    shutdownGraceTime: opts.shutdownGraceTime ?? '30s',
  });
  const done = worker.run().finally(async () => {
    await cloud.close();
    await connection.close();
  });
  return { worker, cloud, connection, done };
}

if (require.main === module) {
  startWorker()
    .then(({ worker, done }) => {
      const o = worker.options;
      console.log(`ess-scale-in worker polling task queue "${o.taskQueue}" in namespace "${o.namespace}"`);
      return done;
    })
    .catch((e: unknown) => {
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
      process.exit(1);
    });
}
