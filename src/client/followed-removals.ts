import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { PayloadConverter } from '@temporalio/common';
import type { ProgressSnapshot } from '../shared/progress';

/** What a removeBatch attempt checkpoints (src/activities/remove.ts, RemoveCheckpoint): the calls it knows of. */
interface RemoveCheckpointView {
  removals?: Array<{ ids?: string[]; activity?: string }>;
}

/**
 * A removeBatch that follows its scaling activity (remove-and-follow) reports the accepted call
 * only when it ends; until then the workflow shows the batch as `removing`. Its heartbeat already
 * names the activity, so the progress shown to operators says `polling` and which activity, as it
 * did when a separate poll followed it. Only a batch still `removing` is changed, and only with an
 * activity the checkpoint names for instances of that batch.
 */
export function withFollowedRemovals(
  snapshot: ProgressSnapshot,
  desc: WorkflowExecutionDescription | undefined,
  converter: PayloadConverter,
): ProgressSnapshot {
  const accepted = acceptedByInstance(desc, converter);
  if (!accepted.size) return snapshot;
  const batches = snapshot.batches.map((b) => {
    if (b.state !== 'removing') return b;
    const activity = b.instanceIds.map((id) => accepted.get(id)).find((a) => a !== undefined);
    return activity ? { ...b, state: 'polling' as const, scalingActivityId: activity } : b;
  });
  return { ...snapshot, batches };
}

/** Instance → the scaling activity a running removeBatch's checkpoint says its call started. */
function acceptedByInstance(
  desc: WorkflowExecutionDescription | undefined,
  converter: PayloadConverter,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of desc?.raw.pendingActivities ?? []) {
    if (a.activityType?.name !== 'removeBatch') continue;
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    let checkpoint: RemoveCheckpointView | undefined;
    try {
      checkpoint = converter.fromPayload<RemoveCheckpointView>(payload);
    } catch {
      continue;
    }
    for (const r of checkpoint?.removals ?? []) if (r.activity) for (const id of r.ids ?? []) out.set(id, r.activity);
  }
  return out;
}
