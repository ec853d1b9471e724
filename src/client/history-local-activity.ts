import type { PayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { PollRequest, RemoveBatchResponse } from '../activities/types';

type Event = temporal.api.history.v1.IHistoryEvent;

/** The SDK's marker for a local activity's outcome (sdk-core: `core_local_activity`). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface LocalActivityOutcome {
  type: string;
  /** The activity's return value; undefined when it failed (the marker then carries a failure). */
  result: unknown;
}

/**
 * A completed local activity, read from its marker: `data` holds the SDK's metadata (the activity
 * type among it), `result` the returned value. Local activities record no input in the history.
 */
export function localActivityOf(e: Event, converter: PayloadConverter): LocalActivityOutcome | undefined {
  const m = e.markerRecordedEventAttributes;
  if (m?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = m.details?.data?.payloads?.[0];
  const meta = data ? converter.fromPayload<{ activity_type?: string }>(data) : undefined;
  const result = m.details?.result?.payloads?.[0];
  return {
    type: meta?.activity_type ?? '',
    result: result && !m.failure ? converter.fromPayload(result) : undefined,
  };
}

/**
 * The poll a removeBatch made itself (request `follow`), as the pollScalingActivity it stands for:
 * its input (the activity and the instances it was given) and its result.
 */
export function followedPollOf(
  result: Partial<RemoveBatchResponse> | undefined,
): { input: Pick<PollRequest, 'scalingActivityId' | 'instanceIds'>; result: unknown } | undefined {
  const polled = result?.followed;
  if (!polled) return undefined;
  const removal = result.removals?.find((r) => r.scalingActivityId === polled.scalingActivityId);
  return {
    input: { scalingActivityId: polled.scalingActivityId, instanceIds: [...(removal?.instanceIds ?? [])] },
    result: polled,
  };
}
