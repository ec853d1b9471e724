import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { RepairActivities, RepairWeightsResponse } from '../../activities';
import { NON_RETRYABLE_TYPES } from '../../shared/error-policy';
import { restoreInstanceId } from '../../shared/restore';
import { repairInputProblems, summarizeRepair, type RepairInput, type RepairResult } from './shape';

export * from './shape';

const acts = proxyActivities<RepairActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '30s',
    backoffCoefficient: 2,
    maximumAttempts: 30,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  },
});

/**
 * Gives back the traffic a scale-in run left drained (terminated, or crashed beyond its retries):
 * the client reads the run's history and hands over the original weights; the cloud calls, and so
 * the credentials, stay in the worker. Each weight is read back after the change.
 */
export async function repairDrained(input: RepairInput): Promise<RepairResult> {
  const problems = repairInputProblems(input);
  if (problems.length)
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message: `Invalid repair input: ${problems.join('; ')}`,
      details: [problems],
    });
  // An attempt of the terminated run may still be draining: restore after it can no longer land.
  if (input.settleSeconds) await sleep(input.settleSeconds * 1000);
  const instances = new Set(input.restore.map(restoreInstanceId)).size;
  const res: RepairWeightsResponse = input.restore.length
    ? await acts.repairWeights.executeWithOptions({ summary: `Restore and verify ${instances} drained instance(s)` }, [
        { regionId: input.regionId, scalingGroupId: input.scalingGroupId, restore: input.restore },
      ])
    : { places: [], requestIds: [] };
  return summarizeRepair(input, res.places);
}
