import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient, ScalingInstance } from '../aliyun/types';
import { chunk } from '../shared/input';
import type { Plan, PreflightProblem } from '../shared/progress';
import type { PreflightRequest, PreflightResponse } from './types';

/** States from which RemoveInstances may take an instance. */
const REMOVABLE = new Set(['InService', 'Standby', 'Stopped']);
const NOT_FOUND_CODES = new Set([
  'InvalidLoadBalancerId.NotFound',
  'InvalidParameter.VServerGroupId',
  'InvalidVServerGroupId.NotFound',
  'ResourceNotFound.ServerGroup',
  'ResourceNotFound.VServerGroup',
]);

/**
 * Reads the group, its instances and its load balancers, and says everything that would make the
 * run fail, before anything is changed. Cloud errors (throttling…) propagate and are retried.
 */
export async function runPreflight(
  cloud: CloudClient,
  { input }: PreflightRequest,
  signal?: AbortSignal,
): Promise<PreflightResponse> {
  const problems: PreflightProblem[] = [];
  const warnings: string[] = [];
  const { regionId, scalingGroupId, instanceIds } = input;
  const group = await cloud.ess.describeScalingGroup(regionId, scalingGroupId, { signal });
  const emptyPlan = (): Plan => ({
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
    warnings,
  });
  if (!group) {
    problems.push({
      field: 'scalingGroupId',
      problem: `scaling group ${scalingGroupId} does not exist in region ${regionId}`,
      fix: 'check regionId and scalingGroupId (DescribeScalingGroups)',
    });
    return { plan: emptyPlan(), problems };
  }
  if (group.lifecycleState !== 'Active') {
    problems.push({
      field: 'scalingGroupId',
      problem: `scaling group ${scalingGroupId} is ${group.lifecycleState}, not Active`,
      fix: 'enable the group (EnableScalingGroup) and start again',
    });
  }

  // Small requests filter by ID (20 per call); large ones read the whole group once.
  const members = new Map<string, ScalingInstance>();
  const listed =
    instanceIds.length <= 200
      ? await cloud.ess.describeScalingInstances({ regionId, scalingGroupId, instanceIds }, { signal })
      : await cloud.ess.describeScalingInstances({ regionId, scalingGroupId }, { signal });
  for (const inst of listed.instances)
    if (inst.scalingGroupId === scalingGroupId || !inst.scalingGroupId) members.set(inst.instanceId, inst);

  const missing = instanceIds.filter((id) => !members.has(id));
  if (missing.length)
    problems.push({
      field: 'instanceIds',
      instanceIds: missing,
      problem: `${missing.length} instance(s) are not in scaling group ${scalingGroupId}: ${preview(missing)}`,
      fix: 'remove them from the request (DescribeScalingInstances lists the members)',
    });
  const byState = new Map<string, string[]>();
  for (const id of instanceIds) {
    const inst = members.get(id);
    if (inst && !REMOVABLE.has(inst.lifecycleState))
      byState.set(inst.lifecycleState, [...(byState.get(inst.lifecycleState) ?? []), id]);
  }
  for (const [state, ids] of byState) {
    const fix =
      state === 'Protected'
        ? 'remove the protection (SetInstancesProtection) first, or leave them out'
        : state.startsWith('Removing')
          ? 'they are already being removed; leave them out'
          : 'wait until they are InService, or leave them out';
    problems.push({
      field: 'instanceIds',
      instanceIds: ids,
      problem: `${ids.length} instance(s) are ${state}, which cannot be removed: ${preview(ids)}`,
      fix,
    });
  }
  const alreadyStandby = instanceIds.filter((id) => members.get(id)?.lifecycleState === 'Standby');

  const capacityAfter = group.totalCapacity - instanceIds.length;
  if (capacityAfter < group.minSize) {
    const max = Math.max(0, group.totalCapacity - group.minSize);
    problems.push({
      field: 'instanceIds',
      problem: `removing ${instanceIds.length} instance(s) would take TotalCapacity from ${group.totalCapacity} to ${capacityAfter}, below MinSize ${group.minSize}`,
      fix: `remove at most ${max} instance(s), or lower MinSize first`,
    });
  }
  if (input.removePolicy === 'recycle' && group.scalingPolicy !== 'recycle') {
    problems.push({
      field: 'removePolicy',
      problem: `"recycle" needs a group whose ScalingPolicy is recycle; ${scalingGroupId} has "${group.scalingPolicy}"`,
      fix: 'use removePolicy "release", or change the group\'s ScalingPolicy',
    });
  }

  const loadBalancers = {
    clbIds: [...group.loadBalancerIds],
    vServerGroups: group.vServerGroups.map((v) => ({
      loadBalancerId: v.loadBalancerId,
      vServerGroupId: v.vServerGroupId,
    })),
    albServerGroupIds: group.albServerGroups.map((a) => a.albServerGroupId),
  };
  // Dedupe: a vserver group can be attached on several ports.
  loadBalancers.vServerGroups = [...new Map(loadBalancers.vServerGroups.map((v) => [v.vServerGroupId, v])).values()];
  loadBalancers.albServerGroupIds = [...new Set(loadBalancers.albServerGroupIds)];
  const lbProblem = (what: string, fix: string) => problems.push({ field: 'drain', problem: what, fix });
  const notFound = (e: unknown) => e instanceof AliyunApiError && (NOT_FOUND_CODES.has(e.code) || e.httpStatus === 404);
  for (const lbId of loadBalancers.clbIds) {
    try {
      const lb = await cloud.clb.describeLoadBalancerAttribute(regionId, lbId, { signal });
      if (lb.loadBalancerStatus !== 'active')
        lbProblem(
          `load balancer ${lbId} is ${lb.loadBalancerStatus}; ESS rejects removals while it is not active (IncorrectLoadBalancerStatus)`,
          `start ${lbId} or detach it from the group`,
        );
    } catch (e) {
      if (notFound(e))
        lbProblem(
          `load balancer ${lbId} attached to the group was not found`,
          `detach ${lbId} from the group (DetachLoadBalancers)`,
        );
      else throw e;
    }
  }
  for (const v of loadBalancers.vServerGroups) {
    try {
      await cloud.clb.describeVServerGroupAttribute(regionId, v.vServerGroupId, { signal });
    } catch (e) {
      if (notFound(e))
        lbProblem(
          `vserver group ${v.vServerGroupId} attached to the group was not found`,
          `detach it from the group (DetachVServerGroups)`,
        );
      else throw e;
    }
  }
  for (const sg of loadBalancers.albServerGroupIds) {
    try {
      await cloud.alb.listServerGroupServers(regionId, sg, { signal });
    } catch (e) {
      if (notFound(e))
        lbProblem(
          `ALB server group ${sg} attached to the group was not found`,
          'detach it from the group (DetachAlbServerGroups)',
        );
      else throw e;
    }
  }
  if (
    input.drain.strategy === 'weight' &&
    !loadBalancers.clbIds.length &&
    !loadBalancers.vServerGroups.length &&
    !loadBalancers.albServerGroupIds.length
  ) {
    warnings.push('the group has no attached load balancer: nothing to drain');
  }
  if (group.dbInstanceIds.length)
    warnings.push(
      `the group has RDS instances attached (${group.dbInstanceIds.join(', ')}); if one is not Running, ESS answers IncorrectDBInstanceStatus and the run retries`,
    );
  if (group.desiredCapacity !== undefined && !input.decreaseDesiredCapacity)
    warnings.push('decreaseDesiredCapacity is false: ESS will launch replacements to keep DesiredCapacity');

  const plan: Plan = {
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
    capacityAfter,
    drainStrategy: input.drain.strategy,
    drainTimeoutSeconds: input.drain.timeoutSeconds,
    loadBalancers,
    alreadyStandby,
    warnings,
  };
  return { plan, problems };
}

function preview(ids: string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}
