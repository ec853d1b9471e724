import { CancellationScope, isCancellation, type ActivityOptions } from '@temporalio/workflow';
import type {
  AcceptedRemoval,
  FollowRequest,
  PollRequest,
  PollResponse,
  RemoveBatchRequest,
  RemoveBatchResponse,
} from '../../activities';
import { describeFailure, failureType } from '../failures';
import { forecastEnd, rememberEnd } from '../../shared/poll-forecast';
import { DEFAULTS } from '../../shared/input';
import type { Batch } from './ledger';
import type { ScaleInRun } from './run';

/**
 * How long a retry of RemoveInstances assumes ESS takes to show an accepted call (activity listed,
 * instances Removing). The reference gives no figure (docs/emulator.md, "Visibility lag"); public
 * clients wait a few seconds before their first look. Capped by the run's longest retry interval.
 */
const VISIBILITY_WAIT_MS = 5_000;

/**
 * One batch: RemoveInstances, then a poll of each scaling activity it started, each outcome
 * written to the ledger. True when every instance of the batch was removed.
 */
export async function runBatch(run: ScaleInRun, batch: Batch): Promise<boolean> {
  const label = `batch ${batch.progress.index}/${run.ledger.batchesTotal} (${batch.ids.length} instances)`;
  batch.progress.state = 'removing';
  run.publish();
  let removal: RemoveBatchResponse;
  try {
    removal = await removeInstances(run, batch, label);
  } catch (e) {
    run.ledger.recordRemoveFailed(batch, label, describeFailure(e), failureType(e));
    run.publish();
    return false;
  }
  run.ledger.recordRemovalAccepted(batch, removal);
  run.publish();

  let ok = true;
  for (const r of removal.removals) {
    let polled: PollResponse;
    try {
      polled = followedBy(run, removal, r) ?? (await followToItsEnd(run, batch, r, label));
    } catch (e) {
      if (isCancellation(e)) throw e;
      run.ledger.recordPollFailed(batch, label, r, describeFailure(e));
      ok = false;
      continue;
    }
    if (!run.ledger.recordPolled(batch, label, r, polled)) ok = false;
  }
  run.ledger.settleBatchState(batch, ok, removal);
  return ok;
}

/** The poll removeBatch made itself of this removal's activity (request `follow`), if it got to the end. */
function followedBy(run: ScaleInRun, removal: RemoveBatchResponse, r: AcceptedRemoval): PollResponse | undefined {
  const polled = removal.followed;
  if (polled?.scalingActivityId !== r.scalingActivityId || polled.statusCode === 'InProgress') return undefined;
  if (polled.observedEnd) run.activityEnds = rememberEnd(run.activityEnds, polled.observedEnd);
  return polled;
}

/**
 * Not cancelled half-way: once sent, the outcome must be known. Without lifecycle hooks to wait
 * on, the same activity follows the scaling activity it started to its end (patch remove-and-follow).
 */
function removeInstances(run: ScaleInRun, batch: Batch, label: string): Promise<RemoveBatchResponse> {
  const { input, ledger } = run;
  const poll = pollPlan(run);
  const follow = !poll.held && run.patches.removeAndFollow();
  const req: RemoveBatchRequest = {
    ...run.where,
    instanceIds: batch.ids,
    removePolicy: input.removePolicy,
    decreaseDesiredCapacity: input.decreaseDesiredCapacity,
    idempotencyKey: `${ledger.runKey}/${batch.progress.index}`,
    knownScalingActivityIds: ledger.knownActivityIds(),
    ...skipHooksOf(run),
    visibilityWaitMs: Math.min(VISIBILITY_WAIT_MS, input.advanced.retryMaxIntervalMs),
    ...(follow ? { follow: poll.request } : {}),
  };
  const options: ActivityOptions = follow
    ? { summary: `RemoveInstances ${label}, then poll its scaling activity`, startToCloseTimeout: FOLLOW_TIMEOUT }
    : { summary: `RemoveInstances ${label}` };
  return CancellationScope.nonCancellable(() => run.acts.removals.removeBatch.executeWithOptions(options, [req]));
}

/** As long as a poll may take (the polls class in ../options.ts): a scaling activity can run for hours. */
const FOLLOW_TIMEOUT: ActivityOptions['startToCloseTimeout'] = '6h';

/** How the run polls a scaling activity: its bounds, the hooks it waits on, the forecast of its end. */
function pollPlan(run: ScaleInRun): { held: boolean; request: FollowRequest } {
  const { advanced } = run.input;
  const hooks = run.ledger.plan?.lifecycleHooks ?? [];
  const held = hooks.some((h) => h.handling !== 'skip');
  // Hooks hold an activity as long as their owners take: its end cannot be predicted from the last.
  const samples = advanced.pollForecastSamples ?? DEFAULTS.advanced.pollForecastSamples;
  const expectedEnd = held ? undefined : forecastEnd(run.activityEnds, samples);
  const request = {
    minIntervalMs: advanced.pollMinIntervalMs,
    maxIntervalMs: advanced.pollMaxIntervalMs,
    ...(held ? { hooks } : {}),
    ...(expectedEnd ? { expectedEnd } : {}),
  };
  return { held, request };
}

/** The hooks RemoveInstances bypasses; nothing (the request as before hooks existed) when the run skips none. */
function skipHooksOf(run: ScaleInRun): { skipHooks?: { all: boolean; hookIds: string[] } } {
  const opts = run.input.lifecycleHooks;
  if (opts?.mode !== 'skip') return {};
  return { skipHooks: { all: opts.all, hookIds: [...opts.hookIds] } };
}

/**
 * ESS finishes an accepted removal whatever we do: a cancel waits for its end, so the result
 * says what was removed instead of "pending". A poll comes back early while lifecycle hooks hold
 * the instances (or once the run completed some of their actions), so progress can show it.
 */
async function followToItsEnd(run: ScaleInRun, batch: Batch, r: AcceptedRemoval, label: string): Promise<PollResponse> {
  const req: PollRequest = {
    ...run.where,
    scalingActivityId: r.scalingActivityId,
    instanceIds: r.instanceIds,
    ...pollPlan(run).request,
  };
  const known: string[] = [];
  for (;;) {
    const heldNow = known.length ? ', held by lifecycle hooks' : '';
    const summary = `Poll scaling activity ${r.scalingActivityId} (${label})${heldNow}`;
    const args: [PollRequest] = [known.length ? { ...req, knownWaitTokens: [...known] } : req];
    const poll = () => run.acts.polls.pollScalingActivity.executeWithOptions({ summary }, args);
    const polled = run.patches.followAcceptedRemovalsOnCancel()
      ? await CancellationScope.nonCancellable(poll)
      : await poll();
    if (polled.observedEnd) run.activityEnds = rememberEnd(run.activityEnds, polled.observedEnd);
    if (polled.statusCode !== 'InProgress' || !polled.hookWait) return polled;
    known.push(...polled.hookWait.waitingOn.map((w) => w.lifecycleActionToken));
    run.ledger.recordHookWait(batch, polled.hookWait);
    run.publish();
  }
}
