import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { AliyunApiError, AliyunError } from '../aliyun/errors';
import type { CloudClient, ScalingInstance } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';
import type { AcceptedRemoval, RemoveBatchRequest, RemoveBatchResponse } from './types';

/** ClientToken: same batch and instance set → same token; a changed set gets a new one, so the API never sees a mismatch. */
export function clientTokenFor(idempotencyKey: string, instanceIds: string[]): string {
  const h = createHash('sha256').update(`${idempotencyKey}|${[...instanceIds].sort().join(',')}`).digest('hex');
  return `esi-${h.slice(0, 40)}`;
}

interface SentMarker {
  sent?: boolean;
}

/**
 * Removes one batch, exactly once. Before calling RemoveInstances it reconciles with the group:
 * instances already `Removing` under a scaling activity are adopted (an earlier attempt's call was
 * accepted, even if its response was lost), and instances no longer in the group are not sent again.
 * The ClientToken is a second line of defence, not the only one: some endpoints ignore it.
 */
export async function runRemoveBatch(cloud: CloudClient, req: RemoveBatchRequest, hb: Heartbeat): Promise<RemoveBatchResponse> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const attempt = ctx.info.attempt;
  const earlierAttemptSent = attempt > 1 && ((hb.resumedFrom as SentMarker | undefined)?.sent ?? true);
  const startedAt = new Date().toISOString();
  const requestIds: string[] = [];
  const gone: RemoveBatchResponse['gone'] = [];
  const removals: AcceptedRemoval[] = [];

  let remaining = [...req.instanceIds];
  for (let round = 0; round < 5 && remaining.length; round++) {
    const { instances } = await cloud.ess.describeScalingInstances({ regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: remaining }, { signal });
    const present = new Map<string, ScalingInstance>(instances.map((i) => [i.instanceId, i]));
    const toSend: string[] = [];
    const adopted = new Map<string, string[]>();
    for (const id of remaining) {
      const inst = present.get(id);
      if (!inst) {
        gone.push({
          instanceId: id,
          removedByEarlierAttempt: earlierAttemptSent,
          why: earlierAttemptSent ? 'no longer in the group after an earlier attempt of this batch whose response was lost; counted as removed by it' : 'left the scaling group before this run removed it',
        });
      } else if (inst.lifecycleState.startsWith('Removing') && inst.scalingActivityId) {
        adopted.set(inst.scalingActivityId, [...(adopted.get(inst.scalingActivityId) ?? []), id]);
      } else {
        toSend.push(id);
      }
    }
    for (const [scalingActivityId, ids] of adopted) removals.push({ scalingActivityId, instanceIds: ids, adopted: true, requestId: undefined });
    remaining = toSend;
    if (!toSend.length) break;

    hb.beat({ sent: true } satisfies SentMarker);
    try {
      const res = await cloud.ess.removeInstances({
        regionId: req.regionId,
        scalingGroupId: req.scalingGroupId,
        instanceIds: toSend,
        removePolicy: req.removePolicy,
        decreaseDesiredCapacity: req.decreaseDesiredCapacity,
        clientToken: clientTokenFor(req.idempotencyKey, toSend),
      }, { signal });
      requestIds.push(res.requestId);
      removals.push({ scalingActivityId: res.scalingActivityId, instanceIds: toSend, adopted: false, requestId: res.requestId });
      remaining = [];
    } catch (e) {
      // Some instance left the group between our check and the call: check again, send the rest.
      if (e instanceof AliyunApiError && e.code === 'InvalidInstanceId.NotFound') {
        if (e.requestId) requestIds.push(e.requestId);
        remaining = toSend;
        continue;
      }
      throw e;
    }
  }
  if (remaining.length) {
    // The membership kept changing under us; let the retry policy try again later.
    throw new AliyunApiError('InvalidInstanceId.NotFound', `instances kept disappearing from the group: ${remaining.join(', ')}`, 404, undefined, undefined, 'RemoveInstances');
  }
  return { removals, gone, attempt, startedAt, requestIds };
}

export function isAmbiguous(e: unknown): boolean {
  return e instanceof AliyunError && e.ambiguous;
}
