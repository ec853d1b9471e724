import { describe, it, expect } from 'vitest';
import { isScaleInResult, type ScaleInResult } from '../../src/shared/progress';

const result: ScaleInResult = {
  workflowId: 'ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v',
  outcome: 'aborted',
  message: 'Aborted: boom',
  plan: undefined,
  counts: { total: 2, removed: 0, failed: 2, skipped: 0, restored: 2, pending: 0 },
  removed: [],
  notRemoved: [],
  batches: [],
};

describe('isScaleInResult', () => {
  it('accepts a result, also once serialized (an undefined plan is dropped)', () => {
    expect(isScaleInResult(result)).toBe(true);
    expect(isScaleInResult(JSON.parse(JSON.stringify(result)))).toBe(true);
  });

  it('rejects the other failure details and anything missing a field the type always has', () => {
    // Preflight problems and input problems travel as an array; restore records as { restore }.
    expect(isScaleInResult([{ field: 'instanceIds', problem: 'x', fix: 'y' }])).toBe(false);
    expect(isScaleInResult({ restore: [] })).toBe(false);
    for (const v of [undefined, null, 'completed', 1]) expect(isScaleInResult(v)).toBe(false);
    for (const key of ['workflowId', 'outcome', 'message', 'counts', 'removed', 'notRemoved', 'batches']) {
      const { [key]: _dropped, ...rest } = result as unknown as Record<string, unknown>;
      expect(isScaleInResult(rest), `without ${key}`).toBe(false);
    }
    expect(isScaleInResult({ ...result, counts: null })).toBe(false);
    expect(isScaleInResult({ ...result, removed: {} })).toBe(false);
  });
});
