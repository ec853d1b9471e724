import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const GROUP_RUN = 'ess-scale-in%2Fcn-hangzhou%2Fasg-bp1demo0000000000001';

interface DemoRun {
  code: number | null;
  output: string;
}

function demo(dataDir: string, extra: string[] = []): Promise<DemoRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'npx',
      [
        'tsx',
        'src/demo.ts',
        '--exit-when-done',
        '--temporal-port',
        '0',
        '--ui-port',
        '0',
        '--emulator-port',
        '0',
        ...extra,
      ],
      {
        cwd: root,
        env: { ...process.env, ESS_DEMO_DIR: dataDir },
        timeout: 90_000,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, output: `${stdout}\n${stderr}` });
      },
    );
    child.stdin?.end();
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('npm run demo (src/demo.ts --exit-when-done)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ess-demo-test-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('removes 45 instances in 3 batches, links the run in the UI, stops, reruns on the same SQLite state', async () => {
    const first = await demo(dataDir);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(
      new RegExp(`Temporal UI: http://127\\.0\\.0\\.1:\\d+/namespaces/default/workflows/${GROUP_RUN}`),
    );
    expect(first.output).toContain('removed 45');
    expect(first.output).toContain(
      'Completed: removed 45, failed 0, restored 0, skipped 0 of 45 instance(s) in 3 batch(es).',
    );
    const lines = first.output.split('\n');
    const rows = lines.filter((l) => /^[123] +15 +asa-[a-z0-9]+ +succeeded \(Successful\)$/.test(l));
    expect(rows).toHaveLength(3);
    // Every instance of each batch is listed under its row (indented to the instances column).
    const listed = lines.filter((l) => /^ {7}i-\S+( i-\S+)*$/.test(l)).flatMap((l) => l.trim().split(' '));
    expect(new Set(listed).size).toBe(45);
    expect(first.output).toMatch(/\[#{24}\] 3\/3 batches \| removed 45\/45 \| failed 0 \| Completed/);
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);

    // Stopped cleanly: the dev server no longer listens.
    const port = Number(/Temporal 127\.0\.0\.1:(\d+), UI/.exec(first.output)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await listening(port)).toBe(false);

    // Same SQLite file, fresh emulator: the workflow ID is reused for a new run.
    const second = await demo(dataDir, ['--instances', '3', '--batch-size', '3', '--drain-timeout', '0']);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('removed 3, failed 0, restored 0, skipped 0, pending 0 (of 3)');
    expect(second.output).toContain(`/namespaces/default/workflows/${GROUP_RUN}`);
  });
});
