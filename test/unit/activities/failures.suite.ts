import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DrainInterruptedError } from '../../../src/activities/drain';
import {
  INTERNAL_BUG_TYPE,
  toApplicationFailure,
  translated,
  type FailureDetails,
} from '../../../src/activities/failures';
import type { RestoreRecord } from '../../../src/activities/types';
import {
  AliyunAbortedError,
  AliyunApiError,
  AliyunBadResponseError,
  AliyunCredentialsError,
  AliyunError,
  AliyunNetworkError,
  AliyunTimeoutError,
} from '../../../src/aliyun/errors';
import { ERROR_POLICY, NON_RETRYABLE_TYPES, errorPolicyFor } from '../../../src/shared/error-policy';
import { activityEnv, rejectionOf } from './activity-env';
import { apiError } from './fake-cloud';

/** The client's own errors, one per transport code of the policy table. */
const TRANSPORT: Readonly<Record<string, () => AliyunError>> = {
  RequestTimeout: () => new AliyunTimeoutError('RemoveInstances', 10_000),
  NetworkError: () => new AliyunNetworkError('RemoveInstances', true, 'ECONNRESET'),
  BadResponse: () => new AliyunBadResponseError('RemoveInstances', 502, true, 'text/html: <html>Bad Gateway</html>'),
  Aborted: () => new AliyunAbortedError('RemoveInstances'),
  CredentialsUnavailable: () => new AliyunCredentialsError('no credentials found in the chain'),
};

/** HTTP statuses the APIs answer these codes with (the RemoveInstances document, the common error codes). */
const STATUS: Readonly<Record<string, number>> = {
  'InvalidScalingGroupId.NotFound': 404,
  'InvalidInstanceId.NotFound': 404,
  'Forbidden.Unauthorized': 403,
  Forbidden: 403,
  'Forbidden.RiskControl': 403,
  'InvalidAccessKeyId.NotFound': 404,
  'InvalidAction.NotFound': 404,
  'ResourceNotFound.ServerGroup': 404,
  ServiceUnavailable: 503,
  InternalError: 500,
  UnknownError: 500,
  'Rejected.Throttling': 400,
};

/** An error of `code` as the client raises it. */
function errorFor(code: string): AliyunError {
  const transport = TRANSPORT[code];
  if (transport) return transport();
  return apiError(code, STATUS[code] ?? 400, {
    requestId: `req-${code}`,
    recommend: `https://api.aliyun.com/troubleshoot?q=${code}`,
  });
}

const asFailure = (x: unknown): ApplicationFailure => {
  expect(x).toBeInstanceOf(ApplicationFailure);
  return x as ApplicationFailure;
};

const RESTORE: RestoreRecord[] = [{ kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 }];

describe('toApplicationFailure: every code of the policy table', () => {
  const codes = Object.keys(ERROR_POLICY);

  it.each(codes)('%s: type is the code, retried as the table says, details name the call', (code) => {
    const policy = errorPolicyFor(code);
    const err = errorFor(code);
    const f = asFailure(toApplicationFailure(err));
    const exhausted = policy.maxAttempts !== undefined && policy.maxAttempts <= 1;

    expect(f.type).toBe(code);
    expect(f.nonRetryable).toBe(policy.handling === 'fail' || exhausted);
    expect(f.nextRetryDelay).toBe(policy.delayMs);
    expect(f.message).toBe(`${err.message}. ${policy.advice}`);
    const api = err instanceof AliyunApiError ? err : undefined;
    expect(f.details).toEqual([
      {
        code,
        action: code === 'CredentialsUnavailable' ? undefined : 'RemoveInstances',
        requestId: api?.requestId,
        httpStatus: api?.httpStatus ?? (err instanceof AliyunBadResponseError ? 502 : undefined),
        recommend: api?.recommend,
        advice: policy.advice,
      } satisfies FailureDetails,
    ]);
    // The workflow's retry policies list the same types as never retried.
    expect(NON_RETRYABLE_TYPES.includes(code)).toBe(policy.handling === 'fail');
  });

  it.each(codes.filter((c) => ERROR_POLICY[c]?.delayMs !== undefined))(
    '%s: the next delay is bounded by retryDelayCapMs',
    (code) => {
      expect(asFailure(toApplicationFailure(errorFor(code), 250)).nextRetryDelay).toBe(
        Math.min(ERROR_POLICY[code]?.delayMs ?? 0, 250),
      );
    },
  );

  it.each(codes.filter((c) => ERROR_POLICY[c]?.maxAttempts !== undefined))(
    '%s: retried until its attempt limit, then not',
    async (code) => {
      const max = ERROR_POLICY[code]?.maxAttempts ?? 0;
      const at = async (attempt: number) =>
        asFailure(await activityEnv({ attempt }).env.run(async () => toApplicationFailure(errorFor(code))));

      const before = await at(max - 1);
      expect(before.nonRetryable).toBe(ERROR_POLICY[code]?.handling === 'fail' || max - 1 <= 0);
      expect(before.message).not.toContain('Gave up');
      const last = await at(max);
      expect(last.type).toBe(code);
      expect(last.nonRetryable).toBe(true);
      expect(last.message).toBe(
        `${errorFor(code).message}. ${ERROR_POLICY[code]?.advice} Gave up after ${max} attempts.`,
      );
      expect((await at(max + 3)).message).toMatch(new RegExp(`Gave up after ${max + 3} attempts\\.$`));
    },
  );
});

describe('toApplicationFailure: the RemoveInstances codes', () => {
  // Fixed by the seed document and the product's design, whatever the delays and limits become.
  it.each([
    ['InvalidScalingGroupId.NotFound', 404],
    ['InvalidParameter', 400],
    ['Forbidden.Unauthorized', 403],
    ['IncorrectCapacity.MinSize', 400],
  ])('%s (HTTP %i) fails at once', (code, status) => {
    const f = asFailure(toApplicationFailure(apiError(code, status)));
    expect(f).toMatchObject({ type: code, nonRetryable: true });
  });

  it.each([
    ['InvalidInstanceId.NotFound', 404],
    ['IncorrectScalingGroupStatus', 400],
    ['ScalingActivityInProgress', 400],
    ['IncorrectLoadBalancerStatus', 400],
    ['IncorrectDBInstanceStatus', 400],
  ])('%s (HTTP %i) is retried on a first attempt', (code, status) => {
    expect(asFailure(toApplicationFailure(apiError(code, status)))).toMatchObject({ type: code, nonRetryable: false });
  });

  it('waits for another scaling activity with a fixed delay', () => {
    const f = asFailure(toApplicationFailure(apiError('ScalingActivityInProgress', 400)));
    expect(f.nextRetryDelay).toBe(ERROR_POLICY.ScalingActivityInProgress?.delayMs);
    expect(f.nextRetryDelay).toBeGreaterThan(0);
  });
});

describe('toApplicationFailure: codes not in the table', () => {
  it('retries throttling-like codes with the throttling delay', () => {
    const f = asFailure(toApplicationFailure(apiError('Throttling.Concurrency', 400)));
    expect(f).toMatchObject({ type: 'Throttling.Concurrency', nonRetryable: false, nextRetryDelay: 5000 });
  });

  it('retries unknown 5xx codes with the default backoff', () => {
    const f = asFailure(toApplicationFailure(apiError('InternalError.Dispatch', 502)));
    expect(f).toMatchObject({ type: 'InternalError.Dispatch', nonRetryable: false, nextRetryDelay: undefined });
  });

  it('fails at once on unknown 4xx codes, pointing at the Recommend link', () => {
    const f = asFailure(toApplicationFailure(apiError('Some.NewCode', 400, { recommend: 'https://r.example/x' })));
    expect(f).toMatchObject({ type: 'Some.NewCode', nonRetryable: true });
    expect(f.message).toContain('Unexpected error code Some.NewCode; see the Recommend link in the failure details.');
    expect(f.details?.[0]).toMatchObject({ recommend: 'https://r.example/x', httpStatus: 400 });
  });

  it('treats a client error without an HTTP status as ambiguous: retried', () => {
    class OddError extends AliyunError {
      override readonly name = 'OddError';
      readonly code = 'Odd';
      readonly ambiguous = true;
    }
    const f = asFailure(toApplicationFailure(new OddError('odd')));
    expect(f).toMatchObject({ type: 'Odd', nonRetryable: false, message: `odd. ${errorPolicyFor('Odd').advice}` });
    expect(f.details).toEqual([
      {
        code: 'Odd',
        action: undefined,
        requestId: undefined,
        httpStatus: undefined,
        recommend: undefined,
        advice: errorPolicyFor('Odd').advice,
      },
    ]);
  });
});

describe('toApplicationFailure: errors that are not the cloud client’s', () => {
  it('passes an ApplicationFailure through unchanged', () => {
    const f = ApplicationFailure.create({
      type: 'InvalidScalingGroupId.NotFound',
      message: 'gone',
      nonRetryable: true,
    });
    expect(toApplicationFailure(f)).toBe(f);
  });

  it.each([
    new TypeError('x is not a function'),
    new RangeError('Invalid time value'),
    new ReferenceError('y is not defined'),
    new SyntaxError('Unexpected token'),
    new URIError('URI malformed'),
    new EvalError('eval'),
  ])('makes a programming error (%s) a non-retryable InternalBug, never a cloud error code', (err) => {
    const f = asFailure(toApplicationFailure(err));
    expect(f).toMatchObject({ type: INTERNAL_BUG_TYPE, nonRetryable: true });
    expect(INTERNAL_BUG_TYPE).toBe('InternalBug');
    expect(ERROR_POLICY[INTERNAL_BUG_TYPE]).toBeUndefined();
    expect(f.message).toContain(`A bug in ess-scale-in: ${err.name}: ${err.message}`);
    expect(f.message).toMatch(/Not an Alibaba Cloud error .* the worker log has the stack/);
    // The stack is for the worker log; the failure users read carries none of it.
    expect(f.cause).toBeUndefined();
    expect(f.details ?? []).toEqual([]);
    expect(f.message).not.toContain('failures.suite.ts');
  });

  it('names the activity and logs the bug with its stack through the activity logger', async () => {
    const { env, logs } = activityEnv({ activityType: 'removeBatch' });
    const bug = new TypeError("Cannot read properties of undefined (reading 'scalingActivityId')");
    const f = asFailure(await env.run(async () => toApplicationFailure(bug)));
    expect(f.type).toBe('InternalBug');
    expect(f.message).toContain('A bug in ess-scale-in in activity removeBatch: TypeError: Cannot read properties');
    const line = logs.find((l) => l.level === 'ERROR');
    expect(line?.message).toContain('bug in ess-scale-in in activity removeBatch: TypeError');
    expect(String(line?.meta?.stack)).toContain(bug.stack?.split('\n')[1]?.trim() ?? 'no stack');
  });

  it('truncates a very long bug message', () => {
    const f = asFailure(toApplicationFailure(new RangeError('x'.repeat(100_000))));
    expect(f.message.length).toBeLessThan(1000);
  });

  it.each([new Error('unexpected'), new CancelledFailure('cancelled'), 'a string'])(
    'leaves anything else (%s) to the SDK',
    (err) => {
      expect(toApplicationFailure(err)).toBe(err);
    },
  );
});

describe('toApplicationFailure: a drain interrupted part-way', () => {
  it('is the failure of its cause, with the restore records added to the details', () => {
    const cause = apiError('OperationBusy', 400, { requestId: 'req-busy', action: 'SetBackendServers' });
    const f = asFailure(toApplicationFailure(new DrainInterruptedError(cause, RESTORE), 100));
    const policy = errorPolicyFor('OperationBusy');

    expect(f).toMatchObject({
      type: 'OperationBusy',
      message: `${cause.message}. ${policy.advice}`,
      nonRetryable: false,
      nextRetryDelay: Math.min(policy.delayMs ?? Infinity, 100),
    });
    expect(f.details).toEqual([
      {
        code: 'OperationBusy',
        action: 'SetBackendServers',
        requestId: 'req-busy',
        httpStatus: 400,
        recommend: undefined,
        advice: policy.advice,
        restore: RESTORE,
      },
    ]);
  });

  it('keeps a non-retryable cause non-retryable', () => {
    const cause = apiError('InvalidLoadBalancerId.NotFound', 400, { action: 'SetBackendServers' });
    expect(asFailure(toApplicationFailure(new DrainInterruptedError(cause, RESTORE)))).toMatchObject({
      type: 'InvalidLoadBalancerId.NotFound',
      nonRetryable: true,
      details: [{ restore: RESTORE }],
    });
  });

  it('keeps the type and details of an ApplicationFailure cause, or calls it DrainFailed without a type', () => {
    const typed = ApplicationFailure.create({
      type: 'Custom',
      message: 'm',
      details: [{ code: 'Custom', advice: 'a' }],
    });
    expect(asFailure(toApplicationFailure(new DrainInterruptedError(typed, RESTORE)))).toMatchObject({
      type: 'Custom',
      message: 'm',
      nonRetryable: false,
      details: [{ code: 'Custom', advice: 'a', restore: RESTORE }],
    });
    const untyped = ApplicationFailure.create({ message: 'm', nonRetryable: true });
    expect(asFailure(toApplicationFailure(new DrainInterruptedError(untyped, RESTORE)))).toMatchObject({
      type: 'DrainFailed',
      nonRetryable: true,
      details: [{ restore: RESTORE }],
    });
  });

  it('is a non-retryable InternalBug with the restore records for a programming error', () => {
    const f = asFailure(toApplicationFailure(new DrainInterruptedError(new TypeError('boom'), RESTORE)));
    expect(f).toMatchObject({ type: 'InternalBug', nonRetryable: true });
    expect(f.message).toContain('A bug in ess-scale-in: TypeError: boom');
    expect(f.details).toEqual([{ restore: RESTORE }]);
  });

  it('is a retryable DrainFailed for any other error, and for a non-Error cause', () => {
    const f = asFailure(toApplicationFailure(new DrainInterruptedError(new Error('disk full'), RESTORE)));
    expect(f).toMatchObject({ type: 'DrainFailed', message: 'disk full', nonRetryable: false });
    expect(f.details).toEqual([
      {
        code: 'DrainFailed',
        action: undefined,
        requestId: undefined,
        httpStatus: undefined,
        recommend: undefined,
        advice: 'retried',
        restore: RESTORE,
      },
    ]);
    expect(asFailure(toApplicationFailure(new DrainInterruptedError('weird', RESTORE))).message).toBe('weird');
  });
});

describe('toApplicationFailure: no secrets', () => {
  const SECRET = 'AccessKeySecret=Sup3rS3cretValue0123456789';

  it.each([
    [
      'a network error',
      new AliyunNetworkError('RemoveInstances', true, 'socket hang up', { cause: new Error(SECRET) }),
    ],
    ['a timeout', new AliyunTimeoutError('RemoveInstances', 10_000, { cause: new Error(SECRET) })],
    ['an aborted call', new AliyunAbortedError('RemoveInstances', { cause: new Error(SECRET) })],
  ])('keeps the cause of %s (which may hold request data) out of the failure', (_, err) => {
    const f = asFailure(toApplicationFailure(err));
    expect(f.cause).toBeUndefined();
    expect(f.message).not.toContain('Sup3rS3cret');
    expect(JSON.stringify(f.details)).not.toContain('Sup3rS3cret');
  });

  it('carries only the code, action, RequestId, status, Recommend link and advice in the details', () => {
    const f = asFailure(toApplicationFailure(apiError('SignatureDoesNotMatch', 400, { requestId: 'req-sig' })));
    expect(Object.keys((f.details?.[0] ?? {}) as object).sort()).toEqual(
      ['action', 'advice', 'code', 'httpStatus', 'recommend', 'requestId'].sort(),
    );
    expect(f.cause).toBeUndefined();
  });
});

describe('translated', () => {
  it('returns what the body returns', async () => {
    expect(await translated(async () => 42)).toBe(42);
  });

  it('throws the translated failure, with the delay cap applied', async () => {
    const f = asFailure(await rejectionOf(translated(() => Promise.reject(apiError('Throttling.User', 400)), 1000)));
    expect(f).toMatchObject({ type: 'Throttling.User', nonRetryable: false, nextRetryDelay: 1000 });
  });

  it('reads the attempt from the activity it runs in', async () => {
    const max = ERROR_POLICY.IncorrectScalingGroupStatus?.maxAttempts ?? 0;
    const f = await activityEnv({ attempt: max }).env.run(() =>
      rejectionOf(translated(() => Promise.reject(apiError('IncorrectScalingGroupStatus', 400)))),
    );
    expect(f).toMatchObject({ type: 'IncorrectScalingGroupStatus', nonRetryable: true });
  });
});
