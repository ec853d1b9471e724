/**
 * What must hold after a scale-in, however many workers died and API calls failed. Every check
 * reads the emulator's call log and state (what the cloud saw and did), never the workflow's own
 * account, except the last one, which compares that account with the cloud.
 */
import type { CallLogEntry, EmulatorStateSnapshot } from '../src/emulator/types';
import type { ScaleInResult } from '../src/shared/progress';

export type InvariantName =
  | 'accepted-once'
  | 'only-requested-touched'
  | 'every-instance-accounted'
  | 'none-left-drained'
  | 'result-matches-cloud'
  | 'activities-ended'
  | 'hooks-as-asked';

export interface Violation {
  invariant: InvariantName;
  detail: string;
}

export interface InvariantInput {
  /** Scaling group ID → the instances the run was asked to remove. */
  requested: ReadonlyMap<string, readonly string[]>;
  /** The emulator before any run started, and after every run ended. */
  initial: EmulatorStateSnapshot;
  final: EmulatorStateSnapshot;
  calls: readonly CallLogEntry[];
  /** Scaling group ID → the run's result (undefined when the run produced none). */
  results: ReadonlyMap<string, ScaleInResult | undefined>;
  /** What other actors did, recorded as they did it, so their changes are not blamed on the runs. */
  otherActors?: readonly OtherActorEvent[];
  /**
   * Terminated runs (group ID → what the harness, from the run's own account, reports left drained).
   * A terminated run has no result; nothing may be left drained that this report does not name.
   */
  terminated?: ReadonlyMap<string, readonly LeftDrained[]>;
  /** Group ID → the emulator's state read the moment that run's result came back. */
  atEnd?: ReadonlyMap<string, EmulatorStateSnapshot>;
  /**
   * Group ID → the failure of a run that ended without a result (refused, e.g. by preflight). That is
   * a reason for every instance only if the run changed none of them.
   */
  refused?: ReadonlyMap<string, string>;
  /**
   * Group ID → what its run was asked to do about lifecycle hooks. Given, the run's RemoveInstances
   * must bypass exactly the hooks it was asked to, and its CompleteLifecycleAction calls must answer
   * CONTINUE for the named hooks of its own activities only.
   */
  lifecycleHooks?: ReadonlyMap<string, HookOptions>;
}

export interface HookOptions {
  mode?: 'wait' | 'complete' | 'skip';
  hookIds?: string[];
  all?: boolean;
}

export interface OtherActorEvent {
  kind: 'detach' | 'manual-weight' | 'competing-activity' | 'complete-hook';
  groupId: string;
  instanceId?: string;
  /** Call-log entries that were this actor's own API calls (never blamed on a run). */
  callSeqs?: number[];
  /** manual-weight: the instance's backends right after the change, its new baseline. */
  backendsAfter?: Record<string, number>;
  /** competing-activity: the scaling activity it started. */
  activityId?: string;
  /** complete-hook: the lifecycle action it completed, with which result, holding which instances. */
  lifecycleActionToken?: string;
  result?: string;
  instanceIds?: string[];
}

/** An instance a run left out of service, and where (place IDs: CLB, vserver group, ALB server group, `Standby`). */
export interface LeftDrained {
  instanceId: string;
  places: string[];
}

const INSTANCE_ID = /\bi-[a-z0-9]{8,30}\b/g;

/** Instance IDs named anywhere in a call's parameters (InstanceId.N, BackendServers JSON, Servers.N.ServerId...). */
export function instancesNamedIn(call: Pick<CallLogEntry, 'params'>): string[] {
  const out = new Set<string>();
  for (const v of Object.values(call.params)) for (const m of v.matchAll(INSTANCE_ID)) out.add(m[0]);
  return [...out];
}

function isMutating(action: string): boolean {
  return !/^(Describe|List|Get)/.test(action);
}

/** Every load-balancer backend of an instance, keyed by where it is registered, with its weight. */
export function backendsOf(s: EmulatorStateSnapshot): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const put = (id: string, key: string, weight: number) => {
    let m = out.get(id);
    if (!m) out.set(id, (m = new Map()));
    m.set(key, weight);
  };
  for (const lb of s.loadBalancers) {
    for (const b of lb.backendServers) put(b.serverId, `clb ${lb.loadBalancerId}`, b.weight);
    for (const v of lb.vServerGroups)
      for (const b of v.backendServers) put(b.serverId, `vsg ${v.vServerGroupId}:${b.port}`, b.weight);
  }
  for (const g of s.albServerGroups)
    for (const b of g.servers) put(b.serverId, `alb ${g.serverGroupId}:${b.port}`, b.weight);
  return out;
}

function describeBackends(m: Map<string, number> | undefined): string {
  return m && m.size
    ? [...m]
        .map(([k, w]) => `${k}=${w}`)
        .sort()
        .join(', ')
    : 'none';
}

export function checkInvariants(input: InvariantInput): Violation[] {
  const v: Violation[] = [];
  const add = (invariant: InvariantName, detail: string) => v.push({ invariant, detail });
  const allRequested = new Set([...input.requested.values()].flat());
  const groupOf = new Map<string, string>();
  for (const [g, ids] of input.requested) for (const id of ids) groupOf.set(id, g);
  const initialInstances = new Map(input.initial.instances.map((i) => [i.instanceId, i]));
  const finalInstances = new Map(input.final.instances.map((i) => [i.instanceId, i]));
  const initialBackends = backendsOf(input.initial);
  const finalBackends = backendsOf(input.final);

  // 1. No instance is accepted for removal twice: neither two accepted calls nor two scaling activities.
  // A Rejected activity touched nothing (the instances stay in service), so sending them again is right.
  const rejected = new Set(
    input.final.activities.filter((a) => a.statusCode === 'Rejected').map((a) => a.scalingActivityId),
  );
  const acceptedBy = new Map<string, string[]>();
  for (const c of input.calls) {
    if (c.action !== 'RemoveInstances' || !c.createdActivityId || rejected.has(c.createdActivityId)) continue;
    for (const id of instancesNamedIn(c))
      acceptedBy.set(id, [...(acceptedBy.get(id) ?? []), `call #${c.seq} → ${c.createdActivityId}`]);
  }
  for (const [id, by] of acceptedBy)
    if (by.length > 1) add('accepted-once', `${id} was accepted for removal ${by.length} times: ${by.join('; ')}`);
  const inActivities = new Map<string, string[]>();
  for (const a of input.final.activities) {
    if (a.kind !== 'RemoveInstances' || rejected.has(a.scalingActivityId)) continue;
    for (const id of a.instanceIds) inActivities.set(id, [...(inActivities.get(id) ?? []), a.scalingActivityId]);
  }
  for (const [id, acts] of inActivities)
    if (acts.length > 1) add('accepted-once', `${id} is in ${acts.length} scaling activities: ${acts.join(', ')}`);

  // 2. Nothing outside the request is touched: no change call names it, and its state is as it was.
  const actors = input.otherActors ?? [];
  const actorCalls = new Set(actors.flatMap((a) => a.callSeqs ?? []));
  const baseline = new Map<string, string>();
  for (const a of actors)
    if (a.instanceId && a.backendsAfter)
      baseline.set(a.instanceId, describeBackends(new Map(Object.entries(a.backendsAfter))));
  for (const c of input.calls) {
    if (!isMutating(c.action) || actorCalls.has(c.seq)) continue;
    const group = c.params.ScalingGroupId;
    for (const id of instancesNamedIn(c)) {
      if (!allRequested.has(id))
        add('only-requested-touched', `${c.action} (call #${c.seq}) named ${id}, which no run was asked to remove`);
      else if (group && groupOf.get(id) !== group)
        add(
          'only-requested-touched',
          `${c.action} (call #${c.seq}) on ${group} named ${id}, requested for ${groupOf.get(id)}`,
        );
    }
  }
  for (const [id, before] of initialInstances) {
    if (allRequested.has(id)) continue;
    const after = finalInstances.get(id);
    if (!after) add('only-requested-touched', `${id} was not requested but left ${before.scalingGroupId}`);
    else if (after.lifecycleState !== before.lifecycleState)
      add(
        'only-requested-touched',
        `${id} was not requested but went from ${before.lifecycleState} to ${after.lifecycleState}`,
      );
    const wb = baseline.get(id) ?? describeBackends(initialBackends.get(id));
    const wa = describeBackends(finalBackends.get(id));
    if (wb !== wa) add('only-requested-touched', `${id} was not requested but its backends changed: ${wb} → ${wa}`);
  }

  // 3 and 5. Every requested instance is removed or reported with a reason, and the report agrees with the cloud.
  const terminated = input.terminated ?? new Map<string, readonly LeftDrained[]>();
  for (const [group, ids] of input.requested) {
    if (terminated.has(group)) continue;
    const refusal = input.refused?.get(group);
    if (refusal && !input.results.get(group)) {
      const changed = input.calls.filter(
        (c) => isMutating(c.action) && !actorCalls.has(c.seq) && instancesNamedIn(c).some((id) => ids.includes(id)),
      );
      if (changed.length)
        add(
          'every-instance-accounted',
          `the run on ${group} failed without a result (${refusal}) after ${changed.length} change call(s) ` +
            `on its instances (first: ${changed[0]?.action} #${changed[0]?.seq})`,
        );
      continue;
    }
    checkResult(group, ids, input.results.get(group), finalInstances, add);
  }

  // 4. Nothing is left out of service without being reported by instance and place, wherever it went
  // (an instance another actor moved to another group included).
  for (const [group, ids] of input.requested) {
    for (const id of ids) {
      const drift = driftOf(id, initialInstances, finalInstances, initialBackends, finalBackends);
      if (!drift.length) continue;
      const where = drift.join(', ');
      const leftBy = terminated.get(group);
      if (leftBy) {
        const said =
          leftBy
            .find((l) => l.instanceId === id)
            ?.places.join(' ')
            .toLowerCase() ?? '';
        const missing = unnamed(drift, said, finalInstances.get(id)?.lifecycleState);
        if (missing.length)
          add(
            'none-left-drained',
            `${id} (terminated run on ${group}) is left out of service at ${missing.join(', ')}, ` +
              'which the repair did not report',
          );
        continue;
      }
      const entry = input.results.get(group)?.notRemoved.find((r) => r.instanceId === id);
      const text = entry ? JSON.stringify(entry).toLowerCase() : '';
      const missing = unnamed(drift, text, finalInstances.get(id)?.lifecycleState);
      if (!entry || (entry.outcome as string) !== 'drained-not-restored' || missing.length)
        add(
          'none-left-drained',
          `${id} of ${group} is left out of service (${where}) but the result reports it ` +
            (entry ? `${entry.outcome}${missing.length ? `, without naming ${missing.join(', ')}` : ''}` : 'nowhere'),
        );
    }
  }

  // 7. Lifecycle hooks: bypassed, completed and reported as the run was asked (see checkHooks).
  if (input.lifecycleHooks) checkHooks(input, input.lifecycleHooks, terminated, finalInstances, add);

  // 6. A run that says it is done has no scaling activity of its own still running: judged on the state
  // read the moment its result came back, and (for every run) after the cloud had 15 s to finish.
  const created = new Set(input.calls.flatMap((c) => (c.createdActivityId ? [c.createdActivityId] : [])));
  for (const [group, snap] of input.atEnd ?? new Map<string, EmulatorStateSnapshot>()) {
    if (terminated.has(group)) continue;
    for (const a of snap.activities)
      if (a.scalingGroupId === group && a.statusCode === 'InProgress' && created.has(a.scalingActivityId))
        add(
          'activities-ended',
          `scaling activity ${a.scalingActivityId} of ${group} was still InProgress when the run ended`,
        );
  }
  const injected = new Set(actors.flatMap((a) => (a.activityId ? [a.activityId] : [])));
  for (const a of input.final.activities) {
    if (input.requested.has(a.scalingGroupId) && a.statusCode === 'InProgress' && !injected.has(a.scalingActivityId))
      add(
        'activities-ended',
        `scaling activity ${a.scalingActivityId} of ${a.scalingGroupId} is still InProgress after the run ended`,
      );
  }
  return v;
}

type Add = (invariant: InvariantName, detail: string) => void;

/**
 * The places of `drift` a report (lower-cased) does not name. An instance left in Standby is out of
 * every load balancer because of its state (ESS sets its weights to 0 and ExitStandby gives them back),
 * so a report that says Standby names its load-balancer places too.
 */
export function unnamed(drift: readonly string[], report: string, lifecycleState: string | undefined): string[] {
  const byStandby = lifecycleState === 'Standby' && report.includes('standby');
  return drift.filter((p) => !report.includes(p.toLowerCase()) && !(byStandby && p !== 'Standby'));
}
type Instances = ReadonlyMap<string, EmulatorStateSnapshot['instances'][number]>;

/**
 * Where a requested instance that still exists is no longer as it was: each load-balancer place whose
 * weight changed (its ID), and `Standby` (or the new state) when its lifecycle changed. Empty when it
 * was removed (it no longer exists) or serves exactly as before.
 */
export function driftOf(
  id: string,
  initial: Instances,
  final: Instances,
  initialBackends: Map<string, Map<string, number>>,
  finalBackends: Map<string, Map<string, number>>,
): string[] {
  const before = initial.get(id);
  const after = final.get(id);
  if (!before || !after) return [];
  const out: string[] = [];
  if (after.lifecycleState !== before.lifecycleState) out.push(after.lifecycleState);
  const b = initialBackends.get(id) ?? new Map<string, number>();
  const a = finalBackends.get(id) ?? new Map<string, number>();
  for (const [place, weight] of b) if (a.get(place) !== weight) out.push(placeId(place));
  return [...new Set(out)];
}

/** `vsg rsp-x:8080` → `rsp-x`, `clb lb-x` → `lb-x`. */
function placeId(key: string): string {
  return (key.split(' ')[1] ?? key).split(':')[0] ?? key;
}

function checkResult(
  group: string,
  ids: readonly string[],
  result: ScaleInResult | undefined,
  finalInstances: Instances,
  add: Add,
): void {
  if (!result) {
    add(
      'every-instance-accounted',
      `the run on ${group} produced no result, so ${ids.length} instance(s) are unaccounted for`,
    );
    return;
  }
  const reportedRemoved = new Map<string, number>();
  for (const g of result.removed)
    for (const id of g.instanceIds) reportedRemoved.set(id, (reportedRemoved.get(id) ?? 0) + 1);
  const reportedNot = new Map<string, { why: string; count: number }>();
  for (const r of result.notRemoved)
    reportedNot.set(r.instanceId, { why: r.why, count: (reportedNot.get(r.instanceId)?.count ?? 0) + 1 });
  const requested = new Set(ids);
  for (const id of [...reportedRemoved.keys(), ...reportedNot.keys()])
    if (!requested.has(id))
      add('result-matches-cloud', `the result of ${group} reports ${id}, which it was not asked to remove`);
  for (const id of ids) {
    // Removed: gone from the cloud's instances. An instance another actor moved elsewhere still exists.
    const after = finalInstances.get(id);
    const inRemoved = reportedRemoved.get(id) ?? 0;
    const not = reportedNot.get(id);
    if (inRemoved + (not?.count ?? 0) !== 1)
      add(
        'result-matches-cloud',
        `${id} appears ${inRemoved + (not?.count ?? 0)} times in the result of ${group} ` +
          `(removed ${inRemoved}, not removed ${not?.count ?? 0})`,
      );
    if (after && !not)
      add('every-instance-accounted', `${id} is still in ${after.scalingGroupId} but the result gives no reason`);
    if (not && !not.why.trim()) add('every-instance-accounted', `${id} is reported not removed with an empty reason`);
    if (!after && !inRemoved)
      add(
        'result-matches-cloud',
        `${id} was removed from ${group} but the result says not removed: ${not?.why ?? '(absent)'}`,
      );
    if (after && inRemoved)
      add(
        'result-matches-cloud',
        `${id} is still in ${after.scalingGroupId} as ${after.lifecycleState} but the result says removed`,
      );
  }
  const removedCount = [...reportedRemoved.values()].reduce((a, b) => a + b, 0);
  if (result.counts.removed !== removedCount)
    add(
      'result-matches-cloud',
      `the result of ${group} counts ${result.counts.removed} removed but lists ${removedCount}`,
    );
}

const HOOK_ROLLBACK_CODE = 'LifecycleHookRollback';

/**
 * - Each RemoveInstances of a run bypasses exactly the hooks it was asked to skip (all of them by
 *   DisableLifecycleHook, or the named ones), and no hook when it was not asked to skip.
 * - Each CompleteLifecycleAction is the run's (another actor completes through the admin API, which
 *   the call log does not hold): CONTINUE, for a hook the run was asked to complete, on an action of
 *   its own group's scaling activity that the run created.
 * - An instance a ROLLBACK kept in the group is reported not removed, with a reason that says so.
 */
function checkHooks(
  input: InvariantInput,
  options: ReadonlyMap<string, HookOptions>,
  terminated: ReadonlyMap<string, readonly LeftDrained[]>,
  finalInstances: Instances,
  add: Add,
): void {
  const created = new Set(input.calls.flatMap((c) => (c.createdActivityId ? [c.createdActivityId] : [])));
  const actions = new Map((input.final.lifecycleActions ?? []).map((a) => [a.lifecycleActionToken, a]));
  for (const c of input.calls) {
    if (c.action === 'RemoveInstances') {
      const group = c.params.ScalingGroupId ?? '';
      const want = bypassOf(options.get(group));
      const got = bypassSent(c.params);
      if (want !== got)
        add('hooks-as-asked', `RemoveInstances (call #${c.seq}) on ${group} bypassed ${got}, asked: ${want}`);
    }
    if (c.action !== 'CompleteLifecycleAction') continue;
    const hookId = c.params.LifecycleHookId ?? '';
    const token = c.params.LifecycleActionToken ?? '';
    const action = actions.get(token);
    const opts = action ? options.get(action.scalingGroupId) : undefined;
    const what = `CompleteLifecycleAction (call #${c.seq}) ${c.params.LifecycleActionResult ?? '(default)'} ${hookId}`;
    if (!action) add('hooks-as-asked', `${what}: no such lifecycle action ${token}`);
    else if (opts?.mode !== 'complete' || !(opts.hookIds ?? []).includes(hookId) || action.lifecycleHookId !== hookId)
      add('hooks-as-asked', `${what} on ${action.scalingGroupId}, whose run was asked ${JSON.stringify(opts)}`);
    else if (!created.has(action.scalingActivityId))
      add('hooks-as-asked', `${what}: action of ${action.scalingActivityId}, not an activity the run created`);
    else if (c.params.LifecycleActionResult !== 'CONTINUE') add('hooks-as-asked', `${what}: not CONTINUE`);
  }
  for (const a of input.final.activities) {
    if (a.errorCode !== HOOK_ROLLBACK_CODE || !input.requested.has(a.scalingGroupId)) continue;
    if (terminated.has(a.scalingGroupId)) continue;
    const result = input.results.get(a.scalingGroupId);
    if (!result) continue;
    for (const id of a.instanceIds) {
      if (!finalInstances.has(id)) continue;
      const entry = result.notRemoved.find((r) => r.instanceId === id);
      if (!entry || !/rollback/i.test(entry.why))
        add(
          'hooks-as-asked',
          `${id} was kept in ${a.scalingGroupId} by a lifecycle hook's ROLLBACK (${a.scalingActivityId}) but the ` +
            `result ${entry ? `says ${entry.outcome}: ${entry.why}` : 'does not report it'}`,
        );
    }
  }
}

function bypassOf(o: HookOptions | undefined): string {
  if (o?.mode !== 'skip') return 'none';
  if (o.all) return 'all';
  return [...new Set(o.hookIds ?? [])].sort().join(',') || 'none';
}

function bypassSent(params: Readonly<Record<string, string>>): string {
  if (params['LifecycleHookContext.DisableLifecycleHook'] === 'true') return 'all';
  const ids = Object.entries(params)
    .filter(([k]) => k.startsWith('LifecycleHookContext.IgnoredLifecycleHookIds.'))
    .map(([, v]) => v);
  return [...new Set(ids)].sort().join(',') || 'none';
}
