/**
 * hooks: what a scale-in lifecycle hook costs a run in each `lifecycleHooks` mode. One group, 5
 * batches, one SCALE_IN hook with the default 600 s HeartbeatTimeout (CONTINUE), time-scaled by the
 * emulator so that its wait lasts seconds; the same removal without the hook is the floor. The
 * emulated activity, ESS drain and ALB timings are divided by the time scale so that they last in
 * real time what the overhead benchmark's do: only the hook's wait is shortened. `wait` runs with
 * the production poll bounds multiplied by the time scale, so that its pace against the scaled hook
 * is the production pace against a 600 s hook (a twentieth of the timeout); the other modes run
 * with the production defaults, as the overhead benchmark's first row.
 */
import type { AdvancedOptions, LifecycleHookOptions } from '../src/shared/input';
import { DEFAULTS } from '../src/shared/input';
import type { ActivitySnapshot, CallLogEntry, LifecycleActionSnapshot, Scenario } from '../src/emulator';
import {
  BenchFailure,
  buildScenario,
  countBy,
  fmt,
  median,
  msOf,
  round,
  runScaleIn,
  sum,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchGroup,
  type BenchReport,
  type ScenarioSpec,
  type Stack,
} from './lib';
import { batchGaps } from './overhead';

const HOOK_ID = 'ash-bp1benchhook00000001';
const HOOK_NAME = 'drain-hold';
const HOOK_TIMEOUT_S = 600;

/** Real-time durations (ms) of the emulated steps, as in the overhead benchmark. */
const REAL_TIMINGS = { activityDurationMs: 1000, essDrainWaitMs: 300, albJobDurationMs: 200 };

interface Sizes {
  instances: number;
  batchSize: number;
  drainS: number;
  timeScale: number;
}

const FULL: Sizes = { instances: 25, batchSize: 5, drainS: 5, timeScale: 0.02 };
const QUICK: Sizes = { instances: 5, batchSize: 1, drainS: 1, timeScale: 0.005 };

interface Mode {
  key: 'none' | 'wait' | 'complete' | 'skip';
  label: string;
  hooked: boolean;
  lifecycleHooks: LifecycleHookOptions | undefined;
  /** Poll bounds multiplied by the time scale (else the production defaults). */
  scaledPolling: boolean;
}

const MODES: Mode[] = [
  { key: 'none', label: 'no hook (floor)', hooked: false, lifecycleHooks: undefined, scaledPolling: false },
  { key: 'wait', label: 'wait', hooked: true, lifecycleHooks: { mode: 'wait' }, scaledPolling: true },
  {
    key: 'complete',
    label: 'complete',
    hooked: true,
    lifecycleHooks: { mode: 'complete', hookIds: [HOOK_ID] },
    scaledPolling: false,
  },
  {
    key: 'skip',
    label: 'skip',
    hooked: true,
    lifecycleHooks: { mode: 'skip', hookIds: [HOOK_ID] },
    scaledPolling: false,
  },
];

function scaledAdvanced(timeScale: number): AdvancedOptions {
  return {
    pollMinIntervalMs: Math.max(10, Math.round(DEFAULTS.advanced.pollMinIntervalMs * timeScale)),
    pollMaxIntervalMs: Math.max(10, Math.round(DEFAULTS.advanced.pollMaxIntervalMs * timeScale)),
  };
}

/** The bench scenario with one 600 s CONTINUE scale-in hook on its group. */
function hookedScenario(spec: ScenarioSpec): Scenario {
  const s = buildScenario(spec);
  const g = s.scalingGroups?.[0];
  if (!g) throw new Error('the bench scenario has no group');
  g.lifecycleHooks = [
    {
      id: HOOK_ID,
      name: HOOK_NAME,
      lifecycleTransition: 'SCALE_IN',
      heartbeatTimeout: HOOK_TIMEOUT_S,
      defaultResult: 'CONTINUE',
    },
  ];
  return { ...s, name: `${s.name}-hooked` };
}

/** What one mode's run measured. */
interface Measured {
  mode: Mode;
  wallS: number;
  floorS: number;
  activityS: number[];
  /** Removing:Wait start → end of the hook's action, per batch (s); empty when nothing waited. */
  hookWaitS: number[];
  /** Removing:Wait start → arrival of the run's CompleteLifecycleAction (complete only). */
  toCompleteS: number[];
  gapS: number[];
  headS: number;
  tailS: number;
  apiCalls: number;
  callsByAction: Record<string, number>;
  actionStatuses: Record<string, number>;
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const z = ctx.quick ? QUICK : FULL;
  const batches = Math.ceil(z.instances / z.batchSize);
  const timings = {
    activityDurationMs: Math.round(REAL_TIMINGS.activityDurationMs / z.timeScale),
    essDrainWaitMs: Math.round(REAL_TIMINGS.essDrainWaitMs / z.timeScale),
    albJobDurationMs: Math.round(REAL_TIMINGS.albJobDurationMs / z.timeScale),
  };
  const spec: ScenarioSpec = { groups: 1, instancesPerGroup: z.instances, timings };
  const plain = buildScenario(spec);
  const hooked = hookedScenario(spec);
  const measured: Measured[] = [];
  await withStack(ctx, { scenario: spec, timeScale: z.timeScale, taskQueue: 'bench-hooks' }, async (stack) => {
    const group = stack.groups[0];
    if (!group) throw new Error('no group');
    await warmUp(ctx, stack, group, plain);
    for (const mode of MODES) {
      await stack.admin.loadScenario(mode.hooked ? hooked : plain);
      measured.push(await measure(ctx, stack, group, mode, z, batches));
    }
  });
  return report(measured, z, batches);
}

/**
 * One discarded 1-instance run: the first run on a fresh worker pays for its cold start (about 0.7 s
 * before its first call), which would otherwise count against the floor run only.
 */
async function warmUp(ctx: BenchContext, stack: Stack, group: BenchGroup, plain: Scenario): Promise<void> {
  await stack.admin.loadScenario(plain);
  const first = group.instanceIds.slice(0, 1);
  const r = await runScaleIn(stack, group, { batchSize: 1, drain: { timeoutSeconds: 0 } }, { instanceIds: first });
  const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
  verifyRuns([r], calls, state);
  ctx.progress(`warm-up run (1 instance, not measured): ${r.seconds.toFixed(1)} s`);
}

async function measure(
  ctx: BenchContext,
  stack: Stack,
  group: BenchGroup,
  mode: Mode,
  z: Sizes,
  batches: number,
): Promise<Measured> {
  const advanced = mode.scaledPolling ? scaledAdvanced(z.timeScale) : undefined;
  ctx.progress(`${mode.label}: removing ${z.instances} instances in ${batches} batches`);
  const r = await runScaleIn(stack, group, {
    batchSize: z.batchSize,
    drain: { timeoutSeconds: z.drainS },
    ...(mode.lifecycleHooks ? { lifecycleHooks: mode.lifecycleHooks } : {}),
    ...(advanced ? { advanced } : {}),
  });
  const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
  verifyRuns([r], calls, state);
  const acts = state.activities
    .filter((a) => a.kind === 'RemoveInstances' && a.scalingGroupId === group.id)
    .sort((a, b) => msOf(a.startTime) - msOf(b.startTime));
  if (acts.length !== batches)
    throw new BenchFailure(`${mode.label}: ${acts.length} scaling activities for ${batches} batches`);
  const actions = state.lifecycleActions ?? [];
  checkHookBehaviour(mode, acts, actions, calls);
  const activityS = acts.map((a) => (msOf(a.endTime ?? a.startTime) - msOf(a.startTime)) / 1000);
  const floorS = z.drainS + sum(activityS);
  const firstRemove = Math.min(
    ...calls.filter((c) => c.action === 'RemoveInstances' && c.outcome === 'ok').map((c) => msOf(c.time)),
  );
  const lastEnd = Math.max(...acts.map((a) => msOf(a.endTime ?? a.startTime)));
  const m: Measured = {
    mode,
    wallS: r.seconds,
    floorS,
    activityS,
    hookWaitS: actions.map((a) => (msOf(a.endTime ?? a.startTime) - msOf(a.startTime)) / 1000),
    toCompleteS: completionDelays(actions, calls),
    gapS: batchGaps(acts, calls).map((g) => g.gap / 1000),
    headS: (firstRemove - r.startMs) / 1000 - z.drainS,
    tailS: (r.endMs - lastEnd) / 1000,
    apiCalls: calls.length,
    callsByAction: countBy(calls, (c) => c.action),
    actionStatuses: countBy(actions, (a) => `${a.status}/${a.result}`),
  };
  ctx.progress(
    `${mode.label}: ${m.wallS.toFixed(1)} s (floor ${m.floorS.toFixed(1)} s), ` +
      `activity median ${fmt(median(activityS), 2)} s, hook wait median ${fmt(median(m.hookWaitS), 2)} s`,
  );
  return m;
}

/** The hook held exactly what the mode says it should, or the numbers would measure something else. */
function checkHookBehaviour(
  mode: Mode,
  acts: ActivitySnapshot[],
  actions: LifecycleActionSnapshot[],
  calls: CallLogEntry[],
): void {
  const completes = calls.filter((c) => c.action === 'CompleteLifecycleAction' && c.outcome === 'ok').length;
  const problems: string[] = [];
  const want = { none: 0, skip: 0, wait: acts.length, complete: acts.length }[mode.key];
  if (actions.length !== want) problems.push(`${actions.length} lifecycle actions, expected ${want}`);
  const status = mode.key === 'wait' ? 'Timeout' : 'Completed';
  const off = actions.filter((a) => a.status !== status || a.result !== 'CONTINUE');
  if (off.length) problems.push(`${off.length} action(s) not ${status}/CONTINUE, e.g. ${off[0]?.status}`);
  const wantCompletes = mode.key === 'complete' ? acts.length : 0;
  if (completes !== wantCompletes)
    problems.push(`${completes} accepted CompleteLifecycleAction calls, expected ${wantCompletes}`);
  if (problems.length) throw new BenchFailure(`${mode.label}: ${problems.join('; ')}`);
}

/** Per action: its start (instances in Removing:Wait) → arrival of the accepted CompleteLifecycleAction naming it. */
function completionDelays(actions: LifecycleActionSnapshot[], calls: CallLogEntry[]): number[] {
  const out: number[] = [];
  for (const a of actions) {
    const c = calls.find(
      (x) =>
        x.action === 'CompleteLifecycleAction' &&
        x.outcome === 'ok' &&
        x.params.LifecycleActionToken === a.lifecycleActionToken,
    );
    if (c) out.push((msOf(c.time) - msOf(a.startTime)) / 1000);
  }
  return out;
}

function report(measured: Measured[], z: Sizes, batches: number): BenchReport {
  const base = measured.find((m) => m.mode.key === 'none');
  if (!base) throw new Error('no floor run');
  const perBatch = (m: Measured, ref: number) => (m.wallS - ref) / batches;
  const polling = (m: Mode) => {
    const a = m.scaledPolling ? scaledAdvanced(z.timeScale) : DEFAULTS.advanced;
    return `${a.pollMinIntervalMs}–${a.pollMaxIntervalMs}`;
  };
  const rows = measured.map((m) => [
    m.mode.label,
    m.mode.lifecycleHooks ? JSON.stringify(m.mode.lifecycleHooks) : '-',
    polling(m.mode),
    fmt(m.wallS),
    fmt(m.floorS),
    fmt(m.wallS / m.floorS, 2),
    fmt(median(m.activityS), 2),
    m.hookWaitS.length ? fmt(median(m.hookWaitS), 2) : '-',
    m.toCompleteS.length ? fmt(median(m.toCompleteS), 2) : '-',
    fmt(median(m.gapS), 2),
    m === base ? '-' : fmt(perBatch(m, base.wallS), 2),
    m === base ? '-' : fmt(perBatch(m, base.floorS), 2),
    fmt(m.apiCalls / batches, 1),
  ]);
  const complete = measured.find((m) => m.mode.key === 'complete');
  const notes = measured.map(
    (m) =>
      `${m.mode.label}: wall − floor = ${fmt(m.wallS - m.floorS, 1)} s: ${fmt(sum(m.gapS), 1)} s in the ` +
      `${m.gapS.length} gaps between batches, ${fmt(m.headS, 1)} s before the first RemoveInstances (drain wait ` +
      `excluded), ${fmt(m.tailS, 1)} s after the last activity ended; scaling activities ` +
      `${m.activityS.map((x) => fmt(x, 2)).join(', ')} s.`,
  );
  if (complete) notes.push(completeVerdict(complete, base, batches));
  return {
    title: `a ${HOOK_TIMEOUT_S} s scale-in lifecycle hook in each mode (${z.instances} instances, ${batches} batches)`,
    description:
      `${z.instances} instances in batches of ${z.batchSize} on one group, drain timeout ${z.drainS} s, weight drain ` +
      `on a CLB, a vserver group and an ALB server group; the group has one SCALE_IN lifecycle hook ` +
      `(HeartbeatTimeout ${HOOK_TIMEOUT_S} s, DefaultResult CONTINUE), except for the floor run, which removes the ` +
      `same instances from the same group without it; the modes run one after the other on one worker, after a ` +
      `discarded 1-instance warm-up run. The emulator runs at time scale ${z.timeScale}, so the hook ` +
      `times out after ${fmt(HOOK_TIMEOUT_S * z.timeScale, 1)} s of real time; the other emulated timings are ` +
      `divided by the time scale so that they stay real-time (scaling activities ` +
      `${REAL_TIMINGS.activityDurationMs} ms when nothing holds them, ESS drain ${REAL_TIMINGS.essDrainWaitMs} ms, ` +
      `ALB jobs ${REAL_TIMINGS.albJobDurationMs} ms). \`wait\` polls with the production bounds multiplied by the ` +
      `time scale, so that its pace against the scaled hook is the production pace against a ${HOOK_TIMEOUT_S} s ` +
      `hook; the other modes use the production defaults. Wall = client start → result. Floor = drain timeout + the ` +
      `sum of the scaling activities' real durations (emulator start/end), as in overhead; for \`wait\` and ` +
      `\`complete\` the activities include the hook's hold. Hook wait = a lifecycle action's start (instances in ` +
      `Removing:Wait) → its end; → complete = action start → arrival of the run's CompleteLifecycleAction; gap = ` +
      `an activity's end → the RemoveInstances call creating the next one (medians). "+ per batch" = ` +
      `(wall − the no-hook run's wall, or its floor) / ${batches} batches.`,
    table: {
      columns: [
        'mode',
        'lifecycleHooks',
        'poll bounds (ms)',
        'wall (s)',
        'floor (s)',
        'wall/floor',
        'scaling activity median (s)',
        'hook wait median (s)',
        'Removing:Wait → complete median (s)',
        'gap median (s)',
        '+ per batch over no-hook wall (s)',
        '+ per batch over no-hook floor (s)',
        'API calls / batch',
      ],
      rows,
    },
    notes,
    data: {
      instances: z.instances,
      batchSize: z.batchSize,
      batches,
      drainSeconds: z.drainS,
      timeScale: z.timeScale,
      hook: { id: HOOK_ID, heartbeatTimeoutSeconds: HOOK_TIMEOUT_S, realTimeoutSeconds: HOOK_TIMEOUT_S * z.timeScale },
      realTimings: REAL_TIMINGS,
      modes: measured.map((m) => ({
        mode: m.mode.key,
        lifecycleHooks: m.mode.lifecycleHooks ?? null,
        advanced: m.mode.scaledPolling ? scaledAdvanced(z.timeScale) : 'defaults',
        wallSeconds: round(m.wallS),
        floorSeconds: round(m.floorS),
        ratio: round(m.wallS / m.floorS),
        extraPerBatchOverNoHookWallSeconds: m === base ? null : round(perBatch(m, base.wallS)),
        extraPerBatchOverNoHookFloorSeconds: m === base ? null : round(perBatch(m, base.floorS)),
        activitySeconds: m.activityS.map((x) => round(x)),
        hookWaitSeconds: m.hookWaitS.map((x) => round(x)),
        removingWaitToCompleteSeconds: m.toCompleteS.map((x) => round(x)),
        gapSeconds: m.gapS.map((x) => round(x)),
        beforeFirstRemoveSeconds: round(m.headS),
        afterLastActivitySeconds: round(m.tailS),
        apiCalls: m.apiCalls,
        callsByAction: m.callsByAction,
        lifecycleActions: m.actionStatuses,
      })),
    },
  };
}

/** Whether `complete` stays within 2 s per batch of the no-hook run, and where its extra time went. */
function completeVerdict(c: Measured, base: Measured, batches: number): string {
  const overWall = (c.wallS - base.wallS) / batches;
  const overFloor = (c.wallS - base.floorS) / batches;
  const activity = (sum(c.activityS) - sum(base.activityS)) / batches;
  const gaps = (sum(c.gapS) - sum(base.gapS)) / batches;
  const ends = (c.headS + c.tailS - base.headS - base.tailS) / batches;
  const ok = overWall < 2 && overFloor < 2;
  return (
    `complete ${ok ? 'stays under' : 'does NOT stay under'} 2 s per batch: ${fmt(overWall, 2)} s per batch over ` +
    `the no-hook run's wall, ${fmt(overFloor, 2)} s over its floor. Per batch against the no-hook run: scaling ` +
    `activities ${fmt(activity, 2)} s longer (the hook holds each until the run's CompleteLifecycleAction, median ` +
    `${fmt(median(c.toCompleteS), 2)} s after Removing:Wait began), gaps ${fmt(gaps, 2)} s, start and end ` +
    `${fmt(ends, 2)} s.`
  );
}
