/**
 * resume: what a SIGKILLed worker costs. A run of 60 instances in 3 batches (scaling activities of
 * 6 s, drain 10 s) loses its worker at a chosen moment and a new worker process is started at once:
 * while batch 1 is polled, during batch 1's drain timer, and right after the RemoveInstances call
 * of batch 2 was accepted (its answer is held back and the worker is killed within milliseconds of
 * ESS accepting it). Each moment runs with heartbeatTimeoutSeconds 30 (the default before keep-alive
 * heartbeats), 10 (the default) and 5. Reports the new worker's start time, SIGKILL → first API call,
 * SIGKILL → the next history event, what the run waited on (timeouts read back from the history) and
 * whether every instance was removed exactly once.
 */
import { temporal } from '@temporalio/proto';
import {
  BenchFailure,
  durationSeconds,
  fmt,
  historyOf,
  longToNumber,
  msOf,
  round,
  runScaleIn,
  sleep,
  verifyRuns,
  withStack,
  type BenchContext,
  type BenchReport,
  type HistoryEvent,
  type RunRecord,
  type Stack,
} from './lib';

const { TimeoutType } = temporal.api.enums.v1;

/** Events that need a live worker: a workflow or activity task picked up, completed or failed. */
const WORKER_EVENTS = new Set([
  'WorkflowTaskStarted',
  'WorkflowTaskCompleted',
  'WorkflowTaskFailed',
  'ActivityTaskStarted',
  'ActivityTaskCompleted',
  'ActivityTaskFailed',
]);

type Moment = 'polling' | 'drain-timer' | 'remove-sent';

const MOMENT_LABEL: Record<Moment, string> = {
  polling: 'while polling batch 1',
  'drain-timer': 'during the drain timer',
  'remove-sent': 'right after RemoveInstances of batch 2 was accepted',
};

interface Config {
  instances: number;
  timeScale: number;
  activityMs: number;
  drainS: number;
  heartbeats: number[];
  /** How long after the first poll of batch 1 the worker is killed (real ms). */
  pollKillDelayMs: number;
}

const FULL: Config = {
  instances: 60,
  timeScale: 1,
  activityMs: 6000,
  drainS: 10,
  heartbeats: [30, 10, 5],
  pollKillDelayMs: 1000,
};
const QUICK: Config = {
  instances: 60,
  timeScale: 0.25,
  activityMs: 6000,
  drainS: 4,
  heartbeats: [5],
  pollKillDelayMs: 500,
};

interface Kill {
  atMs: number;
  /** The last API call before the kill. */
  lastCall: string;
}

/** A wait the run went through after the kill, read back from the history. */
interface Wait {
  what: string;
  seconds: number;
}

interface CaseResult {
  moment: Moment;
  heartbeatTimeoutSeconds: number;
  restartSeconds: number;
  killToFirstCallSeconds: number;
  firstCallAfterKill: string;
  killToNextEventSeconds: number;
  nextEvent: string;
  /** The first event only a live worker can cause (a task picked up or completed). */
  killToWorkerEventSeconds: number;
  workerEvent: string;
  /** The first workflow task completed after the kill: when the workflow moved on again. */
  killToWorkflowProgressSeconds: number;
  waits: Wait[];
  eventsAfterKill: string[];
  lastCallBeforeKill: string;
  /** remove-sent: kill − the start of batch 2's scaling activity (ms). */
  killAfterAcceptanceMs: number | undefined;
  acceptedRemoveCalls: number;
  instances: number;
  runSeconds: number;
}

/**
 * Timeouts that fired after the kill: sticky/workflow-task timeouts and activity heartbeat timeouts
 * (retried attempts).
 */
export function waitsAfter(events: HistoryEvent[], killMs: number): Wait[] {
  const byId = new Map(events.map((e) => [e.id, e]));
  const out: Wait[] = [];
  for (const e of events) {
    if (e.timeMs <= killMs) continue;
    const wt = e.raw.workflowTaskTimedOutEventAttributes;
    if (wt) {
      const scheduled = byId.get(longToNumber(wt.scheduledEventId));
      const type = TimeoutType[wt.timeoutType ?? 0] ?? '?';
      const sticky = type === 'TIMEOUT_TYPE_SCHEDULE_TO_START';
      out.push({
        what: sticky
          ? "workflow task on the dead worker's sticky queue (schedule-to-start timeout)"
          : `workflow task ${type.replace('TIMEOUT_TYPE_', '').toLowerCase()} timeout`,
        seconds: scheduled ? (e.timeMs - scheduled.timeMs) / 1000 : Number.NaN,
      });
    }
    const started = e.raw.activityTaskStartedEventAttributes;
    const failure = started?.lastFailure?.timeoutFailureInfo;
    if (started && (started.attempt ?? 1) > 1 && failure) {
      const scheduled = byId.get(longToNumber(started.scheduledEventId))?.raw.activityTaskScheduledEventAttributes;
      const type = TimeoutType[failure.timeoutType ?? 0] ?? '?';
      const name = scheduled?.activityType?.name ?? 'activity';
      if (type === 'TIMEOUT_TYPE_HEARTBEAT')
        out.push({ what: `${name} heartbeat timeout`, seconds: durationSeconds(scheduled?.heartbeatTimeout) });
      else
        out.push({
          what: `${name} ${type.replace('TIMEOUT_TYPE_', '').toLowerCase()} timeout`,
          seconds: durationSeconds(
            type === 'TIMEOUT_TYPE_START_TO_CLOSE' ? scheduled?.startToCloseTimeout : scheduled?.scheduleToStartTimeout,
          ),
        });
    }
  }
  return out.sort((a, b) => b.seconds - a.seconds);
}

/** How long the emulator holds the answer to batch 2's RemoveInstances call in the "remove-sent" case. */
const HOLD_ANSWER_MS = 2000;

/**
 * Arms the emulator's call-log hook (and, for "remove-sent", a watch on its state) for one moment;
 * resolves once the worker was SIGKILLed.
 *
 * "remove-sent": once batch 1's RemoveInstances is in the call log, the next RemoveInstances answer
 * is held back HOLD_ANSWER_MS after it took effect (a latency fault), and the in-process emulator
 * state is watched every 2 ms for batch 2's scaling activity: the worker is killed within a few
 * milliseconds of ESS accepting the call, before the answer can reach it, however loaded the
 * machine is (killing from the hook as the answer is written races with the worker reading it).
 */
function armKill(
  stack: Stack,
  setHook: (h: ((line: string) => void) | undefined) => void,
  moment: Moment,
  cfg: Config,
  pid: number,
): { killed: Promise<Kill>; disarm(): void } {
  const state = stack.emulator.state;
  const groupId = stack.groups[0]?.id ?? '';
  let fired = false;
  let watch: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let disarmed = false;
  const disarm = () => {
    disarmed = true;
    setHook(undefined);
    clearInterval(watch);
    clearTimeout(timer);
  };
  const killed = new Promise<Kill>((resolve) => {
    const kill = () => {
      if (fired) return;
      fired = true;
      disarm();
      const atMs = Date.now();
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone: the run will say so
      }
      const last = state.callLog().at(-1);
      resolve({ atMs, lastCall: last ? `${last.action} ${atMs - msOf(last.time)} ms before` : 'none' });
    };
    let scheduled = false;
    setHook((line) => {
      if (scheduled || fired) return;
      if (moment === 'remove-sent' && / RemoveInstances /.test(line)) {
        const act1 = state.callLog({ action: 'RemoveInstances', outcome: 'ok' })[0]?.createdActivityId;
        if (!act1) return;
        scheduled = true;
        stack.admin
          .setFaults([
            {
              action: 'RemoveInstances',
              kind: 'latency',
              latencyMs: HOLD_ANSWER_MS,
              latencyAfterEffect: true,
              times: 1,
            },
          ])
          .then(() => {
            if (disarmed) return;
            watch = setInterval(() => {
              const current = state.inProgressActivity(groupId);
              if (current && current.id !== act1) kill();
            }, 2);
          })
          .catch((e: unknown) => process.stderr.write(`resume: could not set the latency fault: ${String(e)}\n`));
      }
      if (moment === 'polling' && / DescribeScalingActivities /.test(line)) {
        const act1 = state.callLog({ action: 'RemoveInstances', outcome: 'ok' })[0]?.createdActivityId;
        const last = state.callLog({ action: 'DescribeScalingActivities' }).at(-1);
        if (act1 && last && Object.values(last.params).includes(act1)) {
          scheduled = true;
          timer = setTimeout(kill, cfg.pollKillDelayMs);
        }
      }
      if (moment === 'drain-timer' && / SetBackendServers /.test(line)) {
        // Batch 1's drain wait starts as its drain ends (well under a second later): kill half-way.
        scheduled = true;
        timer = setTimeout(kill, (cfg.drainS * 1000) / 2);
      }
    });
  });
  return { killed, disarm };
}

async function runCase(
  ctx: BenchContext,
  stack: Stack,
  setHook: (h: ((line: string) => void) | undefined) => void,
  moment: Moment,
  hb: number,
  cfg: Config,
): Promise<CaseResult> {
  const label = `${MOMENT_LABEL[moment]}, heartbeat ${hb} s`;
  await stack.admin.reset();
  const first = await stack.spawnWorker();
  const group = stack.groups[0];
  if (!group) throw new Error('no group');
  ctx.progress(`${label}: worker pid ${first.worker.pid} ready; starting the run`);
  const { killed, disarm } = armKill(stack, setHook, moment, cfg, first.worker.pid);
  const running = runScaleIn(stack, group, {
    batchSize: 20,
    drain: { timeoutSeconds: cfg.drainS },
    advanced: { heartbeatTimeoutSeconds: hb },
  });
  let run: RunRecord | undefined;
  let kill: Kill | undefined;
  try {
    kill = await Promise.race([
      killed,
      running.then((r) => {
        run = r;
        return undefined;
      }),
    ]);
    if (!kill)
      throw new BenchFailure(
        `${label}: the run ended before the moment to kill the worker came (${run?.error ?? run?.result?.outcome})`,
      );
    if (moment === 'drain-timer' && stack.emulator.state.callLog({ action: 'RemoveInstances' }).length)
      throw new BenchFailure(`${label}: RemoveInstances was already sent when the worker was killed`);
    await first.worker.exited;
    ctx.progress(`${label}: worker SIGKILLed (last call: ${kill.lastCall}); starting a new worker`);
    const second = await stack.spawnWorker();
    ctx.progress(
      `${label}: new worker pid ${second.worker.pid} ready in ${second.spawnMs} ms; waiting for the run to end`,
    );
    run = await running;
    const [calls, state] = await Promise.all([stack.admin.calls(), stack.admin.state()]);
    const check = verifyRuns([run], calls, state);
    await stack.stopWorker();
    const killMs = kill.atMs;
    const firstCall = calls.find((c) => msOf(c.time) > killMs);
    const events = await historyOf(ctx.lab, run.workflowId, run.firstRunId);
    const after = events.filter((e) => e.timeMs > killMs);
    const next = after[0];
    const byWorker = after.find((e) => WORKER_EVENTS.has(e.type));
    const progressed = after.find((e) => e.type === 'WorkflowTaskCompleted');
    if (!firstCall || !next || !byWorker || !progressed)
      throw new BenchFailure(`${label}: no API call or history event after the kill`);
    const waits = waitsAfter(events, killMs);
    if (moment === 'remove-sent' && !waits.some((w) => w.what.startsWith('removeBatch')))
      throw new BenchFailure(
        `${label}: batch 2's removeBatch was not retried: the kill missed the moment (events after it: ${after
          .slice(0, 6)
          .map((e) => e.type)
          .join(', ')})`,
      );
    const res: CaseResult = {
      moment,
      heartbeatTimeoutSeconds: hb,
      restartSeconds: second.spawnMs / 1000,
      killToFirstCallSeconds: (msOf(firstCall.time) - killMs) / 1000,
      firstCallAfterKill: firstCall.action,
      killToNextEventSeconds: (next.timeMs - killMs) / 1000,
      nextEvent: next.type,
      killToWorkerEventSeconds: (byWorker.timeMs - killMs) / 1000,
      workerEvent: byWorker.type,
      killToWorkflowProgressSeconds: (progressed.timeMs - killMs) / 1000,
      waits,
      eventsAfterKill: after.slice(0, 12).map((e) => `+${fmt((e.timeMs - killMs) / 1000, 2)} s ${e.type}`),
      lastCallBeforeKill: kill.lastCall,
      killAfterAcceptanceMs:
        moment === 'remove-sent'
          ? killMs -
            msOf([...state.activities].sort((a, b) => msOf(a.startTime) - msOf(b.startTime))[1]?.startTime ?? '')
          : undefined,
      acceptedRemoveCalls: check.acceptedRemoveCalls,
      instances: run.instanceIds.length,
      runSeconds: run.seconds,
    };
    const waitedOn = waits.map((w) => `${w.what} ${fmt(w.seconds, 1)} s`).join(', ') || 'nothing';
    ctx.progress(
      `${label}: first call ${fmt(res.killToFirstCallSeconds, 1)} s after the kill (${res.firstCallAfterKill}), ` +
        `next event ${fmt(res.killToNextEventSeconds, 1)} s (${res.nextEvent}), ` +
        `from a worker ${fmt(res.killToWorkerEventSeconds, 1)} s (${res.workerEvent}); waited on ${waitedOn}`,
    );
    return res;
  } finally {
    // A failed case's run is terminated by withStack.
    disarm();
  }
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const cfg = ctx.quick ? QUICK : FULL;
  let hook: ((line: string) => void) | undefined;
  const setHook = (h: ((line: string) => void) | undefined) => {
    hook = h;
  };
  const results: CaseResult[] = [];
  await withStack(
    ctx,
    {
      scenario: {
        groups: 1,
        instancesPerGroup: cfg.instances,
        timings: { activityDurationMs: cfg.activityMs, essDrainWaitMs: 1000, albJobDurationMs: 200 },
      },
      timeScale: cfg.timeScale,
      worker: false,
      onCall: (line) => hook?.(line),
    },
    async (stack) => {
      for (const hb of cfg.heartbeats) {
        for (const moment of ['polling', 'drain-timer', 'remove-sent'] as const) {
          results.push(await runCase(ctx, stack, setHook, moment, hb, cfg));
          await sleep(200);
        }
      }
    },
  );
  const rows = results.map((r) => [
    r.heartbeatTimeoutSeconds,
    MOMENT_LABEL[r.moment],
    fmt(r.restartSeconds, 1),
    `${fmt(r.killToFirstCallSeconds, 1)} (${r.firstCallAfterKill})`,
    `${fmt(r.killToNextEventSeconds, 1)} (${r.nextEvent})`,
    `${fmt(r.killToWorkerEventSeconds, 1)} (${r.workerEvent})`,
    r.waits.map((w) => `${w.what} ${fmt(w.seconds, 0)} s`).join('; ') || '-',
    `yes: ${r.instances} removed, ${r.acceptedRemoveCalls} accepted RemoveInstances`,
  ]);
  const notes = results.map((r) => {
    const dominant = r.waits[0];
    const cause = dominant
      ? `dominated by the ${dominant.what} (${fmt(dominant.seconds, 1)} s)`
      : 'no timeout fired after the kill';
    return (
      `heartbeat ${r.heartbeatTimeoutSeconds} s, ${MOMENT_LABEL[r.moment]}: the workflow moved on ` +
      `(first workflow task completed) ${fmt(r.killToWorkflowProgressSeconds, 1)} s after the kill, ` +
      `${cause}; events after the kill: ${r.eventsAfterKill.slice(0, 6).join(', ')}.`
    );
  });
  return {
    title: 'recovery from a SIGKILLed worker',
    description:
      `A run of ${cfg.instances} instances in ${Math.ceil(cfg.instances / 20)} batches, scaling activities of ` +
      `${cfg.activityMs / 1000} s${cfg.timeScale !== 1 ? ` × time scale ${cfg.timeScale}` : ''}, ` +
      `drain ${cfg.drainS} s, production polling; its worker process is SIGKILLed at the moment named and a new ` +
      `worker process is spawned at once on the same task queue. "While polling" = ${cfg.pollKillDelayMs} ms after ` +
      `the first DescribeScalingActivities call of batch 1; "during the drain timer" = half-way through batch 1's ` +
      `wait (no activity in flight); "right after RemoveInstances was accepted" = within milliseconds of batch 2's ` +
      `scaling activity appearing in the emulator, whose answer is held back ${HOLD_ANSWER_MS / 1000} s (a latency ` +
      `fault after the effect) so that the worker has not received it. Restart = spawn → the worker polls. The ` +
      `next history event may come from the server alone (a timer firing); the next event from a worker is the first ` +
      `workflow or activity task started, completed or failed after the kill. "Waited on" lists the timeouts that ` +
      `fired after the kill, from the history: workflow tasks timed out on the dead worker's sticky queue, and ` +
      `activity attempts retried after a heartbeat timeout.`,
    table: {
      columns: [
        'heartbeat timeout (s)',
        'killed',
        'worker restart (s)',
        'SIGKILL → first API call (s)',
        'SIGKILL → next history event (s)',
        'SIGKILL → next event from a worker (s)',
        'waited on (largest first)',
        'completed, each instance removed once',
      ],
      rows,
    },
    notes,
    data: results.map((r) => ({
      ...r,
      restartSeconds: round(r.restartSeconds),
      killToFirstCallSeconds: round(r.killToFirstCallSeconds),
      killToNextEventSeconds: round(r.killToNextEventSeconds),
      killToWorkerEventSeconds: round(r.killToWorkerEventSeconds),
      killToWorkflowProgressSeconds: round(r.killToWorkflowProgressSeconds),
      runSeconds: round(r.runSeconds, 1),
    })),
  };
}
