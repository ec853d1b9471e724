import { describe, it, expect } from 'vitest';
import { DEFAULTS, InvalidInputError, validateInput } from '../../src/shared/input';
import { inputSchema, validateInputSchema } from '../harness/schemas';

const ok = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
  instanceIds: ['i-bp1a2b3c4d5e6f7g8h9i', 'i-bp1a2b3c4d5e6f7g8h9j'],
};

/** The same examples must be accepted (or rejected) by the TypeScript validator and by the JSON Schema. */
const examples: Array<[string, unknown, boolean]> = [
  ['minimal', ok, true],
  [
    'every field',
    {
      ...ok,
      removePolicy: 'recycle',
      decreaseDesiredCapacity: false,
      batchSize: 5,
      drain: { strategy: 'standby', timeoutSeconds: 0, maxDrainedAhead: 5 },
      dryRun: true,
      requireApproval: true,
      onBatchFailure: 'continue',
      requestId: 'req-1',
      reason: 'nightly',
      leaveUndrained: ['sgp-gwlb0001'],
      advanced: {
        pollMinIntervalMs: 100,
        pollMaxIntervalMs: 1000,
        retryInitialIntervalMs: 100,
        retryMaxIntervalMs: 1000,
        heartbeatTimeoutSeconds: 10,
        maxBatchesPerRun: 5,
      },
    },
    true,
  ],
  ['missing instanceIds', { regionId: ok.regionId, scalingGroupId: ok.scalingGroupId }, false],
  ['empty instanceIds', { ...ok, instanceIds: [] }, false],
  ['malformed instance ID', { ...ok, instanceIds: ['i-UPPER'] }, false],
  ['duplicate instance IDs', { ...ok, instanceIds: ['i-bp1a2b3c4d5e6f7g8h9i', 'i-bp1a2b3c4d5e6f7g8h9i'] }, false],
  ['batchSize 21', { ...ok, batchSize: 21 }, false],
  ['batchSize 0', { ...ok, batchSize: 0 }, false],
  ['batchSize not integer', { ...ok, batchSize: 2.5 }, false],
  ['unknown field', { ...ok, batchsize: 5 }, false],
  ['unknown drain field', { ...ok, drain: { timeout: 5 } }, false],
  ['bad strategy', { ...ok, drain: { strategy: 'deregister' } }, false],
  ['drain timeout too long', { ...ok, drain: { timeoutSeconds: 3601 } }, false],
  ['bad remove policy', { ...ok, removePolicy: 'stop' }, false],
  ['bad region', { ...ok, regionId: 'Hangzhou' }, false],
  ['requestId too long', { ...ok, requestId: 'x'.repeat(65) }, false],
  ['dryRun not boolean', { ...ok, dryRun: 'yes' }, false],
  ['advanced unknown', { ...ok, advanced: { speed: 3 } }, false],
  ['not an object', ['i-bp1a2b3c4d5e6f7g8h9i'], false],
  ['null for an optional field', { ...ok, batchSize: null }, false],
  ['hooks: wait', { ...ok, lifecycleHooks: { mode: 'wait' } }, true],
  ['hooks: complete named', { ...ok, lifecycleHooks: { mode: 'complete', hookIds: ['ash-bp1drain0001'] } }, true],
  ['hooks: skip named', { ...ok, lifecycleHooks: { mode: 'skip', hookIds: ['ash-bp1drain0001'] } }, true],
  ['hooks: skip all', { ...ok, lifecycleHooks: { mode: 'skip', all: true } }, true],
  ['hooks: complete without IDs', { ...ok, lifecycleHooks: { mode: 'complete' } }, false],
  ['hooks: complete all', { ...ok, lifecycleHooks: { mode: 'complete', all: true, hookIds: ['ash-bp1a0001'] } }, false],
  ['hooks: skip without IDs or all', { ...ok, lifecycleHooks: { mode: 'skip' } }, false],
  ['hooks: skip all and IDs', { ...ok, lifecycleHooks: { mode: 'skip', all: true, hookIds: ['ash-bp1a0001'] } }, false],
  ['hooks: wait with IDs', { ...ok, lifecycleHooks: { hookIds: ['ash-bp1a0001'] } }, false],
  ['hooks: bad mode', { ...ok, lifecycleHooks: { mode: 'ignore' } }, false],
  ['leaveUndrained: not a list', { ...ok, leaveUndrained: 'sgp-1' }, false],
  ['leaveUndrained: a non-string', { ...ok, leaveUndrained: [1] }, false],
  ['leaveUndrained: a space in an ID', { ...ok, leaveUndrained: ['sgp 1'] }, false],
  ['leaveUndrained: empty', { ...ok, leaveUndrained: [] }, true],
  ['hooks: malformed ID', { ...ok, lifecycleHooks: { mode: 'skip', hookIds: ['hook-1'] } }, false],
  ['hooks: unknown field', { ...ok, lifecycleHooks: { mode: 'wait', timeout: 5 } }, false],
];

describe('input JSON Schema and validateInput agree', () => {
  for (const [name, value, valid] of examples) {
    it(`${name}: ${valid ? 'accepted' : 'rejected'} by both`, () => {
      expect(validateInputSchema(value)).toBe(valid);
      const ts = (() => {
        try {
          validateInput(value);
          return true;
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInputError);
          return false;
        }
      })();
      expect(ts).toBe(valid);
    });
  }

  it('lists the same fields, enums and defaults as the TypeScript types', () => {
    const normalized = validateInput(ok);
    const tsFields = [
      'regionId',
      'scalingGroupId',
      'instanceIds',
      'removePolicy',
      'decreaseDesiredCapacity',
      'batchSize',
      'drain',
      'dryRun',
      'requireApproval',
      'allowDrainedInstances',
      'leaveUndrained',
      'onBatchFailure',
      'lifecycleHooks',
      'requestId',
      'reason',
      'advanced',
    ];
    expect(Object.keys(inputSchema.properties).sort()).toEqual(tsFields.sort());
    expect(Object.keys(normalized).sort()).toEqual(tsFields.sort());
    expect(Object.keys(inputSchema.properties.advanced?.properties ?? {}).sort()).toEqual(
      Object.keys(DEFAULTS.advanced).sort(),
    );
    expect(Object.keys(inputSchema.properties.drain?.properties ?? {}).sort()).toEqual(
      Object.keys(normalized.drain).sort(),
    );
    const adv = inputSchema.properties.advanced?.properties as Record<string, { default: number }>;
    for (const [k, v] of Object.entries(DEFAULTS.advanced)) expect(adv[k]?.default).toBe(v);
    expect(inputSchema.required.sort()).toEqual(['instanceIds', 'regionId', 'scalingGroupId']);
  });
});

describe('validateInput', () => {
  it('fills the documented defaults', () => {
    expect(validateInput(ok)).toMatchObject({
      removePolicy: 'release',
      decreaseDesiredCapacity: true,
      batchSize: 20,
      drain: { strategy: 'weight', timeoutSeconds: 300, maxDrainedAhead: 100 },
      dryRun: false,
      requireApproval: false,
      onBatchFailure: 'abort',
    });
  });

  it('names every problem with its field and a fix, in one error', () => {
    try {
      validateInput({
        regionId: 'cn-hangzhou',
        scalingGroupId: 'asg-ok0000',
        instanceIds: ['i-bad!', 'i-bp1a2b3c4d5e6f7g8h9i', 'i-bp1a2b3c4d5e6f7g8h9i'],
        batchSize: 50,
      });
      expect.unreachable();
    } catch (e) {
      const err = e as InvalidInputError;
      expect(err.code).toBe('InvalidInput');
      expect(err.problems.map((p) => p.field)).toEqual(['instanceIds', 'instanceIds', 'batchSize']);
      expect(err.message).toMatch(/malformed instance IDs: i-bad!/);
      expect(err.message).toMatch(/duplicate instance IDs: i-bp1a2b3c4d5e6f7g8h9i/);
      expect(err.message).toMatch(
        /batchSize: must be an integer from 1 to 20, got 50 \(RemoveInstances takes at most 20/,
      );
    }
  });

  it('rejects retry and poll bounds that contradict each other (Temporal would refuse the retry policy)', () => {
    expect(() => validateInput({ ...ok, advanced: { retryMaxIntervalMs: 300 } })).toThrow(
      /advanced.retryMaxIntervalMs: must be at least retryInitialIntervalMs \(2000\)/,
    );
    expect(() => validateInput({ ...ok, advanced: { pollMinIntervalMs: 5000, pollMaxIntervalMs: 100 } })).toThrow(
      /advanced.pollMaxIntervalMs: must be at least pollMinIntervalMs \(5000\)/,
    );
  });

  it('accepts any number of instances and shortens long lists in messages', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `i-${i.toString(36).padStart(20, '0')}`);
    expect(validateInput({ ...ok, instanceIds: many }).instanceIds).toHaveLength(10_000);
    const bad = Array.from({ length: 12 }, (_, i) => `bad-${i}`);
    expect(() => validateInput({ ...ok, instanceIds: bad })).toThrow(/bad-0, bad-1, bad-2, bad-3, bad-4 and 7 more/);
  });
});
