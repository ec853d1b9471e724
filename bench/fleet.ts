/**
 * fleet: the fleet-scale rows of issue 16 on the production topology (Temporal 1.29.1 on a private
 * PostgreSQL, src/devtools/production-temporal.ts), started once for the module and stopped at its
 * end (also when a row fails). Four rows, each on a fresh emulator and fresh worker process(es); the
 * emulator runs in a child process of its own (src/devtools/emulator-process.ts), so that the bench's
 * polling and verification never delay the calls it counts against the quota:
 *
 * 1. quota: N groups started together on one worker, the emulated account API quota on and the
 *    worker's limiter (ESS_SCALE_IN_API_RATE) set to 80 % of it; makespan against the quota floor,
 *    throttled calls, CPU and peak memory per process.
 * 2. failover: M groups on 3 worker processes on one task queue, one SIGKILLed once half of the
 *    instances are in accepted RemoveInstances calls; every run completes, each instance removed
 *    once, per-worker share.
 * 3. many: K groups at once against one alone on one worker (as many-groups, on this server).
 * 4. per batch: API calls and history events per batch, weight and standby drain, with and without
 *    a lifecycle hook (mode complete).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startLab, type Lab } from '../src/devtools/lab';
import { startProductionTemporal, type RunningProductionTemporal } from '../src/devtools/production-temporal';
import { processUsage, type WorkerProcess } from '../src/devtools/worker-process';
import type { EmulatorProcess } from '../src/devtools/emulator-process';
import { effectiveQuota } from '../src/emulator/quota';
import type { CallLogEntry, Scenario } from '../src/emulator';
import type { LifecycleHookOptions } from '../src/shared/input';
import {
  BenchFailure,
  buildScenario,
  countBy,
  fmt,
  historyOf,
  instanceIdsOf,
  machine,
  max,
  median,
  msOf,
  round,
  runChain,
  runScaleIn,
  sum,
  ticker,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchGroup,
  type BenchReport,
  type InputOverrides,
  type RunRecord,
  type ScenarioSpec,
  type Stack,
} from './lib';

interface Sizes {
  quota: { groups: number; instances: number; batchSize: number };
  failover: { groups: number; instances: number; batchSize: number; workers: number };
  many: { groups: number; instances: number; batchSize: number };
  perBatch: { instances: number; batchSize: number };
  activityMs: number;
  drainS: number;
}

const FULL: Sizes = {
  quota: { groups: 200, instances: 40, batchSize: 20 },
  failover: { groups: 60, instances: 40, batchSize: 20, workers: 3 },
  many: { groups: 50, instances: 40, batchSize: 20 },
  perBatch: { instances: 200, batchSize: 20 },
  activityMs: 2000,
  drainS: 2,
};

const QUICK: Sizes = {
  quota: { groups: 20, instances: 10, batchSize: 5 },
  failover: { groups: 9, instances: 10, batchSize: 5, workers: 3 },
  many: { groups: 10, instances: 10, batchSize: 5 },
  perBatch: { instances: 40, batchSize: 20 },
  activityMs: 1000,
  drainS: 1,
};

/** The emulator's default account quota (`apiQuota: true`, src/emulator/quota.ts). */
const QUOTA = effectiveQuota(true) ?? {};
/** The worker's pace: 80 % of each default limit (docs/operations.md: 10–20 % headroom). */
const PACE = 'ess:RemoveInstances=8,ess:EnterStandby=8,ess:ExitStandby=8,*=16';
const PACE_PER_S: Record<string, number> = {
  'ess:RemoveInstances': 8,
  'ess:EnterStandby': 8,
  'ess:ExitStandby': 8,
  '*': 16,
};

const HOOK_ID = 'ash-bp1benchfleethook0001';

// ---------------------------------------------------------------------------------------------
// processes: CPU and memory from /proc
// ---------------------------------------------------------------------------------------------

interface ProcStat {
  ppid: number;
  /** utime + stime, and cutime + cstime (reaped children), in seconds. */
  cpu: number;
  childCpu: number;
}

function procStat(pid: number): ProcStat {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 4 (ppid), 14-17 (utime, stime, cutime, cstime), 1-based; USER_HZ is 100.
  return {
    ppid: Number(f[1]),
    cpu: (Number(f[11]) + Number(f[12])) / 100,
    childCpu: (Number(f[13]) + Number(f[14])) / 100,
  };
}

/** Proportional set size (shared pages split among their users), MiB: shared buffers counted once. */
function pssMiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) / 1024;
}

/** CPU and memory of PostgreSQL: the postmaster, its live children and the children it reaped. */
function postgresUsage(postmaster: number): { cpuSeconds: number; memMiB: number } {
  const root = procStat(postmaster);
  let cpu = root.cpu + root.childCpu;
  let mem = pssMiB(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const s = procStat(pid);
      if (s.ppid !== postmaster) continue;
      cpu += s.cpu;
      mem += pssMiB(pid);
    } catch {
      // ended while we looked
    }
  }
  return { cpuSeconds: cpu, memMiB: mem };
}

/**
 * Seconds the main thread of a process (a Node event loop) ran on a CPU and waited for one while
 * runnable (run-queue wait), from /proc/<pid>/schedstat.
 */
function schedOf(pid: number): { run: number; wait: number } {
  const [run = 0, wait = 0] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { run: run / 1e9, wait: wait / 1e9 };
}

/** Run and run-queue wait of each process since `before` (from schedOf), rounded. */
function schedSince(before: Record<string, { pid: number; run: number; wait: number }>) {
  const out: Record<string, { runSeconds: number; waitSeconds: number }> = {};
  for (const [label, b] of Object.entries(before)) {
    const now = schedOf(b.pid);
    out[label] = { runSeconds: round(now.run - b.run, 2), waitSeconds: round(now.wait - b.wait, 2) };
  }
  return out;
}

type Probe = () => { cpuSeconds: number; memMiB: number };

const probeOf =
  (pid: number): Probe =>
  () => {
    const u = processUsage(pid);
    return { cpuSeconds: u.cpuSeconds, memMiB: u.rssMiB };
  };

const benchProbe: Probe = () => {
  const u = process.cpuUsage();
  return { cpuSeconds: (u.user + u.system) / 1e6, memMiB: process.memoryUsage().rss / 2 ** 20 };
};

interface ProcessResult {
  label: string;
  cpuSeconds: number;
  peakMemMiB: number;
}

/** Samples each process every second: CPU over the window (last − first) and the peak memory. */
function sampleProcesses(probes: Array<[string, Probe]>): () => Promise<ProcessResult[]> {
  const seen = new Map<string, { first?: number; last?: number; peak: number }>();
  const sample = () => {
    for (const [label, probe] of probes) {
      const s = seen.get(label) ?? { peak: 0 };
      try {
        const u = probe();
        s.first ??= u.cpuSeconds;
        s.last = u.cpuSeconds;
        s.peak = Math.max(s.peak, u.memMiB);
      } catch {
        // a process that is gone (a killed worker) keeps its last sample
      }
      seen.set(label, s);
    }
  };
  sample();
  const machineBefore = machineCpu();
  const stop = ticker(1000, async () => sample());
  return async () => {
    await stop();
    sample();
    const machineAfter = machineCpu();
    const ours = probes.map(([label]) => {
      const s = seen.get(label);
      return {
        label,
        cpuSeconds: s?.first === undefined || s.last === undefined ? Number.NaN : s.last - s.first,
        peakMemMiB: Math.round(s?.peak ?? Number.NaN),
      };
    });
    const busy = machineAfter.busy - machineBefore.busy;
    return [
      ...ours,
      { label: OTHER, cpuSeconds: busy - sum(ours.map((o) => o.cpuSeconds)), peakMemMiB: Number.NaN },
      { label: IDLE, cpuSeconds: machineAfter.idle - machineBefore.idle, peakMemMiB: Number.NaN },
    ];
  };
}

const OTHER = 'other processes';
const IDLE = 'idle';

/** The machine's CPU seconds, busy (user, nice, system, irq, softirq, steal) and idle (idle, iowait), all cores. */
function machineCpu(): { busy: number; idle: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => t[i] ?? 0;
  return { busy: (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) / 100, idle: (at(3) + at(4)) / 100 };
}

/** The production server, PostgreSQL (sum of its processes), the workers, the emulator and this process. */
function probes(
  prod: RunningProductionTemporal,
  workers: Array<[string, WorkerProcess]>,
  emulator: EmulatorProcess,
): Array<[string, Probe]> {
  return [
    ['Temporal server', probeOf(prod.serverPid)],
    ['PostgreSQL', () => postgresUsage(prod.postgresPid)],
    ...workers.map(([label, w]): [string, Probe] => [label, probeOf(w.pid)]),
    ['emulator', probeOf(emulator.pid)],
    ['bench', benchProbe],
  ];
}

/** The stack's emulator child (every fleet row runs it in a process of its own). */
function emulatorOf(stack: Stack): EmulatorProcess {
  if (!stack.emulatorProcess) throw new Error('fleet: the stack has no emulator process (emulatorProcess: true)');
  return stack.emulatorProcess;
}

function processCell(p: ProcessResult[]): string {
  return p
    .map((x) =>
      Number.isNaN(x.peakMemMiB)
        ? `${x.label} ${fmt(x.cpuSeconds)} s`
        : `${x.label} ${fmt(x.cpuSeconds)} s / ${x.peakMemMiB} MiB`,
    )
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// runs
// ---------------------------------------------------------------------------------------------

interface Fleet {
  runs: RunRecord[];
  makespanSeconds: number;
  calls: CallLogEntry[];
}

/** Starts a scale-in of every group at once, waits for all, verifies them against the emulator. */
async function runFleet(
  ctx: BenchContext,
  stack: Stack,
  label: string,
  groups: BenchGroup[],
  input: InputOverrides,
): Promise<Fleet> {
  const sinceSeq = (await stack.admin.calls()).at(-1)?.seq ?? 0;
  const t0 = Date.now();
  let done = 0;
  const step = Math.max(1, Math.round(groups.length / 10));
  const runs = await Promise.all(
    groups.map(async (g) => {
      const r = await runScaleIn(stack, g, input);
      done++;
      if (groups.length > 1 && (done % step === 0 || done === groups.length))
        ctx.progress(`${label}: ${done}/${groups.length} runs ended`);
      return r;
    }),
  );
  const makespanSeconds = (Date.now() - t0) / 1000;
  const [all, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
  verifyRuns(runs, all, state);
  return { runs, makespanSeconds, calls: all.filter((c) => c.seq > sinceSeq) };
}

const throttled = (calls: readonly CallLogEntry[]) => calls.filter((c) => c.outcome.startsWith('Throttling')).length;

/** Seconds the accepted calls need at `perSecond(key)` calls per second for the busiest action. */
function floorOf(calls: readonly CallLogEntry[], perSecond: (product: string, action: string) => number) {
  const byAction = countBy(
    calls.filter((c) => !c.outcome.startsWith('Throttling')),
    (c) => `${c.product}:${c.action}`,
  );
  let best = { action: '-', calls: 0, seconds: 0 };
  for (const [key, n] of Object.entries(byAction)) {
    const [product = '', action = ''] = key.split(':');
    const seconds = n / perSecond(product, action);
    if (seconds > best.seconds) best = { action: key, calls: n, seconds };
  }
  return { ...best, byAction };
}

/**
 * Per action: the most calls that reached the emulator within any 1 s (sliding), against the
 * worker's pace. More than the pace means calls left the worker spaced but arrived bunched.
 */
function busiestSecond(calls: readonly CallLogEntry[]): Record<string, { maxIn1s: number; pace: number }> {
  return busiestSecondOf(calls.map((c) => ({ key: `${c.product}:${c.action}`, ms: msOf(c.time) })));
}

/**
 * When each call left the worker, from its DEBUG log lines (`<Action> ok` / `failed`, with product,
 * action and durationMs): the line's time minus the call's duration (ms resolution).
 */
function departuresOf(output: string): Array<{ key: string; ms: number }> {
  const out: Array<{ key: string; ms: number }> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"durationMs"')) continue;
    try {
      const r = JSON.parse(line) as { time?: string; product?: string; action?: string; durationMs?: number };
      if (r.time && r.product && r.action && typeof r.durationMs === 'number')
        out.push({ key: `${r.product}:${r.action}`, ms: msOf(r.time) - r.durationMs });
    } catch {
      // not a log record
    }
  }
  return out;
}

function busiestSecondOf(
  events: ReadonlyArray<{ key: string; ms: number }>,
): Record<string, { maxIn1s: number; pace: number }> {
  const times = new Map<string, number[]>();
  for (const e of events) {
    const list = times.get(e.key) ?? [];
    list.push(e.ms);
    times.set(e.key, list);
  }
  const out: Record<string, { maxIn1s: number; pace: number }> = {};
  for (const [key, list] of [...times].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a - b);
    let best = 0;
    for (let i = 0, j = 0; i < list.length; i++) {
      while ((list[i] as number) - (list[j] as number) >= 1000) j++;
      best = Math.max(best, i - j + 1);
    }
    out[key] = { maxIn1s: best, pace: pacePerSecond(...splitKey(key)) };
  }
  return out;
}

const quotaPerSecond = (product: string, action: string) => {
  const l = QUOTA[`${product}:${action}`] ?? QUOTA[`${product}:*`] ?? QUOTA['*'];
  return l ? l.calls / l.windowSeconds : Number.POSITIVE_INFINITY;
};

const pacePerSecond = (product: string, action: string) =>
  PACE_PER_S[`${product}:${action}`] ?? PACE_PER_S[`${product}:*`] ?? PACE_PER_S['*'] ?? Number.POSITIVE_INFINITY;

function timings(z: Sizes) {
  return { activityDurationMs: z.activityMs, essDrainWaitMs: 500, albJobDurationMs: 200 };
}

// ---------------------------------------------------------------------------------------------
// row 1: a fleet within the account quota
// ---------------------------------------------------------------------------------------------

async function quotaRow(ctx: BenchContext, prod: RunningProductionTemporal, z: Sizes) {
  const q = z.quota;
  const spec: ScenarioSpec = { groups: q.groups, instancesPerGroup: q.instances, timings: timings(z), apiQuota: true };
  return withStack(
    ctx,
    {
      scenario: spec,
      worker: false,
      taskQueue: 'bench-fleet-quota',
      emulatorProcess: true,
      // DEBUG: one JSON line per API call, from which the calls' departures from the worker are read.
      workerEnv: { ESS_SCALE_IN_API_RATE: PACE, LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'json' },
    },
    async (stack) => {
      const { worker } = await stack.spawnWorker();
      const emulator = emulatorOf(stack);
      ctx.progress(
        `quota: worker pid ${worker.pid} (${PACE}), emulator pid ${emulator.pid}; ` +
          `${q.groups} groups × ${q.instances} at once`,
      );
      const stop = sampleProcesses(probes(prod, [['worker', worker]], emulator));
      await emulator.stats(); // from here on, the child's event-loop delay covers the fleet alone
      const sched = {
        emulator: { pid: emulator.pid, ...schedOf(emulator.pid) },
        worker: { pid: worker.pid, ...schedOf(worker.pid) },
      };
      // The bench's own loop (it polls and verifies): no longer the emulator's since it runs in a child.
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const input = { batchSize: q.batchSize, drain: { timeoutSeconds: z.drainS } };
      const fleet = await runFleet(ctx, stack, 'quota', stack.groups, input).catch(async (e: unknown) => {
        loop.disable();
        await stop();
        throw e;
      });
      loop.disable();
      const procs = await stop();
      const emulatorAfter = await emulator.stats();
      const mainThreads = schedSince(sched);
      const quotaFloor = floorOf(fleet.calls, quotaPerSecond);
      const paceFloor = floorOf(fleet.calls, pacePerSecond);
      const batches = q.groups * Math.ceil(q.instances / q.batchSize);
      ctx.progress(
        `quota: makespan ${fmt(fleet.makespanSeconds)} s, quota floor ${fmt(quotaFloor.seconds)} s ` +
          `(${quotaFloor.action}), throttled ${throttled(fleet.calls)}`,
      );
      return {
        groups: q.groups,
        instances: q.instances,
        batchSize: q.batchSize,
        batches,
        makespanSeconds: fleet.makespanSeconds,
        perRunSeconds: fleet.runs.map((r) => r.seconds),
        apiCalls: fleet.calls.length,
        throttled: throttled(fleet.calls),
        throttledByAction: countBy(
          fleet.calls.filter((c) => c.outcome.startsWith('Throttling')),
          (c) => `${c.product}:${c.action}`,
        ),
        arrivals: busiestSecond(fleet.calls),
        departures: busiestSecondOf(departuresOf(worker.output())),
        emulatorLoopDelayMs: { max: emulatorAfter.loopDelayMs.max, p99: emulatorAfter.loopDelayMs.p99 },
        mainThreads,
        benchLoopDelayMs: { max: round(loop.max / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1) },
        quotaFloor,
        paceFloor,
        processes: procs,
      };
    },
  );
}

// ---------------------------------------------------------------------------------------------
// row 2: several workers on one task queue, one SIGKILLed
// ---------------------------------------------------------------------------------------------

/** Activities completed (ActivityTaskCompleted identity) and workflow tasks completed per worker identity. */
async function sharesOf(lab: Lab, runs: readonly RunRecord[]) {
  const activities: Record<string, number> = {};
  const workflowTasks: Record<string, number> = {};
  for (const r of runs) {
    for (const c of await runChain(lab, r.workflowId, r.firstRunId)) {
      for (const e of await historyOf(lab, r.workflowId, c.runId)) {
        const a = e.raw.activityTaskCompletedEventAttributes?.identity;
        if (a) activities[a] = (activities[a] ?? 0) + 1;
        const w = e.raw.workflowTaskCompletedEventAttributes?.identity;
        if (w) workflowTasks[w] = (workflowTasks[w] ?? 0) + 1;
      }
    }
  }
  return { activities, workflowTasks };
}

async function failoverRow(ctx: BenchContext, prod: RunningProductionTemporal, z: Sizes) {
  const f = z.failover;
  const spec: ScenarioSpec = { groups: f.groups, instancesPerGroup: f.instances, timings: timings(z) };
  const opts = { scenario: spec, worker: false, taskQueue: 'bench-fleet-failover', emulatorProcess: true };
  return withStack(ctx, opts, async (stack) => {
    const emulator = emulatorOf(stack);
    const workers: WorkerProcess[] = [];
    for (let i = 0; i < f.workers; i++) workers.push(await stack.spawnExtraWorker());
    const labels = workers.map((w, i): [string, WorkerProcess] => [`worker ${i + 1}`, w]);
    ctx.progress(`failover: ${f.workers} workers (pids ${workers.map((w) => w.pid).join(', ')}); ${f.groups} groups`);
    const victim = workers[1] as WorkerProcess;
    const total = f.groups * f.instances;
    let killedAt: { ms: number; removed: number } | undefined;
    const t0 = Date.now();
    // Instances in accepted RemoveInstances calls, read from the emulator's call log as it grows.
    let seen = (await emulator.calls()).at(-1)?.seq ?? 0;
    let removed = 0;
    const stopWatch = ticker(250, async () => {
      if (killedAt) return;
      const calls = await emulator.calls({ action: 'RemoveInstances', outcome: 'ok', sinceSeq: seen });
      seen = calls.at(-1)?.seq ?? seen;
      removed += sum(calls.map((c) => instanceIdsOf(c).length));
      if (removed < total / 2) return;
      killedAt = { ms: Date.now() - t0, removed };
      await victim.kill('SIGKILL');
      ctx.progress(
        `failover: worker 2 (pid ${victim.pid}) SIGKILLed with ${removed}/${total} instances in accepted removals`,
      );
    });
    const stop = sampleProcesses(probes(prod, labels, emulator));
    const input = { batchSize: f.batchSize, drain: { timeoutSeconds: z.drainS } };
    const fleet = await runFleet(ctx, stack, 'failover', stack.groups, input).catch(async (e: unknown) => {
      await stopWatch();
      await stop();
      throw e;
    });
    await stopWatch();
    const procs = await stop();
    if (!killedAt) throw new BenchFailure('failover: the fleet ended before half of its instances were removed');
    const shares = await sharesOf(ctx.lab, fleet.runs);
    const byPid = (identities: Record<string, number>) =>
      labels.map(([label, w]) => {
        const n = sum(Object.entries(identities).flatMap(([id, k]) => (id.startsWith(`${w.pid}@`) ? [k] : [])));
        return { label, pid: w.pid, count: n };
      });
    const activityShare = byPid(shares.activities);
    const known = sum(activityShare.map((s) => s.count));
    const allActivities = sum(Object.values(shares.activities));
    if (known !== allActivities)
      throw new BenchFailure(
        `failover: ${allActivities - known} completed activities by identities of no worker: ` +
          Object.keys(shares.activities).join(', '),
      );
    return {
      groups: f.groups,
      instances: f.instances,
      batchSize: f.batchSize,
      workers: f.workers,
      makespanSeconds: fleet.makespanSeconds,
      perRunSeconds: fleet.runs.map((r) => r.seconds),
      killedAtSeconds: killedAt.ms / 1000,
      removedAtKill: killedAt.removed,
      totalInstances: total,
      apiCalls: fleet.calls.length,
      activityShare,
      workflowTaskShare: byPid(shares.workflowTasks),
      processes: procs,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// row 3: many groups at once against one alone
// ---------------------------------------------------------------------------------------------

async function manyRow(ctx: BenchContext, prod: RunningProductionTemporal, z: Sizes) {
  const m = z.many;
  const spec: ScenarioSpec = { groups: m.groups + 1, instancesPerGroup: m.instances, timings: timings(z) };
  const input = { batchSize: m.batchSize, drain: { timeoutSeconds: z.drainS } };
  const opts = { scenario: spec, worker: false, taskQueue: 'bench-fleet-many', emulatorProcess: true };
  return withStack(ctx, opts, async (stack) => {
    const [first, ...rest] = stack.groups;
    if (!first) throw new Error('no group');
    const phase = async (label: string, groups: BenchGroup[]) => {
      const { worker } = await stack.spawnWorker();
      const stop = sampleProcesses(probes(prod, [['worker', worker]], emulatorOf(stack)));
      const fleet = await runFleet(ctx, stack, label, groups, input).catch(async (e: unknown) => {
        await stop();
        throw e;
      });
      const procs = await stop();
      const peak = stack.usage().peakRssMiB;
      await stack.stopWorker();
      ctx.progress(`many: ${label}: ${fmt(fleet.makespanSeconds)} s`);
      return { label, runs: groups.length, makespanSeconds: fleet.makespanSeconds, workerPeakRssMiB: peak, procs };
    };
    const alone = await phase('1 alone', [first]);
    const together = await phase(`${rest.length} at once`, rest);
    return { groups: m.groups, instances: m.instances, batchSize: m.batchSize, alone, together };
  });
}

// ---------------------------------------------------------------------------------------------
// row 4: API calls and history events per batch
// ---------------------------------------------------------------------------------------------

interface Variant {
  label: string;
  strategy: 'weight' | 'standby';
  hook: LifecycleHookOptions | undefined;
}

const VARIANTS: Variant[] = [
  { label: 'weight (default)', strategy: 'weight', hook: undefined },
  { label: 'standby', strategy: 'standby', hook: undefined },
  { label: 'weight + hook (complete)', strategy: 'weight', hook: { mode: 'complete', hookIds: [HOOK_ID] } },
  { label: 'standby + hook (complete)', strategy: 'standby', hook: { mode: 'complete', hookIds: [HOOK_ID] } },
];

function withHook(s: Scenario): Scenario {
  const copy = structuredClone(s);
  const g = copy.scalingGroups?.[0];
  if (!g) throw new Error('the bench scenario has no group');
  g.lifecycleHooks = [
    {
      id: HOOK_ID,
      name: 'drain-hold',
      lifecycleTransition: 'SCALE_IN',
      heartbeatTimeout: 600,
      defaultResult: 'CONTINUE',
    },
  ];
  return { ...copy, name: `${copy.name}-hooked` };
}

async function perBatchRow(ctx: BenchContext, z: Sizes) {
  const p = z.perBatch;
  const spec: ScenarioSpec = { groups: 1, instancesPerGroup: p.instances, timings: timings(z) };
  const plain = buildScenario(spec);
  const hooked = withHook(plain);
  const batches = Math.ceil(p.instances / p.batchSize);
  return withStack(
    ctx,
    { scenario: spec, taskQueue: 'bench-fleet-per-batch', emulatorProcess: true },
    async (stack) => {
      const group = stack.groups[0];
      if (!group) throw new Error('no group');
      const out = [];
      for (const v of VARIANTS) {
        await stack.admin.loadScenario(v.hook ? hooked : plain);
        const r = await runScaleIn(stack, group, {
          batchSize: p.batchSize,
          drain: { strategy: v.strategy, timeoutSeconds: z.drainS },
          ...(v.hook ? { lifecycleHooks: v.hook } : {}),
        });
        const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
        verifyRuns([r], calls, state);
        if (v.hook && !(state.lifecycleActions ?? []).length)
          throw new BenchFailure(`${v.label}: the lifecycle hook held no instance`);
        const chain = await runChain(ctx.lab, r.workflowId, r.firstRunId);
        const events = sum(chain.map((c) => c.historyLength));
        ctx.progress(`per batch: ${v.label}: ${calls.length} calls, ${events} events, ${fmt(r.seconds)} s`);
        out.push({
          label: v.label,
          strategy: v.strategy,
          hook: v.hook ?? null,
          seconds: r.seconds,
          apiCalls: calls.length,
          historyEvents: events,
          callsPerBatch: calls.length / batches,
          eventsPerBatch: events / batches,
          callsByAction: countBy(calls, (c) => c.action),
        });
      }
      return { instances: p.instances, batchSize: p.batchSize, batches, variants: out };
    },
  );
}

// ---------------------------------------------------------------------------------------------
// the module
// ---------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const z = ctx.quick ? QUICK : FULL;
  ctx.progress('starting the production topology (Temporal 1.29.1 on PostgreSQL)');
  const prod = await startProductionTemporal({ log: (l) => ctx.progress(`production: ${l}`) });
  let lab: Lab | undefined;
  try {
    lab = await startLab({ temporalAddress: prod.address, workflowBundlePath: ctx.lab.workflowBundlePath });
    ctx.progress(`production Temporal at ${prod.address} (ready in ${prod.timings.totalMs} ms)`);
    const pctx: BenchContext = { ...ctx, lab };
    const quota = await quotaRow(pctx, prod, z);
    const failover = await failoverRow(pctx, prod, z);
    const many = await manyRow(pctx, prod, z);
    const perBatch = await perBatchRow(pctx, z);
    return report(z, { quota, failover, many, perBatch });
  } finally {
    await lab?.close();
    await prod.stop();
  }
}

type Rows = {
  quota: Awaited<ReturnType<typeof quotaRow>>;
  failover: Awaited<ReturnType<typeof failoverRow>>;
  many: Awaited<ReturnType<typeof manyRow>>;
  perBatch: Awaited<ReturnType<typeof perBatchRow>>;
};

function report(z: Sizes, r: Rows): BenchReport {
  const { quota: q, failover: f, many: m, perBatch: p } = r;
  const ratio = m.together.makespanSeconds / m.alone.makespanSeconds;
  // Rows quota and many remove groups of the same shape: a run alone bounds the fleet's makespan too.
  const floor = Math.max(q.quotaFloor.seconds, m.alone.makespanSeconds);
  const ours = m.together.procs.filter((x) => x.label !== OTHER && x.label !== IDLE).map((x) => x.cpuSeconds);
  const cpuFloor = sum(ours) / machine().cores;
  const share = f.activityShare.map((s) => `${s.label} ${s.count}`).join(' / ');
  const weight = p.variants[0];
  const rows: Array<Array<string | number>> = [
    [
      `quota: ${q.groups} groups × ${q.instances} at once, 1 worker, quota on`,
      `${fmt(q.makespanSeconds)} s (${fmt(q.makespanSeconds / floor, 2)}× the floor ${fmt(floor)} s = max of ` +
        `quota floor ${fmt(q.quotaFloor.seconds)} s and one run alone ${fmt(m.alone.makespanSeconds)} s; ` +
        `floor at the worker's pace ${fmt(q.paceFloor.seconds)} s)`,
      `${q.apiCalls} calls, ${q.throttled} throttled; busiest ${q.quotaFloor.action} ${q.quotaFloor.calls}; ` +
        `run median / worst ${fmt(median(q.perRunSeconds))} / ${fmt(max(q.perRunSeconds))} s`,
      processCell(q.processes),
    ],
    [
      `failover: ${f.groups} groups × ${f.instances}, ${f.workers} workers, worker 2 SIGKILLed`,
      `${fmt(f.makespanSeconds)} s (kill at ${fmt(f.killedAtSeconds)} s, ` +
        `${f.removedAtKill}/${f.totalInstances} in accepted RemoveInstances calls)`,
      `all ${f.groups} completed, each instance removed once; activities completed per worker: ${share}`,
      processCell(f.processes),
    ],
    ...[m.alone, m.together].map((ph) => [
      `many: ${ph.label} (${m.instances} instances each), 1 worker`,
      `${fmt(ph.makespanSeconds)} s (${fmt(ph.makespanSeconds / m.alone.makespanSeconds, 2)}× alone)`,
      `worker peak RSS ${ph.workerPeakRssMiB} MiB`,
      processCell(ph.procs),
    ]),
    ...p.variants.map((v) => [
      `per batch: ${v.label}, ${p.instances} instances in ${p.batches} batches`,
      `${fmt(v.seconds)} s`,
      `${fmt(v.callsPerBatch, 1)} API calls / batch, ${fmt(v.eventsPerBatch, 1)} history events / batch`,
      Object.entries(v.callsByAction)
        .map(([a, n]) => `${a} ${n}`)
        .join(', '),
    ]),
  ];
  return {
    title: 'fleet scale on the production topology (Temporal 1.29.1 on PostgreSQL)',
    description:
      'Every row runs against the production topology of docker-compose.yml without Docker: temporal-server ' +
      "1.29.1 (SQL persistence and SQL visibility) on a private PostgreSQL cluster (Debian's PostgreSQL 15 here; " +
      'compose runs 16.4; the same postgres12 plugin and schemas), started once for the module by ' +
      'src/devtools/production-temporal.ts and stopped at its end; the worker(s) are child processes of the real ' +
      'entry point, and so is the ESS/CLB/ALB emulator (src/devtools/emulator-process.ts: a process of its own, ' +
      "so that the bench's polling and verification never delay the calls it counts; the bench reads its call " +
      'log and state over its admin API). Emulated scaling activities of ' +
      `${z.activityMs} ms, ESS drain wait 500 ms, ALB jobs 200 ms, drain timeout ${z.drainS} s, production ` +
      'polling defaults. Each row verifies its runs (outcome completed, each instance released once, in at most ' +
      'one accepted RemoveInstances call) and writes no numbers otherwise. ' +
      `quota: ${q.groups} groups of ${q.instances} (batches of ${q.batchSize}) started together on one worker, the ` +
      "scenario's apiQuota on at the emulator's defaults (20 calls/s per action, 10/s for RemoveInstances, " +
      `EnterStandby, ExitStandby; fixed 1 s windows) and the worker's ESS_SCALE_IN_API_RATE=${PACE} (80 %); quota ` +
      "quota floor = the busiest action's accepted calls / its quota (pace floor: / the worker's pace); floor = " +
      'the larger of the quota floor and one run alone (row many, groups of the same shape); throttled = ' +
      `calls answered Throttling.*. failover: ${f.groups} groups on ${f.workers} worker processes polling one task ` +
      'queue, worker 2 SIGKILLed once half of the instances are in accepted RemoveInstances calls (read from ' +
      "the emulator's call log every 250 ms); per-worker share = ActivityTaskCompleted " +
      "events per worker identity (pid@host) over every run's history. many: one run alone on a fresh worker, " +
      `then ${m.together.runs} at once on another fresh worker (as many-groups). per batch: one group, ` +
      `${p.instances} instances in batches of ${p.batchSize}, each variant on a freshly loaded scenario; ` +
      'calls = every call the emulator answered, events = history length summed over the continue-as-new chain ' +
      '(per-run costs such as the preflight are spread over the batches); the hook ' +
      'variants give the group one SCALE_IN hook (600 s, CONTINUE) that the run completes (lifecycleHooks mode ' +
      'complete). Makespan = first client start → last result. CPU = user + system seconds over the row ' +
      '(PostgreSQL: the postmaster, its backends and the backends it reaped); memory = peak of 1 s samples of RSS ' +
      "(PostgreSQL: sum of PSS over its processes, so shared buffers count once). The bench runner's own " +
      "dev server (for the other modules) stays idle meanwhile; everything shares the machine's " +
      `${machine().cores} cores, with whatever else runs on it.`,
    table: { columns: ['row', 'makespan', 'result', 'CPU s / peak memory per process'], rows },
    notes: [
      `quota: ${throttleNote(q)}; ` +
        `the makespan is ${fmt(q.makespanSeconds / floor, 2)}× the floor (quota floor ` +
        `${fmt(q.quotaFloor.seconds)} s: ${q.quotaFloor.calls} ${q.quotaFloor.action} calls at ` +
        `${fmt(quotaPerSecond(...splitKey(q.quotaFloor.action)))}/s; ` +
        `one run alone ${fmt(m.alone.makespanSeconds)} s) ` +
        `and ${fmt(q.makespanSeconds / q.paceFloor.seconds, 2)}× the floor at the worker's own pace; ` +
        `${fmt(q.apiCalls / q.batches, 1)} API calls per batch; ${corePercent(q.processes, q.makespanSeconds)}.`,
      `failover: every run completed with each instance removed once after the SIGKILL; activities completed per ` +
        `worker: ${share}; workflow tasks per worker: ` +
        `${f.workflowTaskShare.map((s) => `${s.label} ${s.count}`).join(' / ')}.`,
      `many: ${m.together.runs} at once took ${fmt(ratio, 2)}× one run alone (target ≤ 1.2×); CPU over that ` +
        `phase: ${processCell(m.together.procs)}; ${corePercent(m.together.procs, m.together.makespanSeconds)}. ` +
        `Even with the machine to themselves, that CPU needs ${fmt(cpuFloor)} s on ${machine().cores} cores ` +
        `(${fmt(cpuFloor / m.alone.makespanSeconds, 2)}× the run alone): on this machine the stack's CPU, not the ` +
        'quota or the worker, bounds the ratio. A production cluster runs the Temporal services, PostgreSQL and ' +
        'the workers on machines of their own, so their CPU here is the contention it removes.',
      ...(weight
        ? [
            `per batch at the default (weight, no hook): ${fmt(weight.callsPerBatch, 1)} API calls and ` +
              `${fmt(weight.eventsPerBatch, 1)} history events per batch (targets ≤ 10 and ≤ 20).`,
          ]
        : []),
    ],
    data: {
      sizes: z,
      pace: PACE,
      quota: {
        ...q,
        makespanSeconds: round(q.makespanSeconds),
        perRunSeconds: q.perRunSeconds.map((x) => round(x)),
        processes: roundProcs(q.processes),
      },
      failover: {
        ...f,
        makespanSeconds: round(f.makespanSeconds),
        perRunSeconds: f.perRunSeconds.map((x) => round(x)),
        processes: roundProcs(f.processes),
      },
      many: {
        ...m,
        ratio: round(ratio),
        cpuFloorSeconds: round(cpuFloor),
        alone: { ...m.alone, procs: roundProcs(m.alone.procs) },
        together: { ...m.together, procs: roundProcs(m.together.procs) },
      },
      perBatch: { ...p, variants: p.variants.map((v) => ({ ...v, seconds: round(v.seconds) })) },
    },
  };
}

/** The most calls of any one action within 1 s, arrived at the emulator and departed from the worker. */
function busiestNote(q: Rows['quota']): string {
  const top = (r: Record<string, { maxIn1s: number; pace: number }>) =>
    Object.entries(r).sort(([, a], [, b]) => b.maxIn1s / b.pace - a.maxIn1s / a.pace)[0];
  const a = top(q.arrivals);
  const d = top(q.departures);
  const of = (x: [string, { maxIn1s: number; pace: number }] | undefined) =>
    x ? `${x[1].maxIn1s} ${x[0]} (paced at ${x[1].pace}/s, quota ${quotaPerSecond(...splitKey(x[0]))}/s)` : '-';
  return `busiest 1 s of any action: ${of(a)} arrivals at the emulator, ${of(d)} departures from the worker`;
}

function loopNote(q: Rows['quota']): string {
  const e = q.emulatorLoopDelayMs;
  const b = q.benchLoopDelayMs;
  const t = (label: string) => {
    const x = q.mainThreads[label];
    return x ? `${label} ${fmt(x.waitSeconds)} s waiting for a CPU against ${fmt(x.runSeconds)} s on one` : '';
  };
  return (
    `the event loop of the emulator's own process was late up to ${e.max} ms (p99 ${e.p99} ms), ` +
    `the bench's (polling, verifying) up to ${b.max} ms (p99 ${b.p99} ms); main threads over the fleet ` +
    `(run-queue wait, /proc/<pid>/schedstat): ${t('emulator')}, ${t('worker')}`
  );
}

function throttleNote(q: Rows['quota']): string {
  if (q.throttled === 0) return `no call was throttled; ${busiestNote(q)}; ${loopNote(q)}`;
  const which = Object.entries(q.throttledByAction).map(([key, n]) => {
    const a = q.arrivals[key];
    const d = q.departures[key];
    const seen = a ? `up to ${a.maxIn1s} arrivals within 1 s at the emulator` : '';
    const sent = d ? `${d.maxIn1s} departures from the worker` : '';
    return `${key} ${n} (${[seen, sent].filter(Boolean).join(', ')}; paced at ${a?.pace ?? d?.pace}/s)`;
  });
  const keys = Object.keys(q.throttledByAction);
  const over = (r: Record<string, { maxIn1s: number; pace: number }>) =>
    keys.some((k) => (r[k]?.maxIn1s ?? 0) > (r[k]?.pace ?? Number.POSITIVE_INFINITY));
  const why = over(q.departures)
    ? 'the worker itself sent more calls within 1 s than its pace'
    : over(q.arrivals)
      ? 'the worker sent them within its pace (departures from its DEBUG log lines), but they reached the ' +
        'emulator bunched'
      : 'no more calls arrived within 1 s than the pace allows';
  return `${q.throttled} calls were throttled (target 0): ${which.join(', ')}; ${why}; ${loopNote(q)}`;
}

/** The processes' CPU over a makespan, as a share of the machine's cores. */
function corePercent(ps: ProcessResult[], seconds: number): string {
  const of = (label: string) => ps.find((x) => x.label === label)?.cpuSeconds ?? Number.NaN;
  const ours = sum(ps.filter((x) => x.label !== OTHER && x.label !== IDLE).map((x) => x.cpuSeconds));
  const cores = machine().cores;
  const share = (cpu: number) => fmt((cpu / seconds / cores) * 100, 0);
  return (
    `these processes used ${fmt((ours / seconds) * 100, 0)} % of one core, ${share(ours)} % of the machine's ` +
    `${cores} cores; other processes on the machine ${share(of(OTHER))} %, idle ${share(of(IDLE))} %`
  );
}

function splitKey(key: string): [string, string] {
  const [product = '', action = ''] = key.split(':');
  return [product, action];
}

function roundProcs(ps: ProcessResult[]): ProcessResult[] {
  return ps.map((x) => ({ ...x, cpuSeconds: round(x.cpuSeconds, 2) }));
}
