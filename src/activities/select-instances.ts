import { ApplicationFailure } from '@temporalio/activity';
import type { CloudClient, ScalingGroup, ScalingInstance } from '../aliyun/types';
import {
  DEFAULT_REMOVAL_POLICIES,
  FOLLOWABLE_REMOVAL_POLICIES,
  RemovalPolicyNotFollowableError,
  type SelectionPick,
  type SelectionPolicy,
  type WindowSelection,
} from '../shared/window';

/**
 * Activity request/response shapes of the scheduled-window activities (workflow code imports
 * them as types).
 */

export interface SelectInstancesRequest {
  regionId: string;
  scalingGroupId: string;
  policy: SelectionPolicy;
  /** Exactly one of count / targetCapacity. */
  count?: number | undefined;
  targetCapacity?: number | undefined;
  retryDelayCapMs?: number;
}

export interface CheckInstancesRequest {
  regionId: string;
  scalingGroupId: string;
  instanceIds: string[];
  retryDelayCapMs?: number;
}

export interface CheckInstancesResponse {
  /** The asked-for instances still in the group, with their lifecycle state. */
  inGroup: Array<{ instanceId: string; lifecycleState: string }>;
  requestIds: string[];
}

/** The creation time as epoch ms; unparsable times sort as the oldest, so they are never silently kept last. */
function createdMs(i: ScalingInstance): number {
  const t = Date.parse(i.creationTime);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Oldest first, ties broken by instance ID so the order never depends on the API's page order. */
function byAge(a: ScalingInstance, b: ScalingInstance): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
  return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
}

/** The group's active scaling configuration; groups without one use the fallback below. */
function activeConfigurationOf(group: ScalingGroup): string | undefined {
  return group.activeScalingConfigurationId || undefined;
}

/**
 * Orders the eligible instances by the policy and says, per instance, why it is where it is.
 *
 * `oldestScalingConfiguration`: instances whose configuration differs from the group's active one
 * go first (oldest first among them). When the active configuration is unknown, a configuration's
 * age is the creation time of its oldest instance: the configuration of the oldest instances is the
 * "oldest scaling configuration", and its instances go first, then the next one's. Instances with
 * no scaling configuration (attached by hand) go last, since the policy is about configurations.
 * Within a configuration, oldest instances first.
 */
export function orderByPolicy(
  eligible: ScalingInstance[],
  policy: SelectionPolicy,
  activeConfigurationId: string | undefined,
): { ordered: Array<{ inst: ScalingInstance; reason: string }>; basis: string | undefined } {
  if (policy === 'oldest' || policy === 'newest') {
    // Instances attached by hand go after every instance the group created (docs/schedules.md).
    const sorted = [...eligible].sort((a, b) => byTier(a, b) || (policy === 'oldest' ? byAge(a, b) : byAge(b, a)));
    return {
      ordered: sorted.map((inst) => ({
        inst,
        reason: `created ${inst.creationTime} (${policy} first)${isAttached(inst) ? `; ${ATTACHED_AFTER}` : ''}`,
      })),
      basis: undefined,
    };
  }
  const { rank, describe, basis } = activeConfigurationId
    ? rankAgainstActive(activeConfigurationId)
    : rankByOldestInstance(eligible);
  const sorted = [...eligible].sort((a, b) => rank(configOf(a)) - rank(configOf(b)) || byAge(a, b));
  return {
    ordered: sorted.map((inst) => ({
      inst,
      reason: `${describe(configOf(inst), rank(configOf(inst)))}; created ${inst.creationTime}`,
    })),
    basis,
  };
}

/** Attached (or Managed) by hand rather than created by the group from its configuration. */
export function isAttached(i: ScalingInstance): boolean {
  return i.creationType === 'Attached' || i.creationType === 'Managed';
}
const ATTACHED_AFTER = 'attached by hand, so after every instance the group created';
/** Instances the group created first, attached ones after. */
function byTier(a: ScalingInstance, b: ScalingInstance): number {
  return Number(isAttached(a)) - Number(isAttached(b));
}

/** Stands for "no scaling configuration" (an attached instance). */
const NONE = '(none)';
const configOf = (i: ScalingInstance) => i.scalingConfigurationId ?? NONE;
const ATTACHED_LAST = 'no scaling configuration (attached), after every configuration';

/** How configurations rank (lower goes first), how each is explained, and the basis of it all. */
interface ConfigurationRanking {
  rank: (cfg: string) => number;
  describe: (cfg: string, rank: number) => string;
  basis: string;
}

function rankAgainstActive(activeConfigurationId: string): ConfigurationRanking {
  return {
    basis:
      `the group's active scaling configuration is ${activeConfigurationId}: ` +
      'instances of any other configuration go first, oldest first',
    rank: (cfg) => (cfg === NONE ? 2 : cfg === activeConfigurationId ? 1 : 0),
    describe: (cfg) =>
      cfg === NONE
        ? ATTACHED_LAST
        : cfg === activeConfigurationId
          ? `the active configuration ${cfg}`
          : `configuration ${cfg}, not the active ${activeConfigurationId}`,
  };
}

function rankByOldestInstance(eligible: ScalingInstance[]): ConfigurationRanking {
  const oldest = new Map<string, number>();
  for (const i of eligible) {
    const cfg = configOf(i);
    if (cfg === NONE) continue;
    oldest.set(cfg, Math.min(oldest.get(cfg) ?? Number.POSITIVE_INFINITY, createdMs(i)));
  }
  const order = [...oldest.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([cfg]) => cfg);
  const listed = order.length ? order.map((c, i) => `${i + 1}. ${c}`).join(', ') : 'no configurations';
  return {
    basis:
      "the group's active scaling configuration is not known, so a configuration's age is that of its " +
      `oldest instance: ${listed}`,
    rank: (cfg) => (cfg === NONE ? order.length : order.indexOf(cfg)),
    describe: (cfg, r) =>
      cfg === NONE ? ATTACHED_LAST : `configuration ${cfg}, the ${ordinal(r + 1)} oldest of ${order.length}`,
  };
}

function ordinal(n: number): string {
  const s =
    n % 100 >= 11 && n % 100 <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${s}`;
}

/**
 * Reads the group and its instances and picks the victims. Only InService instances are
 * candidates: Protected, Standby and every other state are never picked. The number picked never
 * takes TotalCapacity below MinSize. Pure apart from the two Describe calls; the answer carries one
 * audit line per pick and counts of what was left out and why.
 */
export async function runSelectInstances(
  cloud: CloudClient,
  req: SelectInstancesRequest,
  signal?: AbortSignal,
): Promise<WindowSelection> {
  const { regionId, scalingGroupId } = req;
  const group = await cloud.ess.describeScalingGroup(regionId, scalingGroupId, { signal });
  if (!group) {
    // Same failure type as the cloud's own code, so the retry policy's non-retryable list applies.
    throw ApplicationFailure.create({
      type: 'InvalidScalingGroupId.NotFound',
      nonRetryable: true,
      message:
        `scaling group ${scalingGroupId} does not exist in region ${regionId}; ` +
        "check the window's regionId and scalingGroupId, or delete the schedule",
    });
  }
  const listed = await cloud.ess.describeScalingInstances({ regionId, scalingGroupId }, { signal });
  try {
    return selectFrom(
      group,
      listed.instances.filter((i) => !i.scalingGroupId || i.scalingGroupId === scalingGroupId),
      req,
      [group.requestId, ...listed.requestIds],
    );
  } catch (e) {
    if (!(e instanceof RemovalPolicyNotFollowableError)) throw e;
    // Retrying cannot help: the window fails at once, naming the policy and the fix.
    throw ApplicationFailure.create({
      type: e.code,
      nonRetryable: true,
      message: e.message,
      details: [{ scalingGroupId: e.scalingGroupId, policy: e.policy, removalPolicies: e.removalPolicies }],
    });
  }
}

/** The decision itself, over already-read state (unit-tested without a cloud). */
export function selectFrom(
  group: ScalingGroup,
  instances: ScalingInstance[],
  req: Pick<SelectInstancesRequest, 'policy' | 'count' | 'targetCapacity'>,
  requestIds: string[] = [],
): WindowSelection {
  const { eligible, excluded } = eligibleOf(instances);
  const requested =
    req.count !== undefined
      ? req.count
      : Math.max(0, group.totalCapacity - (req.targetCapacity ?? group.totalCapacity));
  const maxRemovable = Math.max(0, group.totalCapacity - group.minSize);
  const n = Math.min(requested, maxRemovable, eligible.length);
  const capped =
    n < requested ? cappedReason(group, req, { requested, maxRemovable, eligible: eligible.length, n }) : undefined;
  const chosen =
    req.policy === 'groupPolicy'
      ? pickByGroupPolicy(group, instances, eligible, n)
      : pickInOrder(orderByPolicy(eligible, req.policy, activeConfigurationOf(group)), req.policy, n);
  const picks: SelectionPick[] = chosen.picked.map(({ inst, reason, rule }, k) => ({
    instanceId: inst.instanceId,
    rank: k + 1,
    creationTime: inst.creationTime,
    scalingConfigurationId: inst.scalingConfigurationId,
    why: `#${k + 1} of ${eligible.length} eligible by ${chosen.label}: ${reason}; InService, not protected`,
    rule,
    zoneId: inst.zoneId,
    creationType: inst.creationType,
  }));
  count(excluded, 'not needed (later in the policy order)', eligible.length - n);
  return {
    policy: req.policy,
    group: {
      scalingGroupId: group.scalingGroupId,
      totalCapacity: group.totalCapacity,
      minSize: group.minSize,
      maxSize: group.maxSize,
      desiredCapacity: group.desiredCapacity,
    },
    requested,
    maxRemovable,
    capped,
    picks,
    excluded,
    configurationBasis: chosen.basis,
    ...(chosen.removalPolicies ? { removalPolicies: chosen.removalPolicies } : {}),
    requestIds: requestIds.filter(Boolean),
  };
}

interface Picked {
  inst: ScalingInstance;
  reason: string;
  /** What put it ahead of the next candidate (SelectionPick.rule). */
  rule: string;
}

interface Chosen {
  picked: Picked[];
  /** How the policy is named in the audit lines. */
  label: string;
  basis: string | undefined;
  removalPolicies?: WindowSelection['removalPolicies'];
}

/** One step of an order: a comparison, and the rule it stands for. */
interface OrderRule {
  rule: string;
  cmp: (a: ScalingInstance, b: ScalingInstance) => number;
}

const byInstanceId = (a: ScalingInstance, b: ScalingInstance) =>
  a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;

/** The first rule that puts `a` before `b`; the ID when they tie on all. */
function decidingRule(a: ScalingInstance, b: ScalingInstance | undefined, rules: readonly OrderRule[]): string {
  if (!b) return 'last candidate';
  return rules.find((r) => r.cmp(a, b) < 0)?.rule ?? 'instance ID (tie)';
}

/** `oldest` / `newest` / `oldestScalingConfiguration`: the first n of one global order (no zone balance). */
function pickInOrder(
  order: ReturnType<typeof orderByPolicy>,
  policy: Exclude<SelectionPolicy, 'groupPolicy'>,
  n: number,
): Chosen {
  const tier: OrderRule = { rule: 'auto-created before attached', cmp: byTier };
  const own: OrderRule = {
    rule: policy,
    cmp: (a, b) => order.ordered.findIndex((o) => o.inst === a) - order.ordered.findIndex((o) => o.inst === b),
  };
  const rules = policy === 'oldestScalingConfiguration' ? [own] : [tier, own];
  const picked = order.ordered.slice(0, n).map(({ inst, reason }, k) => {
    const next = order.ordered[k + 1]?.inst;
    const rule =
      next && inst.creationTime === next.creationTime && rules.length === 2 && !byTier(inst, next)
        ? 'instance ID (tie)'
        : decidingRule(inst, next, rules);
    return { inst, reason, rule };
  });
  return { picked, label: policy, basis: order.basis };
}

/**
 * `groupPolicy`: what ESS would remove (docs/schedules.md, "Selection"). The group's RemovalPolicies
 * (ESS's defaults OldestScalingConfiguration, OldestInstance when it has none) order the candidates,
 * each policy breaking the ties of the one before; and for every pick the zone that has the most of
 * the group's instances goes first, so a multi-zone group stays balanced. CustomPolicy, or any
 * policy we do not know, throws RemovalPolicyNotFollowableError.
 */
export function pickByGroupPolicy(
  group: ScalingGroup,
  members: ScalingInstance[],
  eligible: ScalingInstance[],
  n: number,
): Chosen {
  const source = group.removalPolicies.length ? 'group' : 'ESS default';
  const followed = group.removalPolicies.length ? [...group.removalPolicies] : [...DEFAULT_REMOVAL_POLICIES];
  const bad = followed.find((p) => !(FOLLOWABLE_REMOVAL_POLICIES as readonly string[]).includes(p));
  if (bad !== undefined) throw new RemovalPolicyNotFollowableError(group.scalingGroupId, bad, followed);
  const usesConfigurations = followed.includes('OldestScalingConfiguration');
  const active = activeConfigurationOf(group);
  const ranking = active ? rankAgainstActive(active) : rankByOldestInstance(eligible);
  const rules: OrderRule[] = followed.map((p) => ({
    rule: p,
    cmp:
      p === 'OldestInstance'
        ? (a, b) => createdMs(a) - createdMs(b)
        : p === 'NewestInstance'
          ? (a, b) => createdMs(b) - createdMs(a)
          : (a, b) => ranking.rank(configOf(a)) - ranking.rank(configOf(b)),
  }));
  const sorted = [...eligible].sort((a, b) => rules.reduce((d, r) => d || r.cmp(a, b), 0) || byInstanceId(a, b));
  const zones = zoneCounts(members);
  const zoneOf = (i: ScalingInstance) => i.zoneId ?? NO_ZONE;
  const picked: Picked[] = [];
  const remaining = [...sorted];
  for (let k = 0; k < n; k++) {
    const most = Math.max(...remaining.map((i) => zones.get(zoneOf(i)) ?? 0));
    const at = remaining.findIndex((i) => (zones.get(zoneOf(i)) ?? 0) === most);
    const [inst] = remaining.splice(at, 1) as [ScalingInstance];
    const next = remaining[0];
    const rule = next && (zones.get(zoneOf(next)) ?? 0) < most ? 'zone balance' : decidingRule(inst, next, rules);
    const zone = `zone ${zoneOf(inst)} had ${most} of the group's instances (${zoneList(zones)})`;
    const cfg = usesConfigurations ? `${ranking.describe(configOf(inst), ranking.rank(configOf(inst)))}; ` : '';
    picked.push({ inst, rule, reason: `${zone}; ${cfg}created ${inst.creationTime}; decided by ${rule}` });
    zones.set(zoneOf(inst), most - 1);
  }
  return {
    picked,
    label: `groupPolicy (${followed.join(', ')})`,
    basis: usesConfigurations ? ranking.basis : undefined,
    removalPolicies: { followed, source, zoneBalance: true },
  };
}

const NO_ZONE = '(unknown zone)';

/** The group's instances per zone, not counting those already on their way out (Removing…). */
function zoneCounts(members: ScalingInstance[]): Map<string, number> {
  const zones = new Map<string, number>();
  for (const m of members)
    if (!m.lifecycleState.startsWith('Removing'))
      zones.set(m.zoneId ?? NO_ZONE, (zones.get(m.zoneId ?? NO_ZONE) ?? 0) + 1);
  return zones;
}

function zoneList(zones: Map<string, number>): string {
  return [...zones]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([z, c]) => `${z}: ${c}`)
    .join(', ');
}

function count(excluded: Record<string, number>, why: string, n = 1): void {
  if (n > 0) excluded[why] = (excluded[why] ?? 0) + n;
}

/** The InService instances, and how many of the others were left out, by why. */
function eligibleOf(instances: ScalingInstance[]): { eligible: ScalingInstance[]; excluded: Record<string, number> } {
  const excluded: Record<string, number> = {};
  const eligible: ScalingInstance[] = [];
  for (const i of instances) {
    if (i.lifecycleState === 'InService') eligible.push(i);
    else if (i.lifecycleState === 'Protected' || i.lifecycleState === 'Standby') count(excluded, i.lifecycleState);
    else count(excluded, `state ${i.lifecycleState}`);
  }
  return { eligible, excluded };
}

/** Why fewer than `requested` were picked: MinSize, too few eligible instances, or both. */
function cappedReason(
  group: ScalingGroup,
  req: Pick<SelectInstancesRequest, 'targetCapacity'>,
  { requested, maxRemovable, eligible, n }: { requested: number; maxRemovable: number; eligible: number; n: number },
): string {
  const why: string[] = [];
  if (maxRemovable < requested)
    why.push(`MinSize ${group.minSize} allows at most ${maxRemovable} of TotalCapacity ${group.totalCapacity} to go`);
  if (eligible < Math.min(requested, maxRemovable))
    why.push(`only ${eligible} instance(s) are InService and unprotected`);
  const target =
    req.targetCapacity !== undefined
      ? ` (TotalCapacity ${group.totalCapacity} → targetCapacity ${req.targetCapacity})`
      : '';
  return `asked for ${requested}${target}, picked ${n}: ${why.join('; ')}`;
}

/** Which of the given instances are still in the group, and in which state (after a window closed). */
export async function runCheckInstances(
  cloud: CloudClient,
  req: CheckInstancesRequest,
  signal?: AbortSignal,
): Promise<CheckInstancesResponse> {
  if (!req.instanceIds.length) return { inGroup: [], requestIds: [] };
  const listed = await cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: req.instanceIds },
    { signal },
  );
  const asked = new Set(req.instanceIds);
  return {
    inGroup: listed.instances
      .filter((i) => asked.has(i.instanceId) && (!i.scalingGroupId || i.scalingGroupId === req.scalingGroupId))
      .map((i) => ({ instanceId: i.instanceId, lifecycleState: i.lifecycleState })),
    requestIds: listed.requestIds,
  };
}
