import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { auditFromHistories } from '../../src/client/audit';
import { ScaleInFailedError, type ScaleInResult } from '../../src/client';
import { run } from '../../src/cli';
import { visibilityQuery } from '../../src/cli/commands/list';
import type { RunEnd } from '../../src/cli/follow';
import { printJson, requestedOutput, type Io } from '../../src/cli/io';
import { retryNote } from '../../src/cli/pending';
import { endJson } from '../../src/cli/report';

const root = path.resolve(__dirname, '../..');

function capture(): Io & { lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    out: (s: string) => lines.out.push(s),
    err: (s: string) => lines.err.push(s),
    rewrite: () => undefined,
    interactive: false,
  };
}

function runSchema() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  const load = (p: string) => JSON.parse(readFileSync(path.join(root, p), 'utf8')) as object;
  ajv.addSchema(load('schema/scale-in-result.schema.json'));
  const validate = ajv.compile(load('docs/run.schema.json'));
  return (doc: unknown) => {
    const ok = validate(JSON.parse(JSON.stringify(doc)));
    return ok ? 'valid' : ajv.errorsText(validate.errors);
  };
}

const RESULT: ScaleInResult = {
  workflowId: 'ess-scale-in/cn-hangzhou/asg-x',
  outcome: 'completed',
  message: 'removed 1 of 1',
  plan: undefined,
  counts: { total: 1, removed: 1, failed: 0, skipped: 0, restored: 0, pending: 0 },
  removed: [{ batch: 1, scalingActivityId: 'asa-1', statusCode: 'Successful', instanceIds: ['i-1'], why: 'removed' }],
  notRemoved: [],
  batches: [],
};
const TIMES = { runId: '0b7c5e8a-1111-4222-8333-944445555666', startTime: '2026-12-01T10:00:00.000Z' };

describe('CLI output: -o/--output, the run JSON, retry notes', () => {
  it('-o with an unknown format is a usage error (exit 2) naming the formats', async () => {
    const io = capture();
    expect(await run(['list', '-o', 'xml'], io)).toBe(2);
    expect(io.lines.err.join('\n')).toMatch(/Allowed choices are table, json, jsonl/);
  });

  it('-o jsonl prints errors as JSON on one line; --json with -o table is refused', async () => {
    const io = capture();
    expect(await run(['status', 'ess-scale-in/cn-hangzhou/asg-x', '--run-id', 'nope', '-o', 'jsonl'], io)).toBe(2);
    expect(io.lines.out).toHaveLength(1);
    expect(JSON.parse(io.lines.out[0] ?? '')).toMatchObject({ ok: false, error: { code: 'Usage' } });
    expect(io.lines.out[0]).toContain('--run-id');
    const both = capture();
    expect(await run(['list', '--json', '-o', 'table'], both)).toBe(2);
    expect(both.lines.err.join('\n')).toContain('--json and -o table');
  });

  it('requestedOutput reads -o, --output, --output= and --json; printJson is one line only for jsonl', () => {
    const pretty = capture();
    expect(requestedOutput(['list', '--json'], pretty)).toBe('json');
    expect(requestedOutput(['list', '--output=table'], capture())).toBe('table');
    printJson(pretty, { a: 1 });
    expect(pretty.lines.out[0]).toBe('{\n  "a": 1\n}');
    const lines = capture();
    expect(requestedOutput(['show', 'x', '-o', 'jsonl'], lines)).toBe('jsonl');
    printJson(lines, { a: 1 });
    expect(lines.lines.out[0]).toBe('{"a":1}');
  });

  it('list --query is ANDed, in parentheses, after the workflow type and the filters', () => {
    expect(visibilityQuery({ group: 'asg-1', query: "ExecutionStatus='Failed' OR ExecutionStatus='Terminated'" })).toBe(
      "WorkflowType='scaleIn' AND EssScalingGroupId='asg-1' AND " +
        "(ExecutionStatus='Failed' OR ExecutionStatus='Terminated')",
    );
    expect(() => visibilityQuery({ query: ' ' })).toThrow(/--query: empty/);
  });

  it('the run JSON of a completed and of a failed run matches docs/run.schema.json', () => {
    const check = runSchema();
    const done: RunEnd = { kind: 'result', workflowId: RESULT.workflowId, result: RESULT, ...TIMES, closeTime: null };
    const ok = endJson(done, { existing: false });
    expect(ok).toMatchObject({ ok: true, runId: TIMES.runId, startTime: TIMES.startTime, existing: false });
    expect(check(ok)).toBe('valid');
    const error = new ScaleInFailedError('TerminatedFailure', 'terminated', RESULT.workflowId, undefined, undefined);
    const failed: RunEnd = { kind: 'failed', workflowId: RESULT.workflowId, error, progress: undefined, ...TIMES };
    const bad = endJson({ ...failed, closeTime: '2026-12-01T10:05:00.000Z' });
    expect(bad).toMatchObject({ ok: false, outcome: 'terminated', error: { code: 'TerminatedFailure' } });
    expect(check(bad)).toBe('valid');
    // The schema is not a rubber stamp: a run without its run ID is refused.
    expect(check({ ...ok, runId: undefined })).toMatch(/runId/);
  });

  it('retryNote: the call, its attempt, the last error and when the next attempt is due', () => {
    const now = Date.parse('2026-12-01T10:00:00.000Z');
    const note = retryNote(
      {
        type: 'removeBatch',
        state: 'SCHEDULED',
        attempt: 4,
        lastFailure: { type: 'Throttling.User', message: 'Request was denied due to user flow control.' },
        nextAttemptAt: '2026-12-01T10:00:02.200Z',
      },
      now,
    );
    expect(note).toBe(
      'RemoveInstances attempt 4, last Throttling.User: Request was denied due to user flow control., next retry in 3s',
    );
    const first = { type: 'drain', state: 'STARTED', attempt: 1, lastFailure: undefined, nextAttemptAt: undefined };
    expect(retryNote(first, now)).toBeUndefined();
  });
});

describe('show: the audit trail read from a history', () => {
  const c = defaultPayloadConverter;
  const p = (v: unknown) => ({ payloads: [c.toPayload(v)] });
  const clb = (id: string) => ({ kind: 'clb' as const, loadBalancerId: 'lb-1', serverId: id, weight: 100 });
  const drained = [clb('i-1'), clb('i-2')];
  const input = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: ['i-1', 'i-2', 'i-3'] };
  const throttled = { message: 'denied', applicationFailureInfo: { type: 'Throttling' } };
  const minSize = { message: 'below MinSize', applicationFailureInfo: { type: 'IncorrectCapacity.MinSize' } };
  const notRestored = [
    { instanceId: 'i-2', restoredOn: [], drainedOn: [{ place: 'CLB lb-1', code: 'Throttling', message: 'x' }] },
  ];
  const events = [
    { eventId: 1, workflowExecutionStartedEventAttributes: { input: p(input) } },
    {
      eventId: 5,
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'drain' },
        input: p({ instanceIds: ['i-1', 'i-2'], batchIndex: 1, strategy: 'weight', originals: drained }),
      },
    },
    { eventId: 6, activityTaskStartedEventAttributes: { scheduledEventId: 5, attempt: 1 } },
    {
      eventId: 7,
      activityTaskCompletedEventAttributes: {
        scheduledEventId: 5,
        result: p({ restore: drained, requestIds: ['R-D'], drainedAt: '2026-12-01T10:00:01.000Z' }),
      },
    },
    {
      eventId: 8,
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'removeBatch' },
        input: p({ instanceIds: ['i-1', 'i-2'], idempotencyKey: 'run-1/1' }),
      },
    },
    { eventId: 9, activityTaskStartedEventAttributes: { scheduledEventId: 8, attempt: 5, lastFailure: throttled } },
    { eventId: 10, activityTaskFailedEventAttributes: { scheduledEventId: 8, failure: minSize } },
    {
      eventId: 11,
      activityTaskScheduledEventAttributes: { activityType: { name: 'undrain' }, input: p({ restore: drained }) },
    },
    {
      eventId: 12,
      activityTaskCompletedEventAttributes: {
        scheduledEventId: 11,
        result: p({ restoredInstanceIds: ['i-1'], goneInstanceIds: [], requestIds: ['R-U'], notRestored }),
      },
    },
    {
      eventId: 13,
      eventTime: { seconds: 1796205605, nanos: 0 },
      workflowExecutionTerminatedEventAttributes: { reason: 'operator' },
    },
  ];

  it('per instance: batch, weights before/after, RemoveInstances attempts and errors, restore, outcome', () => {
    // Plain objects as a history decoded from JSON has them (seconds a number, not a Long).
    const histories = [{ events }] as unknown as Parameters<typeof auditFromHistories>[0];
    const audit = auditFromHistories(histories, c);
    expect(audit.closed).toMatchObject({ status: 'TERMINATED', error: { message: 'terminated: operator' } });
    const [one, two, three] = audit.instances;
    expect(one).toMatchObject({
      instanceId: 'i-1',
      batch: 1,
      drain: { strategy: 'weight', changes: [{ place: 'CLB lb-1', before: 100, after: 0 }], requestIds: ['R-D'] },
      removal: {
        attempts: 5,
        lastRetryError: { code: 'Throttling', message: 'denied' },
        error: { code: 'IncorrectCapacity.MinSize', message: 'below MinSize' },
      },
      restore: { restoredOn: ['CLB lb-1'], requestIds: ['R-U'] },
      outcome: 'restored',
    });
    expect(two).toMatchObject({ outcome: 'drained-not-restored', restore: { drainedOn: [{ code: 'Throttling' }] } });
    expect(three).toMatchObject({ batch: null, outcome: 'pending', why: expect.stringContaining('ended before') });
  });
});
