import { Context } from '@temporalio/activity';
import type { CloudClient } from '../aliyun/types';
import { Heartbeat } from './heartbeat';
import { runPoll } from './poll';
import { runRemoveBatch } from './remove';
import type { AcceptedRemoval, PollRequest, RemoveBatchRequest, RemoveBatchResponse } from './types';

/** The poll's checkpoint, kept beside the removal's under `follow`, with the activity it belongs to. */
interface FollowCheckpoint {
  scalingActivityId: string;
  poll: unknown;
}

/**
 * The poll's view of the activity's heartbeat: its checkpoints go under `follow`, beside the
 * removal's last one, so that a retry both adopts the accepted call from it and resumes the poll.
 */
class FollowHeartbeat extends Heartbeat {
  private readonly base: object;
  private readonly resumed: unknown;

  constructor(
    private readonly parent: Heartbeat,
    private readonly scalingActivityId: string,
  ) {
    super(Context.current());
    const latest = parent.latest;
    this.base = typeof latest === 'object' && latest !== null ? { ...latest } : {};
    const earlier = (parent.resumedFrom as { follow?: FollowCheckpoint } | undefined)?.follow;
    this.resumed = earlier?.scalingActivityId === scalingActivityId ? earlier.poll : undefined;
  }

  override beat(details?: unknown): void {
    if (details === undefined) return this.parent.beat();
    const follow: FollowCheckpoint = { scalingActivityId: this.scalingActivityId, poll: details };
    this.parent.beat({ ...this.base, follow });
  }

  override get resumedFrom(): unknown {
    return this.resumed;
  }
}

/**
 * removeBatch with `follow`: RemoveInstances, then the poll of the one scaling activity it started,
 * in one activity (one activity per batch in the history instead of two). A poll that fails here
 * does not fail the removal, which ESS has accepted: the result says why it was not followed, and
 * the workflow polls the activity itself, as it does without `follow`.
 */
export async function runRemoveAndFollow(
  cloud: CloudClient,
  req: RemoveBatchRequest,
  hb: Heartbeat,
): Promise<RemoveBatchResponse> {
  const removal = await runRemoveBatch(cloud, req, hb);
  const only = removal.removals.length === 1 ? removal.removals[0] : undefined;
  if (!req.follow || !only) return removal;
  try {
    const followed = await runPoll(cloud, pollRequestFor(req, only), new FollowHeartbeat(hb, only.scalingActivityId));
    return { ...removal, followed };
  } catch (e) {
    return { ...removal, notFollowed: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

function pollRequestFor(req: RemoveBatchRequest, r: AcceptedRemoval): PollRequest {
  return {
    ...req.follow!,
    regionId: req.regionId,
    scalingGroupId: req.scalingGroupId,
    scalingActivityId: r.scalingActivityId,
    instanceIds: [...r.instanceIds],
    ...(req.retryDelayCapMs === undefined ? {} : { retryDelayCapMs: req.retryDelayCapMs }),
  };
}
