import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScaleInFailedError, type RepairResult } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { FAST, SMALL, startStack, type Stack } from '../harness/stack';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'ess-scale-in.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('ess-scale-in repair: what a terminated run left drained', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** The real CLI in a child process, against the stack's worker (so the cloud calls run there). */
  function cli(args: string[]): Promise<CliRun> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
    for (const k of ['TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) delete env[k];
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, ...args], { cwd: root, env, timeout: 90_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
  }

  /** Starts a run with a long drain, waits until every batch is drained, then terminates it. */
  async function terminatedMidDrain(ids: string[]): Promise<string> {
    const { workflowId, runId } = await stack.client.start(
      stack.input(ids, { batchSize: 3, drain: { timeoutSeconds: 600 } }),
    );
    await waitFor(
      async () => (await stack.client.progress(workflowId)).batches.every((b) => b.state === 'drained'),
      30_000,
      100,
    );
    await stack.rawClient.workflow.getHandle(workflowId).terminate('test: terminated mid-drain');
    return runId;
  }

  const lifecycleOf = async (ids: string[]) =>
    (await stack.admin.state()).instances.filter((i) => ids.includes(i.instanceId)).map((i) => i.lifecycleState);

  const mutatingCalls = async () =>
    (await stack.admin.calls()).filter((c) => /^(Set|Update|ExitStandby|EnterStandby|Remove)/.test(c.action));

  it('restores the recorded weights, verified; a second repair changes nothing and says already fine', async () => {
    const ids = (await stack.instanceIds()).slice(0, 6);
    // A weight other than the scenario's 100, so the repair must put back what it read, not a default.
    await stack.cloud.clb.setBackendServers(SMALL.region, SMALL.lb, [
      { serverId: ids[0] ?? '', weight: 37, type: 'ecs' },
    ]);
    await terminatedMidDrain(ids);
    expect(await stack.weights(ids)).toEqual({ clb: Array(6).fill(0), vsg: Array(6).fill(0), alb: Array(6).fill(0) });

    const first = await cli(['repair', stack.workflowId, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code, `${first.stderr}${first.stdout}`).toBe(0);
    const repaired = JSON.parse(first.stdout) as RepairResult & { ok: boolean };
    expect(repaired).toMatchObject({ ok: true, outcome: 'repaired' });
    expect(repaired.counts).toEqual({ restored: 6, 'already-fine': 0, gone: 0, failed: 0 });
    expect(repaired.instances.map((i) => i.instanceId)).toEqual(ids);
    // Three places per instance: CLB, vserver group, ALB server group.
    expect(repaired.instances.every((i) => i.why.length === 3 && i.why.every((w) => /: restored, /.test(w)))).toBe(
      true,
    );
    expect(await stack.weights(ids)).toEqual({
      clb: [37, ...Array(5).fill(100)],
      vsg: Array(6).fill(100),
      alb: Array(6).fill(100),
    });
    expect(await stack.admin.calls({ action: 'RemoveInstances' })).toEqual([]);

    await stack.admin.clearCalls();
    const again = await cli(['repair', '--region', SMALL.region, '--group', stack.group]);
    expect(again.code, `${again.stderr}${again.stdout}`).toBe(0);
    expect(again.stdout).toContain('restored 0, already fine 6, gone 0, failed 0 instance(s)');
    expect(again.stdout).toMatch(new RegExp(`${ids[0]}\\s+already-fine\\s+CLB ${SMALL.lb}: already-fine, weight 37`));
    expect(await mutatingCalls()).toEqual([]);
    expect(await stack.weights(ids)).toEqual({
      clb: [37, ...Array(5).fill(100)],
      vsg: Array(6).fill(100),
      alb: Array(6).fill(100),
    });
  });

  it('refuses repair while a run is active; a run on instances at weight 0 names them and the flag', async () => {
    const ids = (await stack.instanceIds()).slice(6, 9);
    // While the run is active, repair says to cancel it instead.
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 600 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 30_000, 100);
    const refused = await cli(['repair', workflowId]);
    expect(refused.code, `${refused.stderr}${refused.stdout}`).toBe(1);
    expect(refused.stderr).toMatch(/cannot repair .*still running; cancel it instead/);
    const { runId: drainedRun } = await stack.rawClient.workflow.getHandle(workflowId).describe();
    await stack.rawClient.workflow.getHandle(workflowId).terminate('test: terminated mid-drain');
    expect((await stack.weights(ids)).clb).toEqual([0, 0, 0]);

    await stack.admin.clearCalls();
    const second = await stack.client.start(stack.input(ids));
    const err = await stack.client.result(second.workflowId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScaleInFailedError);
    expect((err as ScaleInFailedError).code).toBe('PreflightFailed');
    const [problem] = (err as ScaleInFailedError).details as Array<
      Array<{ field: string; instanceIds: string[]; fix: string }>
    >;
    expect(problem).toEqual([
      expect.objectContaining({
        field: 'allowDrainedInstances',
        instanceIds: ids,
        fix: expect.stringContaining('--allow-drained'),
      }),
    ]);
    expect((err as ScaleInFailedError).message).toContain(ids.join(', '));
    // Nothing was drained or removed: the weights are still 0 and no weight was snapshot as "original".
    expect(await mutatingCalls()).toEqual([]);

    // A dry run only warns.
    const dry = await stack.client.start(stack.input(ids, { dryRun: true }));
    const plan = (await stack.client.result(dry.workflowId)).plan;
    expect(plan?.warnings.filter((w) => /already at weight 0/.test(w))).toEqual([
      expect.stringMatching(new RegExp(`^3 instance\\(s\\) are already at weight 0 .*${ids[0]} \\(CLB ${SMALL.lb}, `)),
    ]);

    // The latest run is the dry run: --run-id names the terminated one.
    const repaired = await cli(['repair', workflowId, '--run-id', drainedRun, '--json']);
    expect(repaired.code, `${repaired.stderr}${repaired.stdout}`).toBe(0);
    expect((JSON.parse(repaired.stdout) as RepairResult).counts.restored).toBe(3);
    expect(await stack.weights(ids)).toEqual({ clb: [100, 100, 100], vsg: [100, 100, 100], alb: [100, 100, 100] });
  });

  it('a run that aborts with its restore refused offers repair in its message; repair ends the restore', async () => {
    const ids = (await stack.instanceIds()).slice(9, 12);
    const { workflowId } = await stack.client.start(stack.input(ids, { drain: { timeoutSeconds: 600 } }));
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 30_000, 100);
    // Drained; now RemoveInstances is refused (the run aborts) and so is the CLB's restore.
    await stack.admin.settings({ deniedActions: ['RemoveInstances', 'SetBackendServers'] });
    await stack.client.endDrain(workflowId);
    const err = await stack.client.result(workflowId).catch((e: unknown) => e);
    await stack.admin.settings({ deniedActions: [] });

    expect(err).toBeInstanceOf(ScaleInFailedError);
    const failed = err as ScaleInFailedError;
    expect(failed.result?.counts).toMatchObject({ removed: 0, drainedNotRestored: 3 });
    expect(failed.message).toMatch(
      new RegExp(`Once the cause is fixed, restore them with: ess-scale-in repair ${workflowId}$`),
    );
    expect(await stack.weights(ids)).toEqual({ clb: [0, 0, 0], vsg: [100, 100, 100], alb: [100, 100, 100] });

    const repaired = await cli(['repair', workflowId, '--json']);
    expect(repaired.code, `${repaired.stderr}${repaired.stdout}`).toBe(0);
    const r = JSON.parse(repaired.stdout) as RepairResult;
    expect(r.counts).toEqual({ restored: 3, 'already-fine': 0, gone: 0, failed: 0 });
    // Restored on the CLB; the vserver and ALB groups the run had already given back are only verified.
    expect(r.instances[0]?.why).toEqual([
      expect.stringMatching(new RegExp(`^CLB ${SMALL.lb}: restored, weight 0 → 100$`)),
      expect.stringMatching(/^vserver group .*: already-fine, weight 100, as before the run$/),
      expect.stringMatching(/^ALB server group .*: already-fine, weight 100, as before the run$/),
    ]);
    expect(await stack.weights(ids)).toEqual({ clb: [100, 100, 100], vsg: [100, 100, 100], alb: [100, 100, 100] });
  });
  it('waits out a drain still running when the run was terminated, so the drain cannot undo the repair', async () => {
    const ids = (await stack.instanceIds()).slice(12, 14);
    // EnterStandby is held 6 s before it takes effect: it lands after the terminate and, without the
    // wait, after a repair that found nothing in Standby yet.
    await stack.admin.setFaults([{ action: 'EnterStandby', kind: 'latency', latencyMs: 6000, times: 1 }]);
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        drain: { strategy: 'standby', timeoutSeconds: 600 },
        advanced: { ...FAST, heartbeatTimeoutSeconds: 2 },
      }),
    );
    await waitFor(async () => (await stack.admin.faults())[0]?.hits === 1, 30_000, 50);
    await stack.rawClient.workflow.getHandle(workflowId).terminate('test: terminated while EnterStandby is in flight');
    expect((await lifecycleOf(ids)).every((s) => s === 'InService')).toBe(true);

    const repaired = await cli(['repair', workflowId, '--json']);
    await stack.admin.clearFaults();
    expect(repaired.code, `${repaired.stderr}${repaired.stdout}`).toBe(0);
    expect(repaired.stderr).toMatch(/still running \(drain\): waiting \d+ s for them to stop before restoring/);
    const r = JSON.parse(repaired.stdout) as RepairResult;
    expect(r.counts).toEqual({ restored: 2, 'already-fine': 0, gone: 0, failed: 0 });
    expect(await lifecycleOf(ids)).toEqual(['InService', 'InService']);
    expect(await stack.weights(ids)).toEqual({ clb: [100, 100], vsg: [100, 100], alb: [100, 100] });
  });
});
