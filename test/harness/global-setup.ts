import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../../src/devtools/temporal-dev-server';

/**
 * One Temporal dev server per test run (with the project's search attributes), and the workflow
 * code bundled once; tests reach both through `inject()`. Teardown stops the server even when
 * tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-test-'));
  const logFile = path.join(dir, 'temporal-dev-server.log');
  const t0 = Date.now();
  const server = await startDevServer({ logFile });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  try {
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
      payloadConverterPath: path.resolve(__dirname, '../../src/shared/payload-converter.ts'),
      logger: { warn() {}, info() {}, debug() {}, trace() {}, error: console.error, log() {} },
    });
    writeFileSync(bundlePath, bundle.code);
  } catch (e) {
    await server.stop();
    throw e;
  }
  console.log(
    `[harness] Temporal dev server ${server.address} ready, workflows bundled, ` +
      `in ${Date.now() - t0} ms (log: ${logFile})`,
  );
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}
