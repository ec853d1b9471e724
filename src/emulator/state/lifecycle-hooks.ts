/**
 * ESS lifecycle hooks and the lifecycle actions they open on scaling activities. A scale-in hook
 * holds a RemoveInstances activity's instances in `Removing:Wait`: one action per hook per
 * activity, each `Pending` until CompleteLifecycleAction or its HeartbeatTimeout (then
 * `Timeout` with the hook's DefaultResult). An ABANDON or ROLLBACK ends the other actions of the
 * activity early; otherwise the wait ends with the last action. The activity store hears the
 * outcome through `WaitListener`. Timeouts are scheduler due times, so `--time-scale` covers them.
 */
import { randomUUID } from 'node:crypto';

import { apiError } from '../api-error';
import { randomAlnum } from '../ids';
import type { LifecycleActionSnapshot, LifecycleHookSnapshot, Scenario, ScenarioLifecycleHook } from '../types';
import type { DueEvent, EventSource, Scheduler } from './clock';
import type { ReadonlyDeep } from './shared';

export type HookResult = 'CONTINUE' | 'ABANDON' | 'ROLLBACK';
export const HOOK_RESULTS: readonly HookResult[] = ['CONTINUE', 'ABANDON', 'ROLLBACK'];
export const HOOK_TRANSITIONS = ['SCALE_IN', 'SCALE_OUT'] as const;
export const HOOK_STATUSES = ['Active', 'InActive'] as const;
export type HookStatus = (typeof HOOK_STATUSES)[number];

/** CreateLifecycleHook: HeartbeatTimeout 30..21600 s, default 600; at most 6 hooks per group. */
export const HEARTBEAT_MIN_S = 30;
export const HEARTBEAT_MAX_S = 21_600;
export const HEARTBEAT_DEFAULT_S = 600;
export const MAX_HOOKS_PER_GROUP = 6;
/** RecordLifecycleActionHeartbeat: a wait lasts at most 6 hours and takes at most 20 heartbeats. */
const MAX_WAIT_S = 6 * 3600;
const MAX_HEARTBEATS = 20;

export interface HookState {
  id: string;
  groupId: string;
  name: string;
  transition: string;
  /** Seconds, as the API reports it (unscaled). */
  heartbeatTimeout: number;
  defaultResult: HookResult;
  notificationArn: string | undefined;
  notificationMetadata: string | undefined;
  status: HookStatus;
}

export type ActionStatus = 'Pending' | 'Timeout' | 'Completed';

export interface LifecycleActionState {
  token: string;
  hookId: string;
  activityId: string;
  groupId: string;
  instanceIds: string[];
  status: ActionStatus;
  /** The hook's DefaultResult while Pending; the result that ended the action afterwards. */
  result: HookResult;
  startMs: number;
  dueMs: number;
  endMs: number | undefined;
  heartbeats: number;
}

/** A new hook, its fields already checked. */
export type NewHook = Omit<HookState, 'id'> & { id?: string | undefined };

export type HookPatch = Partial<Omit<HookState, 'id' | 'groupId'>>;

/** Told once per activity when its hook wait is over: the result that decides, and the hook that gave it. */
export interface WaitListener {
  waitEnded(activityId: string, result: HookResult, hookId: string | undefined, at: number): void;
}

function tokenMismatch(): never {
  throw apiError('LifecycleHookIdAndLifecycleActionToken.Invalid');
}

/** Deterministic IDs for scenario hooks, so a reset gives the same IDs: `ash-` + 20 characters. */
export function scenarioHookId(groupId: string, index: number): string {
  const stem = groupId
    .replace(/^asg-/, '')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 16);
  return `ash-${stem}${index.toString(36).padStart(20 - stem.length, '0')}`;
}

function hookFromScenario(groupId: string, h: ScenarioLifecycleHook, index: number): HookState {
  const id = h.id ?? scenarioHookId(groupId, index);
  return {
    id,
    groupId,
    name: h.name ?? id,
    transition: h.lifecycleTransition,
    heartbeatTimeout: h.heartbeatTimeout ?? HEARTBEAT_DEFAULT_S,
    defaultResult: (h.defaultResult as HookResult | undefined) ?? 'CONTINUE',
    notificationArn: h.notificationArn,
    notificationMetadata: h.notificationMetadata,
    status: (h.status as HookStatus | undefined) ?? 'Active',
  };
}

export class LifecycleHooks implements EventSource {
  private readonly hooks = new Map<string, HookState>();
  private readonly actions = new Map<string, LifecycleActionState>();
  private listener: WaitListener | undefined;

  constructor(private readonly scheduler: Scheduler) {}

  /** The activity store, wired after both exist. */
  setListener(listener: WaitListener): void {
    this.listener = listener;
  }

  load(s: Scenario): void {
    this.hooks.clear();
    this.actions.clear();
    for (const g of s.scalingGroups ?? [])
      (g.lifecycleHooks ?? []).forEach((h, i) => {
        const hook = hookFromScenario(g.id, h, i + 1);
        this.hooks.set(hook.id, hook);
      });
  }

  // --- hooks ----------------------------------------------------------------------------------

  hook(id: string): ReadonlyDeep<HookState> | undefined {
    return this.hooks.get(id);
  }

  /** The group's hooks in creation order. */
  hooksOf(groupId: string): Array<ReadonlyDeep<HookState>> {
    return [...this.hooks.values()].filter((h) => h.groupId === groupId);
  }

  hookByName(groupId: string, name: string): ReadonlyDeep<HookState> | undefined {
    return this.hooksOf(groupId).find((h) => h.name === name);
  }

  /** Quota and name uniqueness are the caller's to check (they answer API errors in a documented order). */
  create(h: NewHook): ReadonlyDeep<HookState> {
    const id = h.id ?? `ash-${randomAlnum(20)}`;
    const hook: HookState = { ...h, id, name: h.name === '' ? id : h.name };
    this.hooks.set(id, hook);
    return hook;
  }

  /** Changes apply to waits that start later; a Pending action keeps its timeout. */
  modify(id: string, patch: HookPatch): void {
    const hook = this.hooks.get(id);
    if (!hook) return;
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) Object.assign(hook, { [k]: v });
  }

  /** A deleted hook lets its waiting instances go at once, as its timeout would (its DefaultResult). */
  delete(id: string, at: number): void {
    const hook = this.hooks.get(id);
    if (!hook) return;
    this.hooks.delete(id);
    for (const a of this.actions.values())
      if (a.hookId === id && a.status === 'Pending') this.end(a, 'Timeout', hook.defaultResult, at);
  }

  /** The Active scale-in hooks of the group a RemoveInstances call does not bypass. */
  scaleInHooks(groupId: string, disableAll: boolean, ignored: readonly string[]): string[] {
    if (disableAll) return [];
    return this.hooksOf(groupId)
      .filter((h) => h.transition === 'SCALE_IN' && h.status === 'Active' && !ignored.includes(h.id))
      .map((h) => h.id);
  }

  // --- actions --------------------------------------------------------------------------------

  /** One Pending action per hook, each timing out after its hook's HeartbeatTimeout (scaled). */
  startWait(activityId: string, groupId: string, hookIds: readonly string[], instanceIds: string[], at: number): void {
    for (const hookId of hookIds) {
      const hook = this.hooks.get(hookId);
      if (!hook) continue;
      const token = randomUUID().toUpperCase();
      this.actions.set(token, {
        token,
        hookId,
        activityId,
        groupId,
        instanceIds: [...instanceIds],
        status: 'Pending',
        result: hook.defaultResult,
        startMs: at,
        dueMs: at + this.scheduler.scaled(hook.heartbeatTimeout * 1000),
        endMs: undefined,
        heartbeats: 0,
      });
    }
    // Every hook was deleted in between: nothing holds the instances.
    if (this.pendingOf(activityId).length === 0) this.listener?.waitEnded(activityId, 'CONTINUE', undefined, at);
    this.scheduler.schedule();
  }

  action(token: string): ReadonlyDeep<LifecycleActionState> | undefined {
    return this.actions.get(token);
  }

  /** The activity's actions, oldest first. */
  actionsOf(activityId: string): Array<ReadonlyDeep<LifecycleActionState>> {
    return [...this.actions.values()].filter((a) => a.activityId === activityId);
  }

  /** CompleteLifecycleAction: only a Pending action of that hook can be completed. */
  complete(hookId: string, token: string, result: HookResult | undefined, at: number): void {
    const a = this.pendingAction(hookId, token);
    const hook = this.hooks.get(hookId);
    this.end(a, 'Completed', result ?? hook?.defaultResult ?? a.result, at);
  }

  /** RecordLifecycleActionHeartbeat: the wait restarts for `timeoutS` from now, within 6 h and 20 calls. */
  heartbeat(hookId: string, token: string, timeoutS: number, at: number): void {
    const a = this.pendingAction(hookId, token);
    const due = at + this.scheduler.scaled(timeoutS * 1000);
    if (due - a.startMs > this.scheduler.scaled(MAX_WAIT_S * 1000)) throw apiError('LifecycleAction.TimeExceeded');
    if (a.heartbeats >= MAX_HEARTBEATS) throw apiError('LifecycleAction.RecordTimesExceeded');
    a.heartbeats++;
    a.dueMs = due;
    this.scheduler.schedule();
  }

  nextEvent(): DueEvent | undefined {
    let best: LifecycleActionState | undefined;
    for (const a of this.actions.values()) if (a.status === 'Pending' && (!best || a.dueMs < best.dueMs)) best = a;
    const due = best;
    return due ? { due: due.dueMs, run: (at) => this.end(due, 'Timeout', due.result, at) } : undefined;
  }

  // --- snapshots ------------------------------------------------------------------------------

  hookSnapshots(): LifecycleHookSnapshot[] {
    return [...this.hooks.values()].map((h) => {
      const s: LifecycleHookSnapshot = {
        lifecycleHookId: h.id,
        lifecycleHookName: h.name,
        scalingGroupId: h.groupId,
        lifecycleTransition: h.transition,
        heartbeatTimeout: h.heartbeatTimeout,
        defaultResult: h.defaultResult,
        status: h.status,
      };
      if (h.notificationArn !== undefined) s.notificationArn = h.notificationArn;
      if (h.notificationMetadata !== undefined) s.notificationMetadata = h.notificationMetadata;
      return s;
    });
  }

  actionSnapshots(): LifecycleActionSnapshot[] {
    return [...this.actions.values()].map((a) => {
      const s: LifecycleActionSnapshot = {
        lifecycleActionToken: a.token,
        lifecycleHookId: a.hookId,
        scalingActivityId: a.activityId,
        scalingGroupId: a.groupId,
        instanceIds: [...a.instanceIds],
        status: a.status,
        result: a.result,
        startTime: new Date(a.startMs).toISOString(),
        timeoutTime: new Date(a.dueMs).toISOString(),
        heartbeats: a.heartbeats,
      };
      if (a.endMs !== undefined) s.endTime = new Date(a.endMs).toISOString();
      return s;
    });
  }

  // --- internals ------------------------------------------------------------------------------

  private pendingOf(activityId: string): LifecycleActionState[] {
    return [...this.actions.values()].filter((a) => a.activityId === activityId && a.status === 'Pending');
  }

  /** A token that is unknown, of another hook, or no longer Pending gets the one documented error. */
  private pendingAction(hookId: string, token: string): LifecycleActionState {
    const a = this.actions.get(token);
    if (!a || a.hookId !== hookId || a.status !== 'Pending') tokenMismatch();
    return a;
  }

  /**
   * Ends one action. For a scale-in, ABANDON or ROLLBACK ends the activity's other waits early (as
   * timeouts) and decides; otherwise the wait is over when no action is left Pending.
   */
  private end(a: LifecycleActionState, status: ActionStatus, result: HookResult, at: number): void {
    a.status = status;
    a.result = result;
    a.endMs = at;
    const decisive = result !== 'CONTINUE';
    const others = this.pendingOf(a.activityId);
    if (decisive) for (const o of others) Object.assign(o, { status: 'Timeout', endMs: at });
    if (decisive || others.length === 0) this.listener?.waitEnded(a.activityId, result, a.hookId, at);
    this.scheduler.schedule();
  }
}
