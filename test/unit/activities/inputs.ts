import type { RemoveBatchRequest } from '../../../src/activities/types';
import { DEFAULTS, type NormalizedInput } from '../../../src/shared/input';

/** A valid normalized input for `instanceIds`: weight drain, release, no approval, as the suites' defaults. */
export function normalizedInput(instanceIds: string[], over: Partial<NormalizedInput> = {}): NormalizedInput {
  return {
    regionId: 'cn-hangzhou',
    scalingGroupId: 'asg-1',
    instanceIds,
    removePolicy: 'release',
    decreaseDesiredCapacity: true,
    batchSize: 2,
    drain: { strategy: 'weight', timeoutSeconds: 300, maxDrainedAhead: 100 },
    dryRun: false,
    requireApproval: false,
    allowDrainedInstances: false,
    onBatchFailure: 'abort',
    lifecycleHooks: { mode: 'wait', hookIds: [], all: false },
    requestId: undefined,
    reason: undefined,
    advanced: { ...DEFAULTS.advanced },
    ...over,
  };
}

/** A removeBatch request for `instanceIds` of batch `idempotencyKey` in the suites' group. */
export function removeBatchRequest(
  instanceIds: string[],
  idempotencyKey: string,
  over: Partial<RemoveBatchRequest> = {},
): RemoveBatchRequest {
  const { regionId, scalingGroupId, removePolicy, decreaseDesiredCapacity } = normalizedInput(instanceIds);
  return { regionId, scalingGroupId, instanceIds, removePolicy, decreaseDesiredCapacity, idempotencyKey, ...over };
}
