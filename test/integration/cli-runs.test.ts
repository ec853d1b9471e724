import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator';
import { waitFor } from '../../src/emulator/testing';
import { CLI_BIN, FAST_FLAGS, ROOT, startCliStack, type CliRun, type CliStack } from '../harness/cli';
import { SMALL } from '../harness/stack';

const RETRYING = /\| RemoveInstances attempt [2-9]\d*, last Throttling: .+, next retry in \d+s/;

/** docs/run.schema.json, with the result schema it refers to. */
function runValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  const load = (p: string) => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as object;
  ajv.addSchema(load('schema/scale-in-result.schema.json'));
  const validate = ajv.compile(load('docs/run.schema.json'));
  return (doc: unknown): void => {
    if (!validate(doc)) throw new Error(`does not match docs/run.schema.json: ${ajv.errorsText(validate.errors)}`);
  };
}

interface RunJson {
  ok: boolean;
  workflowId: string;
  runId: string;
  startTime: string;
  closeTime: string | null;
  existing?: boolean;
  outcome: string;
  result: { counts: { removed: number } } | null;
}

interface AuditJson extends RunJson {
  instances: Array<{
    instanceId: string;
    batch: number | null;
    drain: { strategy: string; changes: Array<{ place: string; before: number; after: number }> } | null;
    removal: {
      requestIds: string[];
      scalingActivityId: string | null;
      attempts: number | null;
      lastRetryError: { code: string } | null;
    } | null;
    scalingActivity: { scalingActivityId: string; statusCode: string } | null;
    outcome: string;
    why: string;
  }>;
}

describe('CLI: every run of a group auditable (--run-id, list, show, run JSON, watch retries)', () => {
  let emulator: RunningEmulator;
  let group: string;
  let workflowId: string;
  let stack: CliStack;
  const assertRun = runValidator();

  const env = () => stack.env();

  const cli = (args: string[]) => stack.cli(args, 90_000);

  const groupIds = () => stack.groupIds();

  const startWait = (ids: string[], extra: string[] = []) => stack.start(ids, [...FAST_FLAGS, ...extra], 90_000);

  let first: RunJson;
  let second: RunJson;
  let firstIds: string[];

  beforeAll(async () => {
    stack = await startCliStack('cli-runs');
    ({ emulator, group, workflowId } = stack);
    // Two runs of the same group: the same workflow ID, two run IDs.
    firstIds = groupIds().slice(0, 2);
    const a = await startWait(firstIds, ['--batch-size', '1', '--wait', '--json']);
    expect(a.code, a.stderr).toBe(0);
    first = JSON.parse(a.stdout) as RunJson;
    const b = await startWait(groupIds().slice(0, 1), ['--wait', '--json']);
    expect(b.code, b.stderr).toBe(0);
    second = JSON.parse(b.stdout) as RunJson;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('start --wait --json carries runId, startTime, closeTime and existing, and matches docs/run.schema.json', () => {
    for (const r of [first, second]) {
      assertRun(r);
      expect(r).toMatchObject({ ok: true, workflowId, existing: false, outcome: 'completed' });
      expect(r.runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(r.closeTime ?? '')).toBeGreaterThanOrEqual(Date.parse(r.startTime));
    }
    expect(first.runId).not.toBe(second.runId);
  });

  it('result, status and watch take --run-id and report that run, not the latest', async () => {
    const result = await cli(['result', workflowId, '--run-id', first.runId, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const r = JSON.parse(result.stdout) as RunJson;
    assertRun(r);
    expect(r).toMatchObject({ runId: first.runId, outcome: 'completed', result: { counts: { removed: 2 } } });
    expect(r.existing).toBeUndefined();

    const latest = JSON.parse((await cli(['result', workflowId, '--json'])).stdout) as RunJson;
    expect(latest).toMatchObject({ runId: second.runId, result: { counts: { removed: 1 } } });

    const status = await cli(['status', '--region', SMALL.region, '--group', group, '--run-id', first.runId, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ runId: first.runId, status: 'COMPLETED' });

    const watch = await cli(['watch', workflowId, '--run-id', first.runId, '--json']);
    expect(watch.code, watch.stderr).toBe(0);
    const w = JSON.parse(watch.stdout) as RunJson;
    assertRun(w);
    expect(w).toMatchObject({ workflowId, runId: first.runId, existing: true, result: { counts: { removed: 2 } } });
  });

  it('watch --json of the latest run has runId and existing', async () => {
    const watch = await cli(['watch', workflowId, '--json']);
    expect(watch.code, watch.stderr).toBe(0);
    const w = JSON.parse(watch.stdout) as RunJson;
    assertRun(w);
    expect(w).toMatchObject({ runId: second.runId, existing: true, startTime: second.startTime });
  });

  it('an unknown run ID is RunNotFound naming --run-id (exit 3); a malformed one is a usage error', async () => {
    const missing = randomUUID();
    for (const cmd of ['result', 'status', 'show', 'pause']) {
      const r = await cli([cmd, workflowId, '--run-id', missing, '--json']);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(3);
      const out = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string } };
      expect(out).toMatchObject({ ok: false, error: { code: 'RunNotFound' } });
      expect(out.error.message).toContain('--run-id');
      expect(out.error.message).toContain(missing);
    }
    const bad = await cli(['watch', workflowId, '--run-id', 'not-a-run']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--run-id: expected a run ID');
  });

  it('list shows each run with run ID, close time, counts; --query narrows; -o jsonl: a run per line', async () => {
    let runs: Array<Record<string, unknown>> = [];
    // Visibility is eventually consistent: wait until both runs are listed as closed.
    await waitFor(
      async () => {
        const json = await cli(['list', '--group', group, '--json']);
        runs = (JSON.parse(json.stdout) as { runs: Array<Record<string, unknown>> }).runs;
        return runs.length === 2 && runs.every((r) => r.closeTime && r.phase === 'Completed');
      },
      30_000,
      300,
    );
    expect(runs.map((r) => r.runId)).toEqual([second.runId, first.runId]);
    expect(runs[1]).toMatchObject({
      workflowId,
      status: 'COMPLETED',
      phase: 'Completed',
      removed: 2,
      total: 2,
      startTime: first.startTime,
      closeTime: expect.stringMatching(/Z$/) as unknown,
    });

    const table = await cli(['list', '--group', group]);
    expect(table.stdout).toMatch(/^WORKFLOW ID +RUN ID +STATUS +PHASE +REMOVED +STARTED +CLOSED$/m);
    expect(table.stdout).toContain(first.runId);
    expect(table.stdout).toContain(second.runId);

    const lines = await cli(['list', '--group', group, '-o', 'jsonl', '--query', `RunId='${first.runId}'`]);
    expect(lines.code, lines.stderr).toBe(0);
    const rows = lines.stdout.trim().split('\n');
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0] ?? '')).toMatchObject({ runId: first.runId, removed: 2 });
  });

  it('show: per instance batch, drain weights, RemoveInstances RequestId, scaling activity end, outcome', async () => {
    const r = await cli(['show', workflowId, '--run-id', first.runId, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const audit = JSON.parse(r.stdout) as AuditJson;
    assertRun(audit);
    expect(audit).toMatchObject({ ok: true, runId: first.runId, outcome: 'completed' });
    expect(audit.instances.map((i) => i.instanceId)).toEqual(firstIds);
    expect(audit.instances.map((i) => i.batch)).toEqual([1, 2]);
    for (const i of audit.instances) {
      expect(i.outcome).toBe('removed');
      expect(i.drain?.strategy).toBe('weight');
      expect(i.drain?.changes.length).toBeGreaterThan(0);
      for (const c of i.drain?.changes ?? [])
        expect(c).toMatchObject({ before: expect.any(Number) as unknown, after: 0 });
      expect(i.removal?.requestIds.length).toBeGreaterThan(0);
      expect(i.removal?.scalingActivityId).toMatch(/^asa-/);
      expect(i.scalingActivity).toMatchObject({
        scalingActivityId: i.removal?.scalingActivityId,
        statusCode: 'Successful',
      });
    }

    const lines = await cli(['show', workflowId, '--run-id', first.runId, '-o', 'jsonl']);
    const rows = lines.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { instanceId: string; runId: string });
    expect(rows.map((x) => [x.instanceId, x.runId])).toEqual(firstIds.map((id) => [id, first.runId]));

    const human = await cli(['show', workflowId, '--run-id', first.runId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^INSTANCE +BATCH +STEP +DETAIL$/m);
    expect(human.stdout).toMatch(/RemoveInstances +RequestId \S+.*ScalingActivityId asa-/);
    expect(human.stdout).toMatch(/drain +weight: CLB \S+ \d+ -> 0/);
  });

  it('watch shows an activity being retried (attempt, last error, next retry); show keeps the attempts', async () => {
    const id = groupIds().slice(0, 1);
    emulator.state.faults.set([{ action: 'RemoveInstances', kind: 'Throttling' }]);
    let watch: Promise<CliRun> | undefined;
    let stderr = '';
    try {
      const started = await cli([
        'start',
        '--region',
        SMALL.region,
        '--group',
        group,
        '--instances',
        id.join(','),
        '--drain-strategy',
        'none',
        ...FAST_FLAGS.filter((f, i, a) => f !== '--retry-max-interval-ms' && a[i - 1] !== '--retry-max-interval-ms'),
        '--retry-max-interval-ms',
        '2000',
      ]);
      expect(started.code, started.stderr).toBe(0);
      const child = spawn(process.execPath, [CLI_BIN, 'watch', workflowId], { cwd: ROOT, env: env() });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      watch = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
      // The bar names the retried call, its attempt, the last error and when the next attempt is due.
      await waitFor(async () => Promise.resolve(RETRYING.test(stderr)), 60_000, 200);
    } finally {
      emulator.state.faults.clear();
    }
    const end = await watch;
    expect(end?.code, end?.stderr).toBe(0);
    expect(stderr).toMatch(RETRYING);

    const audit = JSON.parse((await cli(['show', workflowId, '--json'])).stdout) as AuditJson;
    const [only] = audit.instances;
    expect(only?.removal?.attempts).toBeGreaterThan(1);
    expect(only?.removal?.lastRetryError?.code).toBe('Throttling');
    expect(only?.outcome).toBe('removed');
  });
});
