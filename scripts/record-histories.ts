/**
 * Records workflow histories for the replay test (test/integration/replay.test.ts): real runs of
 * the current workflow code against the emulator on a throwaway dev server. Re-record only when a
 * change is meant to be incompatible (and then version it with patched()); otherwise keep old
 * fixtures so the replay test proves new code still replays them.
 *
 *   npx tsx scripts/record-histories.ts test/fixtures/histories/v<N> [--only name,name]
 *
 * Record into a new version folder after a workflow change; never overwrite an older one. `--only`
 * adds named histories to a folder (recorded by the same code version) without touching the rest.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createCloudClient, staticCredentials } from '../src/aliyun';
import { ScaleInClient } from '../src/client';
import { repairRun, repairWorkflowIdFor } from '../src/client/repair';
import { EmulatorAdminClient, startEmulator, type Scenario } from '../src/emulator';
import { addEmptyGroup, rawCall } from '../src/emulator/testing';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli, startDevServer } from '../src/devtools/temporal-dev-server';
import type { ScaleInInput } from '../src/shared/input';
import { WINDOW_WORKFLOW_TYPE, windowIdFor, type ScaleInWindowInput } from '../src/shared/window';
import { HEARTBEAT_THROTTLE } from '../src/worker';

const GROUP = 'asg-bp1small000000000001';
const ELSEWHERE = 'asg-bp1elsewhere0000001';
const FAST = {
  pollMinIntervalMs: 50,
  pollMaxIntervalMs: 300,
  retryInitialIntervalMs: 50,
  retryMaxIntervalMs: 300,
  heartbeatTimeoutSeconds: 5,
};

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((args.splice(onlyAt, 2)[1] ?? '').split(',')) : undefined;
  const wanted = (name: string) => !only || only.has(name);
  const target = args[0];
  if (!target) throw new Error('usage: npx tsx scripts/record-histories.ts test/fixtures/histories/v<N>');
  const outDir = path.resolve(target);
  mkdirSync(outDir, { recursive: true });
  const server = await startDevServer();
  const scenario = JSON.parse(
    readFileSync(path.join(__dirname, '../src/emulator/scenarios/small.json'), 'utf8'),
  ) as Scenario;
  for (const g of scenario.instanceGenerators ?? []) g.count = 150;
  for (const g of scenario.scalingGroups ?? []) {
    g.maxSize = 200;
    g.desiredCapacity = 150;
  }
  addEmptyGroup(scenario, ELSEWHERE);
  const emulator = await startEmulator({ scenario });
  const admin = new EmulatorAdminClient(emulator.url);
  const cloud = createCloudClient({
    credentials: staticCredentials('LTAIsmallEmulatorKey1', 'small-emulator-secret-not-real'),
    endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
  });
  const nc = await NativeConnection.connect({ address: server.address });
  const taskQueue = 'record-histories';
  const worker = await Worker.create({
    connection: nc,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows/index.ts'),
    activities: createActivities({ cloud }),
    ...HEARTBEAT_THROTTLE,
  });
  const connection = await Connection.connect({ address: server.address });
  const client = await ScaleInClient.connect({
    client: new Client({ connection }),
    temporal: { address: server.address, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined },
  });
  const ids = async () =>
    (await admin.state()).instances
      .filter((i) => i.scalingGroupId === GROUP)
      .map((i) => i.instanceId)
      .sort();
  const input = (instanceIds: string[], extra: Partial<ScaleInInput> = {}): ScaleInInput => ({
    regionId: 'cn-hangzhou',
    scalingGroupId: GROUP,
    instanceIds,
    batchSize: 5,
    drain: { timeoutSeconds: 1 },
    advanced: FAST,
    ...extra,
  });
  const save = async (name: string, workflowId: string, runId?: string) => {
    // The CLI writes the canonical proto-JSON that Worker.runReplayHistory reads.
    const json = execFileSync(
      resolveTemporalCli(),
      [
        ...['workflow', 'show', '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : [])],
        ...['--address', server.address, '--output', 'json'],
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    writeFileSync(path.join(outDir, `${name}.json`), json);
    console.log(`recorded ${name} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
  };

  const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const waitForState = async (workflowId: string, state: string) => {
    for (let i = 0; i < 200; i++) {
      const p = await client.progress(workflowId);
      if (p.batches.some((b) => b.state === state)) return;
      await sleepMs(100);
    }
    throw new Error(`${workflowId}: no batch reached ${state}`);
  };
  const key = { accessKeyId: 'LTAIsmallEmulatorKey1', accessKeySecret: 'small-emulator-secret-not-real' };
  const ess = { Version: '2014-08-28', RegionId: 'cn-hangzhou' };
  const createHook = async (): Promise<string> => {
    const r = await rawCall(
      emulator.url,
      {
        ...ess,
        Action: 'CreateLifecycleHook',
        ScalingGroupId: GROUP,
        LifecycleHookName: 'recorder-hold',
        LifecycleTransition: 'SCALE_IN',
        HeartbeatTimeout: '600',
        DefaultResult: 'CONTINUE',
      },
      key,
    );
    const id = (r.json as { LifecycleHookId?: string }).LifecycleHookId;
    if (!id) throw new Error(`CreateLifecycleHook: ${JSON.stringify(r.json)}`);
    return id;
  };
  const deleteHook = async (hookId: string) => {
    await rawCall(emulator.url, { ...ess, Action: 'DeleteLifecycleHook', LifecycleHookId: hookId }, key);
  };
  const seenTokens = new Set<string>();
  /** Completes the next pending action of the hook (one not completed here before) as another actor. */
  const completePending = async (hookId: string, result: 'CONTINUE' | 'ROLLBACK') => {
    for (let i = 0; i < 300; i++) {
      const a = ((await admin.state()).lifecycleActions ?? []).find(
        (x) => x.lifecycleHookId === hookId && x.status === 'Pending' && !seenTokens.has(x.lifecycleActionToken),
      );
      if (a) {
        seenTokens.add(a.lifecycleActionToken);
        await admin.completeLifecycleAction(a.lifecycleActionToken, result);
        return;
      }
      await sleepMs(50);
    }
    throw new Error(`no pending action of ${hookId}`);
  };
  const window = (extra: Partial<ScaleInWindowInput> = {}): ScaleInWindowInput => ({
    regionId: 'cn-hangzhou',
    scalingGroupId: GROUP,
    windowMinutes: 60,
    count: 3,
    selection: 'oldest',
    batchSize: 5,
    drain: { timeoutSeconds: 1 },
    advanced: FAST,
    ...extra,
  });
  const windowId = windowIdFor('cn-hangzhou', GROUP);
  const runWindow = (w: ScaleInWindowInput) =>
    client.client.workflow.execute(WINDOW_WORKFLOW_TYPE, { taskQueue, workflowId: windowId, args: [w] });

  const recordings: Array<[string, () => Promise<void>]> = [
    [
      'pause-restore',
      async () => {
        // Drained ahead, paused with --restore (traffic given back), resumed: drained again, removed.
        const run = await client.start(
          input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 30, maxDrainedAhead: 10 } }),
        );
        await waitForState(run.workflowId, 'drained');
        await client.pause(run.workflowId, { by: 'recorder', note: 'long hold', restore: true });
        await sleepMs(1000);
        await client.resume(run.workflowId, { by: 'recorder' });
        await waitForState(run.workflowId, 'drained');
        await client.endDrain(run.workflowId, { by: 'recorder' });
        await client.result(run.workflowId);
        await save('pause-restore', run.workflowId);
      },
    ],
    [
      'cancel-with-reason',
      async () => {
        // Cancelled with who and why (the noteCancel update, then the cancel) mid-drain.
        const run = await client.start(input((await ids()).slice(0, 5), { drain: { timeoutSeconds: 60 } }));
        await waitForState(run.workflowId, 'drained');
        await client.cancel(run.workflowId, undefined, { by: 'recorder', reason: 'change freeze' });
        await client.result(run.workflowId).catch(() => undefined);
        await save('cancel-with-reason', run.workflowId);
      },
    ],
    [
      'window-group-policy',
      async () => {
        // A window that follows the group's own RemovalPolicies (zone balance first).
        await runWindow(window({ selection: 'groupPolicy' }));
        await save('window-group-policy', windowId);
      },
    ],
    [
      'happy-path',
      async () => {
        // Happy path with pause/resume and an early end of drain.
        const run = await client.start(input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 30 } }));
        await client.pause(run.workflowId, { by: 'recorder' });
        await client.resume(run.workflowId, { by: 'recorder' });
        await sleepMs(1500);
        await client.endDrain(run.workflowId, { by: 'recorder' });
        await client.result(run.workflowId);
        await save('happy-path', run.workflowId);
      },
    ],
    [
      'continue-as-new-final-run',
      async () => {
        const run = await client.start(
          input((await ids()).slice(0, 15), { advanced: { ...FAST, maxBatchesPerRun: 2 } }),
        );
        await client.result(run.workflowId);
        await save('continue-as-new-final-run', run.workflowId);
      },
    ],
    [
      'cancelled',
      async () => {
        // Cancelled mid-drain (weights restored).
        const run = await client.start(input((await ids()).slice(0, 5), { drain: { timeoutSeconds: 60 } }));
        await sleepMs(2000);
        await client.cancel(run.workflowId);
        await client.result(run.workflowId).catch(() => undefined);
        await save('cancelled', run.workflowId);
      },
    ],
    [
      'batch-warning-abort',
      async () => {
        // A failing batch (Warning) with onBatchFailure=abort, and a lost response adopted on retry.
        const victims = (await ids()).slice(0, 6);
        await admin.settings({
          ignoreClientToken: true,
          activityOutcomes: [
            {
              match: { instanceIds: [victims[3] as string] },
              status: 'Warning',
              failInstanceIds: [victims[3] as string],
              times: 1,
            },
          ],
        });
        await admin.setFaults([{ action: 'RemoveInstances', kind: 'commitThenDrop', times: 1 }]);
        const run = await client.start(input(victims, { batchSize: 3 }));
        await client.result(run.workflowId).catch(() => undefined);
        await save('batch-warning-abort', run.workflowId);
      },
    ],
    [
      'preflight-failed',
      async () => {
        const run = await client.start(input(await ids()));
        await client.result(run.workflowId).catch(() => undefined);
        await save('preflight-failed', run.workflowId);
      },
    ],
    [
      'dry-run',
      async () => {
        const run = await client.start(input((await ids()).slice(0, 3), { dryRun: true, requireApproval: true }));
        await client.result(run.workflowId);
        await save('dry-run', run.workflowId);
      },
    ],
    [
      'window-completed',
      async () => {
        // A scale-in window (started directly, as a schedule would) that removes the 3 oldest.
        await runWindow(window());
        await save('window-completed', windowId);
      },
    ],
    [
      'paused-between-batches',
      async () => {
        // Paused while batch 2 is due: the run waits in condition(!paused), then resumes. The activity
        // lasts long enough for removeBatch's checkpoint to show it accepted (remove-and-follow).
        await admin.settings({ timings: { activityDurationMs: 3000 } });
        const run = await client.start(input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 0 } }));
        await waitForState(run.workflowId, 'polling');
        await client.pause(run.workflowId, { by: 'recorder', note: 'hold' });
        await sleepMs(4000);
        await client.resume(run.workflowId, { by: 'recorder' });
        await client.result(run.workflowId);
        await admin.settings({ timings: { activityDurationMs: 300 } });
        await save('paused-between-batches', run.workflowId);
      },
    ],
    [
      'end-drain-ahead',
      async () => {
        // Several batches drained ahead; the operator ends every drain wait at once.
        const run = await client.start(
          input((await ids()).slice(0, 15), { drain: { timeoutSeconds: 60, maxDrainedAhead: 15 } }),
        );
        await waitForState(run.workflowId, 'drained');
        await sleepMs(1000);
        await client.endDrain(run.workflowId, { by: 'recorder' });
        await client.result(run.workflowId);
        await save('end-drain-ahead', run.workflowId);
      },
    ],
    [
      'drain-failed',
      async () => {
        // Batch 2's drain is refused (403): the run stops there and restores batch 2's changes.
        await admin.setFaults([
          { action: 'SetVServerGroupAttribute', kind: 'errorCode', code: 'Forbidden', httpStatus: 403 },
        ]);
        const run = await client.start(
          input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 0, maxDrainedAhead: 5 } }),
        );
        await client.result(run.workflowId).catch(() => undefined);
        await admin.clearFaults();
        await save('drain-failed', run.workflowId);
      },
    ],
    [
      'batch-failed-continue',
      async () => {
        // A batch whose scaling activity fails, with onBatchFailure=continue: its traffic comes back.
        const victims = (await ids()).slice(0, 10);
        await admin.settings({
          activityOutcomes: [{ match: { instanceIds: [victims[0] as string] }, status: 'Failed', times: 1 }],
        });
        const run = await client.start(input(victims, { onBatchFailure: 'continue' }));
        await client.result(run.workflowId);
        await save('batch-failed-continue', run.workflowId);
      },
    ],
    [
      'cancel-during-removal',
      async () => {
        // Cancelled while a scaling activity runs: the run follows it to its end, then restores the rest.
        await admin.settings({ timings: { activityDurationMs: 3000 } });
        const run = await client.start(input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 0 } }));
        await waitForState(run.workflowId, 'polling');
        await client.cancel(run.workflowId);
        await client.result(run.workflowId).catch(() => undefined);
        await admin.settings({ timings: { activityDurationMs: 300 } });
        await save('cancel-during-removal', run.workflowId);
      },
    ],
    [
      'continue-as-new-drained',
      async () => {
        // Continue-as-new every batch with later batches drained ahead: the carry hands them over.
        const run = await client.start(
          input((await ids()).slice(0, 15), {
            drain: { timeoutSeconds: 1, maxDrainedAhead: 15 },
            advanced: { ...FAST, maxBatchesPerRun: 1 },
          }),
        );
        await client.result(run.workflowId);
        await save('continue-as-new-drained-first-run', run.workflowId, run.runId);
        await save('continue-as-new-drained-final-run', run.workflowId);
      },
    ],
    [
      'window-closed-mid-run',
      async () => {
        // The window closes while its scale-in waits on a drain: the child is cancelled and restores.
        await runWindow(window({ windowMinutes: undefined, windowSeconds: 3, drain: { timeoutSeconds: 60 } }));
        await save('window-closed-mid-run', windowId);
      },
    ],
    [
      'restore-refused',
      async () => {
        // Cancelled while the CLB refuses every change: the other load balancers are restored, the
        // CLB is reported drained-not-restored.
        const run = await client.start(input((await ids()).slice(0, 5), { drain: { timeoutSeconds: 60 } }));
        await waitForState(run.workflowId, 'drained');
        await admin.settings({ deniedActions: ['SetBackendServers'] });
        await client.cancel(run.workflowId);
        await client.result(run.workflowId).catch(() => undefined);
        await admin.settings({ deniedActions: [] });
        await save('restore-refused', run.workflowId);
      },
    ],
    [
      'left-group-while-drained',
      async () => {
        // Another actor moves a drained instance out of the group: its traffic is given back.
        // From the end of the list: restore-refused left its instances drained on the CLB.
        const victims = (await ids()).slice(-3);
        const run = await client.start(input(victims, { drain: { timeoutSeconds: 3 } }));
        await waitForState(run.workflowId, 'drained');
        await admin.patchInstance(victims[0] as string, { scalingGroupId: ELSEWHERE });
        await client.result(run.workflowId).catch(() => undefined);
        await save('left-group-while-drained', run.workflowId);
      },
    ],
    [
      'repair-after-terminate',
      async () => {
        // A run terminated mid-drain leaves its instances at weight 0; repairDrained gives them back.
        const run = await client.start(input((await ids()).slice(-8, -3), { drain: { timeoutSeconds: 60 } }));
        await waitForState(run.workflowId, 'drained');
        await client.client.workflow.getHandle(run.workflowId).terminate('recorder: leave it drained');
        await repairRun(client.client, { workflowId: run.workflowId, taskQueue });
        await save('repair-after-terminate', repairWorkflowIdFor({ workflowId: run.workflowId, runId: run.runId }));
      },
    ],
    [
      'hook-wait',
      async () => {
        // A scale-in hook holds the batch; another actor completes it: the poll comes back with the wait.
        const hookId = await createHook();
        const run = await client.start(input((await ids()).slice(20, 22), { drain: { strategy: 'none' } }));
        await waitForState(run.workflowId, 'waiting-on-hook');
        await completePending(hookId, 'CONTINUE');
        await client.result(run.workflowId);
        await deleteHook(hookId);
        await save('hook-wait', run.workflowId);
      },
    ],
    [
      'hook-complete',
      async () => {
        // The run completes its own hook with CONTINUE.
        const hookId = await createHook();
        const run = await client.start(
          input((await ids()).slice(20, 22), {
            drain: { strategy: 'none' },
            lifecycleHooks: { mode: 'complete', hookIds: [hookId] },
          }),
        );
        await client.result(run.workflowId);
        await deleteHook(hookId);
        await save('hook-complete', run.workflowId);
      },
    ],
    [
      'hook-rollback',
      async () => {
        // Another actor rolls back the first batch (its instances stay), then lets the second go.
        const hookId = await createHook();
        const run = await client.start(
          input((await ids()).slice(20, 24), {
            batchSize: 2,
            onBatchFailure: 'continue',
            drain: { timeoutSeconds: 0 },
          }),
        );
        await completePending(hookId, 'ROLLBACK');
        await completePending(hookId, 'CONTINUE');
        await client.result(run.workflowId);
        await deleteHook(hookId);
        await save('hook-rollback', run.workflowId);
      },
    ],
    [
      'pause-holds-drains',
      async () => {
        // Approved while paused: no drain until resumed.
        const run = await client.start(
          input((await ids()).slice(30, 34), { batchSize: 2, requireApproval: true, drain: { timeoutSeconds: 0 } }),
        );
        for (let i = 0; i < 100 && !(await client.progress(run.workflowId)).awaitingApproval; i++) await sleepMs(100);
        await client.pause(run.workflowId, { by: 'recorder' });
        await client.approve(run.workflowId, { by: 'recorder' });
        await sleepMs(1000);
        await client.resume(run.workflowId, { by: 'recorder' });
        await client.result(run.workflowId);
        await save('pause-holds-drains', run.workflowId);
      },
    ],
  ];

  await worker.runUntil(async () => {
    for (const [name, record] of recordings) if (wanted(name)) await record();
  });
  await connection.close();
  await nc.close();
  await cloud.close();
  await emulator.close();
  await server.stop();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
