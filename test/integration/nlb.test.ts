import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleInFailedError, type ScaleInResult } from '../../src/client';
import type { Scenario } from '../../src/emulator';
import { waitFor } from '../../src/emulator/testing';
import { startStack, type Stack } from '../harness/stack';

const NLB = 'sgp-bp1smallnlb000001';
const GWLB = 'sgp-bp1smallgwlb00001';

/** The small scenario's group also behind an NLB server group and a GWLB one (which nothing can drain). */
function withNlb(s: Scenario): void {
  const group = s.scalingGroups?.[0];
  const gen = s.instanceGenerators?.[0];
  if (!group || !gen?.attachTo) throw new Error('the small scenario changed shape');
  group.nlbServerGroups = [{ nlbServerGroupId: NLB, port: 8080, weight: 100 }];
  group.otherServerGroups = [{ serverGroupId: GWLB, type: 'GWLB', port: 6081, weight: 100 }];
  gen.attachTo.nlbServerGroupIds = [NLB];
  s.nlbServerGroups = [{ id: NLB, regionId: group.regionId }];
}

/** NLB server groups are drained and restored like CLB and ALB (issue 14, "NLB"). */
describe('a group behind CLB, ALB and NLB (and a GWLB left undrained as asked)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ mutate: withNlb });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const nlbWeights = async (ids: string[]) => {
    const st = await stack.admin.state();
    const servers = (st.nlbServerGroups ?? []).flatMap((g) => g.servers);
    return ids.map((id) => servers.find((s) => s.serverId === id)?.weight);
  };

  it('a cancel after the drain restores every place, NLB included', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    const { workflowId } = await stack.client.start(
      stack.input(ids, { batchSize: 4, drain: { timeoutSeconds: 60 }, leaveUndrained: [GWLB] }),
    );
    await waitFor(
      async () => (await stack.client.progress(workflowId)).batches.every((b) => b.state === 'drained'),
      10_000,
      100,
    );
    expect(await stack.weights(ids)).toEqual({ clb: [0, 0, 0, 0], vsg: [0, 0, 0, 0], alb: [0, 0, 0, 0] });
    expect(await nlbWeights(ids)).toEqual([0, 0, 0, 0]);

    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    const result = (err as ScaleInFailedError).result as ScaleInResult;
    expect(result.counts).toMatchObject({ removed: 0, restored: 4, drainedNotRestored: 0 });
    expect(await stack.weights(ids)).toEqual({
      clb: [100, 100, 100, 100],
      vsg: [100, 100, 100, 100],
      alb: [100, 100, 100, 100],
    });
    expect(await nlbWeights(ids)).toEqual([100, 100, 100, 100]);
  });

  it('a run drains the NLB too before removing, and ESS deregisters the removed instances from it', async () => {
    const ids = (await stack.instanceIds()).slice(-2);
    await stack.admin.clearCalls();
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 2, leaveUndrained: [GWLB] }));
    const result = await stack.client.result(workflowId);
    expect(result.counts).toMatchObject({ removed: 2 });
    const calls = await stack.admin.calls({ action: 'UpdateServerGroupServersAttribute' });
    expect(calls.filter((c) => c.version === '2022-04-30' && c.params.ServerGroupId === NLB).length).toBe(1);
    expect(await nlbWeights(ids)).toEqual([undefined, undefined]);
  });

  it('without leaveUndrained, the run is refused before any change, naming the GWLB server group', async () => {
    const ids = (await stack.instanceIds()).slice(0, 1);
    await stack.admin.clearCalls();
    const { workflowId } = await stack.client.start(stack.input(ids));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect(JSON.stringify((err as ScaleInFailedError).result ?? err)).toMatch(
      /GWLB server group sgp-bp1smallgwlb00001/,
    );
    expect(await stack.admin.calls({ action: 'UpdateServerGroupServersAttribute' })).toEqual([]);
  });
});
