import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import { ERROR_POLICY } from '../../src/shared/error-policy';
import { SMALL, startStack, type Stack } from '../harness/stack';

/**
 * Every code of the seed's RemoveInstances error table, plus throttling and server errors,
 * injected on RemoveInstances: the run must handle each as the error-policy table says.
 */
const SEED_CODES = [
  'InvalidScalingGroupId.NotFound',
  'InvalidInstanceId.NotFound',
  'InvalidParameter',
  'Forbidden.Unauthorized',
  'IncorrectScalingGroupStatus',
  'ScalingActivityInProgress',
  'IncorrectLoadBalancerStatus',
  'IncorrectDBInstanceStatus',
  'IncorrectCapacity.MinSize',
] as const;
const EXTRA_CODES = [
  'Throttling',
  'Throttling.User',
  'InternalError',
  'ServiceUnavailable',
  'IdempotentParameterMismatch',
] as const;
const STATUS: Record<string, number> = {
  'InvalidScalingGroupId.NotFound': 404,
  'InvalidInstanceId.NotFound': 404,
  'Forbidden.Unauthorized': 403,
  InternalError: 500,
  ServiceUnavailable: 503,
};

describe('RemoveInstances error codes, each handled per the policy table', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      mutate: (s) => {
        (s.scalingGroups ??= []).push({
          id: 'asg-elsewhere000000000',
          regionId: SMALL.region,
          minSize: 0,
          maxSize: 10,
        });
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  for (const code of [...SEED_CODES, ...EXTRA_CODES]) {
    const policy = ERROR_POLICY[code];
    it(`${code} → ${policy?.handling}`, async () => {
      expect(policy).toBeDefined();
      await stack.admin.clearFaults();
      const ids = (await stack.instanceIds()).slice(0, 2);
      const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
      await stack.admin.setFaults([
        { action: 'RemoveInstances', kind: 'errorCode', code, httpStatus: STATUS[code] ?? 400, times: 2 },
      ]);
      const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 0 } }));
      const outcome = await stack.client.result(workflowId).then(
        (r) => r,
        (e: unknown) => e,
      );
      const removes = await stack.admin.calls({ action: 'RemoveInstances', sinceSeq: since });

      if (policy?.handling === 'fail') {
        expect(outcome).toBeInstanceOf(ScaleInFailedError);
        const err = outcome as ScaleInFailedError;
        expect(err.code).toBe(code); // the Temporal failure type is the cloud error code
        expect(removes).toHaveLength(1); // no retry
        expect(err.result?.counts.removed).toBe(0);
        expect(err.result?.notRemoved.map((r) => r.instanceId).sort()).toEqual(ids);
        // Drained instances got their traffic back.
        expect((await stack.weights(ids)).clb).toEqual([100, 100]);
        expect(await stack.instanceIds()).toEqual(expect.arrayContaining(ids));
      } else {
        expect(outcome).toMatchObject({ outcome: 'completed', counts: { removed: 2, failed: 0 } });
        const result = outcome as { batches: Array<{ attempts?: number }> };
        // Two injected failures then success; InvalidInstanceId.NotFound is re-checked inside one attempt.
        expect(removes.map((c) => c.outcome)).toEqual([code, code, 'ok']);
        expect(result.batches[0]?.attempts).toBe(code === 'InvalidInstanceId.NotFound' ? 1 : 3);
        expect(await stack.instanceIds()).not.toEqual(expect.arrayContaining([ids[0]]));
      }
    });
  }

  it('a bounded transient state that never clears fails after its attempts, naming the code', async () => {
    await stack.admin.clearFaults();
    const ids = (await stack.instanceIds()).slice(0, 1);
    await stack.admin.setFaults([
      { action: 'RemoveInstances', kind: 'errorCode', code: 'IncorrectScalingGroupStatus', httpStatus: 400 },
    ]);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 0 } }));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('IncorrectScalingGroupStatus');
    expect((err as ScaleInFailedError).message).toMatch(/Gave up after 15 attempts/);
    await stack.admin.clearFaults();
  });

  it('ScalingActivityInProgress from real state: waits for the other activity, then removes', async () => {
    await stack.admin.clearFaults();
    const ids = (await stack.instanceIds()).slice(0, 2);
    const blocking = await stack.admin.startGroupActivity(stack.group, 1500);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 0 } }));
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.batches[0]?.attempts).toBeGreaterThan(1);
    expect(result.batches[0]?.scalingActivityId).not.toBe(blocking);
    const removes = await stack.admin.calls({ action: 'RemoveInstances', outcome: 'ScalingActivityInProgress' });
    expect(removes.length).toBeGreaterThan(0);
  });

  it('an instance that leaves the group mid-run is reported as skipped; the rest are removed', async () => {
    await stack.admin.clearFaults();
    const ids = (await stack.instanceIds()).slice(0, 3);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 3 } }));
    // During the drain wait, someone detaches one instance from the group.
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained');
    await stack.admin.patchInstance(ids[0] as string, { scalingGroupId: 'asg-elsewhere000000000' });
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ removed: 2, skipped: 1 });
    expect(result.notRemoved).toEqual([
      expect.objectContaining({
        instanceId: ids[0],
        outcome: 'skipped',
        why: expect.stringMatching(/left the scaling group/),
      }),
    ]);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}
