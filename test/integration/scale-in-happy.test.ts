import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import { progressQuery } from '../../src/workflows/definitions';
import { assertResultMatchesSchema } from '../harness/schemas';
import { SMALL, startStack, type Stack } from '../harness/stack';

describe('scale-in against the emulator: happy path', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('drains, removes 25 instances in 3 batches of at most 10, and reports every instance', async () => {
    const all = await stack.instanceIds();
    expect(all).toHaveLength(30);
    const victims = all.slice(0, 25);
    const { workflowId } = await stack.client.start(stack.input(victims));
    expect(workflowId).toBe(stack.workflowId);
    const result = await stack.client.result(workflowId);

    expect(result.outcome).toBe('completed');
    assertResultMatchesSchema(result);
    expect(result.counts).toMatchObject({ total: 25, removed: 25, failed: 0, skipped: 0, restored: 0, pending: 0 });
    expect(result.removed.flatMap((g) => g.instanceIds).sort()).toEqual(victims);
    expect(result.batches.map((b) => b.instanceIds.length)).toEqual([10, 10, 5]);
    for (const b of result.batches) {
      expect(b.state).toBe('succeeded');
      expect(b.scalingActivityId).toMatch(/^asa-/);
      expect(b.requestIds.length).toBeGreaterThan(0);
    }

    // The emulator agrees: the instances left the group, the group shrank, capacity stayed >= MinSize.
    const state = await stack.admin.state();
    const left = state.instances
      .filter((i) => i.scalingGroupId === stack.group)
      .map((i) => i.instanceId)
      .sort();
    expect(left).toEqual(all.slice(25));
    const group = state.groups.find((g) => g.scalingGroupId === stack.group);
    expect(group?.totalCapacity).toBe(5);
    expect(group?.desiredCapacity).toBe(5);

    // Exactly one RemoveInstances per batch, each ≤ 10 IDs, each with a ClientToken.
    const removes = await stack.admin.calls({ action: 'RemoveInstances' });
    expect(removes.filter((c) => c.outcome === 'ok')).toHaveLength(3);
    for (const c of removes) {
      expect(Object.keys(c.params).filter((k) => k.startsWith('InstanceId.')).length).toBeLessThanOrEqual(10);
      expect(c.params.ClientToken).toMatch(/^esi-[0-9a-f]{40}$/);
    }

    // Every batch was drained (weight 0 on CLB, vserver group and ALB) before its RemoveInstances.
    const calls = await stack.admin.calls();
    for (const b of result.batches) {
      const removeSeq =
        calls.find((c) => c.action === 'RemoveInstances' && c.params['InstanceId.1'] === b.instanceIds[0])?.seq ?? -1;
      const drains = calls.filter(
        (c) =>
          ['SetBackendServers', 'SetVServerGroupAttribute', 'UpdateServerGroupServersAttribute'].includes(c.action) &&
          JSON.stringify(c.params).includes(b.instanceIds[0] ?? '?'),
      );
      expect(drains.map((d) => d.action).sort()).toEqual([
        'SetBackendServers',
        'SetVServerGroupAttribute',
        'UpdateServerGroupServersAttribute',
      ]);
      for (const d of drains) expect(d.seq).toBeLessThan(removeSeq);
    }

    // The progress query of a finished run still answers, with the whole story.
    const progress = await stack.client.handle(workflowId).query(progressQuery);
    expect(progress.phase).toBe('Completed');
    expect(progress.counts.batchesDone).toBe(3);
    expect(progress.counts.removed).toBe(25);

    // Search attributes are visible to list filters.
    const desc = await stack.client.handle(workflowId).describe();
    const sa = desc.typedSearchAttributes;
    expect(sa.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['EssScalingGroupId', stack.group],
        ['EssRegionId', SMALL.region],
        ['EssPhase', 'Completed'],
        ['EssInstancesRemoved', 25],
        ['EssInstancesTotal', 25],
      ]),
    );
  });

  it('dry run returns the plan and changes nothing', async () => {
    const ids = (await stack.instanceIds()).slice(0, 3);
    const before = (await stack.admin.calls()).length;
    const { workflowId } = await stack.client.start(stack.input(ids, { dryRun: true }));
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('dry-run');
    assertResultMatchesSchema(result);
    expect(result.plan?.batchCount).toBe(1);
    expect(result.plan?.capacityAfter).toBe(2);
    expect(result.plan?.loadBalancers.clbIds).toEqual([SMALL.lb]);
    const mutating = (await stack.admin.calls({ sinceSeq: before })).filter((c) => !/^(Describe|List)/.test(c.action));
    expect(mutating).toEqual([]);
  });

  it('fails before any side effect when the request would go below MinSize', async () => {
    const ids = await stack.instanceIds(); // 5 left, MinSize 1
    const before = (await stack.admin.calls()).length;
    const { workflowId } = await stack.client.start(stack.input(ids));
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('PreflightFailed');
    expect((err as ScaleInFailedError).message).toMatch(/TotalCapacity from 5 to 0, below MinSize 1.*remove at most 4/);
    const mutating = (await stack.admin.calls({ sinceSeq: before })).filter((c) => !/^(Describe|List)/.test(c.action));
    expect(mutating).toEqual([]);
  });
});
