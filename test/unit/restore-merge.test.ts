import { describe, expect, it } from 'vitest';
import { mergeRestore, type RestoreRecord } from '../../src/shared/restore';

const clb = (serverId: string, weight: number): RestoreRecord => ({
  kind: 'clb',
  loadBalancerId: 'lb-1',
  serverId,
  weight,
});

describe('mergeRestore: one record per backend, the earliest winning', () => {
  it('keeps the first record of a backend, within a list and across the two', () => {
    // A weight read after a change (0) must never replace the original read before it.
    expect(mergeRestore([clb('i-1', 80), clb('i-1', 0)], [])).toEqual([clb('i-1', 80)]);
    expect(mergeRestore([clb('i-1', 80)], [clb('i-1', 0), clb('i-2', 50)])).toEqual([clb('i-1', 80), clb('i-2', 50)]);
    expect(mergeRestore([], [clb('i-2', 50), clb('i-2', 0)])).toEqual([clb('i-2', 50)]);
  });
});
