/**
 * The real worker entry point (src/worker.ts) in a child process, configured only through the
 * environment the way an operator would. Tests, benchmarks and the chaos suite use it to SIGKILL a
 * worker for real and to measure the worker's own CPU and memory apart from the harness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const READY = 'worker polling task queue';

export interface WorkerProcessOptions {
  temporalAddress: string;
  taskQueue: string;
  /** A prebuilt workflow bundle (see writeWorkflowBundle); without it every start bundles again (slow). */
  workflowBundlePath?: string;
  /** One endpoint for ESS, SLB and ALB (the emulator). */
  cloudEndpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Extra environment (LOG_LEVEL, METRICS_PORT, ...). */
  env?: Record<string, string>;
  /** How long to wait for the worker to poll. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** SIGKILL (no graceful shutdown: in-flight activities are abandoned) and wait until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a worker process and resolves once it polls its task queue. */
export async function spawnWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  // tsx's hook inside this very process: the tsx CLI would fork a grandchild that survives a SIGKILL of its parent.
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      TEMPORAL_TASK_QUEUE: opts.taskQueue,
      ...(opts.workflowBundlePath ? { WORKFLOW_BUNDLE_PATH: opts.workflowBundlePath } : {}),
      ALIBABA_CLOUD_ACCESS_KEY_ID: opts.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: opts.accessKeySecret,
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
      ESS_ENDPOINT: opts.cloudEndpoint,
      SLB_ENDPOINT: opts.cloudEndpoint,
      ALB_ENDPOINT: opts.cloudEndpoint,
      NLB_ENDPOINT: opts.cloudEndpoint,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!out.includes(READY) && child.exitCode === null && child.signalCode === null) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start within ${opts.readyTimeoutMs ?? 60_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error(`worker exited with ${child.exitCode ?? child.signalCode}:\n${out}`);
  return {
    child,
    pid: child.pid as number,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface ProcessUsage {
  /** User + system CPU time, in seconds. */
  cpuSeconds: number;
  /** Resident set size now, and its peak (VmHWM), in MiB. */
  rssMiB: number;
  peakRssMiB: number;
}

/** CPU and memory of a live process from /proc (Linux). */
export function processUsage(pid: number): ProcessUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  // USER_HZ is 100 on every Linux we run on.
  return {
    cpuSeconds: ticks / 100,
    rssMiB: Math.round(kib('VmRSS') / 1024),
    peakRssMiB: Math.round(kib('VmHWM') / 1024),
  };
}
