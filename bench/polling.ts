/**
 * polling: how late, and at what cost in API calls, the end of a scaling activity is noticed.
 * Activities of 5 s, 60 s and 300 s are time-scaled by the emulator (timeScale s) and every poller's
 * intervals by the same s; measured delays are divided by s. Our poller is a real scale-in (one
 * 1-instance batch, drain 0) per trial; beside it two fixed-interval pollers implemented here with
 * the project's cloud client watch injected activities of the same durations on other groups:
 * Spinnaker Clouddriver's 5 s task interval, and the Terraform provider's pattern (first poll
 * after 60 s, then every 3 s). Detection delay = arrival of the last DescribeScalingActivities call
 * naming the activity − its end time, both from the emulator.
 */
import { createCloudClient, staticCredentials } from '../src/aliyun';
import type { CallLogEntry } from '../src/emulator';
import { DEFAULTS } from '../src/shared/input';
import {
  BenchFailure,
  activityIdsOf,
  fmt,
  max,
  median,
  msOf,
  round,
  runScaleIn,
  sleep,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchGroup,
  type BenchReport,
  type Stack,
} from './lib';

const TRIALS = 3;
const TERMINAL = new Set(['Successful', 'Warning', 'Failed', 'Rejected']);

interface Duration {
  seconds: number;
  scale: number;
}

const FULL: Duration[] = [
  { seconds: 5, scale: 1 },
  { seconds: 60, scale: 0.1 },
  { seconds: 300, scale: 0.05 },
];
const QUICK: Duration[] = [
  { seconds: 5, scale: 0.1 },
  { seconds: 60, scale: 0.01 },
  { seconds: 300, scale: 0.005 },
];

/** A fixed schedule: first poll `firstMs` after the activity starts, then every `everyMs`. */
interface FixedPoller {
  key: string;
  label: string;
  firstMs: number;
  everyMs: number;
}

const FIXED: FixedPoller[] = [
  { key: 'clouddriver', label: 'every 5 s (Spinnaker Clouddriver)', firstMs: 0, everyMs: 5000 },
  { key: 'terraform', label: 'first at 60 s, then every 3 s (Terraform provider)', firstMs: 60_000, everyMs: 3000 },
];

interface Trial {
  poller: string;
  scalingActivityId: string;
  /** Real (scaled) milliseconds, from the emulator. */
  durationMs: number;
  detectionMs: number;
  calls: number;
}

/**
 * Polls one activity on a fixed schedule until it ends. The emulated durations are exact, so a
 * schedule that starts with the activity would hit its end on a poll boundary (5 s, 60 s and 300 s are
 * all multiples of 5 s and of 60 + 3k s); trial k is shifted by (k + ½)/TRIALS of the interval so
 * the end falls at evenly spread phases of the cycle, as it does for real activities of varying length.
 */
async function pollFixed(
  stack: Stack,
  group: BenchGroup,
  activityId: string,
  p: FixedPoller,
  scale: number,
  trial: number,
  deadlineMs: number,
): Promise<string> {
  const cloud = createCloudClient({
    credentials: staticCredentials(stack.accessKeyId, stack.accessKeySecret),
    endpoints: { ess: stack.emulator.url },
  });
  try {
    // A fixed-rate schedule (absolute times): call latencies are not scaled, so sleeping a fixed
    // interval after each call would drift by the latency × 1/scale per poll.
    const t0 = Date.now() + (p.firstMs + ((trial + 0.5) / TRIALS) * p.everyMs) * scale;
    for (let n = 0; ; n++) {
      await sleep(Math.max(0, t0 + n * p.everyMs * scale - Date.now()));
      const { activities } = await cloud.ess.describeScalingActivities(group.regionId, [activityId]);
      const status = activities.find((a) => a.scalingActivityId === activityId)?.statusCode;
      if (status && TERMINAL.has(status)) return status;
      if (Date.now() > deadlineMs) throw new BenchFailure(`${p.label}: activity ${activityId} did not end in time`);
    }
  } finally {
    await cloud.close();
  }
}

function measure(
  poller: string,
  activityId: string,
  calls: CallLogEntry[],
  start: string,
  end: string | undefined,
): Trial {
  const named = calls.filter((c) => c.action === 'DescribeScalingActivities' && activityIdsOf(c).includes(activityId));
  const last = named.at(-1);
  if (!end || !last)
    throw new BenchFailure(`${poller}: activity ${activityId} ${end ? 'was never polled' : 'has not ended'}`);
  return {
    poller,
    scalingActivityId: activityId,
    durationMs: msOf(end) - msOf(start),
    detectionMs: msOf(last.time) - msOf(end),
    calls: named.length,
  };
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const durations = ctx.quick ? QUICK : FULL;
  const rows: Array<Array<string | number>> = [];
  const data: Array<Record<string, unknown>> = [];
  const perDuration: Array<{ d: Duration; trials: Trial[] }> = [];
  // The production bounds (2 s and 30 s), scaled; the poller's keep-alive heartbeat makes the
  // heartbeat timeout no limit on the interval.
  const minMs = DEFAULTS.advanced.pollMinIntervalMs;
  const maxMs = DEFAULTS.advanced.pollMaxIntervalMs;
  for (const d of durations) {
    const s = d.scale;
    const realMs = d.seconds * 1000 * s;
    const advanced = {
      pollMinIntervalMs: Math.max(10, Math.round(minMs * s)),
      pollMaxIntervalMs: Math.max(10, Math.round(maxMs * s)),
    };
    ctx.progress(
      `${d.seconds} s activities at time scale ${s} (${realMs} ms real), ${TRIALS} trials per poller; ` +
        `ours with poll ${advanced.pollMinIntervalMs}–${advanced.pollMaxIntervalMs} ms`,
    );
    const trials = await withStack(
      ctx,
      {
        scenario: {
          groups: TRIALS * (1 + FIXED.length),
          instancesPerGroup: 1,
          timings: { activityDurationMs: d.seconds * 1000, essDrainWaitMs: 1000, albJobDurationMs: 200 },
        },
        timeScale: s,
        taskQueue: `bench-polling-${d.seconds}s`,
      },
      async (stack) => {
        const ours = stack.groups.slice(0, TRIALS);
        // Generous: the slowest schedule (Terraform's) ends within first + 2 intervals of the end.
        const deadline = Date.now() + (realMs + 70_000 * s) * 3 + 30_000;
        const fixedRuns = FIXED.flatMap((p, i) =>
          stack.groups.slice(TRIALS * (i + 1), TRIALS * (i + 2)).map(async (g, k) => {
            const id = await stack.admin.startGroupActivity(g.id, realMs);
            const status = await pollFixed(stack, g, id, p, s, k, deadline);
            if (status !== 'Successful') throw new BenchFailure(`${p.label}: injected activity ${id} ended ${status}`);
            return { poller: p.key, id };
          }),
        );
        const [runs, fixed] = await Promise.all([
          Promise.all(ours.map((g) => runScaleIn(stack, g, { batchSize: 1, drain: { timeoutSeconds: 0 }, advanced }))),
          Promise.all(fixedRuns),
        ]);
        const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
        verifyRuns(runs, calls, state);
        const byId = new Map(state.activities.map((a) => [a.scalingActivityId, a]));
        const out: Trial[] = [];
        for (const g of ours) {
          const act = state.activities.find((a) => a.kind === 'RemoveInstances' && a.scalingGroupId === g.id);
          if (!act) throw new BenchFailure(`no scaling activity on ${g.id}`);
          out.push(measure('ours', act.scalingActivityId, calls, act.startTime, act.endTime));
        }
        for (const f of fixed) {
          const act = byId.get(f.id);
          if (!act) throw new BenchFailure(`injected activity ${f.id} is missing`);
          out.push(measure(f.poller, f.id, calls, act.startTime, act.endTime));
        }
        return out;
      },
    );
    const pollers = [
      { key: 'ours', label: `ours (progress-aware, ${fmt(minMs / 1000, 0)}–${fmt(maxMs / 1000, 0)} s)` },
      ...FIXED,
    ];
    for (const p of pollers) {
      const mine = trials.filter((t) => t.poller === p.key);
      const delays = mine.map((t) => t.detectionMs / s / 1000);
      const calls = mine.map((t) => t.calls);
      rows.push([
        `${d.seconds} s`,
        p.label,
        `${fmt(median(delays), 2)} / ${fmt(max(delays), 2)}`,
        fmt(median(calls), 1),
      ]);
      ctx.progress(
        `${d.seconds} s, ${p.key}: detection ${fmt(median(delays), 2)} / ${fmt(max(delays), 2)} s, ` +
          `${fmt(median(calls), 1)} calls per activity`,
      );
    }
    perDuration.push({ d, trials });
    data.push({
      activitySeconds: d.seconds,
      timeScale: s,
      ourAdvanced: advanced,
      trials: trials.map((t) => ({
        ...t,
        detectionSecondsUnscaled: round(t.detectionMs / s / 1000),
        durationSecondsUnscaled: round(t.durationMs / s / 1000),
      })),
    });
  }
  const summary = perDuration.map(({ d, trials }) => {
    const ours = trials.filter((t) => t.poller === 'ours');
    const lateSeconds = median(ours.map((t) => t.detectionMs / d.scale / 1000));
    const medianCalls = median(ours.map((t) => t.calls));
    return `${d.seconds} s: ${fmt(lateSeconds, 1)} s late with ${fmt(medianCalls, 0)} calls`;
  });
  return {
    title: 'detection delay and API calls of activity polling',
    description:
      `Scaling activities of ${durations.map((d) => `${d.seconds} s (time scale ${d.scale})`).join(', ')}; ${TRIALS} ` +
      `trials per duration and poller, run in parallel on separate groups. Ours: a real scale-in of one 1-instance ` +
      `batch with drain 0 and the production poll bounds scaled by the same factor (2 s min, 30 s max). The fixed ` +
      `pollers use the project's cloud client on activities started with the emulator's admin API; their trial k is ` +
      `shifted by (k + ½)/${TRIALS} of the interval so that the exact emulated end does not sit on a poll boundary. ` +
      `Detection delay = arrival of the last DescribeScalingActivities call naming the activity − its end time ` +
      `(emulator clock), divided by the time scale; calls = DescribeScalingActivities calls naming the activity ` +
      `(median of the trials). Call and Temporal latencies are not scaled (at scale 0.05 a real millisecond counts ` +
      `as 20), and the emulator's Progress grows exactly linearly, the best case for our progress-based estimate.`,
    table: { columns: ['activity', 'poller', 'detection delay median / worst (s)', 'calls per activity'], rows },
    notes: [`Our poller: ${summary.join('; ')}.`],
    data,
  };
}
