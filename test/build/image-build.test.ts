import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';

/**
 * The Dockerfile's build steps, run for real: compile, write the workflow bundle, start the
 * compiled CLI and health check. Kept out of the unit project because compiling and bundling the
 * whole project takes most of a minute on a busy machine; the offline checks of the Dockerfile
 * stay in test/unit/compose.test.ts.
 */
const root = path.resolve(__dirname, '../..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');
const dockerfile = read('Dockerfile');
// No metrics endpoint: the compiled worker and health check must not pick one up from the caller's environment.
const env = { ...process.env, METRICS_PORT: '', TEMPORAL_METRICS_BIND_ADDRESS: '' };

describe('Dockerfile', () => {
  it('has a build step that emits the entry points the image runs, and they start', () => {
    const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build;
    expect(script).toBe('tsc -p tsconfig.build.json');
    expect(dockerfile).toMatch(/RUN npm run build/);
    // Same command as `npm run build`, into a scratch directory inside the project (so node_modules resolve).
    const out = path.join(root, 'test-artifacts', 'dist-check');
    rmSync(out, { recursive: true, force: true });
    const run = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: 'pipe', env });
    run([path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out]);
    for (const f of ['worker.js', 'cli.js', 'observability/healthcheck.js', 'emulator/scenarios/demo.json'])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    // The image's bundle step, then the CLI the emulator service runs.
    expect(run([path.join(out, 'worker.js'), '--write-workflow-bundle', path.join(out, 'workflow-bundle.js')])).toMatch(
      /workflow bundle written/,
    );
    expect(statSync(path.join(out, 'workflow-bundle.js')).size).toBeGreaterThan(100_000);
    expect(run([path.join(out, 'cli.js'), 'emulator', '--help'])).toMatch(/Usage: ess-scale-in emulator/);
    // Without a metrics endpoint the health check reports unhealthy (exit 1), it does not pass blindly.
    const health = spawnSync(process.execPath, [path.join(out, 'observability/healthcheck.js')], {
      cwd: root,
      encoding: 'utf8',
      env,
    });
    expect(health.status).toBe(1);
    expect(health.stdout).toMatch(/unhealthy: no metrics endpoint configured/);
  });
});
