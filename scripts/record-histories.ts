/**
 * Records workflow histories for the replay test (test/integration/replay.test.ts): real runs of
 * the current workflow code against the emulator on a throwaway dev server. Re-record only when a
 * change is meant to be incompatible (and then version it with patched()); otherwise keep old
 * fixtures so the replay test proves new code still replays them.
 *
 *   npx tsx scripts/record-histories.ts test/fixtures/histories/v<N>
 *
 * Record into a new version folder after a workflow change; never overwrite an older one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createCloudClient, staticCredentials } from '../src/aliyun';
import { ScaleInClient } from '../src/client';
import { EmulatorAdminClient, startEmulator, type Scenario } from '../src/emulator';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli, startDevServer } from '../src/devtools/temporal-dev-server';
import type { ScaleInInput } from '../src/shared/input';
import { WINDOW_WORKFLOW_TYPE, windowIdFor, type ScaleInWindowInput } from '../src/shared/window';

const GROUP = 'asg-bp1small000000000001';
const FAST = {
  pollMinIntervalMs: 50,
  pollMaxIntervalMs: 300,
  retryInitialIntervalMs: 50,
  retryMaxIntervalMs: 300,
  heartbeatTimeoutSeconds: 5,
};

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const target = process.argv[2];
  if (!target) throw new Error('usage: npx tsx scripts/record-histories.ts test/fixtures/histories/v<N>');
  const outDir = path.resolve(target);
  mkdirSync(outDir, { recursive: true });
  const server = await startDevServer();
  const scenario = JSON.parse(
    readFileSync(path.join(__dirname, '../src/emulator/scenarios/small.json'), 'utf8'),
  ) as Scenario;
  for (const g of scenario.instanceGenerators ?? []) g.count = 60;
  for (const g of scenario.scalingGroups ?? []) {
    g.maxSize = 100;
    g.desiredCapacity = 60;
  }
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
  const save = async (name: string, workflowId: string) => {
    // The CLI writes the canonical proto-JSON that Worker.runReplayHistory reads.
    const json = execFileSync(
      resolveTemporalCli(),
      ['workflow', 'show', '--workflow-id', workflowId, '--address', server.address, '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    writeFileSync(path.join(outDir, `${name}.json`), json);
    console.log(`recorded ${name} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
  };

  await worker.runUntil(async () => {
    // 1. Happy path with pause/resume and an early end of drain.
    let run = await client.start(input((await ids()).slice(0, 10), { drain: { timeoutSeconds: 30 } }));
    await client.pause(run.workflowId, { by: 'recorder' });
    await client.resume(run.workflowId, { by: 'recorder' });
    await new Promise((r) => setTimeout(r, 1500));
    await client.endDrain(run.workflowId, { by: 'recorder' });
    await client.result(run.workflowId);
    await save('happy-path', run.workflowId);

    // 2. Continue-as-new every 2 batches.
    run = await client.start(input((await ids()).slice(0, 15), { advanced: { ...FAST, maxBatchesPerRun: 2 } }));
    await client.result(run.workflowId);
    await save('continue-as-new-final-run', run.workflowId);

    // 3. Cancelled mid-drain (weights restored).
    run = await client.start(input((await ids()).slice(0, 5), { drain: { timeoutSeconds: 60 } }));
    await new Promise((r) => setTimeout(r, 2000));
    await client.cancel(run.workflowId);
    await client.result(run.workflowId).catch(() => undefined);
    await save('cancelled', run.workflowId);

    // 4. A failing batch (Warning) with onBatchFailure=abort, and a lost response adopted on retry.
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
    run = await client.start(input(victims, { batchSize: 3 }));
    await client.result(run.workflowId).catch(() => undefined);
    await save('batch-warning-abort', run.workflowId);

    // 5. Preflight failure and a dry run.
    run = await client.start(input(await ids()));
    await client.result(run.workflowId).catch(() => undefined);
    await save('preflight-failed', run.workflowId);
    run = await client.start(input((await ids()).slice(0, 3), { dryRun: true, requireApproval: true }));
    await client.result(run.workflowId);
    await save('dry-run', run.workflowId);

    // 6. A scale-in window (started directly, as a schedule would) that removes the 3 oldest.
    const window: ScaleInWindowInput = {
      regionId: 'cn-hangzhou',
      scalingGroupId: GROUP,
      windowMinutes: 60,
      count: 3,
      selection: 'oldest',
      batchSize: 5,
      drain: { timeoutSeconds: 1 },
      advanced: FAST,
    };
    const windowId = windowIdFor(window.regionId, window.scalingGroupId);
    await client.client.workflow.execute(WINDOW_WORKFLOW_TYPE, { taskQueue, workflowId: windowId, args: [window] });
    await save('window-completed', windowId);
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
