import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient, ScalingInstance } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';
import type { AcceptedRemoval, RemoveBatchRequest, RemoveBatchResponse } from './types';

/**
 * ClientToken: same batch and instance set → same token; a changed set gets a new one, so the API
 * never sees a mismatch.
 */
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

/** Rounds of check-then-send before giving up on a membership that keeps changing. */
const MAX_ROUNDS = 5;

/** One attempt of removeBatch: what it was given, what it resumed from, and what it has found so far. */
interface Attempt {
  cloud: CloudClient;
  req: RemoveBatchRequest;
  hb: Heartbeat;
  signal: AbortSignal;
  attempt: number;
  /** When the first attempt was scheduled: a lost call's scaling activity started after it. */
  scheduledMs: number;
  resumed: SentMarker | undefined;
  earlierAttemptSent: boolean;
  startedAt: string;
  requestIds: string[];
  gone: RemoveBatchResponse['gone'];
  removals: AcceptedRemoval[];
}

function startAttempt(cloud: CloudClient, req: RemoveBatchRequest, hb: Heartbeat): Attempt {
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const resumed = hb.resumedFrom as SentMarker | undefined;
  return {
    cloud,
    req,
    hb,
    signal: ctx.cancellationSignal,
    attempt,
    scheduledMs: ctx.info.scheduledTimestampMs,
    resumed,
    // Unknown (the checkpoint may not have reached the server before a crash) counts as sent.
    earlierAttemptSent: attempt > 1 && (resumed?.sent ?? true),
    startedAt: new Date().toISOString(),
    requestIds: [],
    gone: [],
    removals: [],
  };
}

export async function runRemoveBatch(
  cloud: CloudClient,
  req: RemoveBatchRequest,
  hb: Heartbeat,
): Promise<RemoveBatchResponse> {
  const run = startAttempt(cloud, req, hb);
  let remaining = [...req.instanceIds];
  for (let round = 0; round < MAX_ROUNDS && remaining.length; round++) {
    remaining = await stillToSend(run, remaining);
    if (!remaining.length) break;
    if (round === 0 && run.earlierAttemptSent && (await adoptedLostCall(run, remaining))) {
      remaining = [];
      break;
    }
    remaining = await sendRemoval(run, remaining);
  }
  // The membership kept changing under us; let the retry policy try again later.
  if (remaining.length) throw keptDisappearing(remaining);
  const { removals, gone, attempt, startedAt, requestIds } = run;
  return { removals, gone, attempt, startedAt, requestIds };
}

/**
 * Reads the group and sorts `ids`: gone ones are reported, those already `Removing` are adopted
 * (one removal per scaling activity), the rest are returned, to be sent.
 */
async function stillToSend(run: Attempt, ids: string[]): Promise<string[]> {
  const { req, signal } = run;
  const { instances } = await run.cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: ids },
    { signal },
  );
  const present = new Map<string, ScalingInstance>(instances.map((i) => [i.instanceId, i]));
  const toSend: string[] = [];
  const adopted = new Map<string, string[]>();
  for (const id of ids) {
    const inst = present.get(id);
    if (!inst) {
      run.gone.push(goneEntry(id, run.earlierAttemptSent));
    } else if (inst.lifecycleState.startsWith('Removing') && inst.scalingActivityId) {
      adopted.set(inst.scalingActivityId, [...(adopted.get(inst.scalingActivityId) ?? []), id]);
    } else {
      toSend.push(id);
    }
  }
  for (const [scalingActivityId, instanceIds] of adopted)
    run.removals.push({ scalingActivityId, instanceIds, adopted: true, requestId: undefined });
  return toSend;
}

function goneEntry(instanceId: string, earlierAttemptSent: boolean): RemoveBatchResponse['gone'][number] {
  return {
    instanceId,
    removedByEarlierAttempt: earlierAttemptSent,
    why: earlierAttemptSent
      ? 'no longer in the group after an earlier attempt of this batch whose response was lost; ' +
        'counted as removed by it'
      : 'left the scaling group before this run removed it',
  };
}

/** Adopts the scaling activity of an earlier attempt's call, if it was accepted; true if it was. */
async function adoptedLostCall(run: Attempt, toSend: string[]): Promise<boolean> {
  const lost =
    run.resumed?.accepted?.[0] ?? (await findLostActivity(run.cloud, run.req, toSend, run.scheduledMs, run.signal));
  if (!lost) return false;
  run.removals.push({ scalingActivityId: lost, instanceIds: toSend, adopted: true, requestId: undefined });
  return true;
}

/**
 * One RemoveInstances call, checkpointed as sent before and accepted after. Returns what is left
 * to send: nothing once accepted, all of `toSend` when some instance left the group meanwhile.
 */
async function sendRemoval(run: Attempt, toSend: string[]): Promise<string[]> {
  const { req, hb, signal } = run;
  hb.beat({ sent: true } satisfies SentMarker);
  try {
    const res = await run.cloud.ess.removeInstances(
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
    run.requestIds.push(res.requestId);
    hb.beat({ sent: true, accepted: [res.scalingActivityId] } satisfies SentMarker);
    run.removals.push({
      scalingActivityId: res.scalingActivityId,
      instanceIds: toSend,
      adopted: false,
      requestId: res.requestId,
    });
    return [];
  } catch (e) {
    // An error answer from the API (not a lost or 5xx one): this call was not accepted, though an
    // earlier attempt's may have been.
    if (e instanceof AliyunApiError && e.httpStatus < 500) restoreSentMark(run);
    // Some instance left the group between our check and the call: check again, send the rest.
    if (e instanceof AliyunApiError && e.code === 'InvalidInstanceId.NotFound') {
      if (e.requestId) run.requestIds.push(e.requestId);
      return toSend;
    }
    throw e;
  }
}

/** Puts back the checkpoint this attempt started from: its own call was not accepted. */
function restoreSentMark(run: Attempt): void {
  run.hb.beat({
    sent: run.earlierAttemptSent,
    ...(run.resumed?.accepted ? { accepted: run.resumed.accepted } : {}),
  } satisfies SentMarker);
}

function keptDisappearing(remaining: string[]): AliyunApiError {
  return new AliyunApiError(
    'InvalidInstanceId.NotFound',
    `instances kept disappearing from the group: ${remaining.join(', ')}`,
    404,
    undefined,
    undefined,
    'RemoveInstances',
  );
}
