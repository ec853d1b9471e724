import { afterEach, describe, expect, it } from 'vitest';
import { ScaleInFailedError, type ScaleInResult } from '../../src/client';
import type { ScenarioLifecycleHook } from '../../src/emulator/types';
import { waitFor } from '../../src/emulator/testing';
import type { ScaleInInput } from '../../src/shared/input';
import { FAST, startStack, type Stack } from '../harness/stack';

/**
 * Scale-in lifecycle hooks end to end: the real workflow and worker against the emulator, whose
 * clock runs at 1/100 (a 600 s hook waits 6 s, a 30 s hook 0.3 s). Each test gets a group of its own
 * with the hooks it declares.
 */
const SCALE = 0.01;
const A = 'ash-hookaaaaaaaaaaaaaaaa1';
const B = 'ash-hookbbbbbbbbbbbbbbbb2';

const hook = (id: string, heartbeatTimeout: number, defaultResult = 'CONTINUE'): ScenarioLifecycleHook => ({
  id,
  name: id === A ? 'drain-hold' : 'cleanup',
  lifecycleTransition: 'SCALE_IN',
  heartbeatTimeout,
  defaultResult,
});

describe('scale-in lifecycle hooks', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function withHooks(hooks: ScenarioLifecycleHook[], withWorker = true): Promise<Stack> {
    stack = await startStack({
      timeScale: SCALE,
      withWorker,
      mutate: (s) => {
        const g = s.scalingGroups?.[0];
        if (g) g.lifecycleHooks = hooks;
      },
    });
    return stack;
  }

  const input = (s: Stack, ids: string[], over: Partial<ScaleInInput> = {}): ScaleInInput =>
    s.input(ids, { batchSize: ids.length, drain: { strategy: 'none' }, advanced: FAST, ...over });

  const actions = async (s: Stack) => (await s.admin.state()).lifecycleActions ?? [];
  const pendingOf = async (s: Stack, hookId: string) =>
    (await actions(s)).find((a) => a.lifecycleHookId === hookId && a.status === 'Pending');
  const completeCalls = async (s: Stack) => s.admin.calls({ action: 'CompleteLifecycleAction' });

  async function resultOf(s: Stack, workflowId: string): Promise<ScaleInResult> {
    try {
      return await s.client.result(workflowId);
    } catch (e) {
      if (e instanceof ScaleInFailedError && e.result) return e.result;
      throw e;
    }
  }

  it('wait, one hook: the plan names it, progress shows the batch held by it, and the run waits it out', async () => {
    const s = await withHooks([hook(A, 300)]);
    const ids = (await s.instanceIds()).slice(0, 2);
    const { workflowId } = await s.client.start(input(s, ids));
    await waitFor(
      async () => (await s.client.progress(workflowId)).batches[0]?.state === 'waiting-on-hook',
      30_000,
      50,
    );
    const p = await s.client.progress(workflowId);
    expect(p.plan?.lifecycleHooks).toEqual([expect.objectContaining({ lifecycleHookId: A, handling: 'wait' })]);
    expect(p.plan?.hookWaitSecondsPerBatch).toBe(300);
    expect(p.batches[0]?.hookWaits).toEqual([
      expect.objectContaining({ lifecycleHookId: A, lifecycleHookName: 'drain-hold', defaultResult: 'CONTINUE' }),
    ]);
    const r = await s.client.result(workflowId);
    expect(r.outcome).toBe('completed');
    expect(r.counts.removed).toBe(2);
    // The hook ended by its timeout (300 s scaled): the run never completed it.
    expect((await actions(s)).map((a) => [a.lifecycleHookId, a.status, a.result])).toEqual([
      [A, 'Timeout', 'CONTINUE'],
    ]);
    expect(await completeCalls(s)).toEqual([]);
  });

  it('wait, two hooks: an ABANDON by another actor ends the other wait early and the removal goes on', async () => {
    const s = await withHooks([hook(A, 600), hook(B, 600)]);
    const ids = (await s.instanceIds()).slice(0, 2);
    const t0 = Date.now();
    const { workflowId } = await s.client.start(input(s, ids));
    await waitFor(async () => Boolean(await pendingOf(s, A)), 30_000, 20);
    const a = await pendingOf(s, A);
    await s.admin.completeLifecycleAction(a?.lifecycleActionToken ?? '', 'ABANDON');
    const r = await s.client.result(workflowId);
    expect(r.counts.removed).toBe(2);
    // Well before either 6 s timeout.
    expect(Date.now() - t0).toBeLessThan(5000);
    const byHook = new Map((await actions(s)).map((x) => [x.lifecycleHookId, x]));
    expect(byHook.get(A)).toMatchObject({ status: 'Completed', result: 'ABANDON' });
    expect(byHook.get(B)?.status).not.toBe('Pending');
  });

  it.each([
    ['CONTINUE', true],
    ['ABANDON', true],
    ['ROLLBACK', false],
  ] as const)('a hook that times out with default %s', async (defaultResult, removed) => {
    const s = await withHooks([hook(A, 30, defaultResult)]);
    const ids = (await s.instanceIds()).slice(0, 2);
    const { workflowId } = await s.client.start(input(s, ids, { onBatchFailure: 'continue' }));
    const r = await resultOf(s, workflowId);
    expect((await actions(s)).map((a) => [a.status, a.result])).toEqual([['Timeout', defaultResult]]);
    if (removed) {
      expect(r.counts.removed).toBe(2);
      return;
    }
    expect(r.counts.removed).toBe(0);
    expect(r.notRemoved.map((n) => n.outcome)).toEqual(['failed', 'failed']);
    expect(r.notRemoved[0]?.why).toContain(
      `lifecycle hook drain-hold (${A}) timed out with its default result ROLLBACK: ESS kept the instance`,
    );
    // Kept in the group and back in service.
    const st = await s.admin.state();
    expect(st.instances.filter((i) => ids.includes(i.instanceId)).map((i) => i.lifecycleState)).toEqual([
      'InService',
      'InService',
    ]);
  });

  it.each(['abort', 'continue'] as const)(
    'a ROLLBACK mid-run with onBatchFailure %s: the batch fails naming the hook, traffic comes back',
    async (onBatchFailure) => {
      const s = await withHooks([hook(A, 600), hook(B, 600)]);
      const ids = (await s.instanceIds()).slice(0, 4);
      const { workflowId } = await s.client.start(
        input(s, ids, { batchSize: 2, onBatchFailure, drain: { strategy: 'weight', timeoutSeconds: 0 } }),
      );
      // Batch 1: another actor rolls back hook A, which also ends hook B's wait.
      await waitFor(async () => Boolean(await pendingOf(s, A)), 30_000, 20);
      const first = await pendingOf(s, A);
      await s.admin.completeLifecycleAction(first?.lifecycleActionToken ?? '', 'ROLLBACK');
      if (onBatchFailure === 'continue') {
        // Batch 2: CONTINUE by the other actor.
        await waitFor(
          async () => {
            const next = await pendingOf(s, A);
            return Boolean(next && next.lifecycleActionToken !== first?.lifecycleActionToken);
          },
          30_000,
          20,
        );
        const second = await pendingOf(s, A);
        await s.admin.completeLifecycleAction(second?.lifecycleActionToken ?? '', 'CONTINUE');
        await waitFor(async () => Boolean(await pendingOf(s, B)), 30_000, 20);
        await s.admin.completeLifecycleAction((await pendingOf(s, B))?.lifecycleActionToken ?? '', 'CONTINUE');
      }
      const r = await resultOf(s, workflowId);
      const batch1 = first?.instanceIds ?? [];
      // The ROLLBACK ended hook B's wait on the same activity at once (B would have waited 6 s).
      const bOfBatch1 = (await actions(s)).find(
        (x) => x.lifecycleHookId === B && x.scalingActivityId === first?.scalingActivityId,
      );
      expect(bOfBatch1?.status).toBe('Timeout');
      expect(Date.parse(bOfBatch1?.endTime ?? '')).toBeLessThan(Date.parse(bOfBatch1?.timeoutTime ?? ''));
      expect(r.notRemoved.filter((n) => batch1.includes(n.instanceId)).map((n) => n.outcome)).toEqual([
        'failed',
        'failed',
      ]);
      expect(r.notRemoved.find((n) => batch1.includes(n.instanceId))?.why).toContain(
        `lifecycle hook drain-hold (${A}) ended ROLLBACK: ESS kept the instance`,
      );
      // The rolled-back instances take traffic again at their original weights.
      const w = await s.weights(batch1);
      expect([...w.clb, ...w.vsg, ...w.alb].every((x) => x > 0)).toBe(true);
      if (onBatchFailure === 'abort') {
        expect(r.outcome).toBe('aborted');
        expect(r.counts.removed).toBe(0);
      } else {
        expect(r.outcome).toBe('completed-with-failures');
        expect(r.counts.removed).toBe(2);
      }
    },
  );

  it.each([
    ['one hook', [A]],
    ['two hooks, one completed by the run and one waited for', [A, B]],
  ])('complete, %s: the run answers CONTINUE for its named hook only, once', async (_, declared) => {
    const s = await withHooks(declared.map((id) => hook(id, id === A ? 600 : 30)));
    const ids = (await s.instanceIds()).slice(0, 2);
    const t0 = Date.now();
    const { workflowId } = await s.client.start(input(s, ids, { lifecycleHooks: { mode: 'complete', hookIds: [A] } }));
    const r = await s.client.result(workflowId);
    expect(r.counts.removed).toBe(2);
    // Far from hook A's 6 s (scaled) timeout: the run completed it.
    expect(Date.now() - t0).toBeLessThan(5000);
    const calls = await completeCalls(s);
    expect(calls.map((c) => [c.params.LifecycleHookId, c.params.LifecycleActionResult, c.outcome])).toEqual([
      [A, 'CONTINUE', 'ok'],
    ]);
    const p = await s.client.progress(workflowId);
    expect(p.batches[0]?.hookActions).toEqual([
      expect.objectContaining({
        lifecycleHookId: A,
        result: 'CONTINUE',
        lifecycleActionToken: calls[0]?.params.LifecycleActionToken,
        requestId: expect.any(String),
      }),
    ]);
    const byHook = new Map((await actions(s)).map((x) => [x.lifecycleHookId, x]));
    expect(byHook.get(A)).toMatchObject({ status: 'Completed', result: 'CONTINUE' });
    if (declared.includes(B)) expect(byHook.get(B)).toMatchObject({ status: 'Timeout', result: 'CONTINUE' });
  });

  const skips: Array<[string, string[], NonNullable<ScaleInInput['lifecycleHooks']>, Record<string, string>]> = [
    ['one hook by ID', [A], { mode: 'skip', hookIds: [A] }, { 'LifecycleHookContext.IgnoredLifecycleHookIds.1': A }],
    ['two hooks, all', [A, B], { mode: 'skip', all: true }, { 'LifecycleHookContext.DisableLifecycleHook': 'true' }],
  ];
  it.each(skips)('skip, %s: RemoveInstances bypasses them, no instance waits', async (_, declared, hooks, sent) => {
    const s = await withHooks(declared.map((id) => hook(id, 600)));
    const ids = (await s.instanceIds()).slice(0, 2);
    const { workflowId } = await s.client.start(input(s, ids, { lifecycleHooks: hooks }));
    const r = await s.client.result(workflowId);
    expect(r.counts.removed).toBe(2);
    expect(r.plan?.lifecycleHooks?.map((h) => h.handling)).toEqual(declared.map(() => 'skip'));
    expect(await actions(s)).toEqual([]);
    const [remove] = await s.admin.calls({ action: 'RemoveInstances' });
    expect(remove?.params).toMatchObject(sent);
  });

  it('a worker SIGKILLed while a hook holds the batch: the next worker takes over the wait', async () => {
    const s = await withHooks([hook(A, 600)], false);
    const ids = (await s.instanceIds()).slice(0, 2);
    const first = await s.spawnWorker();
    const { workflowId } = await s.client.start(input(s, ids, { advanced: { ...FAST, heartbeatTimeoutSeconds: 2 } }));
    await waitFor(async () => Boolean(await pendingOf(s, A)), 30_000, 20);
    await first.kill('SIGKILL');
    const second = await s.spawnWorker();
    try {
      const r = await s.client.result(workflowId);
      expect(r.outcome).toBe('completed');
      expect(r.counts.removed).toBe(2);
      expect((await s.admin.calls({ action: 'RemoveInstances' })).filter((c) => c.outcome === 'ok')).toHaveLength(1);
    } finally {
      second.child.kill('SIGTERM');
    }
  });
});
