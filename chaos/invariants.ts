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
  | 'activities-ended';

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
  const acceptedBy = new Map<string, string[]>();
  for (const c of input.calls) {
    if (c.action !== 'RemoveInstances' || !c.createdActivityId) continue;
    for (const id of instancesNamedIn(c))
      acceptedBy.set(id, [...(acceptedBy.get(id) ?? []), `call #${c.seq} → ${c.createdActivityId}`]);
  }
  for (const [id, by] of acceptedBy)
    if (by.length > 1) add('accepted-once', `${id} was accepted for removal ${by.length} times: ${by.join('; ')}`);
  const inActivities = new Map<string, string[]>();
  for (const a of input.final.activities) {
    if (a.kind !== 'RemoveInstances') continue;
    for (const id of a.instanceIds) inActivities.set(id, [...(inActivities.get(id) ?? []), a.scalingActivityId]);
  }
  for (const [id, acts] of inActivities)
    if (acts.length > 1) add('accepted-once', `${id} is in ${acts.length} scaling activities: ${acts.join(', ')}`);

  // 2. Nothing outside the request is touched: no change call names it, and its state is as it was.
  for (const c of input.calls) {
    if (!isMutating(c.action)) continue;
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
    const wb = describeBackends(initialBackends.get(id));
    const wa = describeBackends(finalBackends.get(id));
    if (wb !== wa) add('only-requested-touched', `${id} was not requested but its backends changed: ${wb} → ${wa}`);
  }

  // 3 and 5. Every requested instance is removed or reported with a reason, and the report agrees with the cloud.
  for (const [group, ids] of input.requested) {
    const result = input.results.get(group);
    if (!result) {
      add(
        'every-instance-accounted',
        `the run on ${group} produced no result, so ${ids.length} instance(s) are unaccounted for`,
      );
      continue;
    }
    const reportedRemoved = new Map<string, number>();
    for (const g of result.removed)
      for (const id of g.instanceIds) reportedRemoved.set(id, (reportedRemoved.get(id) ?? 0) + 1);
    const reportedNot = new Map<string, { why: string; count: number }>();
    for (const r of result.notRemoved)
      reportedNot.set(r.instanceId, { why: r.why, count: (reportedNot.get(r.instanceId)?.count ?? 0) + 1 });
    const requested = new Set(ids);
    for (const id of [...reportedRemoved.keys(), ...reportedNot.keys()]) {
      if (!requested.has(id))
        add('result-matches-cloud', `the result of ${group} reports ${id}, which it was not asked to remove`);
    }
    for (const id of ids) {
      const goneFromGroup = finalInstances.get(id)?.scalingGroupId !== group;
      const inRemoved = reportedRemoved.get(id) ?? 0;
      const not = reportedNot.get(id);
      if (inRemoved + (not?.count ?? 0) !== 1)
        add(
          'result-matches-cloud',
          `${id} appears ${inRemoved + (not?.count ?? 0)} times in the result of ${group} ` +
            `(removed ${inRemoved}, not removed ${not?.count ?? 0})`,
        );
      if (!goneFromGroup && !not)
        add('every-instance-accounted', `${id} is still in ${group} but the result gives no reason`);
      if (not && !not.why.trim()) add('every-instance-accounted', `${id} is reported not removed with an empty reason`);
      if (goneFromGroup && !inRemoved)
        add('result-matches-cloud', `${id} left ${group} but the result says not removed: ${not?.why ?? '(absent)'}`);
      if (!goneFromGroup && inRemoved)
        add(
          'result-matches-cloud',
          `${id} is still in ${group} as ${finalInstances.get(id)?.lifecycleState} but the result says removed`,
        );
    }
    const removedCount = [...reportedRemoved.values()].reduce((a, b) => a + b, 0);
    if (result.counts.removed !== removedCount)
      add(
        'result-matches-cloud',
        `the result of ${group} counts ${result.counts.removed} removed but lists ${removedCount}`,
      );
  }

  // 4. No instance is left drained but not removed: whatever stayed in its group serves as before.
  for (const id of allRequested) {
    const before = initialInstances.get(id);
    const after = finalInstances.get(id);
    if (!before || !after || after.scalingGroupId !== before.scalingGroupId) continue;
    if (after.lifecycleState !== before.lifecycleState)
      add(
        'none-left-drained',
        `${id} stayed in ${after.scalingGroupId} but is ${after.lifecycleState}, was ${before.lifecycleState}`,
      );
    const wb = describeBackends(initialBackends.get(id));
    const wa = describeBackends(finalBackends.get(id));
    if (wb !== wa)
      add('none-left-drained', `${id} stayed in ${after.scalingGroupId} but its backends are ${wa}, were ${wb}`);
  }

  // 6. Nothing is still running in the cloud when the runs say they are done.
  for (const a of input.final.activities) {
    if (input.requested.has(a.scalingGroupId) && a.statusCode === 'InProgress')
      add(
        'activities-ended',
        `scaling activity ${a.scalingActivityId} of ${a.scalingGroupId} is still InProgress after the run ended`,
      );
  }
  return v;
}
