import { Context } from '@temporalio/activity';
import type { CloudClient, ScalingActivity } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';
import { initialPace, nextPace } from './poll-pacing';
import type { PollRequest, PollResponse } from './types';

const TERMINAL = new Set(['Successful', 'Warning', 'Failed', 'Rejected']);

interface PollCheckpoint {
  polls: number;
  progress: number;
}

/**
 * Follows one scaling activity to its end. Heartbeats carry the poll count so a worker crash
 * resumes where it stopped. The interval follows `Progress` (poll-pacing.ts).
 */
export async function runPoll(cloud: CloudClient, req: PollRequest, hb: Heartbeat): Promise<PollResponse> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const resumed = hb.resumedFrom as PollCheckpoint | undefined;
  let polls = resumed?.polls ?? 0;
  const pacing = { minIntervalMs: req.minIntervalMs, maxIntervalMs: req.maxIntervalMs };
  let pace = initialPace(pacing);
  const freshSinceMs = resumed ? undefined : Date.now();
  for (;;) {
    const { activities } = await cloud.ess.describeScalingActivities(req.regionId, [req.scalingActivityId], { signal });
    polls++;
    const act = activities.find((a) => a.scalingActivityId === req.scalingActivityId);
    if (act && TERMINAL.has(act.statusCode)) return finish(cloud, req, act, polls, signal);
    const progress = act?.progress ?? 0;
    hb.beat({ polls, progress } satisfies PollCheckpoint);
    pace = nextPace(pacing, pace, progress, Date.now(), freshSinceMs);
    await ctx.sleep(pace.intervalMs);
  }
}

async function finish(
  cloud: CloudClient,
  req: PollRequest,
  act: ScalingActivity,
  polls: number,
  signal: AbortSignal,
): Promise<PollResponse> {
  const { statusCode, progress } = act;
  const statusMessage = act.statusMessage || act.errorMessage || '';
  // The group itself is the truth about what left it: an instance still there (and not on its way
  // out) was not removed, whatever the activity's summary says.
  const { instances } = await cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: req.instanceIds },
    { signal },
  );
  const stillThere = new Map(instances.map((i) => [i.instanceId, i.lifecycleState]));
  return {
    scalingActivityId: req.scalingActivityId,
    statusCode,
    statusMessage,
    progress,
    ...removedOrNot(req, act, statusMessage, stillThere),
    polls,
    endedAt: new Date().toISOString(),
  };
}

/** Each instance of the batch: removed if it left the group, failed (and why) if it is still there. */
function removedOrNot(
  req: PollRequest,
  act: ScalingActivity,
  statusMessage: string,
  stillThere: Map<string, string>,
): Pick<PollResponse, 'removedInstanceIds' | 'failedInstances'> {
  const reported = new Set(act.failedInstanceIds);
  const because = statusMessage ? ` (${statusMessage})` : '';
  const ended = `scaling activity ${req.scalingActivityId} ended ${act.statusCode}${because}`;
  const failedInstances: PollResponse['failedInstances'] = [];
  const removedInstanceIds: string[] = [];
  for (const id of req.instanceIds) {
    const state = stillThere.get(id);
    if (state === undefined) removedInstanceIds.push(id);
    else
      failedInstances.push({
        instanceId: id,
        why:
          `${ended}; the instance is still in the group as ${state}` +
          (reported.has(id) ? ', listed among its failed instances' : ''),
      });
  }
  return { removedInstanceIds, failedInstances };
}
