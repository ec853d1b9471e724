import { ApplicationFailure, activityInfo } from '@temporalio/activity';
import { AliyunApiError, AliyunError } from '../aliyun/errors';
import { errorPolicyFor } from '../shared/error-policy';
import { DrainInterruptedError } from './drain';
import type { RestoreRecord } from './types';

export interface FailureDetails {
  code: string;
  action: string | undefined;
  requestId: string | undefined;
  httpStatus: number | undefined;
  recommend: string | undefined;
  advice: string;
  /** For a drain that failed part-way: how to undo what it changed. */
  restore?: RestoreRecord[] | undefined;
}

/**
 * Translates a cloud error into the Temporal failure the retry policy acts on, at the activity
 * boundary and nowhere else. The failure `type` is the Alibaba Cloud error code.
 */
export function toApplicationFailure(err: unknown, retryDelayCapMs?: number): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof DrainInterruptedError) return fromInterruptedDrain(err, retryDelayCapMs);
  if (err instanceof AliyunError) return fromCloudError(err, retryDelayCapMs);
  if (err instanceof RangeError || err instanceof TypeError) {
    return ApplicationFailure.create({ type: 'BadRequest', message: err.message, nonRetryable: true, cause: err });
  }
  return err;
}

/** The failure of the drain's cause, with what to restore added to its details. */
function fromInterruptedDrain(err: DrainInterruptedError, retryDelayCapMs: number | undefined): ApplicationFailure {
  const inner = toApplicationFailure(err.cause, retryDelayCapMs);
  if (inner instanceof ApplicationFailure) {
    const first = (inner.details?.[0] ?? {}) as Partial<FailureDetails>;
    return ApplicationFailure.create({
      type: inner.type ?? 'DrainFailed',
      message: inner.message,
      nonRetryable: inner.nonRetryable ?? undefined,
      nextRetryDelay: inner.nextRetryDelay ?? undefined,
      details: [{ ...first, restore: err.restore }],
    });
  }
  const details: FailureDetails = {
    code: 'DrainFailed',
    action: undefined,
    requestId: undefined,
    httpStatus: undefined,
    recommend: undefined,
    advice: 'retried',
    restore: err.restore,
  };
  return ApplicationFailure.create({ type: 'DrainFailed', message: err.message, details: [details] });
}

/** Retryable, next delay and advice as the policy table says for the error's code. */
function fromCloudError(err: AliyunError, retryDelayCapMs: number | undefined): ApplicationFailure {
  const api = err instanceof AliyunApiError ? err : undefined;
  const policy = errorPolicyFor(err.code, api?.httpStatus);
  const attempt = safeAttempt();
  const exhausted = policy.maxAttempts !== undefined && attempt >= policy.maxAttempts;
  const suffix = exhausted ? ` Gave up after ${attempt} attempts.` : '';
  return ApplicationFailure.create({
    type: err.code,
    message: `${err.message}. ${policy.advice}${suffix}`,
    nonRetryable: policy.handling === 'fail' || exhausted,
    nextRetryDelay: policy.delayMs === undefined ? undefined : Math.min(policy.delayMs, retryDelayCapMs ?? Infinity),
    details: [detailsOf(err, api, policy.advice)],
  });
}

/** Only what names the call: never the request, the cause or anything else that may hold a secret. */
function detailsOf(err: AliyunError, api: AliyunApiError | undefined, advice: string): FailureDetails {
  return {
    code: err.code,
    action: 'action' in err ? String((err as { action: unknown }).action) : undefined,
    requestId: api?.requestId,
    httpStatus:
      api?.httpStatus ?? ('httpStatus' in err ? Number((err as { httpStatus: unknown }).httpStatus) : undefined),
    recommend: api?.recommend,
    advice,
  };
}

function safeAttempt(): number {
  try {
    return activityInfo().attempt;
  } catch {
    return 1;
  }
}

/**
 * Runs an activity body and translates whatever it throws; `retryDelayCapMs` bounds the table's
 * fixed delays (tests shrink them).
 */
export async function translated<T>(fn: () => Promise<T>, retryDelayCapMs?: number): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApplicationFailure(e, retryDelayCapMs);
  }
}
