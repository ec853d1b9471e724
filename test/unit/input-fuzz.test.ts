import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, validateInput } from '../../src/shared/input';
import { payloadConverter, undecodableOf } from '../../src/shared/payload-converter';
import { InvalidWindowInputError, validateWindowInput } from '../../src/shared/window';

/**
 * Malformed input, generated: whatever a start request carries, validation ends in a typed
 * InvalidInputError (or a normalized input), never another exception, and the failure the workflow
 * would build from it (message and details) stays far below what a Temporal message can hold.
 */
const FAILURE_BOUND_BYTES = 64 * 1024;
const RUNS = 1000;
/** A 1,000-run property takes 0.5–3 s alone; the 2-core machine is shared. */
const FUZZ_TIMEOUT_MS = 60_000;
/** Problems listed at most, before the final "and N more". */
const MAX_PROBLEMS = 50;

/** The bytes of the InvalidInput failure the workflow builds (src/workflows/failures.ts): message + details. */
function failureBytes(e: InvalidInputError): number {
  return Buffer.byteLength(e.message) + Buffer.byteLength(JSON.stringify([e.problems]));
}

type Validate = (raw: unknown) => unknown;

/** Runs `validate`; a crash (anything but InvalidInputError) fails the property. */
function checkOne(validate: Validate, raw: unknown, ErrorClass: typeof InvalidInputError = InvalidInputError): void {
  try {
    validate(raw);
  } catch (e) {
    if (!(e instanceof ErrorClass)) throw new Error(`not a typed InvalidInputError: ${String(e)}`, { cause: e });
    expect(e.code).toBe('InvalidInput');
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
    for (const p of e.problems) {
      expect(typeof p.field).toBe('string');
      expect(typeof p.problem).toBe('string');
      expect(typeof p.fix).toBe('string');
    }
    expect(failureBytes(e)).toBeLessThan(FAILURE_BOUND_BYTES);
  }
}

const VALID = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1fuzz00000000001',
  instanceIds: ['i-bp1fuzz000000000001'],
};
const WINDOW_VALID = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1fuzz00000000001',
  windowMinutes: 60,
  count: 2,
  selection: 'oldest',
};

const nasty = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', ''),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ minLength: 300, maxLength: 3000 }),
);
/** Values of every JSON kind, some huge, some objects whose toString is not callable. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 5000 }),
  fc.constant({ toString: 1, valueOf: 2 }),
  fc.array(fc.oneof(fc.string(), fc.constant({ toString: 1 }), fc.integer()), { maxLength: 300 }),
  fc.double(),
  fc.constantFrom(null, true, false, -1, 0, 1e308, Number.NaN),
);
/** An input object: known fields with weird values, and unknown (sometimes nasty) fields. */
function inputLike(base: Record<string, unknown>, known: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const overrides = fc.dictionary(fc.constantFrom(...known), weird, { maxKeys: known.length });
  const extra = fc.dictionary(nasty, weird, { maxKeys: 20 });
  return fc
    .tuple(fc.boolean(), overrides, extra)
    .map(([keepBase, o, x]) => JSON.parse(JSON.stringify({ ...(keepBase ? base : {}), ...o, ...x })));
}

const SCALE_IN_FIELDS = [
  'regionId',
  'scalingGroupId',
  'instanceIds',
  'removePolicy',
  'decreaseDesiredCapacity',
  'batchSize',
  'drain',
  'dryRun',
  'requireApproval',
  'onBatchFailure',
  'requestId',
  'reason',
  'advanced',
];
const WINDOW_FIELDS = [...SCALE_IN_FIELDS.filter((f) => f !== 'instanceIds'), 'windowMinutes', 'timezone', 'count'];

describe('validateInput under generated malformed input', () => {
  it(
    `${RUNS} arbitrary values: a typed InvalidInputError or a normalized input, never a crash`,
    () => {
      fc.assert(
        fc.property(fc.anything({ maxDepth: 3 }), (raw) => checkOne(validateInput, raw)),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    `${RUNS} input-shaped objects with weird values and nasty keys`,
    () => {
      fc.assert(
        fc.property(inputLike(VALID, SCALE_IN_FIELDS), (raw) => checkOne(validateInput, raw)),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('15,000 unknown fields: at most 50 problems listed, then "and N more", in a failure under 64 KiB', () => {
    const raw: Record<string, unknown> = { ...VALID };
    for (let i = 0; i < 15_000; i++) raw[`unknownField${i}_${'x'.repeat(50)}`] = 'y'.repeat(500);
    const e = (() => {
      try {
        validateInput(raw);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(InvalidInputError);
    const err = e as InvalidInputError;
    expect(err.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(err.problems.at(-1)).toMatchObject({ field: '(input)', problem: 'and 14950 more problem(s) not listed' });
    expect(err.message).toMatch(/; and \d+ more \(listed in the failure details\)$/);
    expect(failureBytes(err)).toBeLessThan(FAILURE_BOUND_BYTES);
  });

  it('echoes at most 200 characters of a value, and cuts long field names', () => {
    const long = 'r'.repeat(100_000);
    try {
      validateInput({ ...VALID, regionId: long, [`k${'z'.repeat(10_000)}`]: 1 });
      expect.unreachable();
    } catch (e) {
      const err = e as InvalidInputError;
      const region = err.problems.find((p) => p.field === 'regionId');
      expect(region?.problem).toBe(`must be a region ID, got "${'r'.repeat(199)}…`);
      expect(err.problems.every((p) => p.field.length <= 101)).toBe(true);
      expect(err.message.length).toBeLessThan(5000);
    }
  });

  it('does not crash on instance IDs whose toString is not callable, or on "constructor" in advanced', () => {
    const raw = JSON.parse(
      '{"regionId":"cn-hangzhou","scalingGroupId":"asg-bp1fuzz00000000001","instanceIds":[{"toString":1}],' +
        '"advanced":{"constructor":5,"__proto__":7}}',
    );
    expect(() => validateInput(raw)).toThrow(InvalidInputError);
    try {
      validateInput(raw);
    } catch (e) {
      const fields = (e as InvalidInputError).problems.map((p) => p.field);
      expect(fields).toEqual(expect.arrayContaining(['instanceIds', 'advanced.constructor', 'advanced.__proto__']));
    }
  });

  it('a binary payload (Uint8Array) is not a JSON object', () => {
    expect(() => validateInput(new Uint8Array(20_000))).toThrow(/\(input\): is not a JSON object/);
  });
});

describe('validateWindowInput under generated malformed input', () => {
  const validateWindow = (raw: unknown) => validateWindowInput(raw);

  it(
    `${RUNS} arbitrary values`,
    () => {
      fc.assert(
        fc.property(fc.anything({ maxDepth: 3 }), (raw) => checkOne(validateWindow, raw, InvalidWindowInputError)),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    `${RUNS} window-shaped objects`,
    () => {
      fc.assert(
        fc.property(inputLike(WINDOW_VALID, WINDOW_FIELDS), (raw) =>
          checkOne(validateWindow, raw, InvalidWindowInputError),
        ),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('15,000 unknown fields and 300 duplicate blackout dates fit', () => {
    const raw: Record<string, unknown> = { ...WINDOW_VALID, blackoutDates: Array(300).fill('x'.repeat(1000)) };
    for (let i = 0; i < 15_000; i++) raw[`f${i}`] = i;
    checkOne(validateWindow, raw, InvalidWindowInputError);
    expect(() => validateWindow(raw)).toThrow(/and \d+ more \(listed in the failure details\)$/);
  });
});

/** A payload as a raw client could send it. */
function payload(encoding: Uint8Array | undefined, data: Uint8Array | undefined): Payload {
  return { metadata: encoding === undefined ? {} : { encoding }, data };
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('the payload converter under generated malformed payloads', () => {
  const encodings = fc.oneof(
    fc.constantFrom('json/plain', 'binary/plain', 'binary/null', 'json/protobuf', 'binary/protobuf').map(enc),
    fc.uint8Array({ maxLength: 40 }),
    fc.constant(undefined),
  );

  it(
    `${RUNS} payloads: decoded, or the undecodable marker, never an exception; validation then fails typed`,
    () => {
      fc.assert(
        fc.property(encodings, fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: undefined }), (e, data) => {
          const value = payloadConverter.fromPayload(payload(e, data));
          checkOne(validateInput, value);
          checkOne((raw) => validateWindowInput(raw), value, InvalidWindowInputError);
        }),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    `${RUNS} JSON values: decoded exactly as the SDK's default converter decodes them, and encoded the same`,
    () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          const p = defaultPayloadConverter.toPayload(v);
          expect(payloadConverter.toPayload(v)).toEqual(p);
          expect(payloadConverter.fromPayload(p)).toEqual(defaultPayloadConverter.fromPayload(p));
        }),
        { numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('data that is not JSON becomes the marker, and validation names it', () => {
    const value = payloadConverter.fromPayload(payload(enc('json/plain'), enc('{"regionId": nope')));
    expect(undecodableOf(value)).toMatchObject({ encoding: 'json/plain', bytes: 17 });
    expect(() => defaultPayloadConverter.fromPayload(payload(enc('json/plain'), enc('{"regionId": nope')))).toThrow();
    expect(() => validateInput(value)).toThrow(/\(input\): could not be decoded \(encoding "json\/plain", 17 bytes\)/);
    expect(() => validateInput(value)).toThrow(/: "SyntaxError: .*send the input as a JSON object/);
  });

  it('an unknown encoding and a payload without metadata become the marker too', () => {
    expect(undecodableOf(payloadConverter.fromPayload(payload(enc('text/x-nope'), enc('{}'))))).toMatchObject({
      encoding: 'text/x-nope',
    });
    expect(undecodableOf(payloadConverter.fromPayload({ data: enc('{}') }))).toMatchObject({ encoding: '(none)' });
  });
});
