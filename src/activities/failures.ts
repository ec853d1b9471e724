import { ApplicationFailure, activityInfo, log } from '@temporalio/activity';
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
  if (isProgrammingError(err)) return fromBug(err);
  return err;
}

/** The failure type of a bug in ess-scale-in itself: never an Alibaba Cloud error code. */
export const INTERNAL_BUG_TYPE = 'InternalBug';

/** Errors the JavaScript engine throws for code that is wrong, not for anything the cloud answered. */
const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

function isProgrammingError(err: unknown): err is Error {
  return PROGRAMMING_ERRORS.some((cls) => err instanceof cls);
}

/**
 * A bug: retrying runs the same code again, so it fails at once, named as ours. The stack goes to the
 * worker log (through the activity logger), not into the failure users read.
 */
function fromBug(err: Error): ApplicationFailure {
  const activity = safeActivityType();
  const where = activity ? ` in activity ${activity}` : '';
  const what = `${err.name}: ${err.message.length > 500 ? `${err.message.slice(0, 500)}…` : err.message}`;
  try {
    log.error(`bug in ess-scale-in${where}: ${what}`, { error: err, stack: err.stack });
  } catch {
    // Outside an activity (unit tests) there is no activity logger; the failure still says what happened.
  }
  return ApplicationFailure.create({
    type: INTERNAL_BUG_TYPE,
    message:
      `A bug in ess-scale-in${where}: ${what}. ` +
      'Not an Alibaba Cloud error and not retried; the worker log has the stack. Please report it.',
    nonRetryable: true,
  });
}

function safeActivityType(): string | undefined {
  try {
    return activityInfo().activityType;
  } catch {
    return undefined;
  }
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
