import type { WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter as pc } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { withFollowedRemovals } from '../../src/client/followed-removals';
import type { BatchProgress, ProgressSnapshot } from '../../src/shared/progress';

function batch(index: number, state: BatchProgress['state'], instanceIds: string[]): BatchProgress {
  return { index, state, instanceIds } as BatchProgress;
}

function snapshotOf(...batches: BatchProgress[]): ProgressSnapshot {
  return { batches } as ProgressSnapshot;
}

function describing(type: string, checkpoint: unknown): WorkflowExecutionDescription {
  const pending = [{ activityType: { name: type }, heartbeatDetails: { payloads: [pc.toPayload(checkpoint)] } }];
  return { raw: { pendingActivities: pending } } as unknown as WorkflowExecutionDescription;
}

describe('withFollowedRemovals', () => {
  const removing = batch(2, 'removing', ['i-3', 'i-4']);

  it("shows a removing batch as polling its scaling activity once removeBatch's checkpoint names it", () => {
    const desc = describing('removeBatch', { attempt: 1, removals: [{ ids: ['i-3', 'i-4'], activity: 'asa-9' }] });
    const out = withFollowedRemovals(snapshotOf(batch(1, 'succeeded', ['i-1']), removing), desc, pc);
    expect(out.batches.map((b) => [b.state, b.scalingActivityId])).toEqual([
      ['succeeded', undefined],
      ['polling', 'asa-9'],
    ]);
  });

  it('leaves the batch removing while the call has no answer, or for another activity type', () => {
    const sent = describing('removeBatch', { attempt: 1, removals: [{ ids: ['i-3', 'i-4'] }] });
    expect(withFollowedRemovals(snapshotOf(removing), sent, pc).batches[0]?.state).toBe('removing');
    const drain = describing('drain', { removals: [{ ids: ['i-3'], activity: 'asa-9' }] });
    expect(withFollowedRemovals(snapshotOf(removing), drain, pc).batches[0]?.state).toBe('removing');
    expect(withFollowedRemovals(snapshotOf(removing), undefined, pc).batches[0]?.state).toBe('removing');
  });

  it('changes only batches still removing, and only for their own instances', () => {
    const desc = describing('removeBatch', { removals: [{ ids: ['i-1'], activity: 'asa-1' }] });
    const out = withFollowedRemovals(snapshotOf(batch(1, 'succeeded', ['i-1']), removing), desc, pc);
    expect(out.batches.map((b) => b.state)).toEqual(['succeeded', 'removing']);
  });
});
