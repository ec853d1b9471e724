import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { InvalidInputError } from '../shared/input';
import type { RestoreRecord } from '../shared/restore';

/** The failure inside the activity or child-workflow wrappers: what actually went wrong. */
export function rootFailure(e: unknown): unknown {
  let cur: unknown = e;
  while ((cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure) && cur.cause) cur = cur.cause;
  return cur;
}

/** The cloud error code (the ApplicationFailure type) behind a failure, if there is one. */
export function failureType(e: unknown): string | undefined {
  const cur = rootFailure(e);
  return cur instanceof ApplicationFailure ? (cur.type ?? undefined) : undefined;
}

/** One line naming the cloud error code, for progress and results. */
export function describeFailure(e: unknown): string {
  const cur = rootFailure(e);
  if (cur instanceof ApplicationFailure) return `${cur.type ?? 'Error'}: ${cur.message}`;
  if (cur instanceof Error) return `${cur.name}: ${cur.message}`;
  return String(cur);
}

/** What a drain that failed part-way says it changed (its failure details), so a restore covers it. */
export function restoreRecordsOf(e: unknown): RestoreRecord[] {
  const cur = rootFailure(e);
  const detail =
    cur instanceof ApplicationFailure ? (cur.details?.[0] as { restore?: RestoreRecord[] } | undefined) : undefined;
  return Array.isArray(detail?.restore) ? detail.restore : [];
}

/**
 * Runs a workflow's input validation; bad input fails the run at once as a non-retryable
 * `InvalidInput` failure whose details list every problem with its field and fix.
 */
export function validatedOrFail<I, N>(validate: (raw: I) => N, raw: I): N {
  try {
    return validate(raw);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      throw ApplicationFailure.create({
        type: 'InvalidInput',
        message: e.message,
        nonRetryable: true,
        details: [e.problems],
      });
    }
    throw e;
  }
}
