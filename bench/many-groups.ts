/**
 * many-groups: one worker process, many scale-ins at once. One run alone on a fresh worker gives
 * the baseline; then N runs on N groups start together on another fresh worker. Reports the
 * makespan against the single run, per-run times, and the worker's own CPU and peak RSS (/proc),
 * plus the API calls the emulator answered (and throttled, if any).
 */
import type { CallLogEntry } from '../src/emulator';
import {
  fmt,
  harnessCpu,
  max,
  median,
  msOf,
  round,
  runScaleIn,
  verifyRuns,
  withStack,
  machine,
  type BenchContext,
  type BenchGroup,
  type BenchReport,
  type RunRecord,
  type Stack,
} from './lib';

const INSTANCES = 40;

interface Phase {
  label: string;
  runs: number;
  makespanSeconds: number;
  perRunSeconds: number[];
  cpuSeconds: number;
  avgCpuPercent: number;
  /** CPU seconds over the phase of the bench process (emulator + client) and of the Temporal dev server. */
  benchCpuSeconds: number;
  temporalCpuSeconds: number;
  peakRssMiB: number;
  apiCalls: number;
  throttled: number;
  /**
   * Medians over the runs, seconds: client start → the first API call naming the group, → its first
   * RemoveInstances; last activity end → result.
   */
  startToFirstCall: number;
  startToFirstRemove: number;
  lastEndToResult: number;
}

/** Runs scale-ins of `groups` at once on a fresh worker and measures that worker. */
async function phase(
  ctx: BenchContext,
  stack: Stack,
  label: string,
  groups: BenchGroup[],
  input: Parameters<typeof runScaleIn>[2],
): Promise<Phase> {
  const { worker, spawnMs } = await stack.spawnWorker();
  ctx.progress(
    `${label}: worker pid ${worker.pid} ready in ${spawnMs} ms; ` +
      `starting ${groups.length} scale-in(s) of ${INSTANCES} instances`,
  );
  const sinceSeq = (await stack.admin.calls()).at(-1)?.seq ?? 0;
  const before = stack.usage();
  const harnessBefore = harnessCpu();
  const t0 = Date.now();
  let done = 0;
  const runs: RunRecord[] = await Promise.all(
    groups.map(async (g) => {
      const r = await runScaleIn(stack, g, input);
      done++;
      if (groups.length > 1 && (done % 10 === 0 || done === groups.length))
        ctx.progress(`${label}: ${done}/${groups.length} runs ended`);
      return r;
    }),
  );
  const makespan = (Date.now() - t0) / 1000;
  const after = stack.usage();
  const harnessAfter = harnessCpu();
  await stack.stopWorker();
  const [allCalls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
  verifyRuns(runs, allCalls, state);
  const calls: CallLogEntry[] = allCalls.filter((c) => c.seq > sinceSeq);
  const cpu = after.cpuSeconds - before.cpuSeconds;
  const since = (r: RunRecord, pick: (c: CallLogEntry) => boolean) => {
    const c = calls.find(pick);
    return c ? (msOf(c.time) - r.startMs) / 1000 : Number.NaN;
  };
  const lastEnd = (r: RunRecord) =>
    Math.max(
      ...state.activities.filter((a) => a.scalingGroupId === r.group.id).map((a) => msOf(a.endTime ?? a.startTime)),
    );
  return {
    label,
    runs: runs.length,
    makespanSeconds: makespan,
    perRunSeconds: runs.map((r) => r.seconds),
    cpuSeconds: cpu,
    avgCpuPercent: (cpu / makespan) * 100,
    benchCpuSeconds: harnessAfter.benchSeconds - harnessBefore.benchSeconds,
    temporalCpuSeconds: (harnessAfter.temporalSeconds ?? Number.NaN) - (harnessBefore.temporalSeconds ?? Number.NaN),
    peakRssMiB: after.peakRssMiB,
    apiCalls: calls.length,
    throttled: calls.filter((c) => c.outcome.startsWith('Throttling')).length,
    startToFirstCall: median(runs.map((r) => since(r, (c) => Object.values(c.params).includes(r.group.id)))),
    startToFirstRemove: median(
      runs.map((r) => since(r, (c) => c.action === 'RemoveInstances' && c.params.ScalingGroupId === r.group.id)),
    ),
    lastEndToResult: median(runs.map((r) => (r.endMs - lastEnd(r)) / 1000)),
  };
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const n = ctx.quick ? 5 : 50;
  const activityMs = ctx.quick ? 1000 : 2000;
  const drainS = ctx.quick ? 1 : 2;
  const input = { batchSize: 20, drain: { timeoutSeconds: drainS } };
  const phases = await withStack(
    ctx,
    {
      scenario: {
        groups: n + 1,
        instancesPerGroup: INSTANCES,
        timings: { activityDurationMs: activityMs, essDrainWaitMs: 500, albJobDurationMs: 200 },
      },
      worker: false,
    },
    async (stack) => {
      const [first, ...rest] = stack.groups;
      if (!first) throw new Error('no group');
      const single = await phase(ctx, stack, 'baseline', [first], input);
      ctx.progress(`baseline: ${fmt(single.makespanSeconds)} s`);
      const many = await phase(ctx, stack, `${n} at once`, rest, input);
      ctx.progress(
        `${n} at once: makespan ${fmt(many.makespanSeconds)} s, worker CPU ${fmt(many.cpuSeconds)} s, ` +
          `peak RSS ${many.peakRssMiB} MiB`,
      );
      return { single, many };
    },
  );
  const base = phases.single.makespanSeconds;
  const rows = [phases.single, phases.many].map((p) => [
    p.runs === 1 ? '1 (alone)' : `${p.runs} at once`,
    fmt(p.makespanSeconds),
    fmt(p.makespanSeconds / base, 2),
    `${fmt(median(p.perRunSeconds))} / ${fmt(max(p.perRunSeconds))}`,
    fmt(p.cpuSeconds),
    fmt(p.avgCpuPercent, 0),
    p.peakRssMiB,
    p.apiCalls,
    p.throttled,
  ]);
  const m = phases.many;
  const corePercent = ((m.temporalCpuSeconds + m.benchCpuSeconds + m.cpuSeconds) / m.makespanSeconds) * 100;
  return {
    title: `${n} scale-ins at once on one worker process`,
    description:
      `${n} groups of ${INSTANCES} instances each (2 batches of 20), emulated scaling activities of ` +
      `${activityMs} ms, drain ${drainS} s, production polling defaults; all started together on one worker ` +
      `process. Baseline: one such run alone on a fresh worker. Time per run = client start → result; ` +
      `makespan = first start → last result. Worker CPU (user + system) and peak RSS (VmHWM) come from /proc ` +
      `of the worker process (each phase on a fresh worker); CPU % is CPU seconds over the makespan ` +
      `(100 % = one core).`,
    table: {
      columns: [
        'runs',
        'makespan (s)',
        'makespan / single run',
        'per-run median / worst (s)',
        'worker CPU (s)',
        'avg CPU %',
        'worker peak RSS (MiB)',
        'API calls',
        'throttled',
      ],
      rows,
    },
    notes: [
      `${n} runs at once took ${fmt(m.makespanSeconds / base, 2)}× the time of one run alone; ` +
        `the worker used ${fmt(m.cpuSeconds / m.runs, 2)} CPU s per run ` +
        `(${fmt(phases.single.cpuSeconds, 2)} s for the run alone) and peaked at ${m.peakRssMiB} MiB.`,
      `Medians, alone → ${n} at once: client start → first API call for the group ` +
        `${fmt(phases.single.startToFirstCall, 2)} → ${fmt(m.startToFirstCall, 2)} s; ` +
        `start → first RemoveInstances ${fmt(phases.single.startToFirstRemove, 2)} → ` +
        `${fmt(m.startToFirstRemove, 2)} s (drain wait ${drainS} s included); ` +
        `last scaling activity's end → result ${fmt(phases.single.lastEndToResult, 2)} → ` +
        `${fmt(m.lastEndToResult, 2)} s.`,
      `CPU over the ${n}-run makespan: worker ${fmt(m.cpuSeconds)} s, ` +
        `Temporal dev server ${fmt(m.temporalCpuSeconds)} s, ` +
        `bench process (emulator + client) ${fmt(m.benchCpuSeconds)} s; ` +
        `together ${fmt(corePercent, 0)} % of one core (the machine has ${machine().cores}).`,
    ],
    data: {
      groups: n,
      instancesPerGroup: INSTANCES,
      activityMs,
      drainSeconds: drainS,
      phases: [phases.single, phases.many].map((p) => ({
        ...p,
        perRunSeconds: p.perRunSeconds.map((x) => round(x)),
        makespanSeconds: round(p.makespanSeconds),
        cpuSeconds: round(p.cpuSeconds),
        benchCpuSeconds: round(p.benchCpuSeconds),
        temporalCpuSeconds: round(p.temporalCpuSeconds),
        avgCpuPercent: round(p.avgCpuPercent, 1),
      })),
    },
  };
}
