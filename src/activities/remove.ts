import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { AliyunApiError, AliyunError } from '../aliyun/errors';
import type { CloudClient, ScalingInstance } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';
import type { AcceptedRemoval, RemoveBatchRequest, RemoveBatchResponse } from './types';

/** ClientToken: same batch and instance set → same token; a changed set gets a new one, so the API never sees a mismatch. */
export function clientTokenFor(idempotencyKey: string, instanceIds: string[]): string {
  const h = createHash('sha256')
    .update(`${idempotencyKey}|${[...instanceIds].sort().join(',')}`)
    .digest('hex');
  return `esi-${h.slice(0, 40)}`;
}

/**
 * The checkpoint of a removeBatch attempt. `sent` is written before RemoveInstances goes out and
 * set back to false when the API answered with an error (nothing was accepted); `accepted` is
 * written as soon as an answer arrives, before the attempt can report it.
 */
interface SentMarker {
  sent?: boolean;
  accepted?: string[];
}

/** ESS reports activity times to the minute: look one minute further back than the first attempt. */
const MINUTE = 60_000;

/**
 * The scaling activity an earlier attempt's lost call created, found after it ended: its failed
 * instances are InService again and would otherwise be sent a second time. Only an activity that
 * names some of these instances among its failed ones counts: one that removed them all leaves
 * nothing to send, one still running shows them `Removing`, and a recent activity of another run
 * or actor must not be taken for ours. Unrelated activities of the same minute are skipped, as are
 * those this run already knows.
 */
async function findLostActivity(
  cloud: CloudClient,
  req: RemoveBatchRequest,
  instanceIds: string[],
  since: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  const { activities } = await cloud.ess.recentScalingActivities(req.regionId, req.scalingGroupId, { signal });
  const known = new Set(req.knownScalingActivityIds ?? []);
  const notBefore = Math.floor(since / MINUTE) * MINUTE - MINUTE;
  const ids = new Set(instanceIds);
  return activities.find(
    (a) =>
      !known.has(a.scalingActivityId) &&
      Date.parse(a.startTime) >= notBefore &&
      a.failedInstanceIds.some((id) => ids.has(id)),
  )?.scalingActivityId;
}

export async function runRemoveBatch(
  cloud: CloudClient,
  req: RemoveBatchRequest,
  hb: Heartbeat,
): Promise<RemoveBatchResponse> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const attempt = ctx.info.attempt;
  const resumed = hb.resumedFrom as SentMarker | undefined;
  // Unknown (the checkpoint may not have reached the server before a crash) counts as sent.
  const earlierAttemptSent = attempt > 1 && (resumed?.sent ?? true);
  const startedAt = new Date().toISOString();
  const requestIds: string[] = [];
  const gone: RemoveBatchResponse['gone'] = [];
  const removals: AcceptedRemoval[] = [];

  let remaining = [...req.instanceIds];
  for (let round = 0; round < 5 && remaining.length; round++) {
    const { instances } = await cloud.ess.describeScalingInstances(
      { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: remaining },
      { signal },
    );
    const present = new Map<string, ScalingInstance>(instances.map((i) => [i.instanceId, i]));
    const toSend: string[] = [];
    const adopted = new Map<string, string[]>();
    for (const id of remaining) {
      const inst = present.get(id);
      if (!inst) {
        gone.push({
          instanceId: id,
          removedByEarlierAttempt: earlierAttemptSent,
          why: earlierAttemptSent
            ? 'no longer in the group after an earlier attempt of this batch whose response was lost; counted as removed by it'
            : 'left the scaling group before this run removed it',
        });
      } else if (inst.lifecycleState.startsWith('Removing') && inst.scalingActivityId) {
        adopted.set(inst.scalingActivityId, [...(adopted.get(inst.scalingActivityId) ?? []), id]);
      } else {
        toSend.push(id);
      }
    }
    for (const [scalingActivityId, ids] of adopted)
      removals.push({ scalingActivityId, instanceIds: ids, adopted: true, requestId: undefined });
    remaining = toSend;
    if (!toSend.length) break;

    if (round === 0 && earlierAttemptSent) {
      const lost =
        resumed?.accepted?.[0] ?? (await findLostActivity(cloud, req, toSend, ctx.info.scheduledTimestampMs, signal));
      if (lost) {
        removals.push({ scalingActivityId: lost, instanceIds: toSend, adopted: true, requestId: undefined });
        remaining = [];
        break;
      }
    }

    hb.beat({ sent: true } satisfies SentMarker);
    try {
      const res = await cloud.ess.removeInstances(
        {
          regionId: req.regionId,
          scalingGroupId: req.scalingGroupId,
          instanceIds: toSend,
          removePolicy: req.removePolicy,
          decreaseDesiredCapacity: req.decreaseDesiredCapacity,
          clientToken: clientTokenFor(req.idempotencyKey, toSend),
        },
        { signal },
      );
      requestIds.push(res.requestId);
      hb.beat({ sent: true, accepted: [res.scalingActivityId] } satisfies SentMarker);
      removals.push({
        scalingActivityId: res.scalingActivityId,
        instanceIds: toSend,
        adopted: false,
        requestId: res.requestId,
      });
      remaining = [];
    } catch (e) {
      // An error answer from the API (not a lost or 5xx one): this call was not accepted, though an
      // earlier attempt's may have been.
      if (e instanceof AliyunApiError && e.httpStatus < 500)
        hb.beat({
          sent: earlierAttemptSent,
          ...(resumed?.accepted ? { accepted: resumed.accepted } : {}),
        } satisfies SentMarker);
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
    throw new AliyunApiError(
      'InvalidInstanceId.NotFound',
      `instances kept disappearing from the group: ${remaining.join(', ')}`,
      404,
      undefined,
      undefined,
      'RemoveInstances',
    );
  }
  return { removals, gone, attempt, startedAt, requestIds };
}

export function isAmbiguous(e: unknown): boolean {
  return e instanceof AliyunError && e.ambiguous;
}
