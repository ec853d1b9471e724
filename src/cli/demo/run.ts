import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { staticCredentials } from '../../aliyun';
import { ScaleInClient, workflowIdFor, type ScaleInInput } from '../../client';
import type { TemporalConfig } from '../../config';
import { startDevServer } from '../../devtools/temporal-dev-server';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { startWorker } from '../../worker';
import { followRun, type RunEnd } from '../follow';
import { EXIT, printJson, type Io } from '../io';
import { endJson, reportEnd } from '../report';
import { pickDemoTarget, type DemoTarget } from './pick';
import { lockDataDir } from './lock';
import { choosePort } from './ports';
import { openSession, rel, type DemoSession } from './session';

export interface DemoOptions {
  /** Stop everything once the run has ended (tests, CI) instead of waiting for Ctrl-C. */
  exitWhenDone: boolean;
  instances: number;
  batchSize: number;
  drainTimeoutSeconds: number;
  /** Holds temporal.db (runs survive restarts) and the server and worker logs. */
  dataDir: string;
  /** Undefined: the usual port when free; 0: any free port. */
  temporalPort: number | undefined;
  uiPort: number | undefined;
  emulatorPort: number | undefined;
  json: boolean;
}

/** The demo's own queue: a real worker on `ess-scale-in` against the same server never takes demo tasks. */
export const DEMO_TASK_QUEUE = 'ess-scale-in-demo';

export function runUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * The whole stack on loopback: Temporal dev server with its UI (state in SQLite), the emulator
 * with the `demo` scenario, an in-process worker, then one real scale-in followed to its end.
 */
export async function runDemo(opts: DemoOptions, io: Io): Promise<number> {
  const demo = openSession(opts, io);
  try {
    return await runStack(demo);
  } catch (e) {
    await demo.shutdown(EXIT.failed);
    throw e;
  }
}

async function runStack(demo: DemoSession): Promise<number> {
  openDataDir(demo);
  const ports = await choosePorts(demo);
  const server = await startServer(demo, ports);
  if (demo.stopping()) return await demo.shutdown(EXIT.ok);
  const cloud = await startCloud(demo, ports.emulator);
  const temporal: TemporalConfig = {
    address: server.address,
    namespace: 'default',
    taskQueue: DEMO_TASK_QUEUE,
    apiKey: undefined,
    tls: undefined,
  };
  const client = await ScaleInClient.connect({ temporal });
  demo.onShutdown('Temporal client', () => client.close());
  const workflowId = workflowIdFor(cloud.target.regionId, cloud.target.scalingGroupId);
  // Before the worker starts: a run left over in temporal.db must not touch the fresh emulator.
  await retireLeftover(client, workflowId, demo.say);
  await startDemoWorker(demo, temporal, cloud);
  if (demo.stopping()) return await demo.shutdown(EXIT.ok);
  const stack: DemoStack = {
    server,
    cloud,
    client,
    workflowId,
    link: runUrl(server.uiUrl, temporal.namespace, workflowId),
  };
  const started = await startDemoRun(demo, stack);
  const raced = await Promise.race([
    followRun(client, workflowId, demo.io, { bar: !demo.opts.json, taskQueue: DEMO_TASK_QUEUE }),
    demo.stopRequested,
  ]);
  if (raced === 'stop') {
    demo.say(`The run was still going; it stays in ${rel(dbFile(demo))} and the next demo replaces it.`);
    return await demo.shutdown(EXIT.ok);
  }
  const code = reportDemoEnd(demo, stack, raced, started.runId);
  if (demo.opts.exitWhenDone || demo.stopping()) return await demo.shutdown(code);
  sayKeepsRunning(demo, stack);
  await demo.stopRequested;
  return await demo.shutdown(EXIT.ok);
}

/** What runStack has started, for the messages at the end. */
interface DemoStack {
  server: { address: string; uiUrl: string };
  cloud: DemoCloud;
  client: ScaleInClient;
  workflowId: string;
  /** The run in the Temporal UI. */
  link: string;
}

const dbFile = (demo: DemoSession) => path.join(demo.opts.dataDir, 'temporal.db');

/** Locked for this demo; the worker's chatter goes to worker.log there. */
function openDataDir(demo: DemoSession): void {
  const { dataDir } = demo.opts;
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  demo.onShutdown('data directory lock', async () => unlock());
  const workerLog = createWriteStream(path.join(dataDir, 'worker.log'), { flags: 'a' });
  demo.onShutdown('worker log', () => new Promise<void>((r) => workerLog.end(r)));
  installQuietRuntime(workerLog, demo.io);
}

async function choosePorts(demo: DemoSession): Promise<{ temporal: number; ui: number; emulator: number }> {
  const { opts, say } = demo;
  const [tp, up, ep] = [
    await choosePort('--temporal-port', opts.temporalPort, 7233),
    await choosePort('--ui-port', opts.uiPort, 8233),
    await choosePort('--emulator-port', opts.emulatorPort, 18080),
  ];
  for (const p of [tp, up, ep]) if (p.note) say(`(${p.note})`);
  return { temporal: tp.port, ui: up.port, emulator: ep.port };
}

async function startServer(
  demo: DemoSession,
  ports: { temporal: number; ui: number },
): Promise<{ address: string; uiUrl: string }> {
  demo.say(`Starting the Temporal dev server with its UI (state in ${rel(dbFile(demo))})…`);
  const server = await startDevServer({
    port: ports.temporal,
    uiPort: ports.ui,
    dbFilename: dbFile(demo),
    logFile: path.join(demo.opts.dataDir, 'temporal.log'),
  });
  // Last resort if this process dies without cleaning up: never leave an orphaned server behind.
  const killServer = () => server.process.kill('SIGKILL');
  process.once('exit', killServer);
  demo.onShutdown('Temporal dev server', async () => {
    process.off('exit', killServer);
    await server.stop();
  });
  const uiUrl = server.uiUrl ?? `http://127.0.0.1:${ports.ui}`;
  demo.say(`  Temporal ${server.address}, UI ${uiUrl}  [${demo.since()}]`);
  return { address: server.address, uiUrl };
}

/** The emulated cloud: the emulator, an access key it accepts, and the instances the run retires. */
interface DemoCloud {
  emulator: RunningEmulator;
  keyId: string;
  secret: string;
  target: DemoTarget;
}

async function startCloud(demo: DemoSession, port: number): Promise<DemoCloud> {
  const emulator = await startEmulator({ host: '127.0.0.1', port, scenario: 'demo' });
  demo.onShutdown('emulator', () => emulator.close());
  const snap = emulator.state.snapshot();
  demo.say(
    `  Alibaba Cloud API emulator ${emulator.url} ` +
      `(scenario "${snap.scenarioName}": ${snap.instances.length} instances)  [${demo.since()}]`,
  );
  const keyId = snap.accessKeyIds[0];
  const secret = keyId === undefined ? undefined : emulator.state.secretOf(keyId);
  if (keyId === undefined || secret === undefined) throw new Error('the demo scenario has no access key');
  return { emulator, keyId, secret, target: pickDemoTarget(snap, demo.opts.instances) };
}

async function startDemoWorker(demo: DemoSession, temporal: TemporalConfig, cloud: DemoCloud): Promise<void> {
  const log = rel(path.join(demo.opts.dataDir, 'worker.log'));
  demo.say(`Starting the worker on task queue "${DEMO_TASK_QUEUE}" (bundling the workflow code; log in ${log})…`);
  const { url } = cloud.emulator;
  const worker = await startWorker({
    temporal,
    credentials: staticCredentials(cloud.keyId, cloud.secret),
    endpoints: { ess: url, slb: url, alb: url, nlb: url },
    shutdownGraceTime: '2s',
  });
  demo.onShutdown('worker', async () => {
    if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await worker.done;
  });
  demo.say(`  worker running  [${demo.since()}]`);
}

async function startDemoRun(demo: DemoSession, { cloud: { target }, client, link }: DemoStack) {
  const { batchSize, drainTimeoutSeconds } = demo.opts;
  const input: ScaleInInput = {
    regionId: target.regionId,
    scalingGroupId: target.scalingGroupId,
    instanceIds: target.instanceIds,
    batchSize,
    // Two batches drained ahead: the next batch is ready when ESS finishes the current one.
    drain: { strategy: 'weight', timeoutSeconds: drainTimeoutSeconds, maxDrainedAhead: batchSize * 2 },
    reason: `npm run demo: retire the ${target.instanceIds.length} oldest instances of ${target.scalingGroupName}`,
    // The emulator's activities take seconds; poll them at a demo's pace.
    advanced: { pollMinIntervalMs: 1000, pollMaxIntervalMs: 4000 },
  };
  const started = await client.start(input);
  const { say } = demo;
  const [first, last] = [target.instanceIds[0] ?? '', target.instanceIds[target.instanceIds.length - 1] ?? ''];
  say('');
  say(
    `Scale-in of ${target.instanceIds.length} instances of ${target.scalingGroupName} (${target.scalingGroupId}, ` +
      `TotalCapacity ${target.totalCapacity}, MinSize ${target.minSize})`,
  );
  say(`in batches of ${batchSize}, drain ${drainTimeoutSeconds}s, oldest first: ${first} … ${last}`);
  say(`Temporal UI: ${link}`);
  say('');
  return started;
}

/** The summary (on stderr with --json, which prints the JSON document last) and the run's exit code. */
function reportDemoEnd(demo: DemoSession, stack: DemoStack, end: RunEnd, runId: string): number {
  const { io, opts, say } = demo;
  say('');
  const code = reportEnd(opts.json ? { ...io, out: io.err } : io, end, false);
  say('');
  say(`Temporal UI: ${stack.link}`);
  if (opts.json)
    printJson(io, {
      ...endJson(end, { runId }),
      uiUrl: stack.server.uiUrl,
      runUrl: stack.link,
      temporalAddress: stack.server.address,
      emulatorUrl: stack.cloud.emulator.url,
    });
  return code;
}

function sayKeepsRunning(demo: DemoSession, { server, cloud, workflowId }: DemoStack): void {
  const { say } = demo;
  const { emulator, target } = cloud;
  const after = emulator.state.snapshot().groups.find((g) => g.scalingGroupId === target.scalingGroupId);
  say('');
  say('Everything keeps running so you can look around:');
  say(
    `  Temporal UI    ${server.uiUrl}/namespaces/default/workflows   ` +
      `(filter: EssScalingGroupId="${target.scalingGroupId}")`,
  );
  say(
    `  Emulator state ${emulator.url}/__emulator/state   ` +
      `(the group now has TotalCapacity ${after?.totalCapacity ?? '?'})`,
  );
  say('  Try the CLI from another terminal:');
  say(`    export TEMPORAL_ADDRESS=${server.address} TEMPORAL_TASK_QUEUE=${DEMO_TASK_QUEUE}`);
  say('    npm run -s cli -- list');
  say(`    npm run -s cli -- status ${workflowId}`);
  const next = target.remaining.slice(0, 2).join(',');
  if (next)
    say(
      `    npm run -s cli -- start --region ${target.regionId} --group ${target.scalingGroupId} ` +
        `--instances ${next} --drain-timeout 5 --require-approval --wait`,
    );
  say('Press Ctrl-C to stop the worker, the emulator and the Temporal server.');
}

/** Worker chatter goes to worker.log; only errors reach the terminal, so the demo output stays readable. */
function installQuietRuntime(log: NodeJS.WritableStream, io: Io): void {
  const logger = new DefaultLogger('INFO', (entry) => {
    const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const meta = entry.meta ? ` ${JSON.stringify(entry.meta)}` : '';
    const line = `${at} [${entry.level}] ${entry.message}${meta}`;
    log.write(`${line}\n`);
    if (entry.level === 'ERROR') io.err(`worker: ${line}`);
  });
  try {
    Runtime.install({ logger, telemetryOptions: { logging: { forward: {}, filter: 'WARN' } } });
  } catch {
    // A runtime already exists in this process (an embedding test): keep its logger.
  }
}

async function retireLeftover(client: ScaleInClient, workflowId: string, say: (l: string) => void): Promise<void> {
  const handle = client.client.workflow.getHandle(workflowId);
  const desc = await handle.describe().catch((e: unknown) => {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  });
  if (desc?.status.name !== 'RUNNING') return;
  await handle.terminate(
    "superseded: the demo restarted with a fresh emulator, so this run's view of the group is stale",
  );
  say(
    `  terminated ${workflowId} (run ${desc.runId}), left running by an earlier demo: ` +
      'the emulator starts fresh each time',
  );
}
