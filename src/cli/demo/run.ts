import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { staticCredentials } from '../../aliyun';
import { ScaleInClient, workflowIdFor, type ScaleInInput } from '../../client';
import type { TemporalConfig } from '../../config';
import { startDevServer } from '../../devtools/temporal-dev-server';
import { startEmulator } from '../../emulator';
import { startWorker } from '../../worker';
import { followRun, type RunEnd } from '../follow';
import { EXIT, printJson, type Io } from '../io';
import { endJson, reportEnd } from '../report';
import { pickDemoTarget } from './pick';
import { lockDataDir } from './lock';
import { choosePort } from './ports';

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
  // With --json, stdout carries only the final JSON document.
  const say = opts.json ? io.err : io.out;
  const rel = (p: string) => (p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p);
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
  let stopping = false;
  let requestStop = (): void => undefined;
  const stopRequested = new Promise<'stop'>((resolve) => {
    requestStop = () => resolve('stop');
  });
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    io.err('\nStopping the worker, the emulator and the Temporal server…');
    requestStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const shutdown = async (code: number): Promise<number> => {
    for (const c of cleanups.reverse()) {
      try {
        await c.run();
      } catch (e) {
        io.err(`(while stopping the ${c.what}: ${e instanceof Error ? e.message : String(e)})`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return code;
  };

  try {
    mkdirSync(opts.dataDir, { recursive: true });
    const unlock = lockDataDir(opts.dataDir);
    cleanups.push({ what: 'data directory lock', run: async () => unlock() });
    const workerLog = createWriteStream(path.join(opts.dataDir, 'worker.log'), { flags: 'a' });
    cleanups.push({ what: 'worker log', run: () => new Promise<void>((r) => workerLog.end(r)) });
    installQuietRuntime(workerLog, io);

    const [tp, up, ep] = [
      await choosePort('--temporal-port', opts.temporalPort, 7233),
      await choosePort('--ui-port', opts.uiPort, 8233),
      await choosePort('--emulator-port', opts.emulatorPort, 18080),
    ];
    for (const p of [tp, up, ep]) if (p.note) say(`(${p.note})`);

    say(`Starting the Temporal dev server with its UI (state in ${rel(path.join(opts.dataDir, 'temporal.db'))})…`);
    const server = await startDevServer({
      port: tp.port,
      uiPort: up.port,
      dbFilename: path.join(opts.dataDir, 'temporal.db'),
      logFile: path.join(opts.dataDir, 'temporal.log'),
    });
    // Last resort if this process dies without cleaning up: never leave an orphaned server behind.
    const killServer = () => server.process.kill('SIGKILL');
    process.once('exit', killServer);
    cleanups.push({
      what: 'Temporal dev server',
      run: async () => {
        process.off('exit', killServer);
        await server.stop();
      },
    });
    const uiUrl = server.uiUrl ?? `http://127.0.0.1:${up.port}`;
    say(`  Temporal ${server.address}, UI ${uiUrl}  [${since()}]`);
    if (stopping) return await shutdown(EXIT.ok);

    const emulator = await startEmulator({ host: '127.0.0.1', port: ep.port, scenario: 'demo' });
    cleanups.push({ what: 'emulator', run: () => emulator.close() });
    const snap = emulator.state.snapshot();
    say(
      `  Alibaba Cloud API emulator ${emulator.url} (scenario "${snap.scenarioName}": ${snap.instances.length} instances)  [${since()}]`,
    );
    const keyId = snap.accessKeyIds[0];
    const secret = keyId === undefined ? undefined : emulator.state.secretOf(keyId);
    if (keyId === undefined || secret === undefined) throw new Error('the demo scenario has no access key');
    const target = pickDemoTarget(snap, opts.instances);

    const temporal: TemporalConfig = {
      address: server.address,
      namespace: 'default',
      taskQueue: DEMO_TASK_QUEUE,
      apiKey: undefined,
      tls: undefined,
    };
    const client = await ScaleInClient.connect({ temporal });
    cleanups.push({ what: 'Temporal client', run: () => client.close() });
    const workflowId = workflowIdFor(target.regionId, target.scalingGroupId);
    // Before the worker starts: a run left over in temporal.db must not touch the fresh emulator.
    await retireLeftover(client, workflowId, say);

    say(
      `Starting the worker on task queue "${DEMO_TASK_QUEUE}" (bundling the workflow code; log in ${rel(path.join(opts.dataDir, 'worker.log'))})…`,
    );
    const worker = await startWorker({
      temporal,
      credentials: staticCredentials(keyId, secret),
      endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
      shutdownGraceTime: '2s',
    });
    cleanups.push({
      what: 'worker',
      run: async () => {
        if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
        await worker.done;
      },
    });
    say(`  worker running  [${since()}]`);
    if (stopping) return await shutdown(EXIT.ok);

    const input: ScaleInInput = {
      regionId: target.regionId,
      scalingGroupId: target.scalingGroupId,
      instanceIds: target.instanceIds,
      batchSize: opts.batchSize,
      // Two batches drained ahead: the next batch is ready when ESS finishes the current one.
      drain: { strategy: 'weight', timeoutSeconds: opts.drainTimeoutSeconds, maxDrainedAhead: opts.batchSize * 2 },
      reason: `npm run demo: retire the ${target.instanceIds.length} oldest instances of ${target.scalingGroupName}`,
      // The emulator's activities take seconds; poll them at a demo's pace.
      advanced: { pollMinIntervalMs: 1000, pollMaxIntervalMs: 4000 },
    };
    const started = await client.start(input);
    const link = runUrl(uiUrl, temporal.namespace, workflowId);
    say('');
    say(
      `Scale-in of ${target.instanceIds.length} instances of ${target.scalingGroupName} (${target.scalingGroupId}, TotalCapacity ${target.totalCapacity}, MinSize ${target.minSize})`,
    );
    say(
      `in batches of ${opts.batchSize}, drain ${opts.drainTimeoutSeconds}s, oldest first: ${target.instanceIds[0] ?? ''} … ${target.instanceIds[target.instanceIds.length - 1] ?? ''}`,
    );
    say(`Temporal UI: ${link}`);
    say('');

    const raced = await Promise.race([
      followRun(client, workflowId, io, { bar: !opts.json, taskQueue: DEMO_TASK_QUEUE }),
      stopRequested,
    ]);
    if (raced === 'stop') {
      say(
        `The run was still going; it stays in ${rel(path.join(opts.dataDir, 'temporal.db'))} and the next demo replaces it.`,
      );
      return await shutdown(EXIT.ok);
    }
    const end: RunEnd = raced;
    say('');
    const code = reportEnd(opts.json ? { ...io, out: io.err } : io, end, false);
    say('');
    say(`Temporal UI: ${link}`);
    if (opts.json)
      printJson(io, {
        ...endJson(end, { runId: started.runId }),
        uiUrl,
        runUrl: link,
        temporalAddress: server.address,
        emulatorUrl: emulator.url,
      });

    if (opts.exitWhenDone || stopping) return await shutdown(code);
    const after = emulator.state.snapshot().groups.find((g) => g.scalingGroupId === target.scalingGroupId);
    say('');
    say('Everything keeps running so you can look around:');
    say(
      `  Temporal UI    ${uiUrl}/namespaces/default/workflows   (filter: EssScalingGroupId="${target.scalingGroupId}")`,
    );
    say(
      `  Emulator state ${emulator.url}/__emulator/state   (the group now has TotalCapacity ${after?.totalCapacity ?? '?'})`,
    );
    say('  Try the CLI from another terminal:');
    say(`    export TEMPORAL_ADDRESS=${server.address} TEMPORAL_TASK_QUEUE=${DEMO_TASK_QUEUE}`);
    say('    npm run -s cli -- list');
    say(`    npm run -s cli -- status ${workflowId}`);
    const next = target.remaining.slice(0, 2).join(',');
    if (next)
      say(
        `    npm run -s cli -- start --region ${target.regionId} --group ${target.scalingGroupId} --instances ${next} --drain-timeout 5 --require-approval --wait`,
      );
    say('Press Ctrl-C to stop the worker, the emulator and the Temporal server.');
    await stopRequested;
    return await shutdown(EXIT.ok);
  } catch (e) {
    await shutdown(EXIT.failed);
    throw e;
  }
}

/** Worker chatter goes to worker.log; only errors reach the terminal, so the demo output stays readable. */
function installQuietRuntime(log: NodeJS.WritableStream, io: Io): void {
  const logger = new DefaultLogger('INFO', (entry) => {
    const line = `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}`;
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
    `  terminated ${workflowId} (run ${desc.runId}), left running by an earlier demo: the emulator starts fresh each time`,
  );
}
