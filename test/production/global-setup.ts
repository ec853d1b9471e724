import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowsTo } from '../../src/devtools/lab';
import { startProductionTemporal, type ProductionTemporalTimings } from '../../src/devtools/production-temporal';

/**
 * The `production` project's one server: Temporal 1.29.1 on a private PostgreSQL (see
 * src/devtools/production-temporal.ts) instead of the dev server, provided under the same
 * `temporalAddress` key so test/harness/stack.ts starts its emulator and workers against it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-test-production-'));
  const t0 = Date.now();
  const server = await startProductionTemporal({ log: (l) => console.log(`[production] ${l}`) });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  try {
    await bundleWorkflowsTo(bundlePath);
  } catch (e) {
    await server.stop();
    throw e;
  }
  const t = server.timings;
  console.log(
    `[production] Temporal ${server.address} on PostgreSQL 127.0.0.1:${server.postgresPort} ready in ` +
      `${t.totalMs} ms (PostgreSQL ${t.postgresMs}, schemas ${t.schemaMs}, server ${t.serverMs}, ` +
      `namespace ${t.namespaceMs}); workflows bundled in ${Date.now() - t0 - t.totalMs} ms; log: ${server.serverLog}`,
  );
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('productionTimings', t);
  return async () => {
    const s0 = Date.now();
    await server.stop();
    console.log(`[production] stopped in ${Date.now() - s0} ms`);
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    productionTimings: ProductionTemporalTimings;
  }
}
