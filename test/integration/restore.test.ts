import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleInFailedError, type InstanceReport, type ScaleInResult } from '../../src/client';
import { resultLines } from '../../src/cli/format';
import { addEmptyGroup, waitFor } from '../../src/emulator/testing';
import { renderDetails } from '../../src/workflows/details';
import { assertResultMatchesSchema } from '../harness/schemas';
import { SMALL, startStack, type Stack } from '../harness/stack';

/** A second group of the emulator's account, with no load balancers: where "another actor" moves an instance. */
const ELSEWHERE = 'asg-bp1elsewhere0000001';

const CLB = `CLB ${SMALL.lb}`;
const VSG = `vserver group ${SMALL.vsg}`;
const ALB = `ALB server group ${SMALL.alb}`;

/**
 * Restore is best effort per load balancer and per instance (issue 12, cases 3 and 5): a load
 * balancer that refuses does not keep the others drained, and what stays drained is reported by
 * instance and place; an instance detached while drained gets its traffic back.
 */
describe('best-effort restore, against the emulator', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ mutate: (s) => addEmptyGroup(s, ELSEWHERE) });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a cancel while SetBackendServers is denied restores the vserver and ALB groups, reports the CLB', async () => {
    await stack.admin.settings({ deniedActions: [] });
    const ids = (await stack.instanceIds()).slice(0, 10);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 5, drain: { timeoutSeconds: 60 } }));
    await waitFor(
      async () => (await stack.client.progress(workflowId)).batches.every((b) => b.state === 'drained'),
      20_000,
      100,
    );
    expect(await stack.weights(ids)).toEqual({
      clb: Array(10).fill(0),
      vsg: Array(10).fill(0),
      alb: Array(10).fill(0),
    });
    await stack.admin.settings({ deniedActions: ['SetBackendServers'] });
    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    await stack.admin.settings({ deniedActions: [] });

    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('CancelledFailure');
    const result = (err as ScaleInFailedError).result as ScaleInResult;
    assertResultMatchesSchema(result);
    expect(result.outcome).toBe('cancelled');
    expect(result.counts).toMatchObject({ removed: 0, restored: 0, drainedNotRestored: 10, pending: 0 });
    expect(byId(result.notRemoved, ids)).toEqual(
      ids.map((instanceId) =>
        expect.objectContaining({
          instanceId,
          outcome: 'drained-not-restored',
          drainedOn: [expect.objectContaining({ place: CLB, code: 'Forbidden.Unauthorized' })],
          restoredOn: [VSG, ALB],
          why: expect.stringMatching(/stays drained on CLB .*Forbidden\.Unauthorized.*restored on vserver group/),
        }),
      ),
    );
    // What the report says is what the load balancers hold.
    expect(await stack.weights(ids)).toEqual({
      clb: Array(10).fill(0),
      vsg: Array(10).fill(100),
      alb: Array(10).fill(100),
    });
    const progress = await stack.client.progress(workflowId);
    expect(progress.phase).toBe('Cancelled');
    expect(progress.stillDrained?.map((r) => r.instanceId).sort()).toEqual(ids);
    // The UI's details and the CLI's report name each instance and where it stays drained.
    const details = renderDetails(progress);
    expect(details).toContain('**Still drained**');
    expect(details).toContain(`| ${ids[0]} | ${CLB} (Forbidden.Unauthorized) | ${VSG}, ${ALB} |`);
    const report = resultLines(result).join('\n');
    expect(report).toContain(`drained on ${CLB} (Forbidden.Unauthorized); restored on ${VSG}, ${ALB}`);
    expect(report).toMatch(/drained-not-restored: drained and not removed, and its traffic could not be given back/);
  });

  it('an instance detached from the group while drained gets its weights back, and the report says so', async () => {
    // Not the instances of the first test, which it left drained on the CLB.
    const ids = (await stack.instanceIds()).slice(10, 13);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 3 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 50);
    const [left] = ids as [string];
    expect(await stack.weights([left])).toEqual({ clb: [0], vsg: [0], alb: [0] });
    // Another actor moves it out of the group; it stays behind the load balancers.
    await stack.admin.patchInstance(left, { scalingGroupId: ELSEWHERE });
    const result = await stack.client.result(workflowId);

    // First what the load balancers hold: its traffic is back.
    expect(await stack.weights([left])).toEqual({ clb: [100], vsg: [100], alb: [100] });
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ removed: 2, skipped: 1, drainedNotRestored: 0 });
    expect(result.notRemoved).toEqual([
      expect.objectContaining({
        instanceId: left,
        outcome: 'skipped',
        why: expect.stringMatching(
          /left the scaling group.*; its traffic was restored on CLB .*, vserver group .*, ALB/,
        ),
        restoredOn: [CLB, VSG, ALB],
      }),
    ]);
  });

  it('an instance detached while drained whose restore is refused is reported drained-not-restored', async () => {
    const ids = (await stack.instanceIds()).slice(12, 15);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 3 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 50);
    const [left] = ids as [string];
    await stack.admin.patchInstance(left, { scalingGroupId: ELSEWHERE });
    await stack.admin.settings({ deniedActions: ['SetVServerGroupAttribute'] });
    const result = await stack.client.result(workflowId).finally(() => stack.admin.settings({ deniedActions: [] }));

    expect(result.outcome).toBe('completed-with-failures');
    expect(result.counts).toMatchObject({ removed: 2, drainedNotRestored: 1 });
    expect(result.notRemoved).toEqual([
      expect.objectContaining({
        instanceId: left,
        outcome: 'drained-not-restored',
        why: expect.stringMatching(/left the scaling group.*stays drained on vserver group/),
        drainedOn: [expect.objectContaining({ place: VSG, code: 'Forbidden.Unauthorized' })],
        restoredOn: [CLB, ALB],
      }),
    ]);
    expect(await stack.weights([left])).toEqual({ clb: [100], vsg: [0], alb: [100] });
  });
});

function byId(reports: readonly InstanceReport[], ids: readonly string[]): InstanceReport[] {
  return ids.map((id) => reports.find((r) => r.instanceId === id) as InstanceReport);
}
