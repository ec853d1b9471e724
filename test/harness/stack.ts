import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import { waitFor } from '../../src/emulator/testing';
import { startEmulator, EmulatorAdminClient, type RunningEmulator, type Scenario } from '../../src/emulator';
import { ScaleInClient } from '../../src/client';
import { workflowIdFor, type ScaleInInput } from '../../src/shared/input';
import type { ScaleInResult } from '../../src/shared/progress';
import { spawnWorkerProcess, type WorkerProcess } from '../../src/devtools/worker-process';
import { HEARTBEAT_THROTTLE } from '../../src/worker';

export type { WorkerProcess };
import { uniqueName, workflowBundle } from './temporal';

export const SMALL = {
  keyId: 'LTAIsmallEmulatorKey1',
  secret: 'small-emulator-secret-not-real',
  region: 'cn-hangzhou',
  group: 'asg-bp1small000000000001',
  lb: 'lb-bp1small0000000000001',
  vsg: 'rsp-bp1small0001',
  alb: 'sgp-bp1small0000000001',
} as const;

/** Fast settings so integration runs finish in seconds, not minutes. */
export const FAST: NonNullable<ScaleInInput['advanced']> = {
  pollMinIntervalMs: 50,
  pollMaxIntervalMs: 300,
  retryInitialIntervalMs: 50,
  retryMaxIntervalMs: 300,
  heartbeatTimeoutSeconds: 5,
};

/**
 * One emulator (real HTTP on 127.0.0.1) and one in-process worker on a unique task queue,
 * against the run's shared Temporal dev server.
 */
export interface Stack {
  group: string;
  workflowId: string;
  input(ids: string[], extra?: Partial<ScaleInInput>): ScaleInInput;
  emulator: RunningEmulator;
  admin: EmulatorAdminClient;
  cloud: ClosableCloudClient;
  client: ScaleInClient;
  rawClient: Client;
  taskQueue: string;
  worker: Worker | undefined;
  /** Resolves when the worker stops. */
  running: Promise<void>;
  instanceIds(): Promise<string[]>;
  /** Current weights of these instances on the CLB default group, the vserver group and the ALB server group. */
  weights(ids: string[]): Promise<{ clb: number[]; vsg: number[]; alb: number[] }>;
  /**
   * The real worker entry point (src/worker.ts) in a child process, configured only through the
   * environment the way an operator would; resolves once it polls the stack's task queue.
   */
  spawnWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * The `small` scenario with a scaling group ID of its own: the workflow ID derives from the group,
 * so parallel test files must not share one.
 */
export function uniqueSmallScenario(mutate?: (s: Scenario) => void): { scenario: Scenario; group: string } {
  const group = `asg-t${randomUUID().replace(/-/g, '').slice(0, 19)}`;
  const raw = readFileSync(path.join(__dirname, '../../src/emulator/scenarios/small.json'), 'utf8').replaceAll(
    SMALL.group,
    group,
  );
  const scenario = JSON.parse(raw) as Scenario;
  mutate?.(scenario);
  return { scenario, group };
}

export async function startStack(
  opts: { mutate?: (s: Scenario) => void; withWorker?: boolean; timeScale?: number } = {},
): Promise<Stack> {
  const { scenario, group } = uniqueSmallScenario(opts.mutate);
  const emulator = await startEmulator({
    scenario,
    ...(opts.timeScale === undefined ? {} : { timeScale: opts.timeScale }),
  });
  const admin = new EmulatorAdminClient(emulator.url);
  const cloud = createCloudClient({
    credentials: staticCredentials(SMALL.keyId, SMALL.secret),
    endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url, nlb: emulator.url },
  });
  const taskQueue = uniqueName('scalein');
  const address = inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker =
    opts.withWorker === false
      ? undefined
      : await Worker.create({
          connection: nativeConnection,
          taskQueue,
          workflowBundle: workflowBundle(),
          activities: createActivities({ cloud }),
          shutdownGraceTime: '5s',
          ...HEARTBEAT_THROTTLE,
        });
  const running = worker ? worker.run() : Promise.resolve();
  const connection = await Connection.connect({ address });
  const rawClient = new Client({ connection });
  const children: ChildProcess[] = [];
  const client = await ScaleInClient.connect({
    client: rawClient,
    temporal: { address, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined },
  });
  return {
    group,
    workflowId: workflowIdFor(SMALL.region, group),
    input: (ids, extra = {}) => ({
      regionId: SMALL.region,
      scalingGroupId: group,
      instanceIds: ids,
      batchSize: 10,
      drain: { timeoutSeconds: 1 },
      advanced: FAST,
      ...extra,
    }),
    emulator,
    admin,
    cloud,
    client,
    rawClient,
    taskQueue,
    worker,
    running,
    async instanceIds() {
      const s = await admin.state();
      return s.instances
        .filter((i) => i.scalingGroupId === group)
        .map((i) => i.instanceId)
        .sort();
    },
    async weights(ids) {
      const st = await admin.state();
      const clb = st.loadBalancers
        .flatMap((l) => l.backendServers)
        .filter((b) => ids.includes(b.serverId))
        .map((b) => b.weight);
      const vsg = st.loadBalancers
        .flatMap((l) => l.vServerGroups.flatMap((v) => v.backendServers))
        .filter((b) => ids.includes(b.serverId))
        .map((b) => b.weight);
      const alb = st.albServerGroups
        .flatMap((g) => g.servers)
        .filter((b) => ids.includes(b.serverId))
        .map((b) => b.weight);
      return { clb, vsg, alb };
    },
    async spawnWorker(env = {}) {
      const w = await spawnWorkerProcess({
        temporalAddress: address,
        taskQueue,
        workflowBundlePath: inject('workflowBundlePath'),
        cloudEndpoint: emulator.url,
        accessKeyId: SMALL.keyId,
        accessKeySecret: SMALL.secret,
        env,
      });
      children.push(w.child);
      return w;
    },
    async close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      await cloud.close();
      await emulator.close();
    },
  };
}

/** Starts a scale-in of `ids` and waits for its result, which must be `completed` with every instance removed. */
export async function completedRun(
  stack: Stack,
  ids: string[],
  extra?: Partial<ScaleInInput>,
): Promise<{ workflowId: string; result: ScaleInResult }> {
  const { workflowId } = await stack.client.start(stack.input(ids, extra));
  const result = await stack.client.result(workflowId);
  if (result.outcome !== 'completed' || result.counts.removed !== ids.length)
    throw new Error(`run ${workflowId}: ${result.outcome}, ${result.counts.removed} of ${ids.length} removed`);
  return { workflowId, result };
}

/**
 * A run of 10 instances in batches of 5 on a worker process that is SIGKILLed while it polls the
 * first batch's 6 s scaling activity. No worker is left: the caller checks the killed one is gone
 * and starts the next.
 */
export async function runWithWorkerKilledMidPoll(
  stack: Stack,
  advanced: NonNullable<ScaleInInput['advanced']>,
): Promise<{ workflowId: string; ids: string[]; killed: WorkerProcess }> {
  await stack.admin.settings({ timings: { activityDurationMs: 6000 } });
  const ids = (await stack.instanceIds()).slice(0, 10);
  const killed = await stack.spawnWorker();
  const { workflowId } = await stack.client.start(
    stack.input(ids, { batchSize: 5, drain: { timeoutSeconds: 0 }, advanced }),
  );
  await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'polling', 60_000, 200);
  await killed.kill('SIGKILL');
  return { workflowId, ids, killed };
}
