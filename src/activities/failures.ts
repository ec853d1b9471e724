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
  if (err instanceof DrainInterruptedError) {
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
    return ApplicationFailure.create({
      type: 'DrainFailed',
      message: err.message,
      details: [
        {
          code: 'DrainFailed',
          action: undefined,
          requestId: undefined,
          httpStatus: undefined,
          recommend: undefined,
          advice: 'retried',
          restore: err.restore,
        } satisfies FailureDetails,
      ],
    });
  }
  if (!(err instanceof AliyunError)) {
    if (err instanceof RangeError || err instanceof TypeError) {
      return ApplicationFailure.create({ type: 'BadRequest', message: err.message, nonRetryable: true, cause: err });
    }
    return err;
  }
  const api = err instanceof AliyunApiError ? err : undefined;
  const policy = errorPolicyFor(err.code, api?.httpStatus);
  const attempt = safeAttempt();
  const exhausted = policy.maxAttempts !== undefined && attempt >= policy.maxAttempts;
  const details: FailureDetails = {
    code: err.code,
    action: 'action' in err ? String((err as { action: unknown }).action) : undefined,
    requestId: api?.requestId,
    httpStatus:
      api?.httpStatus ?? ('httpStatus' in err ? Number((err as { httpStatus: unknown }).httpStatus) : undefined),
    recommend: api?.recommend,
    advice: policy.advice,
  };
  const suffix = exhausted ? ` Gave up after ${attempt} attempts.` : '';
  return ApplicationFailure.create({
    type: err.code,
    message: `${err.message}. ${policy.advice}${suffix}`,
    nonRetryable: policy.handling === 'fail' || exhausted,
    nextRetryDelay: policy.delayMs === undefined ? undefined : Math.min(policy.delayMs, retryDelayCapMs ?? Infinity),
    details: [details],
  });
}

function safeAttempt(): number {
  try {
    return activityInfo().attempt;
  } catch {
    return 1;
  }
}

/** Runs an activity body and translates whatever it throws; `retryDelayCapMs` bounds the table's fixed delays (tests shrink them). */
export async function translated<T>(fn: () => Promise<T>, retryDelayCapMs?: number): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApplicationFailure(e, retryDelayCapMs);
  }
}
