import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import {
  RunNotFoundError,
  ScaleInFailedError,
  type ProgressSnapshot,
  type ScaleInClient,
  type ScaleInResult,
} from '../client';
import type { Io } from './io';
import { pendingActivitiesOf, retryNote } from './pending';
import { ProgressBar, progressText } from './progress-bar';

/** Which run a command followed, and when it ran: every run of a group shares the workflow ID. */
export interface RunTimes {
  runId: string;
  startTime: string;
  /** When the run (its last run, after continue-as-new) closed; null while it runs. */
  closeTime: string | null;
}

export type RunEnd = (
  | { kind: 'result'; workflowId: string; result: ScaleInResult }
  | { kind: 'failed'; workflowId: string; error: ScaleInFailedError; progress: ProgressSnapshot | undefined }
) &
  Partial<RunTimes>;

/** A worker that is down must not freeze the bar: queries get a short deadline of their own. */
export async function queryProgress(
  client: ScaleInClient,
  workflowId: string,
  timeoutMs = 5000,
  runId?: string,
): Promise<ProgressSnapshot> {
  return client.client.connection.withDeadline(Date.now() + timeoutMs, () => client.progress(workflowId, runId));
}

/** The run's description; a missing run (or --run-id) is RunNotFoundError. */
export async function describeRun(
  client: ScaleInClient,
  workflowId: string,
  runId: string | undefined,
): Promise<WorkflowExecutionDescription> {
  return client
    .handle(workflowId, runId)
    .describe()
    .catch((e: unknown) => {
      throw e instanceof WorkflowNotFoundError ? new RunNotFoundError(workflowId, runId) : e;
    });
}

export interface FollowOptions {
  /** Draw the progress bar on stderr (off for --json). */
  bar: boolean;
  intervalMs?: number;
  /** Named in the hint shown when no worker answers. */
  taskQueue?: string;
  /** The run to follow (--run-id, or the one `start` started); default the latest run at the time. */
  runId?: string | undefined;
}

/**
 * Waits for the run's end while polling the `progress` query for the bar. The end comes from the
 * workflow result (long poll), not from the query, so a slow or missing worker cannot make us
 * miss it. The run is pinned first (its run ID), so a later run of the group is never mistaken
 * for it. RunNotFoundError and connection errors propagate.
 */
export async function followRun(
  client: ScaleInClient,
  workflowId: string,
  io: Io,
  opts: FollowOptions,
): Promise<RunEnd> {
  const runId = (await describeRun(client, workflowId, opts.runId)).runId;
  const ended = client.result(workflowId, runId).then(
    (result): RunEnd => ({ kind: 'result', workflowId, result }),
    (error: unknown) => {
      if (error instanceof ScaleInFailedError)
        return { kind: 'failed', workflowId, error, progress: undefined } satisfies RunEnd;
      throw error;
    },
  );
  let done = false;
  const settled = ended
    .finally(() => {
      done = true;
    })
    .catch(() => undefined);
  const bar = opts.bar ? new ProgressBar(io) : undefined;
  try {
    if (bar) await drawUntil(client, { workflowId, runId }, bar, opts, () => done, settled);
  } finally {
    bar?.stop();
  }
  const final = await ended;
  if (final.kind === 'failed' && !final.error.result) {
    // Cancelled or terminated runs carry no result; the query still knows how far they got.
    final.progress = await queryProgress(client, workflowId, 5000, runId).catch(() => undefined);
  }
  return { ...final, ...(await runTimes(client, workflowId, runId)) };
}

/** The bar, once a second until the end: progress, and the retries only the server knows of. */
async function drawUntil(
  client: ScaleInClient,
  run: { workflowId: string; runId: string },
  bar: ProgressBar,
  opts: FollowOptions,
  isDone: () => boolean,
  settled: Promise<unknown>,
): Promise<void> {
  const t0 = Date.now();
  const interval = opts.intervalMs ?? 1000;
  while (!isDone()) {
    const [progress, retries] = await Promise.all([
      queryProgress(client, run.workflowId, Math.max(interval * 3, 3000), run.runId).catch(() => undefined),
      retryNotes(client, run.workflowId, run.runId),
    ]);
    if (isDone()) break;
    if (progress) bar.note([progressText(progress), ...retries].join(' | '));
    else {
      const waited = Math.round((Date.now() - t0) / 1000);
      bar.note(
        waited < 10
          ? 'waiting for the first progress report…'
          : `no progress report after ${waited}s: is a worker polling task queue "${opts.taskQueue ?? '?'}"?`,
      );
    }
    await Promise.race([settled, new Promise((r) => setTimeout(r, interval))]);
  }
  // The loop may have missed the last batches: show where the run ended before the summary.
  const last = await queryProgress(client, run.workflowId, 3000, run.runId).catch(() => undefined);
  if (last) bar.update(last);
}

/** `RemoveInstances attempt 4, last Throttling.User: …, next retry in 3s`, for each activity being retried. */
async function retryNotes(client: ScaleInClient, workflowId: string, runId: string): Promise<string[]> {
  const desc = await client.client.connection
    .withDeadline(Date.now() + 3000, () => client.handle(workflowId, runId).describe())
    .catch(() => undefined);
  if (!desc) return [];
  const now = Date.now();
  return pendingActivitiesOf(desc).flatMap((p) => retryNote(p, now) ?? []);
}

/**
 * When the followed run started and closed. After continue-as-new the chain closes with its last
 * run: the latest run of the ID, when it belongs to the same chain.
 */
export async function runTimes(client: ScaleInClient, workflowId: string, runId: string): Promise<RunTimes> {
  const desc = await describeRun(client, workflowId, runId).catch(() => undefined);
  if (!desc) return { runId, startTime: '', closeTime: null };
  let close = desc.closeTime;
  if (desc.status.name === 'CONTINUED_AS_NEW') {
    const latest = await describeRun(client, workflowId, undefined).catch(() => undefined);
    const chain = (d: WorkflowExecutionDescription) => d.raw.workflowExecutionInfo?.firstRunId;
    close = latest && chain(latest) && chain(latest) === chain(desc) ? latest.closeTime : undefined;
  }
  return { runId, startTime: desc.startTime.toISOString(), closeTime: close?.toISOString() ?? null };
}
