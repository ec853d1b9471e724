import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient, ScalingGroup, ScalingInstance } from '../aliyun/types';
import { chunk, type NormalizedInput } from '../shared/input';
import type { LoadBalancerPlan, Plan, PreflightProblem } from '../shared/progress';
import { planHooks } from './lifecycle-hooks';
import type { PreflightRequest, PreflightResponse } from './types';

/** States from which RemoveInstances may take an instance. */
const REMOVABLE = new Set(['InService', 'Standby', 'Stopped']);
const NOT_FOUND_CODES = new Set([
  'InvalidLoadBalancerId.NotFound',
  'InvalidParameter.VServerGroupId',
  'InvalidVServerGroupId.NotFound',
  'ResourceNotFound.ServerGroup',
  'ResourceNotFound.serverGroup',
  'ResourceNotFound.VServerGroup',
]);

/** Small requests filter by ID (20 per call); larger ones read the whole group once. */
const MAX_FILTERED_IDS = 200;

/**
 * Reads the group, its instances and its load balancers, and says everything that would make the
 * run fail, before anything is changed. Cloud errors (throttling…) propagate and are retried.
 */
export async function runPreflight(
  cloud: CloudClient,
  { input }: PreflightRequest,
  signal?: AbortSignal,
): Promise<PreflightResponse> {
  const { regionId, scalingGroupId } = input;
  const group = await cloud.ess.describeScalingGroup(regionId, scalingGroupId, { signal });
  if (!group) return { plan: emptyPlan(input), problems: [groupNotFound(input)] };
  const problems: PreflightProblem[] = [];
  if (group.lifecycleState !== 'Active') problems.push(groupNotActive(input, group));
  const members = await readMembers(cloud, input, signal);
  problems.push(...instanceProblems(input, members), ...groupProblems(input, group));
  const loadBalancers = loadBalancerPlanOf(group);
  const zeroWeight = new ZeroWeights(input.instanceIds);
  problems.push(...(await loadBalancerProblems(cloud, regionId, loadBalancers, zeroWeight, signal)));
  problems.push(...undrainableProblems(input, group));
  const alreadyStandby = input.instanceIds.filter((id) => members.get(id)?.lifecycleState === 'Standby');
  const drained = alreadyDrained(input, zeroWeight, alreadyStandby);
  problems.push(...drained.problems);
  const hooks = await planHooks(cloud, input, signal);
  problems.push(...hooks.problems);
  const warnings = [
    ...warningsFor(input, group, loadBalancers),
    ...undrainableWarnings(input, group),
    ...drained.warnings,
    ...hooks.warnings,
  ];
  const plan = planOf(input, group, loadBalancers, alreadyStandby, warnings);
  return {
    plan: { ...plan, lifecycleHooks: hooks.hooks, hookWaitSecondsPerBatch: hooks.hookWaitSecondsPerBatch },
    problems,
  };
}

/** Requested instances whose backend already weighs 0, with where (read from the calls preflight makes anyway). */
class ZeroWeights {
  readonly places = new Map<string, string[]>();
  private readonly requested: Set<string>;

  constructor(instanceIds: string[]) {
    this.requested = new Set(instanceIds);
  }

  note(backends: ReadonlyArray<{ serverId: string; weight: number }>, place: string): void {
    for (const b of backends)
      if (b.weight === 0 && this.requested.has(b.serverId))
        this.places.set(b.serverId, [...(this.places.get(b.serverId) ?? []), place]);
  }
}

/**
 * Instances already drained before the run (by an earlier run that was terminated, or by hand):
 * a drain would snapshot weight 0 as their original and "restore" them to 0. A dry run is told;
 * a real run is refused unless the request says to go on with them as they are.
 */
function alreadyDrained(
  input: NormalizedInput,
  zeroWeight: ZeroWeights,
  alreadyStandby: string[],
): { warnings: string[]; problems: PreflightProblem[] } {
  const atZero = input.instanceIds.filter((id) => zeroWeight.places.has(id));
  const warnings: string[] = [];
  if (atZero.length) {
    const where = atZero.slice(0, 10).map((id) => `${id} (${(zeroWeight.places.get(id) ?? []).join(', ')})`);
    const more = atZero.length > 10 ? ` and ${atZero.length - 10} more` : '';
    warnings.push(
      `${atZero.length} instance(s) are already at weight 0 on an attached load balancer: ` +
        `${where.join(', ')}${more}; a drain would record 0 as their original weight`,
    );
  }
  if (alreadyStandby.length)
    warnings.push(`${alreadyStandby.length} instance(s) are already in Standby: ${preview(alreadyStandby)}`);
  const ids = [...new Set([...atZero, ...alreadyStandby])];
  if (!ids.length || input.dryRun || input.allowDrainedInstances) return { warnings, problems: [] };
  const problem: PreflightProblem = {
    field: 'allowDrainedInstances',
    instanceIds: ids,
    problem:
      `${ids.length} instance(s) are already drained (weight 0 on an attached load balancer, or in Standby) ` +
      `before this run: ${preview(ids)}`,
    fix:
      'give their traffic back first (ess-scale-in repair <workflowId> when an earlier run left them drained, ' +
      'else in the CLB/ALB/NLB console), or set allowDrainedInstances: true (--allow-drained) ' +
      'to remove them as they are',
  };
  return { warnings, problems: [problem] };
}

function groupNotFound({ regionId, scalingGroupId }: NormalizedInput): PreflightProblem {
  return {
    field: 'scalingGroupId',
    problem: `scaling group ${scalingGroupId} does not exist in region ${regionId}`,
    fix: 'check regionId and scalingGroupId (DescribeScalingGroups)',
  };
}

function groupNotActive({ scalingGroupId }: NormalizedInput, group: ScalingGroup): PreflightProblem {
  return {
    field: 'scalingGroupId',
    problem: `scaling group ${scalingGroupId} is ${group.lifecycleState}, not Active`,
    fix: 'enable the group (EnableScalingGroup) and start again',
  };
}

/** The plan of a group that does not exist: the request's own numbers, nothing else. */
function emptyPlan(input: NormalizedInput): Plan {
  const { scalingGroupId, instanceIds } = input;
  return {
    group: {
      scalingGroupId,
      scalingGroupName: '',
      lifecycleState: 'NotFound',
      minSize: 0,
      maxSize: 0,
      totalCapacity: 0,
      desiredCapacity: undefined,
      scalingPolicy: '',
    },
    instanceCount: instanceIds.length,
    batchCount: Math.ceil(instanceIds.length / input.batchSize),
    batchSize: input.batchSize,
    capacityAfter: 0,
    drainStrategy: input.drain.strategy,
    drainTimeoutSeconds: input.drain.timeoutSeconds,
    loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: [] },
    alreadyStandby: [],
    warnings: [],
  };
}

/** The requested instances that are members of the group (an instance without a group ID counts). */
async function readMembers(
  cloud: CloudClient,
  { regionId, scalingGroupId, instanceIds }: NormalizedInput,
  signal: AbortSignal | undefined,
): Promise<Map<string, ScalingInstance>> {
  const listed =
    instanceIds.length <= MAX_FILTERED_IDS
      ? await cloud.ess.describeScalingInstances({ regionId, scalingGroupId, instanceIds }, { signal })
      : await cloud.ess.describeScalingInstances({ regionId, scalingGroupId }, { signal });
  const members = new Map<string, ScalingInstance>();
  for (const inst of listed.instances)
    if (inst.scalingGroupId === scalingGroupId || !inst.scalingGroupId) members.set(inst.instanceId, inst);
  return members;
}

/** Instances not in the group, then one problem per state RemoveInstances refuses. */
function instanceProblems(
  { scalingGroupId, instanceIds }: NormalizedInput,
  members: Map<string, ScalingInstance>,
): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const missing = instanceIds.filter((id) => !members.has(id));
  if (missing.length)
    problems.push({
      field: 'instanceIds',
      instanceIds: missing,
      problem: `${missing.length} instance(s) are not in scaling group ${scalingGroupId}: ${preview(missing)}`,
      fix: 'remove them from the request (DescribeScalingInstances lists the members)',
    });
  for (const [state, ids] of unremovableByState(instanceIds, members))
    problems.push({
      field: 'instanceIds',
      instanceIds: ids,
      problem: `${ids.length} instance(s) are ${state}, which cannot be removed: ${preview(ids)}`,
      fix: unremovableFix(state),
    });
  return problems;
}

function unremovableByState(instanceIds: string[], members: Map<string, ScalingInstance>): Map<string, string[]> {
  const byState = new Map<string, string[]>();
  for (const id of instanceIds) {
    const inst = members.get(id);
    if (inst && !REMOVABLE.has(inst.lifecycleState))
      byState.set(inst.lifecycleState, [...(byState.get(inst.lifecycleState) ?? []), id]);
  }
  return byState;
}

function unremovableFix(state: string): string {
  if (state === 'Protected') return 'remove the protection (SetInstancesProtection) first, or leave them out';
  if (state.startsWith('Removing')) return 'they are already being removed; leave them out';
  return 'wait until they are InService, or leave them out';
}

/** What the group's size and scaling policy allow. */
function groupProblems(input: NormalizedInput, group: ScalingGroup): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const count = input.instanceIds.length;
  const capacityAfter = group.totalCapacity - count;
  if (capacityAfter < group.minSize) {
    const max = Math.max(0, group.totalCapacity - group.minSize);
    problems.push({
      field: 'instanceIds',
      problem:
        `removing ${count} instance(s) would take TotalCapacity from ${group.totalCapacity} to ${capacityAfter}, ` +
        `below MinSize ${group.minSize}`,
      fix: `remove at most ${max} instance(s), or lower MinSize first`,
    });
  }
  if (input.removePolicy === 'recycle' && group.scalingPolicy !== 'recycle') {
    problems.push({
      field: 'removePolicy',
      problem:
        `"recycle" needs a group whose ScalingPolicy is recycle; ` +
        `${input.scalingGroupId} has "${group.scalingPolicy}"`,
      fix: 'use removePolicy "release", or change the group\'s ScalingPolicy',
    });
  }
  return problems;
}

function loadBalancerPlanOf(group: ScalingGroup): LoadBalancerPlan {
  const vServerGroups = group.vServerGroups.map((v) => ({
    loadBalancerId: v.loadBalancerId,
    vServerGroupId: v.vServerGroupId,
  }));
  const nlbIds = [...new Set((group.nlbServerGroups ?? []).map((a) => a.nlbServerGroupId))];
  return {
    clbIds: [...group.loadBalancerIds],
    // Dedupe: a vserver group can be attached on several ports.
    vServerGroups: [...new Map(vServerGroups.map((v) => [v.vServerGroupId, v])).values()],
    albServerGroupIds: [...new Set(group.albServerGroups.map((a) => a.albServerGroupId))],
    // Only when some is attached: a plan without NLB keeps the shape it had before NLB was drained.
    ...(nlbIds.length ? { nlbServerGroupIds: nlbIds } : {}),
  };
}

/** Attachments the drain cannot take traffic from: every `ServerGroups` entry that is neither ALB nor NLB. */
function undrainableOf(group: ScalingGroup): Array<{ serverGroupId: string; type: string }> {
  const seen = new Map<string, string>();
  for (const g of group.otherServerGroups ?? []) seen.set(g.serverGroupId, g.type || '(no type)');
  return [...seen].map(([serverGroupId, type]) => ({ serverGroupId, type }));
}

/**
 * A weight drain that would leave an attachment's traffic untouched is refused, naming it, unless
 * the input lists it in leaveUndrained: never a silent skip.
 */
function undrainableProblems(input: NormalizedInput, group: ScalingGroup): PreflightProblem[] {
  if (input.drain.strategy !== 'weight') return [];
  const allowed = new Set(input.leaveUndrained ?? []);
  const refused = undrainableOf(group).filter((a) => !allowed.has(a.serverGroupId));
  if (!refused.length) return [];
  const named = refused.map((a) => `${a.type} server group ${a.serverGroupId}`);
  const ids = refused.map((a) => a.serverGroupId).join(',');
  return [
    drainProblem(
      `the group has ${refused.length} attachment(s) the drain cannot take traffic from: ${named.join(', ')}`,
      `detach them, or list them in leaveUndrained (--leave-undrained ${ids}) ` +
        'to remove the instances while those keep sending traffic',
    ),
  ];
}

function undrainableWarnings(input: NormalizedInput, group: ScalingGroup): string[] {
  const allowed = new Set(input.leaveUndrained ?? []);
  const attached = undrainableOf(group);
  const left = attached.filter((a) => allowed.has(a.serverGroupId));
  const unknown = [...allowed].filter((id) => !attached.some((a) => a.serverGroupId === id));
  const warnings: string[] = [];
  if (left.length && input.drain.strategy === 'weight')
    warnings.push(
      `left undrained as asked: ${left.map((a) => `${a.type} server group ${a.serverGroupId}`).join(', ')}; ` +
        'they keep sending traffic to the instances until ESS removes them',
    );
  if (unknown.length) warnings.push(`leaveUndrained names no undrainable attachment of the group: ${preview(unknown)}`);
  return warnings;
}

const isNotFound = (e: unknown) => e instanceof AliyunApiError && (NOT_FOUND_CODES.has(e.code) || e.httpStatus === 404);

/** What `read` answers, or undefined when the API says the resource does not exist; other errors propagate. */
async function unlessNotFound<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

const drainProblem = (problem: string, fix: string): PreflightProblem => ({ field: 'drain', problem, fix });

/** Every attached load balancer must exist, and a CLB must be active. */
async function loadBalancerProblems(
  cloud: CloudClient,
  regionId: string,
  lbs: LoadBalancerPlan,
  zeroWeight: ZeroWeights,
  signal: AbortSignal | undefined,
): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  for (const lbId of lbs.clbIds) {
    const lb = await unlessNotFound(() => cloud.clb.describeLoadBalancerAttribute(regionId, lbId, { signal }));
    if (!lb) problems.push(clbNotFound(lbId));
    else if (lb.loadBalancerStatus !== 'active') problems.push(clbNotActive(lbId, lb.loadBalancerStatus));
    if (lb) zeroWeight.note(lb.backendServers, `CLB ${lbId}`);
  }
  for (const { vServerGroupId } of lbs.vServerGroups) {
    const vsg = await unlessNotFound(() =>
      cloud.clb.describeVServerGroupAttribute(regionId, vServerGroupId, { signal }),
    );
    if (vsg) zeroWeight.note(vsg.backendServers, `vserver group ${vServerGroupId}`);
    else
      problems.push(
        drainProblem(
          `vserver group ${vServerGroupId} attached to the group was not found`,
          `detach it from the group (DetachVServerGroups)`,
        ),
      );
  }
  for (const sg of lbs.albServerGroupIds) {
    const alb = await unlessNotFound(() => cloud.alb.listServerGroupServers(regionId, sg, { signal }));
    if (alb) zeroWeight.note(alb.servers, `ALB server group ${sg}`);
    else
      problems.push(
        drainProblem(
          `ALB server group ${sg} attached to the group was not found`,
          'detach it from the group (DetachAlbServerGroups)',
        ),
      );
  }
  for (const sg of lbs.nlbServerGroupIds ?? []) {
    const nlb = await unlessNotFound(() => cloud.nlb.listServerGroupServers(regionId, sg, { signal }));
    if (nlb) zeroWeight.note(nlb.servers, `NLB server group ${sg}`);
    else
      problems.push(
        drainProblem(
          `NLB server group ${sg} attached to the group was not found`,
          'detach it from the group (DetachServerGroups)',
        ),
      );
  }
  return problems;
}

function clbNotActive(lbId: string, status: string): PreflightProblem {
  return drainProblem(
    `load balancer ${lbId} is ${status}; ESS rejects removals while it is not active (IncorrectLoadBalancerStatus)`,
    `start ${lbId} or detach it from the group`,
  );
}

function clbNotFound(lbId: string): PreflightProblem {
  return drainProblem(
    `load balancer ${lbId} attached to the group was not found`,
    `detach ${lbId} from the group (DetachLoadBalancers)`,
  );
}

function warningsFor(input: NormalizedInput, group: ScalingGroup, lbs: LoadBalancerPlan): string[] {
  const warnings: string[] = [];
  const noLoadBalancer =
    !lbs.clbIds.length && !lbs.vServerGroups.length && !lbs.albServerGroupIds.length && !lbs.nlbServerGroupIds?.length;
  if (input.drain.strategy === 'weight' && noLoadBalancer)
    warnings.push('the group has no attached load balancer: nothing to drain');
  if (group.dbInstanceIds.length)
    warnings.push(
      `the group has RDS instances attached (${group.dbInstanceIds.join(', ')}); ` +
        'if one is not Running, ESS answers IncorrectDBInstanceStatus and the run retries',
    );
  if (group.desiredCapacity !== undefined && !input.decreaseDesiredCapacity)
    warnings.push('decreaseDesiredCapacity is false: ESS will launch replacements to keep DesiredCapacity');
  return warnings;
}

function planOf(
  input: NormalizedInput,
  group: ScalingGroup,
  loadBalancers: LoadBalancerPlan,
  alreadyStandby: string[],
  warnings: string[],
): Plan {
  const { scalingGroupId, instanceIds } = input;
  return {
    group: {
      scalingGroupId,
      scalingGroupName: group.scalingGroupName,
      lifecycleState: group.lifecycleState,
      minSize: group.minSize,
      maxSize: group.maxSize,
      totalCapacity: group.totalCapacity,
      desiredCapacity: group.desiredCapacity,
      scalingPolicy: group.scalingPolicy,
    },
    instanceCount: instanceIds.length,
    batchCount: chunk(instanceIds, input.batchSize).length,
    batchSize: input.batchSize,
    capacityAfter: group.totalCapacity - instanceIds.length,
    drainStrategy: input.drain.strategy,
    drainTimeoutSeconds: input.drain.timeoutSeconds,
    loadBalancers,
    alreadyStandby,
    warnings,
  };
}

function preview(ids: string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}
