import type { Outcome } from '../client';
import { countsLine, resultLines } from './format';
import type { RunEnd } from './follow';
import { EXIT, printJson, type ExitCode, type Io } from './io';

/** Only these mean "everything asked for was done"; anything else is exit 1 for scripts. */
export function isSuccess(outcome: Outcome | string): boolean {
  return outcome === 'completed' || outcome === 'dry-run';
}

function outcomeOf(end: RunEnd): string {
  if (end.kind === 'result') return end.result.outcome;
  if (end.error.result) return end.error.result.outcome;
  if (end.error.code === 'CancelledFailure') return 'cancelled';
  if (end.error.code === 'TerminatedFailure') return 'terminated';
  if (end.error.code === 'TimeoutFailure') return 'timed-out';
  return 'failed';
}

/**
 * The one JSON shape of a run's end (start --wait, watch, result, show; docs/run.schema.json):
 * `{ok, workflowId, runId, startTime, closeTime, existing?, outcome, result | error, ...}`.
 */
export function endJson(end: RunEnd, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const outcome = outcomeOf(end);
  const run = {
    workflowId: end.workflowId,
    runId: end.runId ?? null,
    startTime: end.startTime || null,
    closeTime: end.closeTime ?? null,
    ...extra,
  };
  if (end.kind === 'result') return { ok: isSuccess(outcome), ...run, outcome, result: end.result };
  return {
    ok: false,
    ...run,
    outcome,
    error: { code: end.error.code, message: end.error.message },
    result: end.error.result ?? null,
    progress: end.progress ?? null,
  };
}

/** Prints the end of a run (human summary or JSON) and returns the exit code. */
export function reportEnd(io: Io, end: RunEnd, json: boolean, extra: Record<string, unknown> = {}): ExitCode {
  const outcome = outcomeOf(end);
  if (json) printJson(io, endJson(end, extra));
  else if (end.kind === 'result') io.out(resultLines(end.result).join('\n'));
  else {
    io.out(`Run ${outcome} (${end.error.code}): ${end.error.message}`);
    if (end.error.result) io.out(['', ...resultLines(end.error.result, { printed: end.error.message })].join('\n'));
    else if (end.progress)
      io.out(
        `When it stopped: ${countsLine(end.progress.counts)}; ` +
          `batches ${end.progress.counts.batchesDone}/${end.progress.counts.batchesTotal}`,
      );
  }
  if (!json) {
    const hint = repairHint(end, outcome);
    if (hint) io.out(hint);
  }
  return isSuccess(outcome) ? EXIT.ok : EXIT.failed;
}

/**
 * A terminated run (or one that timed out) never ran its cleanup: what it drained may still be at
 * weight 0. A cancelled run restores by itself, but says so when some of it stayed drained. Failed
 * and completed runs carry the hint in their own message.
 */
function repairHint(end: RunEnd, outcome: string): string | undefined {
  const cmd = `ess-scale-in repair ${end.workflowId}`;
  if (outcome === 'terminated' || outcome === 'timed-out')
    return (
      '\nThe run ended without its cleanup: instances it drained may still be at weight 0. ' +
      `Restore them with: ${cmd}`
    );
  const drained = end.kind === 'failed' ? (end.error.result?.counts.drainedNotRestored ?? 0) : 0;
  if (outcome === 'cancelled' && drained)
    return `\n${drained} instance(s) stay drained. Once the cause is fixed, restore them with: ${cmd}`;
  return undefined;
}
