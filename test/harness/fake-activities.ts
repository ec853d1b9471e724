import type { ScaleInActivities } from '../../src/activities';
import type { Plan } from '../../src/shared/progress';

/**
 * In-memory activities of the same type as the real ones, for workflow tests that are about the
 * workflow's own logic (timers, control, ordering) rather than the cloud calls.
 */
export function fakeActivities(opts: { instanceCount?: number } = {}) {
  const instanceIds = Array.from(
    { length: opts.instanceCount ?? 10 },
    (_, i) => `i-fake${String(i).padStart(16, '0')}`,
  );
  const calls: Array<{ name: keyof ScaleInActivities; arg: unknown }> = [];
  let activitySeq = 0;
  const plan = (n: number, batchSize: number): Plan => ({
    group: {
      scalingGroupId: 'asg-fake',
      scalingGroupName: 'fake',
      lifecycleState: 'Active',
      minSize: 0,
      maxSize: 100,
      totalCapacity: instanceIds.length,
      desiredCapacity: instanceIds.length,
      scalingPolicy: 'release',
    },
    instanceCount: n,
    batchCount: Math.ceil(n / batchSize),
    batchSize,
    capacityAfter: instanceIds.length - n,
    drainStrategy: 'weight',
    drainTimeoutSeconds: 0,
    loadBalancers: { clbIds: ['lb-fake'], vServerGroups: [], albServerGroupIds: [] },
    alreadyStandby: [],
    warnings: [],
  });
  const activities: ScaleInActivities = {
    async preflight(req) {
      calls.push({ name: 'preflight', arg: req });
      return { plan: plan(req.input.instanceIds.length, req.input.batchSize), problems: [] };
    },
    async snapshotWeights(req) {
      calls.push({ name: 'snapshotWeights', arg: req });
      return {
        restore: req.instanceIds.map((id) => ({
          kind: 'clb' as const,
          loadBalancerId: 'lb-fake',
          serverId: id,
          weight: 100,
        })),
      };
    },
    async drain(req) {
      calls.push({ name: 'drain', arg: req });
      return {
        restore: req.instanceIds.map((id) => ({
          kind: 'clb' as const,
          loadBalancerId: 'lb-fake',
          serverId: id,
          weight: 100,
        })),
        requestIds: ['REQ-DRAIN'],
        drainedAt: new Date().toISOString(),
      };
    },
    async undrain(req) {
      calls.push({ name: 'undrain', arg: req });
      return {
        restoredInstanceIds: req.restore.map((r) => (r.kind === 'standby' ? r.instanceId : r.serverId)),
        goneInstanceIds: [],
        requestIds: ['REQ-UNDRAIN'],
      };
    },
    async removeBatch(req) {
      calls.push({ name: 'removeBatch', arg: req });
      const scalingActivityId = `asa-fake${String(++activitySeq).padStart(16, '0')}`;
      return {
        removals: [{ scalingActivityId, instanceIds: req.instanceIds, adopted: false, requestId: 'REQ-REMOVE' }],
        gone: [],
        attempt: 1,
        startedAt: new Date().toISOString(),
        requestIds: ['REQ-REMOVE'],
      };
    },
    async pollScalingActivity(req) {
      calls.push({ name: 'pollScalingActivity', arg: req });
      return {
        scalingActivityId: req.scalingActivityId,
        statusCode: 'Successful',
        statusMessage: '',
        progress: 100,
        removedInstanceIds: req.instanceIds,
        failedInstances: [],
        polls: 1,
        endedAt: new Date().toISOString(),
      };
    },
  };
  return { activities, calls, instanceIds };
}
