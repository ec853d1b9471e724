import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The CLI and the worker read the default Temporal config file (~/.config/temporalio/temporal.toml) as
// the `temporal` CLI does: a developer's own profile (a Cloud API key, say) must not reach the tests.
const NO_TEMPORAL_PROFILE = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-xdg-'));

export default defineConfig({
  test: {
    pool: 'forks',
    env: { XDG_CONFIG_HOME: NO_TEMPORAL_PROFILE },
    // Two test files at a time. Vitest's default on 2 cores is one (cores - 1); the integration files
    // mostly wait on servers and timers, so two at a time keep the suite within its 10-minute budget.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          // One module graph per worker instead of one per file: half the CPU time of the run, which is
          // what counts on a busy 2-core machine. Unit tests leave no state behind (the env is restored);
          // a test that needs a fresh module graph (vi.mock, module-level state) belongs in another project.
          isolate: false,
        },
      },
      {
        // Builds and bundles the whole project like the Dockerfile does: too slow for the unit project.
        extends: true,
        test: {
          name: 'build',
          include: ['test/build/**/*.test.ts'],
          testTimeout: 180_000,
        },
      },
      {
        // Real HTTP on loopback against the emulator; no Temporal server needed.
        extends: true,
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          setupFiles: ['test/harness/setup-runtime.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The production topology (Temporal 1.29.1 on PostgreSQL, src/devtools/production-temporal.ts) instead
        // of the dev server. Not in `npm test` (scripts/run-tests.mjs leaves it out): `npm run test:production`,
        // a stage of its own in .ci/run.
        extends: true,
        test: {
          name: 'production',
          include: ['test/production/**/*.test.ts'],
          globalSetup: ['test/production/global-setup.ts'],
          setupFiles: ['test/harness/setup-runtime.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
