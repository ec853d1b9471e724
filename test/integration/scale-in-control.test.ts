import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { run } from '../../src/cli';
import { ScaleInFailedError } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { assertResultMatchesSchema } from '../harness/schemas';
import { startStack, type Stack } from '../harness/stack';

describe('operator control: cancel, pause/resume, approval, batch failures', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('cancel mid-drain restores every weight and removes nothing', async () => {
    const ids = (await stack.instanceIds()).slice(0, 15);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 60 } }));
    await waitFor(
      async () => (await stack.client.progress(workflowId)).batches.every((b) => b.state === 'drained'),
      20_000,
      100,
    );
    expect(await stack.weights(ids)).toEqual({
      clb: Array(15).fill(0),
      vsg: Array(15).fill(0),
      alb: Array(15).fill(0),
    });
    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('CancelledFailure');
    // The cancelled run still accounts for every instance, through its result query.
    const cancelled = (err as ScaleInFailedError).result;
    assertResultMatchesSchema(cancelled);
    expect(cancelled?.outcome).toBe('cancelled');
    expect(cancelled?.notRemoved.map((r) => r.outcome)).toEqual(Array(15).fill('restored'));
    expect(await stack.weights(ids)).toEqual({
      clb: Array(15).fill(100),
      vsg: Array(15).fill(100),
      alb: Array(15).fill(100),
    });
    expect(await stack.admin.calls({ action: 'RemoveInstances' })).toEqual([]);
    const progress = await stack.client.progress(workflowId);
    expect(progress.phase).toBe('Cancelled');
    expect(progress.counts).toMatchObject({ restored: 15, removed: 0 });
  });

  it('cancel mid-batch: waits for its scaling activity, reports it removed, restores the rest', async () => {
    await stack.admin.settings({ timings: { activityDurationMs: 2500 } });
    const ids = (await stack.instanceIds()).slice(0, 10);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 5, drain: { timeoutSeconds: 0 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'polling', 20_000, 50);
    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    const cancelled = (err as ScaleInFailedError).result;
    expect(cancelled?.outcome).toBe('cancelled');
    // ESS finishes an accepted removal anyway: the result says it happened, not "pending".
    expect(cancelled?.removed.flatMap((g) => g.instanceIds).sort()).toEqual(ids.slice(0, 5));
    expect(cancelled?.counts).toMatchObject({ removed: 5, pending: 0 });
    expect(cancelled?.notRemoved.map((r) => r.instanceId).sort()).toEqual(ids.slice(5));
    expect(await stack.admin.calls({ action: 'RemoveInstances' })).toHaveLength(1);
    expect((await stack.instanceIds()).filter((id) => ids.includes(id))).toEqual(ids.slice(5));
    expect(await stack.weights(ids.slice(5))).toEqual({
      clb: Array(5).fill(100),
      vsg: Array(5).fill(100),
      alb: Array(5).fill(100),
    });
    await stack.admin.settings({ timings: { activityDurationMs: 200 } });
  });

  it('pause holds the next batch; resume lets it go', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 3, drain: { timeoutSeconds: 0 } }));
    const paused = await stack.client.pause(workflowId, { by: 'test', note: 'hold on' });
    expect(paused.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    const p = await stack.client.progress(workflowId);
    expect(p.paused).toBe(true);
    expect(p.counts.batchesDone).toBe(0);
    expect(
      (await stack.admin.calls({ action: 'RemoveInstances' })).filter((c) => c.params['InstanceId.1'] === ids[0]),
    ).toEqual([]);
    const desc = await stack.client.handle(workflowId).describe();
    expect(desc.typedSearchAttributes.getAll().find((x) => x.key.name === 'EssPhase')?.value).toBe('Paused');
    await stack.client.resume(workflowId, { by: 'test' });
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(6);
    // Control of a finished run says so, rather than "not found" or silence.
    await expect(stack.client.pause(workflowId)).rejects.toThrow(/already ended \(COMPLETED\)/);
    await expect(stack.client.cancel(workflowId)).rejects.toThrow(/already ended \(COMPLETED\)/);
    await expect(stack.client.pause('ess-scale-in/cn-hangzhou/asg-nosuchgroup0000')).rejects.toThrow(/No scale-in run/);
  });

  it('pause holds drains too: approved while paused, nothing is drained until resume', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(
      stack.input(ids, { batchSize: 2, requireApproval: true, drain: { timeoutSeconds: 0 } }),
    );
    await waitFor(async () => (await stack.client.progress(workflowId)).awaitingApproval, 10_000, 100);
    await stack.client.pause(workflowId, { by: 'test' });
    await stack.client.approve(workflowId, { by: 'test' });
    await new Promise((r) => setTimeout(r, 1500));
    const changes = async () =>
      (await stack.admin.calls({ sinceSeq: since })).filter((c) => !/^(Describe|List)/.test(c.action));
    expect(await changes()).toEqual([]);
    expect(await stack.weights(ids)).toEqual({
      clb: Array(6).fill(100),
      vsg: Array(6).fill(100),
      alb: Array(6).fill(100),
    });
    await stack.client.resume(workflowId, { by: 'test' });
    expect((await stack.client.result(workflowId)).counts.removed).toBe(6);
  });

  it('cancel while paused with drains held: nothing was drained, nothing to restore, the run ends', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(
      stack.input(ids, { batchSize: 2, requireApproval: true, drain: { timeoutSeconds: 0 } }),
    );
    await waitFor(async () => (await stack.client.progress(workflowId)).awaitingApproval, 10_000, 100);
    await stack.client.pause(workflowId, { by: 'test' });
    await stack.client.approve(workflowId, { by: 'test' });
    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect((err as ScaleInFailedError).result?.outcome).toBe('cancelled');
    expect((await stack.admin.calls({ sinceSeq: since })).filter((c) => !/^(Describe|List)/.test(c.action))).toEqual(
      [],
    );
  });

  it('requireApproval: nothing is drained until approved', async () => {
    const ids = (await stack.instanceIds()).slice(0, 2);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(
      stack.input(ids, { requireApproval: true, drain: { timeoutSeconds: 0 } }),
    );
    await waitFor(async () => (await stack.client.progress(workflowId)).awaitingApproval, 10_000, 100);
    const mutating = (await stack.admin.calls({ sinceSeq: since })).filter((c) => !/^(Describe|List)/.test(c.action));
    expect(mutating).toEqual([]);
    await stack.client.approve(workflowId, { by: 'alice' });
    expect((await stack.client.result(workflowId)).counts.removed).toBe(2);
  });

  it('approve is rejected on a run that does not need it', async () => {
    const ids = (await stack.instanceIds()).slice(0, 1);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 2 } }));
    await expect(stack.client.approve(workflowId)).rejects.toThrow(/not started with requireApproval/);
    await stack.client.endDrain(workflowId, { by: 'test' }); // and ending the drain early works
    expect((await stack.client.result(workflowId)).outcome).toBe('completed');
  });

  it('a second start for the same group fails naming the running workflow', async () => {
    const ids = (await stack.instanceIds()).slice(0, 1);
    const { workflowId } = await stack.client.start(stack.input(ids, { requireApproval: true }));
    await expect(stack.client.start(stack.input(ids))).rejects.toThrow(
      new RegExp(`already running.*${workflowId.replace(/\//g, '\\/')}`),
    );
    // The same requestId is idempotent instead.
    await stack.client.cancel(workflowId);
    await stack.client.result(workflowId).catch(() => undefined);
    const a = await stack.client.start(stack.input(ids, { requestId: 'req-1', requireApproval: true }));
    const b = await stack.client.start(stack.input(ids, { requestId: 'req-1', requireApproval: true }));
    expect(b).toEqual({ ...a, existing: true });
    await stack.client.cancel(a.workflowId);
    await stack.client.result(a.workflowId).catch(() => undefined);
  });

  it('Warning with onBatchFailure=continue: failed instances get traffic back, the rest go on', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    await stack.admin.settings({
      activityOutcomes: [
        {
          match: { instanceIds: [ids[0] as string] },
          status: 'Warning',
          failInstanceIds: [ids[0] as string],
          errorCode: 'InstanceStuck',
          errorMessage: 'stuck',
          times: 1,
        },
      ],
    });
    const { workflowId } = await stack.client.start(
      stack.input(ids, { batchSize: 2, drain: { timeoutSeconds: 0 }, onBatchFailure: 'continue' }),
    );
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed-with-failures');
    assertResultMatchesSchema(result);
    expect(result.counts).toMatchObject({ removed: 3, failed: 1 });
    expect(result.notRemoved).toEqual([
      expect.objectContaining({
        instanceId: ids[0],
        outcome: 'failed',
        why: expect.stringMatching(/ended Warning.*still in the group.*traffic was restored/),
      }),
    ]);
    expect(await stack.weights([ids[0] as string])).toEqual({ clb: [100], vsg: [100], alb: [100] });
    expect(result.batches.map((b) => b.state)).toEqual(['warning', 'succeeded']);
  });

  it('Failed with onBatchFailure=abort: the run fails with the activity status, later batches restored', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    await stack.admin.settings({
      activityOutcomes: [
        {
          match: { instanceIds: [ids[0] as string] },
          status: 'Failed',
          errorCode: 'Boom',
          errorMessage: 'failed',
          times: 1,
        },
      ],
    });
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 2, drain: { timeoutSeconds: 0 } }));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect((err as ScaleInFailedError).code).toBe('ScalingActivityFailed');
    const res = (err as ScaleInFailedError).result;
    assertResultMatchesSchema(res);
    expect(res?.counts).toMatchObject({ removed: 0, failed: 2, restored: 2 });
    // The failed batch's instances were restored once, by the batch-failure step, not again by the abort.
    const failed = res?.notRemoved.filter((r) => r.outcome === 'failed') ?? [];
    expect(failed).toHaveLength(2);
    for (const r of failed) expect(r.why).toMatch(/its traffic was restored$/);
    expect(await stack.weights(ids)).toEqual({
      clb: [100, 100, 100, 100],
      vsg: [100, 100, 100, 100],
      alb: [100, 100, 100, 100],
    });
    expect(await stack.instanceIds()).toEqual(expect.arrayContaining(ids));
  });
});

// A stack of their own: the group of the tests above has too few instances left for these.
describe('operator control: what pause holds, pause --restore, cancel --reason', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('pause holds the removal of a batch already drained, even once its drain wait is over', async () => {
    const ids = (await stack.instanceIds()).slice(0, 3);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 3, drain: { timeoutSeconds: 60 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    await stack.client.pause(workflowId, { by: 'test' });
    await stack.client.endDrain(workflowId, { by: 'test' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stack.admin.calls({ action: 'RemoveInstances', sinceSeq: since })).toEqual([]);
    expect((await stack.client.progress(workflowId)).batches.map((b) => b.state)).toEqual(['drained']);
    await stack.client.resume(workflowId, { by: 'test' });
    expect((await stack.client.result(workflowId)).counts.removed).toBe(3);
  });

  it('pause --restore gives drained batches their traffic back; resume drains again, each removed once', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const removals = () => stack.admin.calls({ action: 'RemoveInstances', sinceSeq: since });
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 3, drain: { timeoutSeconds: 60 } }));
    const states = async () => (await stack.client.progress(workflowId)).batches.map((b) => b.state);
    await waitFor(async () => (await states()).every((s) => s === 'drained'), 20_000, 100);
    expect(await stack.weights(ids)).toEqual(weightsOf(6, 0));

    const state = await stack.client.pause(workflowId, { by: 'test', restore: true });
    expect(state.paused).toBe(true);
    expect([...(state.restoredInstanceIds ?? [])].sort()).toEqual([...ids].sort());
    expect(state.notRestoredInstanceIds).toEqual([]);
    expect(await stack.weights(ids)).toEqual(weightsOf(6, 100));
    expect(await states()).toEqual(['restored', 'restored']);
    // Held while paused: not drained again, nothing sent to RemoveInstances.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stack.weights(ids)).toEqual(weightsOf(6, 100));
    expect(await removals()).toEqual([]);

    await stack.client.resume(workflowId, { by: 'test' });
    await waitFor(async () => (await states()).every((s) => s === 'drained'), 20_000, 100);
    expect(await stack.weights(ids)).toEqual(weightsOf(6, 0));
    expect(await removals()).toEqual([]);
    await stack.client.endDrain(workflowId, { by: 'test' });
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ removed: 6, restored: 0, pending: 0 });
    const sent = (await removals()).flatMap((c) =>
      Object.entries(c.params)
        .filter(([k]) => k.startsWith('InstanceId.'))
        .map(([, v]) => v),
    );
    expect(sent.sort()).toEqual([...ids].sort());
  });

  it('cancel after pause --restore: the instances given back are reported restored, nothing is removed', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 2, drain: { timeoutSeconds: 60 } }));
    const states = async () => (await stack.client.progress(workflowId)).batches.map((b) => b.state);
    await waitFor(async () => (await states()).every((s) => s === 'drained'), 20_000, 100);
    await stack.client.pause(workflowId, { by: 'bob', restore: true });
    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    const cancelled = (err as ScaleInFailedError).result;
    assertResultMatchesSchema(cancelled);
    expect(cancelled?.outcome).toBe('cancelled');
    expect(cancelled?.counts).toMatchObject({ removed: 0, restored: 4, skipped: 0, pending: 0 });
    for (const r of cancelled?.notRemoved ?? [])
      expect(r.why).toMatch(/^drained, then given its traffic back by pause --restore \(by bob\); not removed/);
    expect(cancelled?.batches.map((b) => b.state)).toEqual(['restored', 'restored']);
    expect(await stack.weights(ids)).toEqual(weightsOf(4, 100));
    expect(await stack.admin.calls({ action: 'RemoveInstances', sinceSeq: since })).toEqual([]);
  });

  it('the CLI: pause --restore gives the traffic back, cancel --by --reason reaches the result', async () => {
    const ids = (await stack.instanceIds()).slice(0, 2);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 60 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const io = {
        out: (l: string) => out.push(l),
        err: () => undefined,
        rewrite: () => undefined,
        interactive: false,
      };
      const global = ['--address', inject('temporalAddress'), '--namespace', 'default', '--json'];
      const code = await run([...global, ...args], io);
      return { code, json: JSON.parse(out.join('\n')) as Record<string, unknown> };
    };
    const paused = await cli('pause', workflowId, '--restore', '--by', 'carol');
    expect(paused.code).toBe(0);
    expect(paused.json).toMatchObject({
      ok: true,
      action: 'pause',
      state: { paused: true, notRestoredInstanceIds: [] },
    });
    expect(await stack.weights(ids)).toEqual(weightsOf(2, 100));
    const cancelled = await cli('cancel', workflowId, '--by', 'carol', '--reason', 'load test moved', '--wait');
    expect(cancelled.code).toBe(0);
    expect(cancelled.json).toMatchObject({
      ok: true,
      run: { outcome: 'cancelled', result: { message: 'The run was cancelled by carol (reason: load test moved)' } },
    });
  });

  it('cancel --reason: who cancelled and why are in the result, the progress and the memo', async () => {
    const ids = (await stack.instanceIds()).slice(0, 2);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 60 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    await stack.client.cancel(workflowId, undefined, { by: 'alice', reason: 'change freeze' });
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    const cancelled = (err as ScaleInFailedError).result;
    assertResultMatchesSchema(cancelled);
    expect(cancelled?.outcome).toBe('cancelled');
    expect(cancelled?.message).toBe('The run was cancelled by alice (reason: change freeze)');
    expect(cancelled?.notRemoved.map((r) => r.why)).toEqual(
      Array(2).fill('drained then restored: the run was cancelled by alice (reason: change freeze)'),
    );
    const progress = await stack.client.progress(workflowId);
    expect(progress.lastError).toBe('The run was cancelled by alice (reason: change freeze)');
    const memo = (await stack.client.handle(workflowId).describe()).memo;
    expect(memo).toMatchObject({ cancelledBy: 'alice', cancelReason: 'change freeze' });
  });
});

function weightsOf(n: number, w: number): { clb: number[]; vsg: number[]; alb: number[] } {
  return { clb: Array<number>(n).fill(w), vsg: Array<number>(n).fill(w), alb: Array<number>(n).fill(w) };
}
