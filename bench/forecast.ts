/**
 * forecast: predictive polling (src/shared/poll-forecast.ts) against Progress-only pacing, on
 * scaling activities whose durations vary: each activity's duration is drawn uniformly from
 * `seconds` ± `spread` (the emulator's timings.activityDurationSpreadMs), time-scaled like the
 * polling benchmark. Per case, runs of 8 one-instance batches (drain 0, production poll bounds
 * scaled) go side by side on separate groups: half with the forecast on (advanced.pollForecastSamples
 * 5, the default), half with it off (0). Detection delay = arrival of the last
 * DescribeScalingActivities call naming the activity − its end (emulator clock), divided by the
 * time scale; calls = DescribeScalingActivities calls naming it. The first batch of a run has no
 * forecast yet: it is shown apart from batches 2–8.
 */
import type { CallLogEntry, EmulatorStateSnapshot } from '../src/emulator';
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
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchReport,
  type RunRecord,
} from './lib';

interface Case {
  seconds: number;
  spread: number;
  scale: number;
}

const FULL: Case[] = [
  { seconds: 60, spread: 12, scale: 0.1 },
  { seconds: 300, spread: 60, scale: 0.05 },
];
const QUICK: Case[] = [{ seconds: 60, spread: 12, scale: 0.01 }];
const BATCHES = 8;
const RUNS_PER_MODE = 2;
const MODES = [
  { key: 'forecast', label: 'forecast on (5 samples, default)', samples: 5 },
  { key: 'progress', label: 'Progress only (pollForecastSamples 0)', samples: 0 },
] as const;

interface Sample {
  mode: string;
  batch: number;
  durationS: number;
  detectionS: number;
  calls: number;
}

/** Each run's activities in start order, with detection delay and calls (unscaled seconds). */
function samplesOf(
  mode: string,
  runs: readonly RunRecord[],
  calls: readonly CallLogEntry[],
  state: EmulatorStateSnapshot,
  scale: number,
): Sample[] {
  return runs.flatMap((run) => {
    const acts = state.activities
      .filter((a) => a.kind === 'RemoveInstances' && a.scalingGroupId === run.group.id)
      .sort((a, b) => msOf(a.startTime) - msOf(b.startTime));
    return acts.map((a, i): Sample => {
      const named = calls.filter(
        (c) => c.action === 'DescribeScalingActivities' && activityIdsOf(c).includes(a.scalingActivityId),
      );
      const last = named.at(-1);
      if (!a.endTime || !last) throw new BenchFailure(`${mode}: activity ${a.scalingActivityId} not polled to its end`);
      return {
        mode,
        batch: i + 1,
        durationS: (msOf(a.endTime) - msOf(a.startTime)) / scale / 1000,
        detectionS: (msOf(last.time) - msOf(a.endTime)) / scale / 1000,
        calls: named.length,
      };
    });
  });
}

async function runCase(ctx: BenchContext, c: Case): Promise<Sample[]> {
  const s = c.scale;
  const poll = {
    pollMinIntervalMs: Math.max(10, Math.round(DEFAULTS.advanced.pollMinIntervalMs * s)),
    pollMaxIntervalMs: Math.max(10, Math.round(DEFAULTS.advanced.pollMaxIntervalMs * s)),
  };
  ctx.progress(`${c.seconds} ± ${c.spread} s activities at time scale ${s}, ${BATCHES} batches per run`);
  return withStack(
    ctx,
    {
      scenario: {
        groups: RUNS_PER_MODE * MODES.length,
        instancesPerGroup: BATCHES,
        timings: {
          activityDurationMs: c.seconds * 1000,
          activityDurationSpreadMs: c.spread * 1000,
          essDrainWaitMs: 1000,
          albJobDurationMs: 200,
        },
      },
      timeScale: s,
      taskQueue: `bench-forecast-${c.seconds}s`,
    },
    async (stack) => {
      const byMode = MODES.map((m, i) => ({
        m,
        groups: stack.groups.slice(i * RUNS_PER_MODE, (i + 1) * RUNS_PER_MODE),
      }));
      const runs = await Promise.all(
        byMode.map(({ m, groups }) =>
          Promise.all(
            groups.map((g) =>
              runScaleIn(stack, g, {
                batchSize: 1,
                drain: { timeoutSeconds: 0 },
                advanced: { ...poll, pollForecastSamples: m.samples },
              }),
            ),
          ),
        ),
      );
      const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
      verifyRuns(runs.flat(), calls, state);
      return byMode.flatMap(({ m }, i) => samplesOf(m.key, runs[i] ?? [], calls, state, s));
    },
  );
}

function row(c: Case, label: string, batches: string, xs: readonly Sample[]): Array<string | number> {
  const d = xs.map((x) => x.detectionS);
  return [
    `${c.seconds} ± ${c.spread} s`,
    label,
    batches,
    xs.length,
    `${fmt(median(d), 2)} / ${fmt(max(d), 2)}`,
    fmt(median(xs.map((x) => x.calls)), 1),
    fmt(xs.reduce((a, x) => a + x.calls, 0) / Math.max(1, xs.length), 2),
  ];
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const cases = ctx.quick ? QUICK : FULL;
  const rows: Array<Array<string | number>> = [];
  const data: Array<Record<string, unknown>> = [];
  const notes: string[] = [];
  for (const c of cases) {
    const samples = await runCase(ctx, c);
    for (const m of MODES) {
      const mine = samples.filter((x) => x.mode === m.key);
      rows.push(
        row(
          c,
          m.label,
          '1',
          mine.filter((x) => x.batch === 1),
        ),
      );
      rows.push(
        row(
          c,
          m.label,
          `2–${BATCHES}`,
          mine.filter((x) => x.batch > 1),
        ),
      );
    }
    const later = (k: string) => samples.filter((x) => x.mode === k && x.batch > 1);
    const [on, off] = [later('forecast'), later('progress')];
    const mean = (xs: readonly Sample[], f: (x: Sample) => number) => xs.reduce((a, x) => a + f(x), 0) / xs.length;
    const late = (xs: readonly Sample[]) => fmt(median(xs.map((x) => x.detectionS)), 2);
    notes.push(
      `${c.seconds} ± ${c.spread} s, batches 2–${BATCHES}: detection median ${late(on)} s ` +
        `with the forecast vs ${late(off)} s without; calls per activity ` +
        `${fmt(
          mean(on, (x) => x.calls),
          2,
        )} vs ${fmt(
          mean(off, (x) => x.calls),
          2,
        )}.`,
    );
    data.push({
      ...c,
      samples: samples.map((x) => ({ ...x, durationS: round(x.durationS), detectionS: round(x.detectionS) })),
    });
  }
  return {
    title: 'predictive polling on activities of varied length',
    description:
      `Activities drawn uniformly from ` +
      `${cases.map((c) => `${c.seconds} ± ${c.spread} s (time scale ${c.scale})`).join(', ')}; ` +
      `per case ${RUNS_PER_MODE} runs with the forecast on (advanced.pollForecastSamples 5, the default) and ` +
      `${RUNS_PER_MODE} with it off (0), side by side on separate groups, each of ${BATCHES} one-instance batches, ` +
      `drain 0, production poll bounds (2 s, 30 s) scaled. Detection delay = last DescribeScalingActivities call ` +
      `naming the activity − its end (emulator clock), unscaled; calls = DescribeScalingActivities calls naming it. ` +
      `Batch 1 has no forecast yet. The emulator's Progress grows linearly, the best case for Progress-only pacing.`,
    table: {
      columns: [
        'activity',
        'poller',
        'batches',
        'activities',
        'detection median / worst (s)',
        'calls median',
        'calls mean',
      ],
      rows,
    },
    notes,
    data,
  };
}
