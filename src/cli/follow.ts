import { ScaleInFailedError, type ProgressSnapshot, type ScaleInClient, type ScaleInResult } from '../client';
import type { Io } from './io';
import { ProgressBar } from './progress-bar';

export type RunEnd =
  | { kind: 'result'; workflowId: string; result: ScaleInResult }
  | { kind: 'failed'; workflowId: string; error: ScaleInFailedError; progress: ProgressSnapshot | undefined };

/** A worker that is down must not freeze the bar: queries get a short deadline of their own. */
export async function queryProgress(
  client: ScaleInClient,
  workflowId: string,
  timeoutMs = 5000,
): Promise<ProgressSnapshot> {
  return client.client.connection.withDeadline(Date.now() + timeoutMs, () => client.progress(workflowId));
}

export interface FollowOptions {
  /** Draw the progress bar on stderr (off for --json). */
  bar: boolean;
  intervalMs?: number;
  /** Named in the hint shown when no worker answers. */
  taskQueue?: string;
}

/**
 * Waits for the run's end while polling the `progress` query for the bar. The end comes from the
 * workflow result (long poll), not from the query, so a slow or missing worker cannot make us
 * miss it. RunNotFoundError and connection errors propagate.
 */
export async function followRun(
  client: ScaleInClient,
  workflowId: string,
  io: Io,
  opts: FollowOptions,
): Promise<RunEnd> {
  const ended = client.result(workflowId).then(
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
  const t0 = Date.now();
  const interval = opts.intervalMs ?? 1000;
  try {
    while (!done) {
      if (bar) {
        try {
          bar.update(await queryProgress(client, workflowId, Math.max(interval * 3, 3000)));
        } catch {
          if (done) break;
          const waited = Math.round((Date.now() - t0) / 1000);
          bar.note(
            waited < 10
              ? 'waiting for the first progress report…'
              : `no progress report after ${waited}s: is a worker polling task queue "${opts.taskQueue ?? '?'}"?`,
          );
        }
      }
      await Promise.race([settled, new Promise((r) => setTimeout(r, interval))]);
    }
    // The loop may have missed the last batches: show where the run ended before the summary.
    const last = bar ? await queryProgress(client, workflowId, 3000).catch(() => undefined) : undefined;
    if (last) bar?.update(last);
  } finally {
    bar?.stop();
  }
  const final = await ended;
  if (final.kind === 'failed' && !final.error.result) {
    // Cancelled or terminated runs carry no result; the query still knows how far they got.
    final.progress = await queryProgress(client, workflowId).catch(() => undefined);
  }
  return final;
}
