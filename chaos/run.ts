/**
 * Executes one chaos plan: an emulator of its own, the real worker in a child process that is
 * SIGKILLed and restarted on the plan's schedule, the scale-ins started through the client
 * library, the plan's other faults (a Temporal server crash, a terminate, another actor), then the
 * invariants checked against the emulator's call log and state.
 */
import { repairRun, ScaleInFailedError, type RepairResult, type ScaleInClient } from '../src/client';
import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../src/aliyun';
import { startLab, type Lab } from '../src/devtools/lab';
import { startRestartableDevServer, type RestartableDevServer } from '../src/devtools/restartable-dev-server';
import { spawnWorkerProcess, type WorkerProcess } from '../src/devtools/worker-process';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../src/emulator';
import type { CallLogEntry, EmulatorStateSnapshot } from '../src/emulator/types';
import type { ProgressSnapshot, ScaleInResult } from '../src/shared/progress';
import {
  backendsOf,
  checkInvariants,
  instancesNamedIn,
  type LeftDrained,
  type OtherActorEvent,
  type Violation,
} from './invariants';
import { CHAOS_KEY, CHAOS_REGION, type ChaosPlan, type FaultClass, type GroupPlan, type OtherActorPlan } from './plan';

export interface ChaosRunReport {
  seed: number;
  summary: string;
  /** The fault classes drawn (`base` always). */
  classes: FaultClass[];
  passed: boolean;
  violations: Violation[];
  seconds: number;
  kills: number;
  serverRestarts: number;
  terminates: number;
  otherActorEvents: number;
  /** API calls the emulator answered with an injected error, reset or lost answer (latency excluded). */
  faultedCalls: number;
  /** API calls that were only delayed. */
  latencyCalls: number;
  apiCalls: number;
  requested: number;
  /** Of `requested`, those in runs without a result to count them in: terminated, or refused before any change. */
  requestedWithoutResult: number;
  removed: number;
  notRemoved: number;
  outcomes: string[];
  /** Terminated runs: what `ess-scale-in repair` could not restore (by instance, with its lines per place). */
  leftDrained: LeftDrained[];
  /** Notes on judgements the harness had to make provisionally (e.g. a repair that could not run). */
  pending: string[];
}

export interface ChaosRunOptions {
  /** A run still going after this long is a failure. Default 180 s. */
  timeoutMs?: number;
  /** Log lines about kills and restarts. */
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows the emulator's call log, so faults can be timed by how far the runs have got. */
class CallWatcher {
  seq = 0;
  stopped = false;
  readonly seen: CallLogEntry[] = [];
  private readonly loop: Promise<void>;
  constructor(private readonly admin: EmulatorAdminClient) {
    this.loop = (async () => {
      while (!this.stopped) {
        const fresh = await admin.calls({ sinceSeq: this.seq }).catch(() => []);
        for (const c of fresh) {
          this.seq = Math.max(this.seq, c.seq);
          this.seen.push(c);
        }
        await sleep(100);
      }
    })();
  }
  /** Resolves true once `n` calls were made, false if stopped first. */
  async reach(n: number): Promise<boolean> {
    while (!this.stopped && this.seq < n) await sleep(50);
    return !this.stopped;
  }
  /** Resolves true once a drain (weight 0 or EnterStandby) naming one of `ids` has been accepted. */
  async drainOf(ids: readonly string[]): Promise<boolean> {
    const wanted = new Set(ids);
    const isDrain = (c: CallLogEntry) =>
      c.outcome === 'ok' &&
      (c.action === 'EnterStandby' || Object.entries(c.params).some(([k, v]) => setsWeightZero(k, v))) &&
      instancesNamedIn(c).some((id) => wanted.has(id));
    while (!this.stopped && !this.seen.some(isDrain)) await sleep(50);
    return !this.stopped;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** `Servers.1.Weight=0` (ALB), or a BackendServers JSON with a `"Weight": 0` (CLB). */
function setsWeightZero(key: string, value: string): boolean {
  return (key.endsWith('.Weight') && value === '0') || /"Weight"\s*:\s*"?0"?\s*[,}]/.test(value);
}

interface RunContext {
  plan: ChaosPlan;
  stack: Lab;
  taskQueue: string;
  admin: EmulatorAdminClient;
  watcher: CallWatcher;
  client: ScaleInClient;
  log: (line: string) => void;
  t0: number;
  workflowIds: Map<string, string>;
  terminated: Map<string, readonly LeftDrained[]>;
  actorEvents: OtherActorEvent[];
  ended: Set<string>;
}

export async function runChaos(lab: Lab, plan: ChaosPlan, opts: ChaosRunOptions = {}): Promise<ChaosRunReport> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const t0 = Date.now();
  const taskQueue = `chaos-${plan.seed}-${plan.groups[0]?.groupId.slice(6, 11) ?? 'x'}`;
  let emulator: RunningEmulator | undefined;
  let server: RestartableDevServer | undefined;
  let runLab: Lab | undefined;
  let watcher: CallWatcher | undefined;
  const workers = new WorkerKeeper();
  try {
    emulator = await startEmulator({ scenario: plan.scenario, timeScale: plan.timeScale ?? 1 });
    const admin = new EmulatorAdminClient(emulator.url);
    await admin.settings({ ignoreClientToken: plan.ignoreClientToken, activityOutcomes: plan.activityOutcomes });
    for (const g of plan.groups) for (const id of g.protectedIds ?? []) await admin.setInstanceState(id, 'Protected');
    const initial = await admin.state();
    checkScenario(plan, initial);
    if (plan.serverRestarts.length) {
      server = await startRestartableDevServer();
      runLab = await startLab({ temporalAddress: server.address, workflowBundlePath: lab.workflowBundlePath });
    }
    const stack = runLab ?? lab;
    const url = emulator.url;
    workers.spawnWith = () =>
      spawnWorkerProcess({
        temporalAddress: stack.temporalAddress,
        taskQueue,
        workflowBundlePath: stack.workflowBundlePath,
        cloudEndpoint: url,
        accessKeyId: CHAOS_KEY.accessKeyId,
        accessKeySecret: CHAOS_KEY.accessKeySecret,
      });
    await workers.respawn(0);
    await admin.setFaults(plan.faults, plan.faultSeed);
    watcher = new CallWatcher(admin);

    const client = await stack.scaleInClient(taskQueue);
    const started = await Promise.all(plan.groups.map((g) => client.start(g.input)));
    const ctx: RunContext = {
      plan,
      stack,
      taskQueue,
      admin,
      watcher,
      client,
      log,
      t0: Date.now(),
      workflowIds: new Map(plan.groups.map((g, i) => [g.groupId, started[i]?.workflowId as string])),
      terminated: new Map(),
      actorEvents: [],
      ended: new Set(),
    };
    const disturbances = [
      ...plan.kills.map((k) => killWorker(ctx, workers, k)),
      ...plan.serverRestarts.map((k) => restartServer(ctx, workers, server as RestartableDevServer, k)),
      ...plan.groups.map((g) => cancelRun(ctx, g)),
      ...plan.groups.map((g) => terminateRun(ctx, g)),
      ...plan.otherActors.map((a) => actAsOther(ctx, url, a)),
    ];

    const { results, atEnd, refused, violations } = await awaitResults(ctx, timeoutMs);
    await watcher.stop();
    await Promise.all(disturbances);
    const repairs: string[] = [];
    for (const [group, wf] of ctx.workflowIds)
      if (ctx.terminated.has(group)) ctx.terminated.set(group, await repairTerminated(ctx, wf, group, repairs));
    await admin.clearFaults();
    const final = await settle(admin);
    const calls = await admin.calls();
    if (final.lifecycleActions?.length) log(`  seed ${plan.seed}: ${hookTally(final, ctx.actorEvents)}`);
    violations.push(
      ...checkInvariants({
        requested: new Map(plan.groups.map((g) => [g.groupId, g.requested])),
        initial,
        final,
        calls,
        results,
        otherActors: ctx.actorEvents,
        terminated: ctx.terminated,
        atEnd,
        refused,
        lifecycleHooks: new Map(plan.groups.map((g) => [g.groupId, g.input.lifecycleHooks ?? { mode: 'wait' }])),
      }),
    );
    const all = [...results.values()];
    return {
      seed: plan.seed,
      summary: plan.summary,
      classes: plan.classes,
      passed: violations.length === 0,
      violations,
      seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
      kills: workers.kills,
      serverRestarts: server?.restarts() ?? 0,
      terminates: ctx.terminated.size,
      otherActorEvents: ctx.actorEvents.length,
      faultedCalls: calls.filter((c) => c.fault !== undefined && c.fault !== 'latency').length,
      latencyCalls: calls.filter((c) => c.fault === 'latency').length,
      apiCalls: calls.length,
      requested: plan.groups.reduce((n, g) => n + g.requested.length, 0),
      requestedWithoutResult: plan.groups.reduce(
        (n, g) =>
          n +
          (ctx.terminated.has(g.groupId) || (refused.has(g.groupId) && !results.get(g.groupId))
            ? g.requested.length
            : 0),
        0,
      ),

      removed: all.reduce((n, r) => n + (r?.counts.removed ?? 0), 0),
      notRemoved: all.reduce((n, r) => n + (r?.notRemoved.length ?? 0), 0),
      outcomes: plan.groups.map((g) =>
        ctx.terminated.has(g.groupId)
          ? 'terminated'
          : refused.has(g.groupId)
            ? `refused (${(refused.get(g.groupId) ?? '').slice(0, 160)})`
            : (results.get(g.groupId)?.outcome ?? 'none'),
      ),
      leftDrained: [...ctx.terminated.values()].flat(),
      pending: repairs,
    };
  } finally {
    await watcher?.stop();
    await workers.killAll();
    await runLab?.close();
    await server?.close();
    await emulator?.close();
  }
}

function checkScenario(plan: ChaosPlan, initial: EmulatorStateSnapshot): void {
  const present = new Set(initial.instances.map((i) => i.instanceId));
  for (const g of plan.groups) {
    const missing = g.requested.filter((id) => !present.has(id));
    if (missing.length) throw new Error(`plan ${plan.seed}: the scenario did not create ${missing.join(', ')}`);
  }
}

/** Starts of a worker process tried before a run gives up (about 20 s of a server being down). */
const WORKER_START_ATTEMPTS = 8;

/** The worker process of the run; kills and restarts go one at a time. */
class WorkerKeeper {
  spawnWith: (() => Promise<WorkerProcess>) | undefined;
  kills = 0;
  private current: WorkerProcess | undefined;
  private readonly all: WorkerProcess[] = [];
  private chain: Promise<void> = Promise.resolve();

  /** SIGKILLs the worker (if one is up), waits `downMs`, starts a new one. */
  respawn(downMs: number, kill = false): Promise<void> {
    const step = this.chain.then(async () => {
      if (kill && this.current) {
        await this.current.kill('SIGKILL');
        this.kills++;
      }
      await sleep(downMs);
      this.current = await this.spawnRetrying();
      this.all.push(this.current);
    });
    this.chain = step.catch(() => undefined);
    return step;
  }

  /**
   * A worker started while the Temporal server is down (a server restart drawn at the same moment
   * as a worker kill) exits at once, unable to connect; like a process supervisor, start it again.
   */
  private async spawnRetrying(): Promise<WorkerProcess> {
    if (!this.spawnWith) throw new Error('WorkerKeeper: no spawn function');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.spawnWith();
      } catch (e) {
        if (attempt >= WORKER_START_ATTEMPTS) throw e;
        await sleep(500 * attempt);
      }
    }
  }

  /** Whether the current worker has died by itself (e.g. with the Temporal server). */
  dead(): boolean {
    const c = this.current?.child;
    return !c || c.exitCode !== null || c.signalCode !== null;
  }

  async killAll(): Promise<void> {
    await this.chain;
    await Promise.all(this.all.map((w) => w.kill('SIGKILL')));
  }
}

/**
 * Resolves true as soon as the emulator holds a RemoveInstances scaling activity of the group (read
 * from its state: the call log has the call only once it is answered), false if the run ended first.
 */
async function removalExists(ctx: RunContext, groupId: string): Promise<boolean> {
  while (!ctx.watcher.stopped && !ctx.ended.has(groupId)) {
    const s = await ctx.admin.state().catch(() => undefined);
    if (s?.activities.some((a) => a.scalingGroupId === groupId && a.kind === 'RemoveInstances')) return true;
    await sleep(20);
  }
  return false;
}

const sinceStart = (ctx: RunContext) => `${Date.now() - ctx.t0} ms (call ${ctx.watcher.seq})`;

async function killWorker(ctx: RunContext, workers: WorkerKeeper, k: ChaosPlan['kills'][number]): Promise<void> {
  if (k.onRemovalOf !== undefined) {
    if (!(await removalExists(ctx, k.onRemovalOf))) return;
  } else if (k.afterCalls !== undefined) {
    if (!(await ctx.watcher.reach(k.afterCalls))) return;
  } else {
    while (!ctx.watcher.stopped && Date.now() - ctx.t0 < k.afterMs) await sleep(50);
    if (ctx.watcher.stopped) return;
  }
  ctx.log(`  seed ${ctx.plan.seed}: worker SIGKILLed at ${sinceStart(ctx)}, down for ${k.downMs} ms`);
  await workers.respawn(k.downMs, true);
}

async function restartServer(
  ctx: RunContext,
  workers: WorkerKeeper,
  server: RestartableDevServer,
  k: ChaosPlan['serverRestarts'][number],
): Promise<void> {
  if (!(await ctx.watcher.reach(k.afterCalls ?? 0))) return;
  ctx.log(`  seed ${ctx.plan.seed}: Temporal server SIGKILLed at ${sinceStart(ctx)}, down for ${k.downMs} ms`);
  await server.crashAndRestart(k.downMs);
  // A worker that gave up while the server was away is started again (not counted as a kill).
  await sleep(1000);
  if (workers.dead()) {
    ctx.log(`  seed ${ctx.plan.seed}: the worker died with the server; starting another`);
    await workers.respawn(0);
  }
}

/** Operator cancels: a run that already ended refuses the cancel, which is fine. */
async function cancelRun(ctx: RunContext, g: GroupPlan): Promise<void> {
  if (g.cancelAfterDrainMs !== undefined) {
    if (!(await ctx.watcher.drainOf(g.requested))) return;
    await sleep(g.cancelAfterDrainMs);
  } else if (g.cancelAfterMs !== undefined) await sleep(g.cancelAfterMs);
  else return;
  const wf = ctx.workflowIds.get(g.groupId) as string;
  if (ctx.ended.has(g.groupId)) return;
  if (g.denyOnCancel) {
    await ctx.admin.settings({ deniedActions: [g.denyOnCancel] });
    ctx.log(`  seed ${ctx.plan.seed}: ${g.denyOnCancel} refused from now on`);
  }
  await ctx.client.cancel(wf).then(
    () => ctx.log(`  seed ${ctx.plan.seed}: cancelled ${wf} at ${sinceStart(ctx)}`),
    () => undefined,
  );
}

async function terminateRun(ctx: RunContext, g: GroupPlan): Promise<void> {
  if (g.terminateAfterCalls === undefined || !(await ctx.watcher.reach(g.terminateAfterCalls))) return;
  const wf = ctx.workflowIds.get(g.groupId) as string;
  if (ctx.ended.has(g.groupId)) return;
  try {
    await ctx.client.handle(wf).terminate('chaos: terminate');
    ctx.terminated.set(g.groupId, []);
    ctx.log(`  seed ${ctx.plan.seed}: terminated ${wf} at ${sinceStart(ctx)}`);
  } catch {
    // It had already ended.
  }
}

/**
 * A terminated run is repaired the way an operator would (`ess-scale-in repair`, twice: it must be
 * safe to run again), and judged by the repair: whatever it could not restore it must name, by
 * instance and place. If the repair itself cannot run, the harness falls back to the run's own
 * account (the progress query) and says so in `pending`.
 */
async function repairTerminated(
  ctx: RunContext,
  workflowId: string,
  groupId: string,
  notes: string[],
): Promise<LeftDrained[]> {
  let first: RepairResult;
  try {
    first = await repairRun(ctx.stack.rawClient, { workflowId, taskQueue: ctx.taskQueue });
    const second = await repairRun(ctx.stack.rawClient, { workflowId, taskQueue: ctx.taskQueue });
    ctx.log(`  seed ${ctx.plan.seed}: ${first.message}; again: ${second.message}`);
    if (second.counts.restored > 0)
      notes.push(`repair of ${groupId} run twice: the second restored ${second.counts.restored} again`);
  } catch (e) {
    notes.push(`terminate: repair of ${groupId} failed (${(e as Error).message}); judged by the run's own account`);
    return leftDrainedBy(ctx.client, workflowId, groupId, ctx.log);
  }
  return first.instances
    .filter((i) => i.outcome === 'failed')
    .map((i) => ({ instanceId: i.instanceId, places: i.why }));
}

/**
 * What a terminated run left drained, from its own account (the progress query, answered by a
 * worker replaying its history), the way a repair would find it: every instance of a batch that
 * started draining and did not end removed, at every place of its plan.
 */
async function leftDrainedBy(
  client: ScaleInClient,
  workflowId: string,
  groupId: string,
  log: (line: string) => void,
): Promise<LeftDrained[]> {
  let p: ProgressSnapshot;
  try {
    p = await client.progress(workflowId);
  } catch (e) {
    log(`  ${groupId}: no progress from the terminated run: ${(e as Error).message}`);
    return [];
  }
  const lbs = p.plan?.loadBalancers;
  const places = [
    ...(lbs?.clbIds ?? []),
    ...(lbs?.vServerGroups.map((v) => v.vServerGroupId) ?? []),
    ...(lbs?.albServerGroupIds ?? []),
    ...(p.input.drain.strategy === 'standby' ? ['Standby'] : []),
  ];
  const touched = new Set(['draining', 'drained', 'removing', 'polling', 'warning', 'failed']);
  return p.batches
    .filter((b) => touched.has(b.state))
    .flatMap((b) => b.instanceIds.map((instanceId) => ({ instanceId, places })));
}

async function actAsOther(ctx: RunContext, url: string, a: OtherActorPlan): Promise<void> {
  if (!(await ctx.watcher.reach(a.afterCalls))) return;
  const event = await ACT[a.kind](ctx, url, a).catch((e: unknown) => {
    ctx.log(`  seed ${ctx.plan.seed}: other actor ${a.kind} did not happen: ${(e as Error).message}`);
    return undefined;
  });
  if (!event) return;
  ctx.actorEvents.push(event);
  ctx.log(`  seed ${ctx.plan.seed}: other actor: ${a.kind} ${a.instanceId ?? a.groupId} at ${sinceStart(ctx)}`);
}

const ACT: Readonly<
  Record<
    OtherActorPlan['kind'],
    (ctx: RunContext, url: string, a: OtherActorPlan) => Promise<OtherActorEvent | undefined>
  >
> = {
  // As DetachInstances would: only an instance no scaling activity holds.
  async detach(ctx, _url, a) {
    const id = a.instanceId as string;
    const now = (await ctx.admin.state()).instances.find((i) => i.instanceId === id);
    if (!now || !['InService', 'Standby', 'Protected'].includes(now.lifecycleState)) return undefined;
    // DetachInstances then AttachInstances: an attached instance serves in its new group, so one that was
    // in Standby is InService there (a Standby instance in a group it never entered Standby in cannot exist).
    const state = now.lifecycleState === 'Standby' ? { lifecycleState: 'InService' } : {};
    await ctx.admin.patchInstance(id, { scalingGroupId: a.toGroupId as string, ...state });
    return { kind: 'detach', groupId: a.groupId, instanceId: id };
  },
  async 'manual-weight'(ctx, url, a) {
    const id = a.instanceId as string;
    const before = ctx.watcher.seq;
    const cloud: ClosableCloudClient = createCloudClient({
      credentials: staticCredentials(CHAOS_KEY.accessKeyId, CHAOS_KEY.accessKeySecret),
      endpoints: { ess: url, slb: url, alb: url },
    });
    let refused: unknown;
    try {
      await setWeightWithRetries(cloud, a);
    } catch (e) {
      refused = e;
    } finally {
      await cloud.close();
    }
    // Its own calls, refused ones included: those since it began that name only this instance
    // (the runs never name it).
    const calls = await ctx.admin.calls({ sinceSeq: before, action: 'SetVServerGroupAttribute' });
    const own = calls.filter((c) => instancesNamedIn(c).every((x) => x === id)).map((c) => c.seq);
    const backendsAfter = Object.fromEntries(backendsOf(await ctx.admin.state()).get(id) ?? []);
    if (refused) ctx.log(`  seed ${ctx.plan.seed}: other actor's weight change refused: ${(refused as Error).message}`);
    return { kind: 'manual-weight', groupId: a.groupId, instanceId: id, callSeqs: own, backendsAfter };
  },
  'complete-hook': completeHookActions,
  async 'competing-activity'(ctx, _url, a) {
    for (let attempt = 1; attempt <= 20; attempt++) {
      try {
        const activityId = await ctx.admin.startGroupActivity(a.groupId, a.durationMs ?? 2000);
        return { kind: 'competing-activity', groupId: a.groupId, activityId };
      } catch {
        // The group is busy with an activity of the run: try again shortly.
        await sleep(250);
      }
    }
    return undefined;
  },
};

/**
 * Another actor (a cleanup job) completes the group's lifecycle actions as they appear, each after
 * its drawn delay; an action that ended meanwhile (its timeout, the run) is left. Each completion is
 * an event of its own, so the actor reports none at the end.
 */
async function completeHookActions(ctx: RunContext, _url: string, a: OtherActorPlan): Promise<undefined> {
  const queue = [...(a.completions ?? [])];
  const seen = new Set<string>();
  const acts: Array<Promise<void>> = [];
  while (queue.length && !ctx.watcher.stopped && !ctx.ended.has(a.groupId)) {
    const s = await ctx.admin.state().catch(() => undefined);
    const fresh = (s?.lifecycleActions ?? []).filter(
      (x) => x.scalingGroupId === a.groupId && x.status === 'Pending' && !seen.has(x.lifecycleActionToken),
    );
    for (const action of fresh) {
      const c = queue.shift();
      if (!c) break;
      seen.add(action.lifecycleActionToken);
      acts.push(completeOne(ctx, a.groupId, action.lifecycleActionToken, action.instanceIds, c));
    }
    await sleep(50);
  }
  await Promise.all(acts);
  return undefined;
}

async function completeOne(
  ctx: RunContext,
  groupId: string,
  token: string,
  instanceIds: string[],
  c: NonNullable<OtherActorPlan['completions']>[number],
): Promise<void> {
  await sleep(c.delayMs);
  try {
    await ctx.admin.completeLifecycleAction(token, c.result);
  } catch (e) {
    ctx.log(`  seed ${ctx.plan.seed}: other actor: lifecycle action ${token} not completed: ${(e as Error).message}`);
    return;
  }
  ctx.actorEvents.push({ kind: 'complete-hook', groupId, lifecycleActionToken: token, result: c.result, instanceIds });
  ctx.log(`  seed ${ctx.plan.seed}: other actor: ${c.result} for lifecycle action ${token} at ${sinceStart(ctx)}`);
}

async function setWeightWithRetries(cloud: ClosableCloudClient, a: OtherActorPlan): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cloud.clb.setVServerGroupAttribute(CHAOS_REGION, a.vServerGroupId as string, [
        { serverId: a.instanceId as string, weight: a.weight as number, type: 'ecs', port: 8080 },
      ]);
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await sleep(200);
    }
  }
}

/** Waits for every run; a Temporal server away for a moment makes the wait fail, so it is retried. */
async function awaitResults(ctx: RunContext, timeoutMs: number) {
  const results = new Map<string, ScaleInResult | undefined>();
  const atEnd = new Map<string, EmulatorStateSnapshot>();
  const refused = new Map<string, string>();
  const violations: Violation[] = [];
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    [...ctx.workflowIds].map(async ([groupId, workflowId]) => {
      for (;;) {
        if (Date.now() > deadline) {
          violations.push({
            invariant: 'every-instance-accounted',
            detail: `${workflowId} did not finish within ${timeoutMs / 1000} s`,
          });
          results.set(groupId, undefined);
          break;
        }
        const outcome = await resultOrError(ctx.client, workflowId, deadline);
        if (outcome === 'retry') {
          await sleep(500);
          continue;
        }
        ctx.ended.add(groupId);
        atEnd.set(groupId, await ctx.admin.state());
        if (outcome instanceof ScaleInFailedError) {
          results.set(groupId, outcome.result);
          if (!outcome.result) refused.set(groupId, `${outcome.code}: ${outcome.message}`);
        } else results.set(groupId, outcome);
        break;
      }
    }),
  );
  return { results, atEnd, refused, violations };
}

async function resultOrError(
  client: ScaleInClient,
  workflowId: string,
  deadline: number,
): Promise<ScaleInResult | ScaleInFailedError | 'retry'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'retry'>((r) => {
    timer = setTimeout(() => r('retry'), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      client.result(workflowId).then(
        (r) => r,
        (e: unknown) => (e instanceof ScaleInFailedError ? e : 'retry'),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets the cloud finish whatever it accepted before it is judged (only a stuck or terminated run leaves one). */
async function settle(admin: EmulatorAdminClient): Promise<EmulatorStateSnapshot> {
  const waitUntil = Date.now() + 15_000;
  let final = await admin.state();
  while (final.activities.some((a) => a.statusCode === 'InProgress') && Date.now() < waitUntil) {
    await sleep(200);
    final = await admin.state();
  }
  return final;
}

/** One line on the lifecycle actions of the run: how each ended, and how many another actor completed. */
function hookTally(final: EmulatorStateSnapshot, events: readonly OtherActorEvent[]): string {
  const ends = new Map<string, number>();
  for (const a of final.lifecycleActions ?? []) {
    const k = `${a.status} ${a.result}`;
    ends.set(k, (ends.get(k) ?? 0) + 1);
  }
  const byActor = events.filter((e) => e.kind === 'complete-hook').length;
  const rolledBack = final.activities.filter((a) => a.errorCode === 'LifecycleHookRollback').length;
  return (
    `lifecycle actions: ${[...ends].map(([k, n]) => `${n} ${k}`).join(', ')}; ${byActor} completed by another ` +
    `actor; ${rolledBack} activit${rolledBack === 1 ? 'y' : 'ies'} rolled back`
  );
}
