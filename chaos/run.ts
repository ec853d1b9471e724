/**
 * Executes one chaos plan: an emulator of its own, the real worker in a child process that is
 * SIGKILLed and restarted on the plan's schedule, the scale-ins started through the client
 * library, then the invariants checked against the emulator's call log and final state.
 */
import { ScaleInFailedError } from '../src/client';
import type { Lab } from '../src/devtools/lab';
import { spawnWorkerProcess, type WorkerProcess } from '../src/devtools/worker-process';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../src/emulator';
import type { ScaleInResult } from '../src/shared/progress';
import { checkInvariants, type Violation } from './invariants';
import { CHAOS_KEY, type ChaosPlan } from './plan';

export interface ChaosRunReport {
  seed: number;
  summary: string;
  passed: boolean;
  violations: Violation[];
  seconds: number;
  kills: number;
  /** API calls the emulator answered with an injected fault. */
  faultedCalls: number;
  apiCalls: number;
  requested: number;
  removed: number;
  notRemoved: number;
  outcomes: string[];
}

export interface ChaosRunOptions {
  /** A run still going after this long is a failure. Default 180 s. */
  timeoutMs?: number;
  /** Log lines about kills and restarts. */
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(lab: Lab, plan: ChaosPlan, opts: ChaosRunOptions = {}): Promise<ChaosRunReport> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const t0 = Date.now();
  const taskQueue = `chaos-${plan.seed}-${plan.groups[0]?.groupId.slice(6, 11) ?? 'x'}`;
  let emulator: RunningEmulator | undefined;
  let worker: WorkerProcess | undefined;
  const spawned: WorkerProcess[] = [];
  let stopKiller = false;
  try {
    emulator = await startEmulator({ scenario: plan.scenario });
    const admin = new EmulatorAdminClient(emulator.url);
    await admin.settings({ ignoreClientToken: plan.ignoreClientToken, activityOutcomes: plan.activityOutcomes });
    const initial = await admin.state();
    const present = new Set(initial.instances.map((i) => i.instanceId));
    for (const g of plan.groups) {
      const missing = g.requested.filter((id) => !present.has(id));
      if (missing.length) throw new Error(`plan ${plan.seed}: the scenario did not create ${missing.join(', ')}`);
    }
    const url = emulator.url;
    const spawn = async () => {
      const w = await spawnWorkerProcess({
        temporalAddress: lab.temporalAddress,
        taskQueue,
        workflowBundlePath: lab.workflowBundlePath,
        cloudEndpoint: url,
        accessKeyId: CHAOS_KEY.accessKeyId,
        accessKeySecret: CHAOS_KEY.accessKeySecret,
      });
      spawned.push(w);
      return w;
    };
    worker = await spawn();
    await admin.setFaults(plan.faults, plan.faultSeed);

    const client = await lab.scaleInClient(taskQueue);
    const started = await Promise.all(plan.groups.map((g) => client.start(g.input)));
    const runStart = Date.now();
    let killed = 0;
    const killer = (async () => {
      for (const k of plan.kills) {
        while (!stopKiller && Date.now() - runStart < k.afterMs) await sleep(50);
        if (stopKiller) return;
        await worker?.kill('SIGKILL');
        killed++;
        log(`  seed ${plan.seed}: worker SIGKILLed at ${Date.now() - runStart} ms, down for ${k.downMs} ms`);
        await sleep(k.downMs);
        worker = await spawn();
      }
    })();

    // Operator cancels: a run that already ended refuses the cancel, which is fine.
    const cancels = started.map(({ workflowId }, i) => {
      const after = plan.groups[i]?.cancelAfterMs;
      if (after === undefined) return Promise.resolve();
      return sleep(after)
        .then(() => client.cancel(workflowId))
        .then(
          () => log(`  seed ${plan.seed}: cancelled ${workflowId} at ${Date.now() - runStart} ms`),
          () => undefined,
        );
    });

    const results = new Map<string, ScaleInResult | undefined>();
    const violations: Violation[] = [];
    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    await Promise.all(
      started.map(async ({ workflowId }, i) => {
        const groupId = plan.groups[i]?.groupId as string;
        const outcome = await Promise.race([
          client.result(workflowId).then(
            (r) => r,
            (e: unknown) => {
              if (e instanceof ScaleInFailedError) return e.result;
              throw e;
            },
          ),
          deadline,
        ]);
        if (outcome === 'timeout') {
          violations.push({
            invariant: 'every-instance-accounted',
            detail: `${workflowId} did not finish within ${timeoutMs / 1000} s`,
          });
          results.set(groupId, undefined);
        } else {
          results.set(groupId, outcome);
        }
      }),
    );
    stopKiller = true;
    await killer;
    await Promise.all(cancels);
    await admin.clearFaults();

    // Let the cloud finish whatever it accepted before judging it (only a stuck run leaves one).
    const waitUntil = Date.now() + 15_000;
    let final = await admin.state();
    while (final.activities.some((a) => a.statusCode === 'InProgress') && Date.now() < waitUntil) {
      await sleep(200);
      final = await admin.state();
    }
    const calls = await admin.calls();
    const requested = new Map(plan.groups.map((g) => [g.groupId, g.requested]));
    violations.push(...checkInvariants({ requested, initial, final, calls, results }));
    const all = [...results.values()];
    return {
      seed: plan.seed,
      summary: plan.summary,
      passed: violations.length === 0,
      violations,
      seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
      kills: killed,
      faultedCalls: calls.filter((c) => c.fault !== undefined).length,
      apiCalls: calls.length,
      requested: plan.groups.reduce((n, g) => n + g.requested.length, 0),
      removed: all.reduce((n, r) => n + (r?.counts.removed ?? 0), 0),
      notRemoved: all.reduce((n, r) => n + (r?.notRemoved.length ?? 0), 0),
      outcomes: all.map((r) => r?.outcome ?? 'none'),
    };
  } finally {
    stopKiller = true;
    await Promise.all(spawned.map((w) => w.kill('SIGKILL')));
    await emulator?.close();
  }
}
