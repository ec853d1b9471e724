import { randomUUID } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_WORKFLOW_TYPE } from '../../src/shared/window';
import { SCALE_IN_WORKFLOW_TYPE } from '../../src/workflows/definitions';
import { startStack, type Stack } from '../harness/stack';

/**
 * Issue 12, cases 2 and 6: what a start request can carry, sent through the raw Temporal API to a
 * real worker. Every run closes at once as a non-retryable InvalidInput failure that fits in a
 * Temporal message, holds no lock, and makes no mutating call (most make no cloud call at all).
 */
const CLOSE_WITHIN_MS = 15_000;
const FAILURE_BOUND_BYTES = 64 * 1024;

let stack: Stack;
let lastSeq = 0;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

const enc = (s: string) => new TextEncoder().encode(s);

/** Calls the emulator answered since the last look; mutating ones are all but Describe/List. */
async function callsSinceLastLook(): Promise<{ all: number; mutating: string[] }> {
  const calls = (await stack.admin.calls()).filter((c) => c.seq > lastSeq);
  lastSeq = calls.at(-1)?.seq ?? lastSeq;
  return { all: calls.length, mutating: calls.map((c) => c.action).filter((a) => !/^(Describe|List)/.test(a)) };
}

/** Starts scaleIn (or `type`) with these payloads as its arguments, exactly as a client of any language could. */
async function startRaw(payloads: Payload[], type = SCALE_IN_WORKFLOW_TYPE): Promise<string> {
  const workflowId = `bad-input-${randomUUID()}`;
  await stack.rawClient.workflowService.startWorkflowExecution({
    namespace: 'default',
    workflowId,
    workflowType: { name: type },
    taskQueue: { name: stack.taskQueue },
    input: { payloads },
    requestId: randomUUID(),
    identity: 'bad-input-test',
  });
  return workflowId;
}

const json = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);

/** How the run ended, within CLOSE_WITHIN_MS: its failure (or result), and its status once closed. */
async function outcomeOf(workflowId: string): Promise<{ failure: ApplicationFailure | undefined; status: string }> {
  const handle = stack.rawClient.workflow.getHandle(workflowId);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${workflowId} still running after ${CLOSE_WITHIN_MS} ms`)), CLOSE_WITHIN_MS),
  );
  let failure: ApplicationFailure | undefined;
  try {
    await Promise.race([handle.result(), timeout]);
  } catch (e) {
    if (!(e instanceof WorkflowFailedError)) throw e;
    expect(e.cause).toBeInstanceOf(ApplicationFailure);
    failure = e.cause as ApplicationFailure;
  }
  return { failure, status: (await handle.describe()).status.name };
}

/** The run failed as a non-retryable InvalidInput whose message and details fit; returns the problems. */
function expectInvalidInput(failure: ApplicationFailure | undefined): Array<{ field: string; problem: string }> {
  expect(failure?.type).toBe('InvalidInput');
  expect(failure?.nonRetryable).toBe(true);
  const problems = failure?.details?.[0] as Array<{ field: string; problem: string }>;
  expect(Array.isArray(problems)).toBe(true);
  const bytes = Buffer.byteLength(failure?.message ?? '') + Buffer.byteLength(JSON.stringify(failure?.details));
  expect(bytes).toBeLessThan(FAILURE_BOUND_BYTES);
  return problems;
}

describe('a second workflow argument (a carry) from a start request', () => {
  it('fails InvalidInput before any cloud call, even with dryRun and requireApproval in the input', async () => {
    await callsSinceLastLook();
    const ids = (await stack.instanceIds()).slice(0, 2);
    const input = stack.input(ids, { dryRun: true, requireApproval: true });
    const id = await startRaw([json(input), json({})]);
    const { failure, status } = await outcomeOf(id);
    const problems = expectInvalidInput(failure);
    expect(status).toBe('FAILED');
    expect(problems[0]?.field).toBe('(second argument)');
    expect(failure?.message).toMatch(/only a continue-as-new of a run may carry state/);
    expect(await callsSinceLastLook()).toEqual({ all: 0, mutating: [] });
    expect(await stack.instanceIds()).toEqual(expect.arrayContaining(ids));
  });

  it('fails InvalidInput for a well-formed carry too, and for null', async () => {
    await callsSinceLastLook();
    const ids = (await stack.instanceIds()).slice(0, 2);
    const carry = {
      runKey: randomUUID(),
      batchOffset: 0,
      totalInstances: 2,
      plan: {},
      removed: [],
      notRemoved: [],
      recentBatches: [],
      drained: [],
      paused: false,
      continuedAsNew: 1,
    };
    for (const second of [carry, null]) {
      const { failure } = await outcomeOf(await startRaw([json(stack.input(ids)), json(second)]));
      expect(expectInvalidInput(failure)[0]?.field).toBe('(second argument)');
    }
    expect(await callsSinceLastLook()).toEqual({ all: 0, mutating: [] });
  });
});

describe('input that cannot be decoded or is far too big', () => {
  it.each([
    ['data that is not JSON (json/plain)', { encoding: enc('json/plain') }, enc('{"regionId": "cn-hangzhou", oops')],
    ['an encoding no converter knows', { encoding: enc('application/x-nope') }, enc('{}')],
    ['no encoding at all', {}, enc('{}')],
  ])('%s: the run closes as failed InvalidInput within seconds, holding no lock', async (_, metadata, data) => {
    await callsSinceLastLook();
    const t0 = Date.now();
    const id = await startRaw([{ metadata, data }]);
    const { failure, status } = await outcomeOf(id);
    expect(Date.now() - t0).toBeLessThan(CLOSE_WITHIN_MS);
    const problems = expectInvalidInput(failure);
    expect(problems[0]).toMatchObject({ field: '(input)' });
    expect(problems[0]?.problem).toMatch(/^could not be decoded/);
    expect(status).toBe('FAILED');
    expect(await callsSinceLastLook()).toEqual({ all: 0, mutating: [] });
  });

  it('the window workflow too: data that is not JSON fails InvalidInput at once', async () => {
    await callsSinceLastLook();
    const id = await startRaw(
      [{ metadata: { encoding: enc('json/plain') }, data: enc('not json') }],
      WINDOW_WORKFLOW_TYPE,
    );
    const { failure, status } = await outcomeOf(id);
    expect(expectInvalidInput(failure)[0]?.problem).toMatch(/^could not be decoded/);
    expect(status).toBe('FAILED');
    expect(await callsSinceLastLook()).toEqual({ all: 0, mutating: [] });
  });

  it('15,000 unknown fields: a failure of at most 50 problems and "and N more", under 64 KiB', async () => {
    await callsSinceLastLook();
    const input: Record<string, unknown> = { ...stack.input((await stack.instanceIds()).slice(0, 1)) };
    for (let i = 0; i < 15_000; i++) input[`unknownField${i}`] = 'x'.repeat(20);
    const { failure, status } = await outcomeOf(await startRaw([json(input)]));
    const problems = expectInvalidInput(failure);
    expect(problems).toHaveLength(51);
    expect(problems.at(-1)?.problem).toBe('and 14950 more problem(s) not listed');
    expect(status).toBe('FAILED');
    expect(await callsSinceLastLook()).toEqual({ all: 0, mutating: [] });
  });
});

describe('generated malformed inputs through the raw API', () => {
  it('50 runs: each ends InvalidInput (or as a dry run), with 0 mutating calls', async () => {
    await callsSinceLastLook();
    const ids = (await stack.instanceIds()).slice(0, 3);
    const weird = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ maxLength: 300 }),
      fc.constant({ toString: 1 }),
      fc.constantFrom(null, -1, 0, 21, 1e9, 'release', 'i-bad'),
    );
    const field = fc.constantFrom(
      'regionId',
      'scalingGroupId',
      'instanceIds',
      'batchSize',
      'drain',
      'removePolicy',
      'advanced',
      'onBatchFailure',
      '__proto__',
      'unknown',
    );
    // dryRun is always set, so an input that happens to be valid changes nothing either.
    const asInput = fc.dictionary(field, weird, { minKeys: 1, maxKeys: 4 }).map((o) => ({
      ...stack.input(ids),
      ...JSON.parse(JSON.stringify(o)),
      dryRun: true,
    }));
    const asPayloads: fc.Arbitrary<Payload[]> = fc.oneof(
      asInput.map((v) => [json(v)]),
      weird.map((v) => [json(v)]),
      fc.uint8Array({ maxLength: 200 }).map((data) => [{ metadata: { encoding: enc('json/plain') }, data }]),
      fc.tuple(asInput, weird).map(([a, b]) => [json(a), json(b)]),
    );
    const cases = fc.sample(asPayloads, { numRuns: 50, seed: 12 });
    const outcomes = await Promise.all(cases.map(async (p) => outcomeOf(await startRaw(p))));
    let invalid = 0;
    for (const { failure, status } of outcomes) {
      if (failure) {
        expectInvalidInput(failure);
        invalid++;
      } else expect(status).toBe('COMPLETED');
    }
    expect(invalid).toBeGreaterThanOrEqual(40);
    expect((await callsSinceLastLook()).mutating).toEqual([]);
  }, 90_000);
});
