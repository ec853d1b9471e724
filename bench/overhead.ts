/**
 * overhead: how much longer than the unavoidable waits a scale-in takes. 1,000 instances in 50
 * batches, emulated scaling activities of 1 s, a 5 s drain; once with the production `advanced`
 * defaults and once with tighter polling. The floor is the drain timeout plus the real durations of
 * the scaling activities (emulator start/end times); the gap is the time from a scaling activity's
 * end to the arrival of the RemoveInstances call that created the next batch's activity, split into
 * detection (end → the last DescribeScalingActivities call naming the activity) and what follows:
 * the poll's wrap-up (its DescribeScalingInstances), the Temporal hand-off (activity completion →
 * workflow task → the next removeBatch starts and reconciles) and reconcile → RemoveInstances.
 */
import type { AdvancedOptions } from '../src/shared/input';
import type { ActivitySnapshot, CallLogEntry } from '../src/emulator';
import {
  BenchFailure,
  activityIdsOf,
  fmt,
  instanceIdsOf,
  max,
  median,
  msOf,
  round,
  runChain,
  runScaleIn,
  sum,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchReport,
} from './lib';

const TIMINGS = { activityDurationMs: 1000, essDrainWaitMs: 300, albJobDurationMs: 200 };

interface Variant {
  label: string;
  advanced: AdvancedOptions | undefined;
}

const VARIANTS: Variant[] = [
  { label: 'production defaults (poll 2000–30000 ms)', advanced: undefined },
  { label: 'tuned (poll 250–5000 ms)', advanced: { pollMinIntervalMs: 250, pollMaxIntervalMs: 5000 } },
];

/** One batch boundary: activity i ended, activity i+1 was created. All in ms. */
interface Gap {
  batch: number;
  gap: number;
  detection: number;
  /** Detection call → the poll's closing DescribeScalingInstances. */
  wrapUp: number;
  /** Closing DescribeScalingInstances → the next batch's reconciling DescribeScalingInstances. */
  handOff: number;
  /** Reconcile → RemoveInstances. */
  reconcile: number;
}

/** Splits every batch boundary of one run with the emulator's call log and activity times. */
export function batchGaps(activities: ActivitySnapshot[], calls: CallLogEntry[]): Gap[] {
  const acts = [...activities].sort((a, b) => msOf(a.startTime) - msOf(b.startTime));
  const creator = new Map<string, CallLogEntry>();
  for (const c of calls)
    if (c.action === 'RemoveInstances' && c.outcome === 'ok' && c.createdActivityId)
      creator.set(c.createdActivityId, c);
  const dsa = calls.filter((c) => c.action === 'DescribeScalingActivities');
  const dsi = calls.filter((c) => c.action === 'DescribeScalingInstances');
  const gaps: Gap[] = [];
  for (let i = 0; i + 1 < acts.length; i++) {
    const a = acts[i] as ActivitySnapshot;
    const next = acts[i + 1] as ActivitySnapshot;
    if (!a.endTime) throw new BenchFailure(`scaling activity ${a.scalingActivityId} has no end time`);
    const end = msOf(a.endTime);
    const ri = creator.get(next.scalingActivityId);
    const detect = dsa.filter((c) => activityIdsOf(c).includes(a.scalingActivityId)).at(-1);
    if (!ri || !detect)
      throw new BenchFailure(
        `batch ${i + 1}: no ${ri ? 'DescribeScalingActivities call naming' : 'RemoveInstances call creating'} ` +
          `activity ${ri ? a.scalingActivityId : next.scalingActivityId}`,
      );
    const mine = new Set(a.instanceIds);
    const theirs = new Set(next.instanceIds);
    // Since issue 16 both reads are usually skipped: the poll when ESS lists every instance as
    // released, the first attempt's reconcile always. A skipped step counts 0 s.
    const wrap = dsi.find((c) => c.seq > detect.seq && c.seq < ri.seq && instanceIdsOf(c).some((id) => mine.has(id)));
    const recon = dsi
      .filter((c) => c.seq > (wrap ?? detect).seq && c.seq < ri.seq && instanceIdsOf(c).some((id) => theirs.has(id)))
      .at(-1);
    const t = (c: CallLogEntry) => msOf(c.time);
    const wrapAt = t(wrap ?? detect);
    const reconAt = recon ? t(recon) : t(ri);
    gaps.push({
      batch: i + 1,
      gap: t(ri) - end,
      detection: t(detect) - end,
      wrapUp: wrapAt - t(detect),
      handOff: reconAt - wrapAt,
      reconcile: t(ri) - reconAt,
    });
  }
  return gaps;
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const instances = ctx.quick ? 60 : 1000;
  const drainS = ctx.quick ? 1 : 5;
  const batchSize = 20;
  const batches = Math.ceil(instances / batchSize);
  const rows: Array<Array<string | number>> = [];
  const data: Array<Record<string, unknown>> = [];
  const notes: string[] = [];
  await withStack(ctx, { scenario: { groups: 1, instancesPerGroup: instances, timings: TIMINGS } }, async (stack) => {
    const group = stack.groups[0];
    if (!group) throw new Error('no group');
    for (const v of VARIANTS) {
      await stack.admin.reset();
      ctx.progress(`${v.label}: removing ${instances} instances in ${batches} batches`);
      const r = await runScaleIn(stack, group, {
        batchSize,
        drain: { timeoutSeconds: drainS },
        ...(v.advanced ? { advanced: v.advanced } : {}),
      });
      const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
      const check = verifyRuns([r], calls, state);
      const acts = state.activities.filter((a) => a.kind === 'RemoveInstances' && a.scalingGroupId === group.id);
      if (acts.length !== batches)
        throw new BenchFailure(`${v.label}: ${acts.length} scaling activities for ${batches} batches`);
      const chain = await runChain(ctx.lab, r.workflowId, r.firstRunId);
      const events = sum(chain.map((c) => c.historyLength));
      const activitySeconds = sum(acts.map((a) => msOf(a.endTime ?? a.startTime) - msOf(a.startTime))) / 1000;
      const floor = drainS + activitySeconds;
      const gaps = batchGaps(acts, calls);
      const med = (k: keyof Omit<Gap, 'batch'>) => median(gaps.map((g) => g[k])) / 1000;
      const named = (id: string) =>
        calls.filter((c) => c.action === 'DescribeScalingActivities' && activityIdsOf(c).includes(id)).length;
      const dsaPerActivity = sum(acts.map((a) => named(a.scalingActivityId))) / acts.length;
      const dsiPerActivity = calls.filter((c) => c.action === 'DescribeScalingInstances').length / acts.length;
      const parts = {
        detection: med('detection'),
        'poll wrap-up': med('wrapUp'),
        'Temporal hand-off': med('handOff'),
        'reconcile → RemoveInstances': med('reconcile'),
      };
      const slowest = Object.entries(parts).sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
      // wall − floor = (start → first RemoveInstances, minus the drain wait) + the gaps + (last end → result).
      const firstRemove = Math.min(
        ...calls.filter((c) => c.action === 'RemoveInstances' && c.outcome === 'ok').map((c) => msOf(c.time)),
      );
      const lastEnd = Math.max(...acts.map((a) => msOf(a.endTime ?? a.startTime)));
      const head = (firstRemove - r.startMs) / 1000 - drainS;
      const tail = (r.endMs - lastEnd) / 1000;
      const gapTotal = sum(gaps.map((g) => g.gap)) / 1000;
      ctx.progress(
        `${v.label}: ${r.seconds.toFixed(1)} s (floor ${floor.toFixed(1)} s), ` +
          `median gap ${fmt(med('gap'), 2)} s, slowest part ${slowest[0]}`,
      );
      rows.push([
        v.label,
        fmt(r.seconds),
        fmt(floor),
        fmt(r.seconds / floor, 2),
        `${fmt(med('gap'), 2)} / ${fmt(max(gaps.map((g) => g.gap)) / 1000, 2)}`,
        fmt(parts.detection, 2),
        [parts['poll wrap-up'], parts['Temporal hand-off'], parts['reconcile → RemoveInstances']]
          .map((x) => fmt(x, 2))
          .join(' + '),
        fmt(dsaPerActivity, 1),
        fmt(dsiPerActivity, 1),
        fmt(calls.length / batches, 1),
        fmt(events / batches, 1),
      ]);
      notes.push(
        `${v.label}: wall − floor = ${fmt(r.seconds - floor, 1)} s: ${fmt(gapTotal, 1)} s in the ${gaps.length} ` +
          `gaps between batches, ${fmt(head, 1)} s before the first RemoveInstances (preflight and first drain, ` +
          `drain wait excluded), ${fmt(tail, 1)} s after the last activity ended. The slowest part of the median gap ` +
          `is ${slowest[0]} (${fmt(slowest[1], 2)} s of ${fmt(med('gap'), 2)} s).`,
      );
      data.push({
        variant: v.label,
        advanced: v.advanced ?? 'defaults',
        instances,
        batches,
        drainSeconds: drainS,
        timings: TIMINGS,
        wallSeconds: round(r.seconds),
        floorSeconds: round(floor),
        ratio: round(r.seconds / floor),
        wallMinusFloorSeconds: {
          gaps: round(gapTotal),
          beforeFirstRemove: round(head),
          afterLastActivity: round(tail),
        },
        gapSeconds: gaps.map((g) => ({
          batch: g.batch,
          gap: g.gap / 1000,
          detection: g.detection / 1000,
          wrapUp: g.wrapUp / 1000,
          handOff: g.handOff / 1000,
          reconcile: g.reconcile / 1000,
        })),
        medianSeconds: Object.fromEntries(Object.entries({ gap: med('gap'), ...parts }).map(([k, x]) => [k, round(x)])),
        describeScalingActivitiesPerActivity: round(dsaPerActivity),
        describeScalingInstancesPerActivity: round(dsiPerActivity),
        apiCalls: calls.length,
        apiCallsPerBatch: round(calls.length / batches),
        runs: chain.length,
        historyEvents: events,
        historyEventsPerBatch: round(events / batches),
        acceptedRemoveCalls: check.acceptedRemoveCalls,
      });
    }
  });
  return {
    title: `end-to-end overhead over the unavoidable waits (${instances} instances, ${batches} batches)`,
    description:
      `${instances} instances in batches of ${batchSize}, emulated scaling activities of ` +
      `${TIMINGS.activityDurationMs} ms (ESS drain ${TIMINGS.essDrainWaitMs} ms, ALB jobs ` +
      `${TIMINGS.albJobDurationMs} ms), drain timeout ${drainS} s, weight drain on a CLB, a vserver group and an ALB ` +
      `server group. Wall = client start → result. Floor = drain timeout + the sum of the scaling activities' real ` +
      `durations (emulator start/end). Gap = a scaling activity's end → arrival of the RemoveInstances call ` +
      `creating the next batch's activity; detection = end → the last DescribeScalingActivities call naming it; ` +
      `after detection = the poll's closing DescribeScalingInstances + Temporal hand-off (activity completion, ` +
      `workflow task, next removeBatch) + its reconcile call → RemoveInstances (medians; a read that was skipped ` +
      `counts 0 s). API calls and history ` +
      `events are totals per batch, preflight included.`,
    table: {
      columns: [
        'advanced',
        'wall (s)',
        'floor (s)',
        'wall/floor',
        'gap median / worst (s)',
        'detection median (s)',
        'after detection: wrap-up + hand-off + reconcile (s)',
        'DescribeScalingActivities / activity',
        'DescribeScalingInstances / activity',
        'API calls / batch',
        'history events / batch',
      ],
      rows,
    },
    notes,
    data,
  };
}
