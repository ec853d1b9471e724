import type { WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';

/** An activity of the run the server has scheduled and not seen end: where its retries stand. */
export interface PendingActivityView {
  type: string;
  /** `SCHEDULED`, `STARTED` or `CANCEL_REQUESTED`. */
  state: string;
  attempt: number;
  /** The last attempt's failure: its type (the cloud error code, or ours) and message. */
  lastFailure: { type: string; message: string } | undefined;
  /** When the next attempt is due (a retry waiting out its backoff). */
  nextAttemptAt: string | undefined;
}

const STATES = ['UNSPECIFIED', 'SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'];

/** The server's pending-activity info: the retries the progress query cannot know about. */
export function pendingActivitiesOf(desc: WorkflowExecutionDescription): PendingActivityView[] {
  return (desc.raw.pendingActivities ?? []).map((a) => {
    const f = a.lastFailure;
    const next = optionalTsToDate(a.nextAttemptScheduleTime);
    return {
      type: a.activityType?.name ?? '?',
      state: STATES[Number(a.state ?? 0)] ?? String(a.state),
      attempt: Number(a.attempt ?? 1),
      lastFailure: f ? { type: f.applicationFailureInfo?.type ?? 'Failure', message: f.message ?? '' } : undefined,
      nextAttemptAt: next?.toISOString(),
    };
  });
}

/** `removeBatch attempt 4 (last: Throttling: …; next attempt 09:55:02Z)`, one per activity. */
export function pendingLine(p: PendingActivityView): string {
  const last = p.lastFailure ? `last: ${p.lastFailure.type}: ${p.lastFailure.message.slice(0, 200)}` : '';
  const next = p.nextAttemptAt ? `next attempt ${p.nextAttemptAt}` : '';
  const detail = [last, next].filter(Boolean).join('; ');
  return (
    `${p.type} attempt ${p.attempt}${p.state === 'SCHEDULED' && p.attempt > 1 ? ' (waiting to retry)' : ''}` +
    (detail ? ` (${detail})` : '')
  );
}

/** What the CLI calls each activity in a retry note: the cloud call an operator would look up. */
const CALLED: Readonly<Record<string, string>> = {
  removeBatch: 'RemoveInstances',
  pollScalingActivity: 'DescribeScalingActivities',
  drain: 'drain',
  undrain: 'restore',
  snapshotWeights: 'weight snapshot',
  preflight: 'preflight',
};

/**
 * `RemoveInstances attempt 4, last Throttling.User: …, next retry in 3s`: an activity being retried,
 * for the progress bar. Undefined for a first attempt (nothing to say).
 */
export function retryNote(p: PendingActivityView, nowMs: number): string | undefined {
  if (p.attempt <= 1) return undefined;
  const parts = [`${CALLED[p.type] ?? p.type} attempt ${p.attempt}`];
  if (p.lastFailure) {
    const msg = p.lastFailure.message.replace(/\s+/g, ' ');
    parts.push(`last ${p.lastFailure.type}: ${msg.length > 80 ? `${msg.slice(0, 79)}…` : msg}`);
  }
  const next = p.nextAttemptAt ? Date.parse(p.nextAttemptAt) - nowMs : NaN;
  if (Number.isFinite(next)) parts.push(next > 0 ? `next retry in ${Math.ceil(next / 1000)}s` : 'retrying now');
  else if (p.state === 'STARTED') parts.push('this attempt running');
  return parts.join(', ');
}
