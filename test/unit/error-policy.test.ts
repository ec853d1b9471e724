import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { ERROR_POLICY, NON_RETRYABLE_TYPES, errorPolicyFor } from '../../src/shared/error-policy';

describe('error policy table', () => {
  it('covers every error code of the RemoveInstances seed document', () => {
    const seed = readFileSync(path.join(__dirname, '../../docs/reference/RemoveInstances.zh.md'), 'utf8');
    const codes = [...seed.matchAll(/^\|([A-Z][A-Za-z.]+)\s*$/gm)]
      .map((m) => m[1])
      .filter((c): c is string => !!c && /[a-z]/.test(c) && c !== 'HttpCode');
    expect(codes).toEqual([
      'InvalidScalingGroupId.NotFound',
      'InvalidInstanceId.NotFound',
      'InvalidParameter',
      'Forbidden.Unauthorized',
      'IncorrectScalingGroupStatus',
      'ScalingActivityInProgress',
      'IncorrectLoadBalancerStatus',
      'IncorrectDBInstanceStatus',
      'IncorrectCapacity.MinSize',
    ]);
    for (const code of codes) expect(ERROR_POLICY[code], code).toBeDefined();
  });

  it('handles each seed code as intended', () => {
    const h = (c: string) => ERROR_POLICY[c]?.handling;
    // Another scaling activity runs on the group: waited for, at a fixed pace, for a bounded time.
    expect(ERROR_POLICY.ScalingActivityInProgress).toMatchObject({
      handling: 'retry',
      maxAttempts: 120,
      delayMs: 10_000,
    });
    for (const c of ['IncorrectScalingGroupStatus', 'IncorrectLoadBalancerStatus', 'IncorrectDBInstanceStatus']) {
      expect(h(c)).toBe('retry');
      expect(ERROR_POLICY[c]?.maxAttempts).toBeGreaterThan(1);
    }
    for (const c of [
      'InvalidScalingGroupId.NotFound',
      'Forbidden.Unauthorized',
      'InvalidParameter',
      'IncorrectCapacity.MinSize',
      'IdempotentParameterMismatch',
    ])
      expect(h(c)).toBe('fail');
    expect(ERROR_POLICY['InvalidInstanceId.NotFound']).toMatchObject({ handling: 'retry', maxAttempts: 10 });
    for (const c of ['Throttling', 'Throttling.User', 'Throttling.Api', 'InternalError', 'ServiceUnavailable'])
      expect(h(c)).toBe('retry');
    // A lost answer: retried without a bound, since the activity checks the group before sending again.
    for (const c of ['RequestTimeout', 'NetworkError', 'BadResponse']) {
      expect(h(c)).toBe('retry');
      expect(ERROR_POLICY[c]?.maxAttempts).toBeUndefined();
    }
  });

  it(
    'classifies unknown codes by status: throttling-like and 5xx retry, other 4xx fail, ' + 'no status is ambiguous',
    () => {
      expect(errorPolicyFor('Throttling.Whatever', 400).handling).toBe('retry');
      expect(errorPolicyFor('SomethingBroke', 502).handling).toBe('retry');
      expect(errorPolicyFor('SomethingWrong', 400).handling).toBe('fail');
      expect(errorPolicyFor('SomethingOdd')).toBe(ERROR_POLICY.RequestTimeout);
    },
  );

  it('retries the NLB busy codes like the other load-balancer busy codes (about a minute of change)', () => {
    for (const c of ['IncorrectStatus.serverGroup', 'OperationFailed.ResourceIsConfiguring'])
      expect(ERROR_POLICY[c], c).toBe(ERROR_POLICY['IncorrectStatus.ServerGroup']);
    expect(ERROR_POLICY['IncorrectStatus.ServerGroup']).toMatchObject({
      handling: 'retry',
      maxAttempts: 20,
      delayMs: 3000,
    });
  });

  it('derives the non-retryable failure types from the same table', () => {
    const fails = Object.entries(ERROR_POLICY)
      .filter(([, p]) => p.handling === 'fail')
      .map(([c]) => c);
    expect(NON_RETRYABLE_TYPES).toEqual(expect.arrayContaining([...fails, 'InvalidInput', 'PreflightFailed']));
    expect(NON_RETRYABLE_TYPES).not.toContain('Throttling');
    expect(NON_RETRYABLE_TYPES).not.toContain('ScalingActivityInProgress');
    for (const p of Object.values(ERROR_POLICY)) expect(p.advice.length).toBeGreaterThan(10);
  });
});
