import type { EmulatorStateSnapshot } from '../../emulator';
import { CliUsageError } from '../io';

export interface DemoTarget {
  regionId: string;
  scalingGroupId: string;
  scalingGroupName: string;
  /** Oldest first: what an operator usually retires. */
  instanceIds: string[];
  /** The group's instances left after the run, for the "try it yourself" hint. */
  remaining: string[];
  totalCapacity: number;
  minSize: number;
}

/**
 * The n oldest InService instances of the scenario's first group that are registered behind one
 * of its load balancers, so the run has real traffic to drain.
 */
export function pickDemoTarget(snap: EmulatorStateSnapshot, n: number): DemoTarget {
  const group = snap.groups[0];
  if (!group) throw new Error('the demo scenario has no scaling group');
  const backends = new Set<string>();
  for (const lb of snap.loadBalancers) {
    if (!group.loadBalancerIds.includes(lb.loadBalancerId)) continue;
    for (const b of lb.backendServers) backends.add(b.serverId);
  }
  const eligible = snap.instances
    .filter(
      (i) =>
        i.scalingGroupId === group.scalingGroupId && i.lifecycleState === 'InService' && backends.has(i.instanceId),
    )
    .sort((a, b) => a.creationTime.localeCompare(b.creationTime) || a.instanceId.localeCompare(b.instanceId))
    .map((i) => i.instanceId);
  const maxRemovable = Math.min(eligible.length, group.totalCapacity - group.minSize);
  if (!Number.isInteger(n) || n < 1 || n > maxRemovable) {
    throw new CliUsageError(
      `--instances must be 1..${maxRemovable}: the demo group ${group.scalingGroupId} has ` +
        `${eligible.length} instance(s) behind its load balancer and MinSize ${group.minSize} ` +
        `(TotalCapacity ${group.totalCapacity})`,
    );
  }
  return {
    regionId: group.regionId,
    scalingGroupId: group.scalingGroupId,
    scalingGroupName: group.scalingGroupName,
    instanceIds: eligible.slice(0, n),
    remaining: eligible.slice(n),
    totalCapacity: group.totalCapacity,
    minSize: group.minSize,
  };
}
