import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ScaleInFailedError } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { startStack, type Stack } from '../harness/stack';

/**
 * A cancelled run keeps its report only in its result query, and a query of a closed run needs a
 * worker to replay it. Found by the chaos suite (seed 1011 under load): the worker was being
 * restarted when the query ran, and the run's report became "no result".
 */
describe('the result of a cancelled run while its worker restarts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is still reported once a worker is back', async () => {
    const ids = (await stack.instanceIds()).slice(0, 5);
    let worker = await stack.spawnWorker();
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 60 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 20_000, 100);
    await stack.client.cancel(workflowId);
    const handle = stack.rawClient.workflow.getHandle(workflowId);
    await waitFor(async () => (await handle.describe()).status.name === 'CANCELLED', 20_000, 100);
    // Frozen, not dead: its long poll still takes the query task, which then never gets an answer,
    // as when a worker dies in the middle of answering (the chaos case).
    worker.child.kill('SIGSTOP');
    const asked = stack.client.result(workflowId).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 3000));
    await worker.kill();
    worker = await stack.spawnWorker();
    const err = await asked;
    await worker.kill();

    expect(err).toBeInstanceOf(ScaleInFailedError);
    const result = (err as ScaleInFailedError).result;
    expect(result?.outcome).toBe('cancelled');
    expect(result?.notRemoved.map((r) => r.outcome)).toEqual(Array(5).fill('restored'));
  });
});
