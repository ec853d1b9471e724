import { waitFor } from '../../src/emulator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator';
import { FAST_FLAGS, startCliStack, type CliStack } from '../harness/cli';
import { SMALL } from '../harness/stack';

describe('ess-scale-in CLI (real child process, real Temporal dev server, emulator)', () => {
  let emulator: RunningEmulator;
  let group: string;
  let workflowId: string;
  let stack: CliStack;

  const cli = (args: string[]) => stack.cli(args);

  const groupIds = () => stack.groupIds();
  const lastSeq = () => emulator.state.callLog().at(-1)?.seq ?? 0;
  const mutatingSince = (seq: number) =>
    emulator.state.callLog({ sinceSeq: seq }).filter((c) => !/^(Describe|List)/.test(c.action));

  beforeAll(async () => {
    stack = await startCliStack('cli');
    ({ emulator, group, workflowId } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('--help lists every command, and each command has an example', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of [
      'start',
      'status',
      'watch',
      'result',
      'pause',
      'resume',
      'approve',
      'end-drain',
      'cancel',
      'list',
      'worker',
      'emulator',
      'demo',
    ]) {
      expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
    expect(top.stdout).toMatch(/Exit codes:[\s\S]*3 {2}no such run, or a run is already active/);
    const start = await cli(['start', '--help']);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('--no-decrease-desired-capacity');
    expect(start.stdout).toMatch(/Examples:\n {2}\$ ess-scale-in start /);
  });

  it('invalid input exits 2 naming each field, before anything is started', async () => {
    const ids = groupIds().slice(0, 2);
    const before = lastSeq();
    const r = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      `${ids.join(',')},i-NOT-VALID`,
      '--batch-size',
      '25',
      '--wait',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ {2}batchSize: must be an integer from 1 to 20, got 25 \(RemoveInstances takes at most 20/m,
    );
    expect(r.stderr).toMatch(/^ {2}instanceIds: malformed instance IDs: i-NOT-VALID \(/m);
    expect(r.stdout).toBe('');
    // Nothing reached the cloud, and no run exists for the group.
    expect(emulator.state.callLog({ sinceSeq: before })).toEqual([]);
    const status = await cli(['status', workflowId, '--json']);
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: false, error: { code: 'RunNotFound', workflowId } });
  });

  it('start --wait --json removes the instances and exits 0; status --json reports the finished run', async () => {
    const all = groupIds();
    const victims = all.slice(0, 4);
    const r = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      victims.join(','),
      '--batch-size',
      '2',
      ...FAST_FLAGS,
      '--reason',
      'cli test',
      '--wait',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/\[#*-*\]/); // no progress bar with --json
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      workflowId: string;
      outcome: string;
      result: {
        counts: { removed: number; failed: number };
        batches: unknown[];
        removed: Array<{ instanceIds: string[] }>;
      };
    };
    expect(out).toMatchObject({ ok: true, workflowId, outcome: 'completed' });
    expect(out.result.counts).toMatchObject({ removed: 4, failed: 0 });
    expect(out.result.batches).toHaveLength(2);
    expect(out.result.removed.flatMap((g) => g.instanceIds).sort()).toEqual(victims);
    // The emulator agrees: the instances left the group and were released.
    expect(groupIds()).toEqual(all.slice(4));
    expect(
      emulator.state
        .snapshot()
        .ecsRecords.filter((e) => victims.includes(e.instanceId))
        .map((e) => e.fate),
    ).toEqual(['released', 'released', 'released', 'released']);

    const status = await cli(['status', '--region', SMALL.region, '--group', group, '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as {
      status: string;
      searchAttributes: Record<string, unknown>;
      progress: { phase: string; counts: { removed: number; batchesDone: number; batchesTotal: number } };
    };
    expect(s.status).toBe('COMPLETED');
    expect(s.progress.phase).toBe('Completed');
    expect(s.progress.counts).toMatchObject({ removed: 4, batchesDone: 2, batchesTotal: 2 });
    expect(s.searchAttributes).toMatchObject({
      EssScalingGroupId: group,
      EssPhase: 'Completed',
      EssInstancesRemoved: 4,
    });

    const human = await cli(['status', workflowId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Phase +Completed$/m);
    expect(human.stdout).toMatch(/^batch +instances +ScalingActivityId +status$/m);
  });

  it('--dry-run --wait exits 0 with the plan and changes nothing', async () => {
    const before = lastSeq();
    const ids = groupIds();
    const r = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.slice(0, 3).join(','),
      '--dry-run',
      ...FAST_FLAGS,
      '--wait',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      outcome: string;
      result: { plan: { batchCount: number }; counts: { removed: number; skipped: number } };
    };
    expect(out.outcome).toBe('dry-run');
    expect(out.result.plan.batchCount).toBe(1);
    expect(out.result.counts).toMatchObject({ removed: 0, skipped: 3 });
    expect(emulator.state.callLog({ sinceSeq: before }).length).toBeGreaterThan(0); // the preflight did read
    expect(mutatingSince(before)).toEqual([]);
    expect(groupIds()).toEqual(ids);
  });

  it('status shows retries the progress query cannot: the activity, its attempt, the last failure', async () => {
    const ids = groupIds();
    // Every RemoveInstances is throttled until the fault is cleared: removeBatch retries with backoff.
    emulator.state.faults.set([{ action: 'RemoveInstances', kind: 'Throttling' }]);
    try {
      const started = await cli([
        'start',
        '--region',
        SMALL.region,
        '--group',
        group,
        '--instances',
        ids.slice(0, 1).join(','),
        '--drain-strategy',
        'none',
        ...FAST_FLAGS.filter((f, i, a) => f !== '--retry-max-interval-ms' && a[i - 1] !== '--retry-max-interval-ms'),
        '--retry-max-interval-ms',
        '2000',
      ]);
      expect(started.code, started.stderr).toBe(0);
      let status: { pendingActivities: Array<{ type: string; attempt: number; lastFailure?: { type: string } }> } = {
        pendingActivities: [],
      };
      await waitFor(
        async () => {
          status = JSON.parse((await cli(['status', workflowId, '--json'])).stdout) as typeof status;
          return status.pendingActivities.some((p) => p.type === 'removeBatch' && p.attempt >= 2);
        },
        60_000,
        300,
      );
      expect(status.pendingActivities).toEqual([
        expect.objectContaining({ type: 'removeBatch', lastFailure: expect.objectContaining({ type: 'Throttling' }) }),
      ]);
      const human = await cli(['status', workflowId]);
      expect(human.stdout).toMatch(/Activities in flight:\n {2}removeBatch attempt \d+.*last: Throttling: /);
    } finally {
      emulator.state.faults.clear();
    }
    const done = await cli(['result', workflowId, '--json']);
    expect(JSON.parse(done.stdout)).toMatchObject({ ok: true, outcome: 'completed' });
  });

  it('a second start for the same group exits 3 naming the active run; cancel --wait stops it', async () => {
    const ids = groupIds();
    const before = lastSeq();
    const first = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.slice(0, 2).join(','),
      '--require-approval',
      ...FAST_FLAGS,
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(workflowId);

    const second = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.slice(2, 3).join(','),
      ...FAST_FLAGS,
    ]);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`already running for this scaling group: workflow ${workflowId}`);
    const secondJson = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.slice(2, 3).join(','),
      '--json',
    ]);
    expect(secondJson.code).toBe(3);
    expect(JSON.parse(secondJson.stdout)).toMatchObject({ ok: false, error: { code: 'RunAlreadyActive', workflowId } });

    const list = await cli(['list', '--group', group, '--running', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { runs: Array<{ workflowId: string; status: string }> }).runs).toEqual([
      expect.objectContaining({ workflowId, status: 'RUNNING' }),
    ]);

    const cancel = await cli(['cancel', workflowId, '--wait', '--json']);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ ok: true, action: 'cancel', run: { outcome: 'cancelled' } });
    // It never got past approval: nothing changed in the cloud.
    expect(mutatingSince(before)).toEqual([]);
    expect(groupIds()).toEqual(ids);
    const again = await cli(['cancel', workflowId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has already ended (CANCELLED)');
  });
});
