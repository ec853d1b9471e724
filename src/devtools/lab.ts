/**
 * A whole local stack for benchmarks and the chaos suite: a Temporal dev server (or one given by
 * address) and the workflow code bundled once to a file, so worker processes start in about a second.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ScaleInClient } from '../client';
import { startDevServer, type RunningDevServer } from './temporal-dev-server';

export interface Lab {
  temporalAddress: string;
  workflowBundlePath: string;
  connection: Connection;
  rawClient: Client;
  /** A client bound to this task queue. */
  scaleInClient(taskQueue: string): Promise<ScaleInClient>;
  close(): Promise<void>;
}

const quiet = { warn() {}, info() {}, debug() {}, trace() {}, error: console.error, log() {} };

/** Writes the workflow bundle to `file`. */
export async function bundleWorkflowsTo(file: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../workflows/index.ts'),
    // As every bundle of the workflows: see PAYLOAD_CONVERTER_PATH in src/worker.ts.
    payloadConverterPath: path.resolve(__dirname, '../shared/payload-converter.ts'),
    logger: quiet,
  });
  writeFileSync(file, code);
}

export async function startLab(opts: { temporalAddress?: string; workflowBundlePath?: string } = {}): Promise<Lab> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-lab-'));
  let server: RunningDevServer | undefined;
  try {
    if (!opts.temporalAddress) server = await startDevServer({ logFile: path.join(dir, 'temporal-dev-server.log') });
    const temporalAddress = opts.temporalAddress ?? (server as RunningDevServer).address;
    let workflowBundlePath = opts.workflowBundlePath;
    if (!workflowBundlePath) {
      workflowBundlePath = path.join(dir, 'workflow-bundle.js');
      await bundleWorkflowsTo(workflowBundlePath);
    }
    const connection = await Connection.connect({ address: temporalAddress });
    const rawClient = new Client({ connection });
    return {
      temporalAddress,
      workflowBundlePath,
      connection,
      rawClient,
      scaleInClient: (taskQueue) =>
        ScaleInClient.connect({
          client: rawClient,
          temporal: { address: temporalAddress, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined },
        }),
      async close() {
        await connection.close();
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
