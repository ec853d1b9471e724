// Runs every vitest project and ends with one plain line, "tests: N passed, N failed[, N skipped]",
// that CI systems can read whatever the reporter prints. Exit code: vitest's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

// `npm test` runs every project but `production` (Temporal on PostgreSQL: its own CI stage, see .ci/run);
// a run naming its projects (`--project production`) runs those and keeps its report apart.
const args = process.argv.slice(2);
const named = args
  .flatMap((a, i) => (a === '--project' ? [args[i + 1]] : a.startsWith('--project=') ? [a.slice(10)] : []))
  .filter(Boolean)
  .map((n) => n.replace(/\W/g, '_'));
const projectArgs = named.length ? [] : ['--project=!production'];
const out = path.join('test-artifacts', `vitest-results${named.length ? `-${named.join('-')}` : ''}.json`);
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
    ...projectArgs,
    ...args,
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
