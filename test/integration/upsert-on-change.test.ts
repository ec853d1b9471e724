import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness/stack';

/**
 * Each search-attribute upsert is a history event: a run upserts only when the phase or a count
 * changed (patch upsert-search-attributes-on-change). Before, every progress publication upserted
 * the same values again: about 3.6 upserts per batch.
 */
describe('search attributes upserted only on change', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('no two upserts in a row carry the same values, and the last carries the final counts', async () => {
    const victims = (await stack.instanceIds()).slice(0, 15);
    const { workflowId } = await stack.client.start(stack.input(victims, { batchSize: 5 }));
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');

    const history = await stack.client.handle(workflowId).fetchHistory();
    const upserts = (history.events ?? [])
      .map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
      .filter((f): f is NonNullable<typeof f> => f !== undefined && f !== null)
      .map((fields) =>
        Object.fromEntries(
          Object.entries(fields).map(([k, p]) => [k, Buffer.from(p.data ?? new Uint8Array()).toString('utf8')]),
        ),
      );
    // The SDK upserts TemporalChangeVersion itself when a patch is first used: leave those out.
    const ours = upserts
      .filter((u) => 'EssPhase' in u)
      .map((u) => `${u.EssPhase} ${u.EssInstancesRemoved} ${u.EssInstancesFailed}`);
    for (let i = 1; i < ours.length; i++) expect(ours[i], `upsert ${i}`).not.toBe(ours[i - 1]);
    // One upsert per phase and per batch's count; the old code upserted on every progress publication.
    expect(ours).toEqual([
      '"Preflight" 0 0',
      '"Running" 0 0',
      '"Running" 5 0',
      '"Running" 10 0',
      '"Running" 15 0',
      '"Completed" 15 0',
    ]);
  });
});
