/**
 * history: a 10,000-instance scale-in end to end (the original throughput benchmark), now with the
 * worker in its own process. Fast emulated activities (50 ms) and no drain wait, so the workflow
 * itself is what is measured: runs in the continue-as-new chain, history sizes, wall time, the
 * worker's peak RSS and the API calls per action.
 */
import {
  countBy,
  fmt,
  max,
  round,
  runChain,
  runScaleIn,
  sum,
  ticker,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchReport,
} from './lib';

/** Instances left in the group after the run. */
const SPARE = 10;

/** Fast polling and retries: the bench measures the workflow, not the waits. */
const ADVANCED = {
  pollMinIntervalMs: 20,
  pollMaxIntervalMs: 200,
  retryInitialIntervalMs: 100,
  retryMaxIntervalMs: 1000,
  heartbeatTimeoutSeconds: 10,
};

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const instances = ctx.args.instances ?? (ctx.quick ? 200 : 10_000);
  const batchSize = ctx.args.batchSize ?? 20;
  const activityMs = ctx.args.activityMs ?? 50;
  const drainS = ctx.args.drainS ?? 0;
  const batches = Math.ceil(instances / batchSize);
  const timings = { activityDurationMs: activityMs, essDrainWaitMs: Math.min(activityMs, 20), albJobDurationMs: 20 };
  const m = await withStack(
    ctx,
    { scenario: { groups: 1, instancesPerGroup: instances, spare: SPARE, timings } },
    async (stack) => {
      const group = stack.groups[0];
      if (!group) throw new Error('no group');
      ctx.progress(
        `removing ${instances} instances in ${batches} batches of ${batchSize} ` +
          `(activity ${activityMs} ms, drain ${drainS} s)`,
      );
      // A line every 15 s so a long run shows life.
      const stopTicker = ticker(15_000, async () => {
        const left = stack.emulator.state.groupInstances(group.id).length - SPARE;
        ctx.progress(`${instances - left} of ${instances} instances removed`);
      });
      const r = await runScaleIn(stack, group, {
        batchSize,
        drain: { timeoutSeconds: drainS },
        advanced: ADVANCED,
      }).finally(stopTicker);
      const usage = stack.usage();
      const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
      const check = verifyRuns([r], calls, state);
      const chain = await runChain(ctx.lab, r.workflowId, r.firstRunId);
      ctx.progress(`${r.seconds.toFixed(1)} s, ${chain.length} run(s), worker peak RSS ${usage.peakRssMiB} MiB`);
      return { r, usage, calls, chain, check };
    },
  );
  const lengths = m.chain.map((c) => c.historyLength);
  const total = sum(lengths);
  const row = {
    instances,
    batches,
    runs: m.chain.length,
    maxHistoryEvents: max(lengths),
    totalHistoryEvents: total,
    eventsPerBatch: total / batches,
    seconds: m.r.seconds,
    instancesPerSecond: instances / m.r.seconds,
    workerPeakRssMiB: m.usage.peakRssMiB,
  };
  const advanced = Object.entries(ADVANCED)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return {
    title: `${instances.toLocaleString('en-US')} instances: continue-as-new chain, history size, throughput`,
    description:
      `One scale-in of ${instances} instances in batches of ${batchSize} (${batches} batches), emulated scaling ` +
      `activities of ${activityMs} ms, drain ${drainS} s, fast polling and retries (${advanced}), maxBatchesPerRun ` +
      `at its default (100). Wall = client start → result. History lengths come from DescribeWorkflowExecution of ` +
      `every run of the continue-as-new chain. Peak RSS is the worker process's VmHWM.`,
    table: {
      columns: [
        'instances',
        'batches',
        'runs (continue-as-new)',
        'largest history (events)',
        'total events',
        'events / batch',
        'wall (s)',
        'instances / s',
        'worker peak RSS (MiB)',
      ],
      rows: [
        [
          row.instances,
          row.batches,
          row.runs,
          row.maxHistoryEvents,
          row.totalHistoryEvents,
          fmt(row.eventsPerBatch, 1),
          fmt(row.seconds),
          fmt(row.instancesPerSecond, 1),
          row.workerPeakRssMiB,
        ],
      ],
    },
    notes: [
      `API calls per batch: ${fmt(m.calls.length / batches, 1)} (${Object.entries(countBy(m.calls, (c) => c.action))
        .map(([a, n]) => `${a} ${n}`)
        .join(', ')}).`,
    ],
    data: {
      ...row,
      eventsPerBatch: round(row.eventsPerBatch, 2),
      seconds: round(row.seconds, 1),
      instancesPerSecond: round(row.instancesPerSecond, 1),
      batchSize,
      activityMs,
      drainSeconds: drainS,
      advanced: ADVANCED,
      historyLengths: lengths,
      workerCpuSeconds: m.usage.cpuSeconds,
      apiCalls: countBy(m.calls, (c) => c.action),
      acceptedRemoveCalls: m.check.acceptedRemoveCalls,
    },
  };
}
