import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import {
  SELECTION_POLICIES,
  WINDOW_FIELDS,
  WINDOW_LIMITS,
  WINDOW_REQUIRED_FIELDS,
  validateWindowInput,
} from '../../src/shared/window';

/**
 * Keeps schema/scale-in-window-input.schema.json and validateWindowInput in step: the same
 * fields, enums, limits and required lists, and the same verdict on many example objects.
 */

type Schema = {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  allOf?: Schema[];
  oneOf?: Schema[];
};

const schema = JSON.parse(
  readFileSync(path.join(__dirname, '../../schema/scale-in-window-input.schema.json'), 'utf8'),
) as Schema & { $schema: string };

const SUPPORTED = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'type',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'maxLength',
  'maxItems',
  'uniqueItems',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'allOf',
  'oneOf',
]);

/** Every keyword the schema uses must be one this checker implements, or the comparison would be hollow. */
function keywords(s: Schema, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(s)) {
    out.add(k);
    if (k === 'properties') for (const sub of Object.values(v as Record<string, Schema>)) keywords(sub, out);
    if (k === 'items') keywords(v as Schema, out);
    if (k === 'allOf' || k === 'oneOf') for (const sub of v as Schema[]) keywords(sub, out);
  }
  return out;
}

/** A draft 2020-12 checker for exactly the subset above. */
function accepts(s: Schema, v: unknown): boolean {
  if (s.type !== undefined) {
    const ok =
      s.type === 'object'
        ? typeof v === 'object' && v !== null && !Array.isArray(v)
        : s.type === 'array'
          ? Array.isArray(v)
          : s.type === 'integer'
            ? typeof v === 'number' && Number.isInteger(v)
            : s.type === 'number'
              ? typeof v === 'number'
              : typeof v === s.type;
    if (!ok) return false;
  }
  if (s.enum && !s.enum.some((e) => e === v)) return false;
  if (typeof v === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) return false;
    if (s.maxLength !== undefined && [...v].length > s.maxLength) return false;
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.uniqueItems && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) return false;
    if (s.items && !v.every((x) => accepts(s.items as Schema, x))) return false;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) return false;
    for (const [k, x] of Object.entries(o)) {
      const sub = s.properties?.[k];
      if (sub) {
        if (!accepts(sub, x)) return false;
      } else if (s.additionalProperties === false) return false;
    }
  }
  if (s.allOf && !s.allOf.every((sub) => accepts(sub, v))) return false;
  if (s.oneOf && s.oneOf.filter((sub) => accepts(sub, v)).length !== 1) return false;
  return true;
}

function tsAccepts(v: unknown): boolean {
  try {
    validateWindowInput(v);
    return true;
  } catch {
    return false;
  }
}

const valid = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
  windowMinutes: 120,
  count: 3,
  selection: 'oldest',
};

describe('window input JSON schema', () => {
  it('is draft 2020-12 and uses only keywords the checker implements', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect([...keywords(schema)].filter((k) => !SUPPORTED.has(k))).toEqual([]);
  });

  it('has the same fields, required list, enum and limits as src/shared/window.ts', () => {
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual([...WINDOW_FIELDS].sort());
    expect([...(schema.required ?? [])].sort()).toEqual([...WINDOW_REQUIRED_FIELDS].sort());
    expect(schema.properties?.selection?.enum).toEqual([...SELECTION_POLICIES]);
    for (const f of ['windowMinutes', 'windowSeconds', 'count', 'targetCapacity'] as const) {
      expect([schema.properties?.[f]?.minimum, schema.properties?.[f]?.maximum], f).toEqual([...WINDOW_LIMITS[f]]);
    }
    expect(schema.properties?.blackoutDates?.maxItems).toBe(WINDOW_LIMITS.blackoutDates[1]);
  });

  const examples: Array<[string, unknown, boolean]> = [
    ['minimal', valid, true],
    ['targetCapacity instead of count', { ...valid, count: undefined, targetCapacity: 10 }, true],
    ['windowSeconds instead of windowMinutes', { ...valid, windowMinutes: undefined, windowSeconds: 30 }, true],
    [
      'every field',
      {
        ...valid,
        selection: 'oldestScalingConfiguration',
        blackoutDates: ['2026-10-01', '2026-10-02'],
        timezone: 'Asia/Shanghai',
        batchSize: 5,
        drain: { strategy: 'standby', timeoutSeconds: 60, maxDrainedAhead: 10 },
        removePolicy: 'recycle',
        decreaseDesiredCapacity: false,
        onBatchFailure: 'continue',
        reason: 'weekly trim',
        advanced: { pollMinIntervalMs: 100, maxBatchesPerRun: 5 },
      },
      true,
    ],
    ['targetCapacity 0', { ...valid, count: undefined, targetCapacity: 0 }, true],
    ['not an object', [valid], false],
    ['null', null, false],
    ['missing selection', { ...valid, selection: undefined }, false],
    ['missing regionId', { ...valid, regionId: undefined }, false],
    ['bad region', { ...valid, regionId: 'Hangzhou' }, false],
    ['bad group', { ...valid, scalingGroupId: 'asg 1' }, false],
    ['both lengths', { ...valid, windowSeconds: 10 }, false],
    ['no length', { ...valid, windowMinutes: undefined }, false],
    ['both count and targetCapacity', { ...valid, targetCapacity: 5 }, false],
    ['neither count nor targetCapacity', { ...valid, count: undefined }, false],
    ['count 0', { ...valid, count: 0 }, false],
    ['count not an integer', { ...valid, count: 2.5 }, false],
    ['count as a string', { ...valid, count: '3' }, false],
    ['window too long', { ...valid, windowMinutes: 10_081 }, false],
    ['unknown selection', { ...valid, selection: 'random' }, false],
    ['unknown field', { ...valid, dryRun: true }, false],
    ['blackout not a date', { ...valid, blackoutDates: ['tomorrow'] }, false],
    ['blackout duplicate', { ...valid, blackoutDates: ['2026-10-01', '2026-10-01'] }, false],
    ['blackout not an array', { ...valid, blackoutDates: '2026-10-01' }, false],
    ['batchSize 21', { ...valid, batchSize: 21 }, false],
    ['unknown drain field', { ...valid, drain: { seconds: 5 } }, false],
    ['drain strategy', { ...valid, drain: { strategy: 'sleep' } }, false],
    ['drain timeout too long', { ...valid, drain: { timeoutSeconds: 3601 } }, false],
    ['removePolicy', { ...valid, removePolicy: 'delete' }, false],
    ['decreaseDesiredCapacity not boolean', { ...valid, decreaseDesiredCapacity: 'yes' }, false],
    ['onBatchFailure', { ...valid, onBatchFailure: 'retry' }, false],
    ['reason too long', { ...valid, reason: 'x'.repeat(501) }, false],
    ['advanced unknown', { ...valid, advanced: { turbo: 1 } }, false],
    ['advanced out of range', { ...valid, advanced: { heartbeatTimeoutSeconds: 0 } }, false],
    ['timezone not a string', { ...valid, timezone: 8 }, false],
    ['null for an optional knob', { ...valid, batchSize: null }, false],
    ['null drain', { ...valid, drain: null }, false],
    ['null timezone', { ...valid, timezone: null }, false],
  ];
  it.each(examples)('%s: schema and validator agree', (_name, raw, expected) => {
    const v = JSON.parse(JSON.stringify(raw)) as unknown; // as it arrives over the wire (undefined fields dropped)
    expect(tsAccepts(v)).toBe(expected);
    expect(accepts(schema, v)).toBe(expected);
  });

  // What JSON Schema cannot say: the validator is stricter here, on purpose, and only here.
  const validatorOnly: Array<[string, unknown]> = [
    ['unknown IANA time zone', { ...valid, timezone: 'Mars/Olympus' }],
    ['impossible date', { ...valid, blackoutDates: ['2026-02-30'] }],
    ['maxDrainedAhead below batchSize', { ...valid, batchSize: 10, drain: { maxDrainedAhead: 5 } }],
    ['retryMaxIntervalMs below retryInitialIntervalMs', { ...valid, advanced: { retryMaxIntervalMs: 300 } }],
  ];
  it.each(validatorOnly)('%s: only the validator rejects it (documented in the schema description)', (_name, v) => {
    expect(accepts(schema, v)).toBe(true);
    expect(tsAccepts(v)).toBe(false);
  });

  it('agrees with the validator on random mixes of good and bad field values', () => {
    const pools: Record<string, unknown[]> = {
      regionId: ['cn-hangzhou', 'ap-southeast-1', 'Hangzhou', 7],
      scalingGroupId: ['asg-bp1dk4nm0o5ldvzcpe2v', 'asg', true],
      windowMinutes: [1, 120, 10_080, 0, 10_081, 1.5, '60'],
      windowSeconds: [1, 30, 604_800, 0, -1],
      targetCapacity: [0, 25, -1, 100_001],
      count: [1, 3, 100_000, 0, 100_001, '3', null],
      selection: ['oldest', 'newest', 'oldestScalingConfiguration', 'Oldest', null],
      blackoutDates: [[], ['2026-10-01'], ['2026-10-01', '2026-10-01'], ['2026/10/01'], '2026-10-01'],
      timezone: ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 5, null],
      batchSize: [1, 20, 0, 21, null],
      drain: [{}, { strategy: 'none' }, { timeoutSeconds: 0 }, { strategy: 'x' }, { timeoutSeconds: 4000 }, 'weight'],
      removePolicy: ['release', 'recycle', 'stop', null],
      decreaseDesiredCapacity: [true, false, 'true'],
      onBatchFailure: ['abort', 'continue', 'stop'],
      reason: ['why', 'x'.repeat(500), 'x'.repeat(501), 1],
      advanced: [{}, { pollMinIntervalMs: 10 }, { pollMinIntervalMs: 9 }, { nope: 1 }, [], null],
      extra: [1],
    };
    // Start from a valid input and change a few fields: to good or bad values, or remove them.
    const KEEP = Symbol('keep');
    const DELETE = Symbol('delete');
    const field = (name: string) =>
      fc.oneof(
        { arbitrary: fc.constant(KEEP), weight: 12 },
        { arbitrary: fc.constantFrom(DELETE, ...(pools[name] as unknown[])), weight: 2 },
      );
    const arb = fc.record(Object.fromEntries(Object.keys(pools).map((k) => [k, field(k)]))).map((changes) => {
      const o: Record<string, unknown> = { ...valid };
      for (const [k, c] of Object.entries(changes)) {
        if (c === DELETE) delete o[k];
        else if (c !== KEEP) o[k] = c;
      }
      return JSON.parse(JSON.stringify(o)) as unknown;
    });
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(arb, (v) => {
        const ts = tsAccepts(v);
        if (ts) accepted++;
        else rejected++;
        return ts === accepts(schema, v);
      }),
      { numRuns: 3000, seed: 20260105 },
    );
    // The generator must reach both verdicts often, or the property says little.
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
  });
});
