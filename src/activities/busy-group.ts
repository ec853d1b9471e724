import { ApplicationFailure } from '@temporalio/activity';
import type { AliyunApiError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';
import { ERROR_POLICY } from '../shared/error-policy';

const CODE = 'ScalingActivityInProgress';
/** How often a removal blocked by another actor's hooked activity tries again: hooks wait minutes to hours. */
const HOOK_HELD_RETRY_MS = 60_000;

export interface BusyGroup {
  regionId: string;
  scalingGroupId: string;
  /** This attempt's number against the table's bound: attempts held by hooks are not counted. */
  counted: number;
  retryDelayCapMs: number | undefined;
  signal: AbortSignal;
}

/** What the attempt learnt: the failure to throw, and whether hooks held the group (not counted). */
export interface BusyVerdict {
  failure: ApplicationFailure;
  heldByHooks: boolean;
}

/**
 * ScalingActivityInProgress, judged: when the activity that blocks the group waits on lifecycle hooks
 * (another team's cleanup can hold it for hours), the wait does not count against the table's
 * attempt bound (about 20 minutes): the removal tries again every minute, as long as the hooks hold
 * it. Anything else counts, as the table says. If the blocking activity cannot be read, it counts.
 */
export async function judgeBusyGroup(cloud: CloudClient, g: BusyGroup, err: AliyunApiError): Promise<BusyVerdict> {
  const policy = ERROR_POLICY[CODE];
  const cap = (ms: number) => Math.min(ms, g.retryDelayCapMs ?? Infinity);
  const held = await heldByHooks(cloud, g).catch(() => undefined);
  const details = { code: CODE, action: err.action, requestId: err.requestId, httpStatus: err.httpStatus };
  if (held)
    return {
      heldByHooks: true,
      failure: ApplicationFailure.create({
        type: CODE,
        message:
          `${err.message}. Scaling activity ${held.activityId} is held by lifecycle hook(s) ` +
          `${held.hookIds.join(', ')}: waited for (not counted against the ~20-minute bound), retried every minute.`,
        nextRetryDelay: cap(HOOK_HELD_RETRY_MS),
        details: [{ ...details, advice: 'The group is busy with a scaling activity that waits on lifecycle hooks.' }],
      }),
    };
  const { counted } = g;
  const exhausted = policy?.maxAttempts !== undefined && counted >= policy.maxAttempts;
  return {
    heldByHooks: false,
    failure: ApplicationFailure.create({
      type: CODE,
      message: `${err.message}. ${policy?.advice ?? ''}${exhausted ? ` Gave up after ${counted} attempts.` : ''}`,
      nonRetryable: exhausted,
      nextRetryDelay: policy?.delayMs === undefined ? undefined : cap(policy.delayMs),
      details: [{ ...details, advice: policy?.advice ?? '' }],
    }),
  };
}

/** The group's running activity and the hooks holding it, if lifecycle hooks hold it. */
async function heldByHooks(
  cloud: CloudClient,
  g: BusyGroup,
): Promise<{ activityId: string; hookIds: string[] } | undefined> {
  const { activities } = await cloud.ess.recentScalingActivities(g.regionId, g.scalingGroupId, { signal: g.signal });
  const running = activities.find((a) => a.statusCode === 'InProgress');
  if (!running) return undefined;
  const { actions } = await cloud.ess.describeLifecycleActions(g.regionId, running.scalingActivityId, {
    signal: g.signal,
  });
  const hookIds = [
    ...new Set(actions.filter((a) => a.lifecycleActionStatus === 'Pending').map((a) => a.lifecycleHookId)),
  ];
  return hookIds.length ? { activityId: running.scalingActivityId, hookIds } : undefined;
}
