import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedRun, startStack, type Stack } from '../harness/stack';

/** The load balancer reads a drain could repeat: one per load balancer (or server group) of the small scenario. */
const READS = ['DescribeLoadBalancerAttribute', 'DescribeVServerGroupAttribute', 'ListServerGroupServers'];
/** The drain's weight changes. */
const WRITES = ['SetBackendServers', 'SetVServerGroupAttribute', 'UpdateServerGroupServersAttribute'];

describe('weight drain from the snapshot (patch drain-from-snapshot)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Calls of each read action after `since`. */
  async function readsSince(since: number): Promise<Record<string, number>> {
    const calls = await stack.admin.calls({ sinceSeq: since });
    return Object.fromEntries(READS.map((a) => [a, calls.filter((c) => c.action === a).length]));
  }

  it("reads each batch's backends once: the drain changes what the weight snapshot read", async () => {
    const victims = (await stack.instanceIds()).slice(0, 25);
    // What the preflight reads alone, from a dry run of the same request.
    const beforeDry = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const dry = await stack.client.start(stack.input(victims, { dryRun: true }));
    expect((await stack.client.result(dry.workflowId)).outcome).toBe('dry-run');
    const preflight = await readsSince(beforeDry);

    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { result } = await completedRun(stack, victims, { drain: { timeoutSeconds: 0 } });
    expect(result.counts).toMatchObject({ total: 25, removed: 25 });
    const batches = result.batches.length;
    expect(batches).toBe(3);

    // Before: the snapshot and the drain both read every load balancer, two reads per batch each. A
    // drain attempt that fails (a CLB busy while ESS deregisters the batch before) is retried, and a
    // retry reads again: one more read each.
    const calls = await stack.admin.calls({ sinceSeq: since });
    const failedAttempts = calls.filter((c) => WRITES.includes(c.action) && c.outcome !== 'ok').length;
    const run = await readsSince(since);
    for (const a of READS)
      expect({ action: a, reads: (run[a] ?? 0) - (preflight[a] ?? 0) }).toEqual({
        action: a,
        reads: batches + failedAttempts,
      });

    // Every batch was still drained (weight 0 everywhere) before its RemoveInstances.
    for (const b of result.batches) {
      const first = b.instanceIds[0] ?? '?';
      const removeSeq =
        calls.find((c) => c.action === 'RemoveInstances' && Object.values(c.params).includes(first))?.seq ?? -1;
      const drains = calls.filter(
        (c) => WRITES.includes(c.action) && c.outcome === 'ok' && JSON.stringify(c.params).includes(first),
      );
      expect(drains.map((d) => d.action).sort()).toEqual([
        'SetBackendServers',
        'SetVServerGroupAttribute',
        'UpdateServerGroupServersAttribute',
      ]);
      for (const d of drains) expect(d.seq).toBeLessThan(removeSeq);
    }
  });
});
