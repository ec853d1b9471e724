// Runs every vitest project and ends with one plain line, "tests: N passed, N failed[, N skipped]",
// that CI systems can read whatever the reporter prints. Exit code: vitest's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const out = path.join('test-artifacts', 'vitest-results.json');
mkdirSync(path.dirname(out), { recursive: true });
rmSync(out, { force: true });
const res = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let summary = 'tests: no results (vitest did not write its report)';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
} catch {
  // fall through with the message above
}
console.log(summary);
process.exit(res.status ?? 1);
