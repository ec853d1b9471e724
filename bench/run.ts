/**
 * End-to-end throughput and memory of a scale-in: a real Temporal dev server, the emulator over
 * HTTP, an in-process worker. Prints a table and writes bench/results/<name>.json.
 *
 *   npm run bench -- [--instances 10000] [--batch-size 20] [--activity-ms 50] [--drain-s 0]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { createCloudClient, staticCredentials } from '../src/aliyun';
import { ScaleInClient } from '../src/client';
import { EmulatorAdminClient, startEmulator, type Scenario } from '../src/emulator';
import { resolveTemporalCli, startDevServer } from '../src/devtools/temporal-dev-server';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '10000' },
    'batch-size': { type: 'string', default: '20' },
    'activity-ms': { type: 'string', default: '50' },
    'drain-s': { type: 'string', default: '0' },
    name: { type: 'string' },
  },
});
const N = Number(values.instances);
const batchSize = Number(values['batch-size']);
const activityMs = Number(values['activity-ms']);
const drainS = Number(values['drain-s']);

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const scenario = JSON.parse(readFileSync(path.join(__dirname, '../src/emulator/scenarios/small.json'), 'utf8')) as Scenario;
  const group = scenario.scalingGroups?.[0];
  const gen = scenario.instanceGenerators?.[0];
  if (!group || !gen) throw new Error('small scenario changed shape');
  Object.assign(group, { minSize: 0, maxSize: N + 100, desiredCapacity: N + 10 });
  gen.count = N + 10;
  scenario.timings = { activityDurationMs: activityMs, essDrainWaitMs: Math.min(activityMs, 20), albJobDurationMs: 20 };

  const server = await startDevServer();
  const emulator = await startEmulator({ scenario });
  const admin = new EmulatorAdminClient(emulator.url);
  const keyId = Object.keys(scenario.accessKeys ?? {})[0] ?? '';
  const cloud = createCloudClient({ credentials: staticCredentials(keyId, scenario.accessKeys?.[keyId] ?? ''), endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url } });
  const nc = await NativeConnection.connect({ address: server.address });
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows/index.ts'), logger: { warn() {}, info() {}, debug() {}, trace() {}, error: console.error, log() {} } });
  const taskQueue = 'bench';
  const worker = await Worker.create({ connection: nc, taskQueue, workflowBundle: bundle, activities: createActivities({ cloud }) });
  const connection = await Connection.connect({ address: server.address });
  const client = await ScaleInClient.connect({ client: new Client({ connection }), temporal: { address: server.address, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined } });
  const ids = (await admin.state()).instances.filter((i) => i.scalingGroupId === group.id).map((i) => i.instanceId).sort().slice(0, N);

  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  const t0 = Date.now();
  const result = await worker.runUntil(async () => {
    const { workflowId } = await client.start({
      regionId: group.regionId, scalingGroupId: group.id, instanceIds: ids, batchSize, drain: { timeoutSeconds: drainS },
      advanced: { pollMinIntervalMs: 20, pollMaxIntervalMs: 200, retryInitialIntervalMs: 100, retryMaxIntervalMs: 1000, heartbeatTimeoutSeconds: 10 },
    });
    return client.result(workflowId);
  });
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(sampler);

  // History of every run in the continue-as-new chain.
  const workflowId = result.workflowId;
  const runs = JSON.parse(execFileSync(resolveTemporalCli(), ['workflow', 'list', '--address', server.address, '--query', `WorkflowId="${workflowId}"`, '--output', 'json'], { encoding: 'utf8' })) as Array<{ execution: { runId: string }; historyLength: string }>;
  const historyLengths = runs.map((r) => Number(r.historyLength));
  const calls = await admin.calls();
  const byAction = new Map<string, number>();
  for (const c of calls) byAction.set(c.action, (byAction.get(c.action) ?? 0) + 1);
  const state = await admin.state();
  const left = state.instances.filter((i) => i.scalingGroupId === group.id).length;

  const row = {
    name: values.name ?? `scale-in-${N}`,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    instances: N,
    batchSize,
    activityMs,
    drainSeconds: drainS,
    outcome: result.outcome,
    removed: result.counts.removed,
    leftInGroup: left,
    seconds: Number(seconds.toFixed(1)),
    instancesPerSecond: Number((N / seconds).toFixed(1)),
    batches: Math.ceil(N / batchSize),
    runs: runs.length,
    maxHistoryEvents: Math.max(...historyLengths),
    totalHistoryEvents: historyLengths.reduce((a, b) => a + b, 0),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    apiCalls: Object.fromEntries([...byAction.entries()].sort()),
  };
  console.log('\n| metric | value |\n|---|---|');
  for (const [k, v] of Object.entries(row)) console.log(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  writeFileSync(path.join(__dirname, 'results', `${row.name}.json`), JSON.stringify(row, null, 2) + '\n');
  if (result.outcome !== 'completed' || result.counts.removed !== N) process.exitCode = 1;

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
