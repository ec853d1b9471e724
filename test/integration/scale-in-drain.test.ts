import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { startStack, type Stack } from '../harness/stack';

describe('drain strategies and drain failures', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('standby: EnterStandby before removal, then RemoveInstances', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(
      stack.input(ids, { drain: { strategy: 'standby', timeoutSeconds: 0 } }),
    );
    const result = await stack.client.result(workflowId);
    expect(result.counts.removed).toBe(4);
    const calls = (await stack.admin.calls({ sinceSeq: since }))
      .filter((c) => !/^(Describe|List)/.test(c.action))
      .map((c) => c.action);
    expect(calls).toEqual(['EnterStandby', 'RemoveInstances']);
  });

  it('standby: cancel during the drain wait takes the instances out of standby again', async () => {
    const ids = (await stack.instanceIds()).slice(0, 3);
    const { workflowId } = await stack.client.start(
      stack.input(ids, { drain: { strategy: 'standby', timeoutSeconds: 60 } }),
    );
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    const during = await stack.admin.state();
    expect(during.instances.filter((i) => ids.includes(i.instanceId)).map((i) => i.lifecycleState)).toEqual([
      'Standby',
      'Standby',
      'Standby',
    ]);
    await stack.client.cancel(workflowId);
    await stack.client.result(workflowId).catch(() => undefined);
    const after = await stack.admin.state();
    expect(after.instances.filter((i) => ids.includes(i.instanceId)).map((i) => i.lifecycleState)).toEqual([
      'InService',
      'InService',
      'InService',
    ]);
    expect(await stack.weights(ids)).toEqual({ clb: [100, 100, 100], vsg: [100, 100, 100], alb: [100, 100, 100] });
    expect((await stack.admin.calls({ action: 'ExitStandby' })).length).toBe(1);
  });

  it('after a drain fails, no further batch is drained, and nothing is removed', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    // The first batch's drain is refused for good; the two batches behind it must not be touched.
    await stack.admin.setFaults([
      { action: 'SetBackendServers', kind: 'errorCode', code: 'Forbidden.Unauthorized', httpStatus: 403, times: 1 },
    ]);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 2, drain: { timeoutSeconds: 5 } }));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect((err as ScaleInFailedError).code).toBe('Forbidden.Unauthorized');
    const changes = (await stack.admin.calls({ sinceSeq: since })).filter((c) =>
      /^(Set|Update|EnterStandby)/.test(c.action),
    );
    expect(JSON.stringify(changes)).not.toMatch(new RegExp(ids.slice(2).join('|')));
    expect(await stack.weights(ids)).toEqual({
      clb: Array(6).fill(100),
      vsg: Array(6).fill(100),
      alb: Array(6).fill(100),
    });
    expect(await stack.admin.calls({ sinceSeq: since, action: 'RemoveInstances' })).toEqual([]);
    expect((err as ScaleInFailedError).result?.notRemoved.map((r) => r.instanceId).sort()).toEqual(ids);
  });

  it('a drain that fails part-way is undone: weights already at 0 are put back', async () => {
    const ids = (await stack.instanceIds()).slice(0, 2);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    // The CLB default group is drained, then the vserver group call is refused for good.
    await stack.admin.setFaults([
      {
        action: 'SetVServerGroupAttribute',
        kind: 'errorCode',
        code: 'Forbidden.Unauthorized',
        httpStatus: 403,
        times: 1,
      },
    ]);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 0 } }));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('Forbidden.Unauthorized');
    const setCalls = (await stack.admin.calls({ action: 'SetBackendServers', sinceSeq: since })).filter((c) =>
      c.params.BackendServers?.includes(ids[0] as string),
    );
    expect(setCalls.map((c) => JSON.parse(c.params.BackendServers ?? '[]')[0]?.Weight)).toEqual(['0', '100']);
    expect(await stack.weights(ids)).toEqual({ clb: [100, 100], vsg: [100, 100], alb: [100, 100] });
    expect(await stack.admin.calls({ action: 'RemoveInstances' })).toEqual(
      expect.not.arrayContaining([
        expect.objectContaining({ params: expect.objectContaining({ 'InstanceId.1': ids[0] }) }),
      ]),
    );
    expect((err as ScaleInFailedError).result?.notRemoved.map((r) => r.outcome)).toEqual(['restored', 'restored']);
  });
});
