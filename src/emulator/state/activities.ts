/**
 * ESS scaling activities. A RemoveInstances activity takes its instances out of traffic at once,
 * deregisters them from the attached load balancers when the drain wait is over, and at its end
 * removes them (or rolls the failed ones back) and reports its final status. Admin-injected
 * activities only keep their group busy. Phases run through the scheduler (`nextEvent`).
 */
import { mulberry32 } from '../faults';
import { minuteStamp, newActivityId } from '../ids';
import type { ActivitySnapshot } from '../types';
import type { Backends } from './backends';
import type { DueEvent, EventSource, Scheduler } from './clock';
import type { HookResult, LifecycleHooks, WaitListener } from './lifecycle-hooks';
import type { ActivityTotals, GroupState, SavedInstance, ScalingGroups } from './scaling-groups';
import type { OutcomeRuleState, Settings } from './settings';
import type { ReadonlyDeep } from './shared';

export type ActivityEndStatus = 'Successful' | 'Warning' | 'Failed';

export interface ActivityState {
  id: string;
  groupId: string;
  kind: 'RemoveInstances' | 'Injected';
  status: 'InProgress' | ActivityEndStatus | 'Rejected';
  statusMessage: string;
  description: string;
  cause: string;
  startMs: number;
  endMs: number | undefined;
  drainDueMs: number;
  endDueMs: number;
  /**
   * `deregistering`: ESS's ALB removal jobs still run (until `deregisteredDueMs`); `waiting`:
   * deregistered, instances in `Removing:Wait` until the lifecycle hooks let them go.
   */
  phase: 'draining' | 'deregistering' | 'waiting' | 'deregistered' | 'done';
  deregisteredDueMs: number;
  /** The scale-in lifecycle hooks that hold this activity (bypassed ones left out). */
  hookIds: string[];
  instanceIds: string[];
  failIds: Set<string>;
  ignoredIds: string[];
  removePolicy: string;
  decreaseDesired: boolean;
  /** Final status chosen at creation (from scenario outcome rules), applied at the end. */
  plannedStatus: ActivityEndStatus;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  saved: Map<string, SavedInstance>;
  removedIds: string[];
  releasedIds: string[];
  stoppedIds: string[];
  /** Group capacity snapshot at the end (while InProgress: computed live). */
  totals: ActivityTotals | undefined;
}

/** A RemoveInstances call that passed validation. */
export interface RemovalRequest {
  group: ReadonlyDeep<GroupState>;
  instanceIds: string[];
  ignoredIds: string[];
  removePolicy: string;
  decreaseDesired: boolean;
  /** Scale-in lifecycle hooks that apply (LifecycleHookContext already applied). */
  hookIds: string[];
}

/** How a ROLLBACK is reported: no code is documented for it (docs/emulator.md, inferred). */
export const HOOK_ROLLBACK_CODE = 'LifecycleHookRollback';

const UNKNOWN_ERROR_MESSAGE = 'The request processing has failed due to some unknown error, exception or failure.';

/** What every new scaling activity starts with, whatever created it: nothing done yet. */
function activityBookkeeping(): Pick<ActivityState, 'saved' | 'removedIds' | 'releasedIds' | 'stoppedIds' | 'totals'> {
  return { saved: new Map(), removedIds: [], releasedIds: [], stoppedIds: [], totals: undefined };
}

/** Failed and Warning rules pick the instances that fail; any rule sets the error code and message. */
function planOutcome(a: ActivityState, rule: Readonly<OutcomeRuleState> | undefined): void {
  if (rule?.status === 'Failed') {
    a.plannedStatus = 'Failed';
    for (const id of a.instanceIds) a.failIds.add(id);
  } else if (rule?.status === 'Warning') {
    const wanted = rule.failInstanceIds ?? rule.match?.instanceIds ?? a.instanceIds.slice(0, 1);
    for (const id of a.instanceIds) if (wanted.includes(id)) a.failIds.add(id);
    a.plannedStatus = a.failIds.size > 0 && a.failIds.size === a.instanceIds.length ? 'Failed' : 'Warning';
  }
  if (rule) {
    a.errorCode = rule.errorCode ?? 'InternalError';
    a.errorMessage = rule.errorMessage ?? UNKNOWN_ERROR_MESSAGE;
  }
  if (a.plannedStatus === 'Successful' && a.ignoredIds.length > 0) a.plannedStatus = 'Warning';
}

function finalStatusMessage(a: ActivityState): string {
  const removed = a.removedIds.length;
  const failed = a.failIds.size;
  if (a.kind === 'Injected') return a.status === 'Successful' ? '' : (a.errorMessage ?? '');
  if (a.status === 'Successful') return `"${removed}" ECS instances are removed.`;
  if (a.status !== 'Warning') return a.errorMessage ?? 'The scaling activity failed.';
  const parts = [`"${removed}" ECS instances are removed`];
  if (failed > 0) parts.push(`"${failed}" ECS instances failed to be removed`);
  if (a.ignoredIds.length > 0) parts.push(`"${a.ignoredIds.length}" invalid instance IDs were ignored`);
  return `${parts.join(', ')}.`;
}

const DURATION_SEED = 2026;

export class ScalingActivities implements EventSource, WaitListener {
  private readonly activities = new Map<string, ActivityState>();
  private readonly durationDice = mulberry32(DURATION_SEED);

  constructor(
    private readonly scheduler: Scheduler,
    private readonly groups: ScalingGroups,
    private readonly backends: Backends,
    private readonly settings: Settings,
    private readonly hooks: LifecycleHooks,
  ) {
    hooks.setListener(this);
  }

  clear(): void {
    this.activities.clear();
  }

  list(): Array<ReadonlyDeep<ActivityState>> {
    return [...this.activities.values()];
  }

  /** The activity that blocks the group (ScalingActivityInProgress), if any. */
  inProgress(groupId: string): ReadonlyDeep<ActivityState> | undefined {
    for (const a of this.activities.values()) if (a.groupId === groupId && a.status === 'InProgress') return a;
    return undefined;
  }

  /** Whether a listing by group shows the activity yet (`timings.activityListingLagMs`). */
  listedByGroup(a: ReadonlyDeep<ActivityState>, now = this.scheduler.now()): boolean {
    return now - a.startMs >= this.scheduler.scaled(this.settings.timings.activityListingLagMs);
  }

  /** Whether a lookup by ScalingActivityId finds the activity yet (`timings.activityLookupLagMs`). */
  foundById(a: ReadonlyDeep<ActivityState>, now = this.scheduler.now()): boolean {
    return now - a.startMs >= this.scheduler.scaled(this.settings.timings.activityLookupLagMs);
  }

  /**
   * The instance as DescribeScalingInstances shows it (`timings.lifecycleStateLagMs`): for a while
   * after a RemoveInstances activity took it, its state and activity from before; RemoveInstances
   * itself sees the current state.
   */
  shownInstance<T extends { id: string; lifecycleState: string; scalingActivityId: string | undefined }>(
    inst: T,
    now = this.scheduler.now(),
  ): T {
    const a = inst.scalingActivityId === undefined ? undefined : this.activities.get(inst.scalingActivityId);
    const saved = a?.saved.get(inst.id);
    if (!a || !saved || now - a.startMs >= this.scheduler.scaled(this.settings.timings.lifecycleStateLagMs))
      return inst;
    return { ...inst, lifecycleState: saved.prevState, scalingActivityId: saved.prevActivityId };
  }

  /** 0..99 by elapsed time while InProgress; 100 once ended; 0 when Rejected. */
  progressOf(a: ReadonlyDeep<ActivityState>, now = this.scheduler.now()): number {
    if (a.status === 'Rejected') return 0;
    if (a.status !== 'InProgress') return 100;
    const span = a.endDueMs - a.startMs;
    if (span <= 0) return 99;
    return Math.max(0, Math.min(99, Math.floor(((now - a.startMs) / span) * 100)));
  }

  /** Accepts a RemoveInstances call: an outcome rule may reject it at once, else the instances stop taking traffic. */
  startRemoval(req: RemovalRequest): ReadonlyDeep<ActivityState> {
    const rule = this.settings.takeOutcome(req.instanceIds);
    const a = this.newRemoval(req);
    this.activities.set(a.id, a);
    if (rule?.status === 'Rejected') {
      this.reject(a, rule);
      return a;
    }
    planOutcome(a, rule);
    for (const id of a.instanceIds) {
      const saved = this.groups.beginRemoval(req.group, id, a.id);
      if (saved) a.saved.set(id, saved);
    }
    this.scheduler.schedule();
    return a;
  }

  /** Admin: an InProgress activity that only blocks the group for `durationMs`. */
  startInjected(
    groupId: string,
    durationMs: number,
    finalStatus: ActivityEndStatus = 'Successful',
  ): ReadonlyDeep<ActivityState> {
    const now = this.scheduler.now();
    const a: ActivityState = {
      id: newActivityId(),
      groupId,
      kind: 'Injected',
      status: 'InProgress',
      statusMessage: '',
      description: 'Add "0" ECS instances',
      cause: `At ${minuteStamp(now)}, a user started a scaling activity (emulator admin).`,
      startMs: now,
      endMs: undefined,
      drainDueMs: now,
      deregisteredDueMs: now,
      endDueMs: now + Math.max(0, durationMs),
      phase: 'deregistered',
      hookIds: [],
      instanceIds: [],
      failIds: new Set(),
      ignoredIds: [],
      removePolicy: 'release',
      decreaseDesired: false,
      plannedStatus: finalStatus,
      errorCode: finalStatus === 'Successful' ? undefined : 'InternalError',
      errorMessage: finalStatus === 'Successful' ? undefined : 'Injected failure.',
      ...activityBookkeeping(),
    };
    this.activities.set(a.id, a);
    this.scheduler.schedule();
    return a;
  }

  nextEvent(): DueEvent | undefined {
    let best: DueEvent | undefined;
    for (const a of this.activities.values()) {
      // A hook wait's events are the lifecycle hook store's.
      if (a.status !== 'InProgress' || a.phase === 'waiting') continue;
      const ev: DueEvent =
        a.phase === 'draining'
          ? { due: a.drainDueMs, run: (at) => this.deregister(a, at) }
          : a.phase === 'deregistering'
            ? { due: a.deregisteredDueMs, run: (at) => this.deregistered(a, at) }
            : { due: a.endDueMs, run: (at) => this.finish(a, at) };
      if (!best || ev.due < best.due) best = ev;
    }
    return best;
  }

  snapshot(a: ReadonlyDeep<ActivityState>): ActivitySnapshot {
    const out: ActivitySnapshot = {
      scalingActivityId: a.id,
      scalingGroupId: a.groupId,
      kind: a.kind,
      statusCode: a.status,
      progress: this.progressOf(a),
      instanceIds: [...a.instanceIds],
      failedInstanceIds: [...a.failIds],
      ignoredInstanceIds: [...a.ignoredIds],
      removePolicy: a.removePolicy,
      startTime: new Date(a.startMs).toISOString(),
    };
    if (a.endMs !== undefined) out.endTime = new Date(a.endMs).toISOString();
    if (a.hookIds.length > 0) out.lifecycleHookIds = [...a.hookIds];
    if (a.errorCode !== undefined) out.errorCode = a.errorCode;
    if (a.errorMessage !== undefined) out.errorMessage = a.errorMessage;
    return out;
  }

  snapshots(): ActivitySnapshot[] {
    return [...this.activities.values()].map((a) => this.snapshot(a));
  }

  /** activityDurationMs, or a draw within its spread from a seeded sequence (the same for every run of a scenario). */
  private drawDurationMs(): number {
    const { activityDurationMs, activityDurationSpreadMs: spread } = this.settings.timings;
    if (!spread) return activityDurationMs;
    return Math.round(activityDurationMs - spread + 2 * spread * this.durationDice());
  }

  private newRemoval(req: RemovalRequest): ActivityState {
    const now = this.scheduler.now();
    const n = req.instanceIds.length;
    const duration = this.scheduler.scaled(this.drawDurationMs());
    const drain = Math.min(this.scheduler.scaled(this.settings.timings.essDrainWaitMs), duration);
    return {
      id: newActivityId(),
      groupId: req.group.id,
      kind: 'RemoveInstances',
      status: 'InProgress',
      statusMessage: '',
      description: `Remove "${n}" ECS instances`,
      cause: `At ${minuteStamp(now)}, ${n} instance(s) were removed by API call.`,
      startMs: now,
      endMs: undefined,
      drainDueMs: now + drain,
      deregisteredDueMs: now + drain,
      endDueMs: now + Math.max(duration, drain),
      phase: 'draining',
      hookIds: [...req.hookIds],
      instanceIds: [...req.instanceIds],
      failIds: new Set(),
      ignoredIds: [...req.ignoredIds],
      removePolicy: req.removePolicy,
      decreaseDesired: req.decreaseDesired,
      plannedStatus: 'Successful',
      errorCode: undefined,
      errorMessage: undefined,
      ...activityBookkeeping(),
    };
  }

  /** Rejected: ends at once, having touched nothing. */
  private reject(a: ActivityState, rule: Readonly<OutcomeRuleState>): void {
    a.status = 'Rejected';
    a.phase = 'done';
    a.endMs = a.startMs;
    a.errorCode = rule.errorCode ?? 'Rejected';
    a.errorMessage = rule.errorMessage ?? 'The scaling activity was rejected.';
    a.statusMessage = a.errorMessage;
    a.totals = this.groups.totalsOf(a.groupId);
  }

  /**
   * Drain wait over: ESS deregisters the instances from the attached load balancers, through their
   * state machines (a CLB change window, ALB jobs), so the run's next changes there can be refused.
   * Scale-in lifecycle hooks then hold them in `Removing:Wait`, one Pending action per hook.
   */
  private deregister(a: ActivityState, at: number): void {
    const refs = [...a.saved.values()].flatMap((saved) => saved.backends);
    const clbUntil = at + this.scheduler.scaled(this.settings.timings.clbChangeWindowMs);
    const albDone = this.backends.deregisterAsEss(refs, clbUntil);
    if (albDone > at) {
      // ESS goes on once its ALB/NLB jobs are done; the activity cannot end before.
      a.phase = 'deregistering';
      a.deregisteredDueMs = albDone;
      a.endDueMs = Math.max(a.endDueMs, albDone);
      return;
    }
    this.deregistered(a, at);
  }

  private deregistered(a: ActivityState, at: number): void {
    a.phase = 'deregistered';
    if (a.hookIds.length === 0) return;
    a.phase = 'waiting';
    const held = a.instanceIds.filter((id) => a.saved.has(id));
    for (const id of held) this.groups.setRemovalWait(id, true);
    this.hooks.startWait(a.id, a.groupId, a.hookIds, held, at);
  }

  /**
   * The hooks let the instances go. CONTINUE and ABANDON go on with the removal, which ends as it
   * would have (the rest of its duration, or at once); ROLLBACK keeps every instance: the activity
   * ends at once, Failed, with all of them rolled back.
   */
  waitEnded(activityId: string, result: HookResult, hookId: string | undefined, at: number): void {
    const a = this.activities.get(activityId);
    if (!a || a.status !== 'InProgress' || a.phase !== 'waiting') return;
    for (const id of a.instanceIds) this.groups.setRemovalWait(id, false);
    a.phase = 'deregistered';
    if (result === 'ROLLBACK') {
      this.rollBackAll(a, hookId);
      this.finish(a, at);
    } else a.endDueMs = Math.max(a.endDueMs, at);
    this.scheduler.schedule();
  }

  private rollBackAll(a: ActivityState, hookId: string | undefined): void {
    for (const id of a.instanceIds) a.failIds.add(id);
    a.plannedStatus = 'Failed';
    const hook = hookId === undefined ? undefined : this.hooks.hook(hookId);
    const named = hook ? `lifecycle hook "${hook.name}" (${hook.id})` : 'lifecycle hook';
    a.errorCode = HOOK_ROLLBACK_CODE;
    const n = a.instanceIds.length;
    a.errorMessage = `The ${named} ended the wait with ROLLBACK: "${n}" ECS instances were rolled back.`;
  }

  private finish(a: ActivityState, at: number): void {
    this.settleInstances(a, at);
    if (a.decreaseDesired) this.groups.decreaseDesired(a.groupId, a.removedIds.length);
    a.status = a.plannedStatus;
    a.phase = 'done';
    a.endMs = at;
    a.totals = this.groups.totalsOf(a.groupId);
    a.statusMessage = finalStatusMessage(a);
  }

  /** Failed instances roll back; the others leave the group (released, stopped or detached). */
  private settleInstances(a: ActivityState, at: number): void {
    for (const id of a.instanceIds) {
      const saved = a.saved.get(id);
      if (!saved || !this.groups.instance(id)) continue;
      if (a.failIds.has(id)) {
        this.groups.rollBack(id, saved);
        continue;
      }
      const fate = this.groups.leave(id, { groupId: a.groupId, activityId: a.id, removePolicy: a.removePolicy, at });
      if (fate === 'released') a.releasedIds.push(id);
      else if (fate === 'stopped') a.stoppedIds.push(id);
      a.removedIds.push(id);
    }
  }
}
