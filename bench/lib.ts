/**
 * Shared pieces of the benchmark suite: scenario building, the per-benchmark stack (in-process
 * emulator, or one in a child process, + worker child process on one lab), run/verify helpers,
 * call-log and history helpers, statistics, table printing, JSON results and bench/RESULTS.md.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal, type google } from '@temporalio/proto';
import type { ScaleInClient, ScaleInInput, ScaleInResult } from '../src/client';
import type { Lab } from '../src/devtools/lab';
import { spawnEmulatorProcess, type EmulatorProcess } from '../src/devtools/emulator-process';
import { workflowIdFor } from '../src/shared/input';
import {
  processUsage,
  spawnWorkerProcess,
  type ProcessUsage,
  type WorkerProcess,
} from '../src/devtools/worker-process';
import {
  EmulatorAdminClient,
  startEmulator,
  type CallLogEntry,
  type EmulatorStateSnapshot,
  type RunningEmulator,
  type Scenario,
  type ScenarioApiQuota,
  type ScenarioTimings,
} from '../src/emulator';

export const BENCH_DIR = __dirname;
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, 'quick');

/** Canonical order: `npm run bench` runs them in this order and RESULTS.md lists them so. */
export const BENCH_NAMES = [
  'overhead',
  'polling',
  'forecast',
  'many-groups',
  'history',
  'resume',
  'hooks',
  'fleet',
] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** A run that did not do what it should: the benchmark fails instead of reporting numbers. */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure' as const;
}

// ---------------------------------------------------------------------------------------------
// context, progress, results
// ---------------------------------------------------------------------------------------------

export interface BenchArgs {
  /** history: instances to remove (default 10,000; 200 with --quick). */
  instances: number | undefined;
  batchSize: number | undefined;
  activityMs: number | undefined;
  drainS: number | undefined;
}

export interface BenchContext {
  name: BenchName;
  lab: Lab;
  quick: boolean;
  args: BenchArgs;
  /** A progress line on stderr, prefixed with the benchmark and the time since it started. */
  progress(msg: string): void;
}

export interface Table {
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** What a benchmark module returns. */
export interface BenchReport {
  title: string;
  /** One paragraph: what was measured and how. */
  description: string;
  table: Table;
  /** Closing notes: conclusions drawn from the numbers (slowest part, dominating timeout...). */
  notes: string[];
  /** Raw measurements, kept in the JSON file only. */
  data: unknown;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
}

/** What bench/results/<name>.json holds. */
export interface BenchResultFile extends BenchReport {
  name: BenchName;
  command: string;
  date: string;
  quick: boolean;
  seconds: number;
  machine: Machine;
}

export interface BenchModule {
  run(ctx: BenchContext): Promise<BenchReport>;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cores} cores, ${m.cpuModel}, ${m.ramGiB} GiB RAM, Node ${m.node}`;
}

export function makeProgress(label: string): (msg: string) => void {
  const t0 = Date.now();
  return (msg) => process.stderr.write(`[${label} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

export function markdownTable(t: Table): string {
  const esc = (v: string | number) => String(v).replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function writeResult(dir: string, r: BenchResultFile): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.name}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

function isResultFile(v: unknown): v is BenchResultFile {
  const r = v as Partial<BenchResultFile> | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    typeof r.title === 'string' &&
    Array.isArray(r.table?.columns) &&
    Array.isArray(r.table?.rows) &&
    typeof r.machine === 'object'
  );
}

/** Regenerates bench/RESULTS.md from every JSON file in `dir` (not its subfolders). */
export function writeResultsMarkdown(
  dir = RESULTS_DIR,
  out = path.join(BENCH_DIR, 'RESULTS.md'),
): { file: string; benchmarks: string[]; skipped: string[] } {
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => e.name)
    .sort();
  const results: BenchResultFile[] = [];
  const skipped: string[] = [];
  for (const f of files) {
    const parsed: unknown = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    if (isResultFile(parsed)) results.push(parsed);
    else skipped.push(f);
  }
  const order = (n: string) => {
    const i = (BENCH_NAMES as readonly string[]).indexOf(n);
    return i < 0 ? BENCH_NAMES.length : i;
  };
  results.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  const parts = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` from the JSON files in `bench/results/` (do not edit by hand).',
    'Every benchmark runs the real worker as a child process against a local Temporal dev server and the',
    'in-process ESS/SLB/ALB emulator (fleet: against Temporal 1.29.1 on PostgreSQL instead of the dev server,',
    'with the emulator in a child process of its own);',
    'see `bench/run.ts` for the options and each module for the method.',
    '',
  ];
  for (const r of results) {
    parts.push(`## ${r.name}: ${r.title}`, '', r.description, '', markdownTable(r.table), '');
    if (r.notes.length) parts.push(...r.notes.map((n) => `- ${n}`), '');
    parts.push(
      `Command: \`${r.command}\`  `,
      `Date: ${r.date} (${r.seconds.toFixed(0)} s)  `,
      `Machine: ${machineLine(r.machine)}`,
      '',
    );
  }
  writeFileSync(out, parts.join('\n'));
  return { file: out, benchmarks: results.map((r) => r.name), skipped };
}

// ---------------------------------------------------------------------------------------------
// statistics and formatting
// ---------------------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of a non-empty list; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

/** Median (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function max(xs: readonly number[]): number {
  return xs.length ? Math.max(...xs) : Number.NaN;
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** A number with `digits` decimals, `-` for NaN. */
export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls `fn` every `ms` until the returned stop function is called (which waits for a call in flight). */
export function ticker(ms: number, fn: () => Promise<void>): () => Promise<void> {
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped) return;
    inFlight = inFlight.then(fn).catch(() => undefined);
  }, ms);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await inFlight;
  };
}

export function msOf(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`not an ISO time: ${iso}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------------------------

export interface ScenarioSpec {
  /** Number of scaling groups, each with its own CLB (+ vserver group), ALB server group and RDS. */
  groups: number;
  /** Instances per group that the benchmark may remove. */
  instancesPerGroup: number;
  /** Extra instances per group that stay in it (default 2). */
  spare?: number;
  timings: ScenarioTimings;
  /** The emulated account API quota (scenario `apiQuota`); off when omitted. */
  apiQuota?: ScenarioApiQuota;
}

const SMALL_SCENARIO = path.join(BENCH_DIR, '../src/emulator/scenarios/small.json');

/**
 * `groups` copies of the `small` scenario's group (src/emulator/scenarios/small.json), each with
 * its own load balancers and `instancesPerGroup + spare` generated instances behind them.
 */
export function buildScenario(spec: ScenarioSpec): Scenario {
  const small = JSON.parse(readFileSync(SMALL_SCENARIO, 'utf8')) as Scenario;
  const g0 = small.scalingGroups?.[0];
  const gen0 = small.instanceGenerators?.[0];
  const lb0 = small.loadBalancers?.[0];
  const alb0 = small.albServerGroups?.[0];
  const db0 = small.dbInstances?.[0];
  const vsg0 = g0?.vServerGroups?.[0];
  const albAttach0 = g0?.albServerGroups?.[0];
  if (!g0 || !gen0 || !lb0 || !alb0 || !db0 || !vsg0 || !albAttach0)
    throw new Error(
      `${SMALL_SCENARIO} changed shape: expected one group, generator, CLB with a vserver group, ALB group and RDS`,
    );
  const count = spec.instancesPerGroup + (spec.spare ?? 2);
  const s: Scenario = {
    name: `bench-${spec.groups}x${spec.instancesPerGroup}`,
    description: `Benchmark scenario built from "small": ${spec.groups} group(s) of ${count} instances.`,
    accessKeys: small.accessKeys,
    regions: small.regions,
    scalingGroups: [],
    instanceGenerators: [],
    loadBalancers: [],
    albServerGroups: [],
    dbInstances: [],
    timings: spec.timings,
    ...(spec.apiQuota !== undefined ? { apiQuota: spec.apiQuota } : {}),
  };
  for (let k = 0; k < spec.groups; k++) {
    const n = (width: number) => k.toString(36).padStart(width, '0');
    const groupId = `asg-bp1bench${n(12)}`;
    const lbId = `lb-bp1bench${n(13)}`;
    const vsgId = `rsp-bp1b${n(8)}`;
    const albId = `sgp-bp1bench${n(10)}`;
    const dbId = `rm-bp1bench${n(10)}`;
    s.scalingGroups?.push({
      ...g0,
      id: groupId,
      name: `bench-${k}`,
      minSize: 0,
      maxSize: count + 100,
      desiredCapacity: count,
      loadBalancerIds: [lbId],
      vServerGroups: [{ ...vsg0, loadBalancerId: lbId, vServerGroupId: vsgId }],
      albServerGroups: [{ ...albAttach0, albServerGroupId: albId }],
      dbInstanceIds: [dbId],
    });
    s.instanceGenerators?.push({
      ...gen0,
      scalingGroupId: groupId,
      count,
      idPrefix: `bpb${n(4)}`,
      attachTo: { ...gen0.attachTo, loadBalancerIds: [lbId], vServerGroupIds: [vsgId], albServerGroupIds: [albId] },
    });
    s.loadBalancers?.push({
      ...lb0,
      id: lbId,
      vServerGroups: (lb0.vServerGroups ?? []).map((v) => ({ ...v, id: vsgId })),
      listeners: (lb0.listeners ?? []).map((l) => (l.vServerGroupId ? { ...l, vServerGroupId: vsgId } : { ...l })),
    });
    s.albServerGroups?.push({ ...alb0, id: albId });
    s.dbInstances?.push({ ...db0, id: dbId });
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// the stack of one benchmark: emulator in process, worker as a child process
// ---------------------------------------------------------------------------------------------

export interface BenchGroup {
  id: string;
  regionId: string;
  /** The first `instancesPerGroup` instances of the group (sorted): what a benchmark removes. */
  instanceIds: string[];
}

export interface StackOptions {
  scenario: ScenarioSpec;
  /** The emulator's timeScale (default 1). */
  timeScale?: number;
  /** Task queue; default `bench-<name>`. */
  taskQueue?: string;
  /** Start a worker right away (default true). */
  worker?: boolean;
  /** Called synchronously for every API call the emulator answers (its `log` hook). */
  onCall?: (line: string) => void;
  /** Extra environment of every worker process the stack spawns (e.g. ESS_SCALE_IN_API_RATE). */
  workerEnv?: Record<string, string>;
  /**
   * Run the emulator in a child process of its own (src/devtools/emulator-process.ts) instead of this
   * one: `stack.emulator.state` is then unavailable (read it with `stack.admin`), and `onCall` too.
   */
  emulatorProcess?: boolean;
}

export interface Stack {
  emulator: RunningEmulator;
  /** The emulator's child process when `emulatorProcess` is set. */
  emulatorProcess: EmulatorProcess | undefined;
  admin: EmulatorAdminClient;
  groups: BenchGroup[];
  accessKeyId: string;
  accessKeySecret: string;
  taskQueue: string;
  client: ScaleInClient;
  /** The current worker process, if any. */
  worker: WorkerProcess | undefined;
  /** Spawns a worker process on the stack's task queue and makes it the current one. */
  spawnWorker(): Promise<{ worker: WorkerProcess; spawnMs: number }>;
  /** Stops the current worker (SIGTERM, then SIGKILL after 15 s). */
  stopWorker(): Promise<void>;
  /**
   * Spawns another worker process on the stack's task queue without making it the current one (several
   * workers on one queue); stopped with the stack unless the caller stops or kills it first.
   */
  spawnExtraWorker(): Promise<WorkerProcess>;
  usage(): ProcessUsage;
}

/**
 * Runs `fn` with a fresh emulator (scenario from `opts.scenario`) and, unless `worker: false`, a
 * worker child process on its own task queue; both are closed whatever happens.
 */
export async function withStack<T>(
  ctx: BenchContext,
  opts: StackOptions,
  fn: (stack: Stack) => Promise<T>,
): Promise<T> {
  const scenario = buildScenario(opts.scenario);
  const [accessKeyId, accessKeySecret] = Object.entries(scenario.accessKeys ?? {})[0] ?? ['', ''];
  const hook = opts.onCall;
  const child = opts.emulatorProcess ? await startEmulatorProcess(scenario, opts) : undefined;
  const emulator = child
    ? remoteEmulator(child)
    : await startEmulator({ scenario, timeScale: opts.timeScale ?? 1, ...(hook ? { log: hook } : {}) });
  let current: WorkerProcess | undefined;
  const extras: WorkerProcess[] = [];
  let groups: BenchGroup[] = [];
  try {
    const admin = new EmulatorAdminClient(emulator.url);
    const snap = await admin.state();
    groups = (scenario.scalingGroups ?? []).map((g) => ({
      id: g.id,
      regionId: g.regionId,
      instanceIds: snap.instances
        .filter((i) => i.scalingGroupId === g.id)
        .map((i) => i.instanceId)
        .sort()
        .slice(0, opts.scenario.instancesPerGroup),
    }));
    const taskQueue = opts.taskQueue ?? `bench-${ctx.name}`;
    const client = await ctx.lab.scaleInClient(taskQueue);
    const workerOptions = {
      temporalAddress: ctx.lab.temporalAddress,
      taskQueue,
      workflowBundlePath: ctx.lab.workflowBundlePath,
      cloudEndpoint: emulator.url,
      accessKeyId,
      accessKeySecret,
      ...(opts.workerEnv ? { env: opts.workerEnv } : {}),
    };
    const stack: Stack = {
      emulator,
      emulatorProcess: child,
      admin,
      groups,
      accessKeyId,
      accessKeySecret,
      taskQueue,
      client,
      get worker() {
        return current;
      },
      async spawnWorker() {
        const t0 = Date.now();
        current = await spawnTrackedWorker(workerOptions);
        return { worker: current, spawnMs: Date.now() - t0 };
      },
      async spawnExtraWorker() {
        const w = await spawnTrackedWorker(workerOptions);
        extras.push(w);
        return w;
      },
      async stopWorker() {
        const w = current;
        current = undefined;
        if (w) await stopWorkerProcess(w);
      },
      usage() {
        if (!current) throw new Error('no worker process');
        return processUsage(current.pid);
      },
    };
    if (opts.worker !== false) {
      const { spawnMs } = await stack.spawnWorker();
      ctx.progress(
        `worker pid ${current?.pid} polling ${taskQueue} (started in ${spawnMs} ms); ` +
          `emulator ${emulator.url}, ${groups.length} group(s)`,
      );
    }
    return await fn(stack);
  } catch (e) {
    // Runs left going would hold their groups' workflow IDs (one run per group) for the next benchmark.
    await terminateRunning(ctx.lab, groups);
    throw e;
  } finally {
    if (current) await stopWorkerProcess(current).catch(() => undefined);
    await Promise.all(extras.map((w) => stopWorkerProcess(w).catch(() => undefined)));
    await emulator.close();
  }
}

async function startEmulatorProcess(scenario: Scenario, opts: StackOptions): Promise<EmulatorProcess> {
  if (opts.onCall) throw new Error('withStack: onCall needs the in-process emulator (emulatorProcess unset)');
  return spawnEmulatorProcess({ scenario, timeScale: opts.timeScale ?? 1 });
}

/** The child's emulator seen as a RunningEmulator: url and close; its state lives in the child. */
function remoteEmulator(child: EmulatorProcess): RunningEmulator {
  return {
    url: child.url,
    port: child.port,
    get state(): never {
      throw new Error('the emulator runs in a child process (emulatorProcess): read its state with stack.admin');
    },
    async close() {
      await child.stop();
    },
  };
}

/** Terminates the scale-in of each group that is still running (after a failed benchmark). */
async function terminateRunning(lab: Lab, groups: readonly BenchGroup[]): Promise<void> {
  await Promise.all(
    groups.map(async (g) => {
      const handle = lab.rawClient.workflow.getHandle(workflowIdFor(g.regionId, g.id));
      const status = await handle.describe().then(
        (d) => d.status.name,
        () => undefined,
      );
      if (status === 'RUNNING') await handle.terminate('benchmark failed').catch(() => undefined);
    }),
  );
}

/**
 * PIDs of this process's children whose command name (in /proc/<pid>/stat) is `comm`,
 * e.g. the Temporal dev server (`temporal`).
 */
export function childPids(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && name === comm) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** CPU seconds (user + system) of this process and of the Temporal dev server the lab started, if found. */
export function harnessCpu(): { benchSeconds: number; temporalSeconds: number | undefined } {
  const u = process.cpuUsage();
  const server = childPids('temporal')[0];
  return {
    benchSeconds: (u.user + u.system) / 1e6,
    temporalSeconds: server === undefined ? undefined : processUsage(server).cpuSeconds,
  };
}

const liveWorkers = new Set<WorkerProcess>();

/** spawnWorkerProcess, remembered until it exits so that an interrupted bench can kill it. */
async function spawnTrackedWorker(opts: Parameters<typeof spawnWorkerProcess>[0]): Promise<WorkerProcess> {
  const w = await spawnWorkerProcess(opts);
  liveWorkers.add(w);
  void w.exited.then(() => liveWorkers.delete(w));
  return w;
}

/** SIGKILLs every worker process this bench started that is still alive (on SIGINT/SIGTERM of the bench). */
export function killLiveWorkers(): void {
  for (const w of liveWorkers) {
    try {
      w.child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** SIGTERM (the worker stops polling and finishes in-flight work), SIGKILL if it is still there after `graceMs`. */
export async function stopWorkerProcess(w: WorkerProcess, graceMs = 15_000): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const gone = await Promise.race([w.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) await w.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// runs
// ---------------------------------------------------------------------------------------------

export interface RunRecord {
  group: BenchGroup;
  instanceIds: string[];
  workflowId: string;
  firstRunId: string;
  /** Date.now() before `client.start` and after `client.result` resolved. */
  startMs: number;
  endMs: number;
  seconds: number;
  result: ScaleInResult | undefined;
  error: string | undefined;
}

export type InputOverrides = Omit<ScaleInInput, 'regionId' | 'scalingGroupId' | 'instanceIds'>;

/** A run still going after this long is terminated and fails its benchmark. */
export const RUN_TIMEOUT_MS = 30 * 60_000;

/**
 * Starts one scale-in of `instanceIds` (default: the group's) and waits for its end; a failed run
 * is recorded, not thrown. A run that does not end within `timeoutMs` is terminated.
 */
export async function runScaleIn(
  stack: Stack,
  group: BenchGroup,
  overrides: InputOverrides,
  opts: { instanceIds?: string[]; timeoutMs?: number } = {},
): Promise<RunRecord> {
  const instanceIds = opts.instanceIds ?? group.instanceIds;
  const startMs = Date.now();
  let workflowId = '';
  let firstRunId = '';
  let result: ScaleInResult | undefined;
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const started = await stack.client.start({
      regionId: group.regionId,
      scalingGroupId: group.id,
      instanceIds,
      ...overrides,
    });
    workflowId = started.workflowId;
    firstRunId = started.runId;
    const id = workflowId;
    const timeoutMs = opts.timeoutMs ?? RUN_TIMEOUT_MS;
    timer = setTimeout(() => {
      error = `no result after ${timeoutMs / 1000} s: terminated`;
      stack.client
        .handle(id)
        .terminate(`benchmark: no result after ${timeoutMs / 1000} s`)
        .catch(() => undefined);
    }, timeoutMs);
    result = await stack.client.result(workflowId);
  } catch (e) {
    error ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } finally {
    clearTimeout(timer);
  }
  const endMs = Date.now();
  return {
    group,
    instanceIds,
    workflowId,
    firstRunId,
    startMs,
    endMs,
    seconds: (endMs - startMs) / 1000,
    result,
    error,
  };
}

/** ScalingActivityId.N values of a call. */
export function activityIdsOf(c: CallLogEntry): string[] {
  return Object.entries(c.params)
    .filter(([k]) => /^ScalingActivityId\.\d+$/.test(k))
    .map(([, v]) => v);
}

/** InstanceId.N values of a call. */
export function instanceIdsOf(c: CallLogEntry): string[] {
  return Object.entries(c.params)
    .filter(([k]) => /^InstanceId\.\d+$/.test(k))
    .map(([, v]) => v);
}

export interface Verification {
  /** Accepted RemoveInstances calls naming an instance, at most (1 = exactly once). */
  maxAcceptedCallsPerInstance: number;
  acceptedRemoveCalls: number;
}

/**
 * Every run completed with all its instances removed: outcome `completed`, counts.removed equal to
 * the input, none of the instances left in its group, each released exactly once, and no instance
 * in two accepted RemoveInstances calls. Throws BenchFailure naming every problem.
 */
export function verifyRuns(
  runs: readonly RunRecord[],
  calls: readonly CallLogEntry[],
  state: EmulatorStateSnapshot,
): Verification {
  const problems: string[] = [];
  const accepted = calls.filter((c) => c.action === 'RemoveInstances' && c.outcome === 'ok');
  const perInstance = new Map<string, number>();
  for (const c of accepted) for (const id of instanceIdsOf(c)) perInstance.set(id, (perInstance.get(id) ?? 0) + 1);
  const inGroup = new Set(state.instances.map((i) => i.instanceId));
  const records = new Map<string, number>();
  for (const r of state.ecsRecords) records.set(r.instanceId, (records.get(r.instanceId) ?? 0) + 1);
  for (const run of runs) {
    const label = `${run.group.id}${run.workflowId ? ` (${run.workflowId})` : ''}`;
    if (run.error || !run.result) {
      problems.push(`${label}: ${run.error ?? 'no result'}`);
      continue;
    }
    if (run.result.outcome !== 'completed')
      problems.push(`${label}: outcome ${run.result.outcome}: ${run.result.message}`);
    if (run.result.counts.removed !== run.instanceIds.length)
      problems.push(`${label}: removed ${run.result.counts.removed} of ${run.instanceIds.length}`);
    const left = run.instanceIds.filter((id) => inGroup.has(id));
    if (left.length) problems.push(`${label}: ${left.length} instance(s) still in the group, e.g. ${left[0]}`);
    const notOnce = run.instanceIds.filter((id) => records.get(id) !== 1);
    if (notOnce.length)
      problems.push(
        `${label}: ${notOnce.length} instance(s) not released exactly once, ` +
          `e.g. ${notOnce[0]} (${records.get(notOnce[0] ?? '') ?? 0})`,
      );
    const twice = run.instanceIds.filter((id) => (perInstance.get(id) ?? 0) > 1);
    if (twice.length)
      problems.push(
        `${label}: ${twice.length} instance(s) in more than one accepted RemoveInstances call, e.g. ${twice[0]}`,
      );
  }
  if (problems.length) {
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    throw new BenchFailure(`run verification failed:\n  ${problems.slice(0, 20).join('\n  ')}${more}`);
  }
  return { maxAcceptedCallsPerInstance: max([...perInstance.values()]), acceptedRemoveCalls: accepted.length };
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const it of items) m[key(it)] = (m[key(it)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------
// Temporal history
// ---------------------------------------------------------------------------------------------

const NAMESPACE = 'default';
const { EventType, WorkflowExecutionStatus } = temporal.api.enums.v1;

export function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function')
    return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

export function timestampMs(ts: google.protobuf.ITimestamp | null | undefined): number {
  if (!ts) return Number.NaN;
  return longToNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export function durationSeconds(d: google.protobuf.IDuration | null | undefined): number {
  if (!d) return 0;
  return longToNumber(d.seconds) + (d.nanos ?? 0) / 1e9;
}

export interface RunInfo {
  runId: string;
  historyLength: number;
  status: string;
}

/** Every run of a continue-as-new chain, first to last, with its history length. */
export async function runChain(lab: Lab, workflowId: string, firstRunId: string): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const execution: { workflowId: string; runId: string } = { workflowId, runId };
    const d = await lab.rawClient.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution });
    const info = d.workflowExecutionInfo;
    const status = info?.status ?? WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
    out.push({
      runId,
      historyLength: longToNumber(info?.historyLength),
      status: WorkflowExecutionStatus[status] ?? String(status),
    });
    runId = undefined;
    if (status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
      const h = await lab.rawClient.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: NAMESPACE,
        execution,
        maximumPageSize: 1,
      });
      runId = h.history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      if (!runId)
        throw new Error(`${workflowId} run ${execution.runId} continued as new, but its last event names no new run`);
    }
  }
  return out;
}

export interface HistoryEvent {
  id: number;
  type: string;
  timeMs: number;
  raw: temporal.api.history.v1.IHistoryEvent;
}

/** The whole history of one run. */
export async function historyOf(lab: Lab, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  const h = await lab.rawClient.workflow.getHandle(workflowId, runId).fetchHistory();
  return (h.events ?? []).map((e) => ({
    id: longToNumber(e.eventId),
    // EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT → WorkflowTaskTimedOut, as the UI and CLI print them.
    type: (EventType[e.eventType ?? 0] ?? String(e.eventType))
      .replace(/^EVENT_TYPE_/, '')
      .toLowerCase()
      .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase()),
    timeMs: timestampMs(e.eventTime),
    raw: e,
  }));
}
