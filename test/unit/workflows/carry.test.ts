import { describe, expect, it } from 'vitest';
import { carryProblems, type ScaleInCarry } from '../../../src/workflows/scale-in/carry';
import { payloadConverter } from '../../../src/shared/payload-converter';

/** Issue 12 case 2: only a continue-as-new of the same chain may hand a run its carry. */
const FIRST = '01a2180e-1998-7e74-b533-cc83f6ed625f';
const CONTINUED = { firstExecutionRunId: FIRST, continuedFromExecutionRunId: 'prev-run' };
const STARTED = { firstExecutionRunId: 'this-run', continuedFromExecutionRunId: undefined };

const carry = (over: Partial<Record<keyof ScaleInCarry, unknown>> = {}) => ({
  runKey: FIRST,
  batchOffset: 2,
  totalInstances: 15,
  plan: { instanceCount: 15 },
  removed: [{ batch: 1, instanceIds: ['i-1'] }],
  notRemoved: [],
  recentBatches: [{ index: 1 }],
  drained: [{ instanceIds: ['i-2'], restore: [{ kind: 'clb' }], drainedAt: '2026-11-26T13:31:47.253Z' }],
  paused: false,
  continuedAsNew: 1,
  ...over,
});

describe('carryProblems', () => {
  it('accepts the carry a continue-as-new of this chain wrote (a later field is tolerated)', () => {
    expect(carryProblems(carry(), CONTINUED)).toEqual([]);
    expect(carryProblems({ ...carry(), laterField: 1 }, CONTINUED)).toEqual([]);
  });

  it.each([{}, carry(), null, 'x', []])('refuses any second argument of a run that was not continued (%j)', (raw) => {
    const problems = carryProblems(raw, STARTED);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: '(second argument)', fix: expect.stringMatching(/only argument/) });
  });

  it('refuses a carry of another chain', () => {
    expect(carryProblems(carry({ runKey: 'another-chain' }), CONTINUED)).toEqual([
      expect.objectContaining({ field: 'carry.runKey', problem: expect.stringContaining(FIRST) }),
    ]);
  });

  it('names every field of the wrong shape', () => {
    const bad = carry({ batchOffset: -1, plan: null, drained: [{ instanceIds: [1] }], paused: 'no', runKey: 7 });
    expect(carryProblems(bad, CONTINUED).map((p) => p.field)).toEqual([
      'carry.runKey',
      'carry.batchOffset',
      'carry.plan',
      'carry.drained',
      'carry.paused',
    ]);
    expect(carryProblems([], CONTINUED)[0]).toMatchObject({ field: '(second argument)' });
  });

  it('names a second argument that could not be decoded', () => {
    const raw = payloadConverter.fromPayload({ metadata: { encoding: new TextEncoder().encode('json/plain') } });
    expect(carryProblems(raw, STARTED)[0]?.problem).toMatch(/^could not be decoded/);
  });
});
