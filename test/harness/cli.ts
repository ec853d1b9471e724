import { execFile } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { staticCredentials } from '../../src/aliyun';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared/input';
import { startWorker, type RunningWorker } from '../../src/worker';
import { SMALL, uniqueSmallScenario } from './stack';
import { uniqueName, workflowBundle } from './temporal';

/**
 * The CLI tests' stack: an emulator with a group of its own, a worker in this process on a task
 * queue of its own, and the real CLI as a child process pointed at both.
 */
export const ROOT = path.resolve(__dirname, '../..');
export const CLI_BIN = path.join(ROOT, 'bin', 'ess-scale-in.js');

/** Emulator timings are fast; these keep the workflow's own waits short too. */
export const FAST_FLAGS = [
  '--drain-timeout',
  '1',
  '--poll-min-interval-ms',
  '50',
  '--poll-max-interval-ms',
  '300',
  '--retry-initial-interval-ms',
  '50',
  '--retry-max-interval-ms',
  '300',
];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliStack {
  emulator: RunningEmulator;
  worker: RunningWorker;
  group: string;
  workflowId: string;
  taskQueue: string;
  /** The environment the CLI runs with: this stack's server and task queue, no credentials or profiles. */
  env(): NodeJS.ProcessEnv;
  /** Asynchronous on purpose: the worker in this process must keep serving while the CLI runs. */
  cli(args: string[], timeoutMs?: number): Promise<CliRun>;
  /** `start` for this stack's group and these instances, then `args`. */
  start(instanceIds: string[], args: string[], timeoutMs?: number): Promise<CliRun>;
  /** The group's instance IDs, sorted. */
  groupIds(): string[];
  stop(): Promise<void>;
}

export async function startCliStack(name: string): Promise<CliStack> {
  const s = uniqueSmallScenario();
  const group = s.group;
  const emulator = await startEmulator({ scenario: s.scenario, port: 0 });
  const taskQueue = uniqueName(name);
  const worker = await startWorker({
    temporal: {
      address: inject('temporalAddress'),
      namespace: 'default',
      taskQueue,
      apiKey: undefined,
      tls: undefined,
    },
    credentials: staticCredentials(SMALL.keyId, SMALL.secret),
    endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
    workflowBundle: workflowBundle(),
    shutdownGraceTime: '2s',
  });
  const env = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
    for (const k of ['TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) delete e[k];
    return e;
  };
  const cli: CliStack['cli'] = (args, timeoutMs = 60_000) =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI_BIN, ...args], { cwd: ROOT, env: env(), timeout: timeoutMs }, (err, out, e) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: out, stderr: e });
      });
    });
  return {
    emulator,
    worker,
    group,
    workflowId: workflowIdFor(SMALL.region, group),
    taskQueue,
    env,
    cli,
    start: (instanceIds, args, timeoutMs) =>
      cli(
        ['start', '--region', SMALL.region, '--group', group, '--instances', instanceIds.join(','), ...args],
        timeoutMs,
      ),
    groupIds: () =>
      emulator.state
        .snapshot()
        .instances.filter((i) => i.scalingGroupId === group)
        .map((i) => i.instanceId)
        .sort(),
    stop: async () => {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      await worker.done;
      await emulator.close();
    },
  };
}
