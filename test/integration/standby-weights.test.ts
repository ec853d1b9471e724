/**
 * The `standby` strategy against the reference's ExitStandby: an instance leaving Standby comes back
 * at the default weight 50 (docs/emulator.md, EnterStandby / ExitStandby), not at the weight it had.
 * A run cancelled after its standby drain must still give every backend its own weight back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { SMALL, startStack, type Stack } from '../harness/stack';

describe('standby drain: the weights of before come back after ExitStandby', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Non-default weights (neither 50 nor the scenario's 100), different per instance and load balancer. */
  const ORIGINAL = { clb: [70, 20, 90], vsg: [30, 40, 60], alb: [80, 10, 95] };

  async function setOriginalWeights(ids: string[]): Promise<void> {
    const { cloud } = stack;
    const pick = (ws: number[], k: number) => ws[k] ?? 0;
    await cloud.clb.setBackendServers(
      SMALL.region,
      SMALL.lb,
      ids.map((serverId, k) => ({ serverId, weight: pick(ORIGINAL.clb, k), type: 'ecs' })),
    );
    await cloud.clb.setVServerGroupAttribute(
      SMALL.region,
      SMALL.vsg,
      ids.map((serverId, k) => ({ serverId, weight: pick(ORIGINAL.vsg, k), type: 'ecs', port: 8080 })),
    );
    const { jobId } = await cloud.alb.updateServerGroupServersAttribute(
      SMALL.region,
      SMALL.alb,
      ids.map((serverId, k) => ({ serverId, serverType: 'Ecs', port: 8080, weight: pick(ORIGINAL.alb, k) })),
    );
    await waitFor(
      async () => (await cloud.alb.listAsynJobs(SMALL.region, [jobId])).jobs[0]?.status === 'Succeeded',
      5_000,
      20,
    );
    expect(await stack.weights(ids)).toEqual(ORIGINAL);
  }

  it('a run cancelled after its standby drain restores the original weights, verified', async () => {
    const ids = (await stack.instanceIds()).slice(0, 3);
    await setOriginalWeights(ids);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { workflowId } = await stack.client.start(
      stack.input(ids, { drain: { strategy: 'standby', timeoutSeconds: 60 } }),
    );
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    expect(await stack.weights(ids)).toEqual({ clb: [0, 0, 0], vsg: [0, 0, 0], alb: [0, 0, 0] });

    await stack.client.cancel(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);

    const state = await stack.admin.state();
    const lifecycle = ids.map((id) => state.instances.find((i) => i.instanceId === id)?.lifecycleState);
    expect(lifecycle).toEqual(['InService', 'InService', 'InService']);
    // ExitStandby alone would leave them at 50 everywhere.
    expect(await stack.weights(ids)).toEqual(ORIGINAL);
    const changes = (await stack.admin.calls({ sinceSeq: since }))
      .filter((c) => /^(Set|Update|EnterStandby|ExitStandby)/.test(c.action))
      .map((c) => c.action);
    expect(changes).toEqual([
      'EnterStandby',
      'ExitStandby',
      'SetBackendServers',
      'SetVServerGroupAttribute',
      'UpdateServerGroupServersAttribute',
    ]);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    const result = (err as ScaleInFailedError).result;
    expect(result?.outcome).toBe('cancelled');
    expect(result?.notRemoved.map((r) => r.outcome)).toEqual(['restored', 'restored', 'restored']);
  });
});
