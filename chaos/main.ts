/**
 * The chaos suite: `npm run chaos -- --runs 50 [--seed 1000] [--parallel 2] [--timeout-s 180]`.
 * Runs are independent (an emulator, a worker process and a task queue each), so `--parallel`
 * overlaps their waits; the seeds, not the timing, decide what each run does.
 * Run i uses seed `seed + i`; a failing run is replayed alone with `--runs 1 --seed <its seed>`.
 * Ends with `N passed, M failed`; exit code 1 when any run failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startLab } from '../src/devtools/lab';
import { planRun } from './plan';
import { runChaos, type ChaosRunReport } from './run';

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      seed: { type: 'string' },
      'timeout-s': { type: 'string', default: '180' },
      parallel: { type: 'string', default: '2' },
      'temporal-address': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const runs = positiveInt('runs', values.runs, 10);
  const seed = positiveInt('seed', values.seed, Math.floor(Date.now() / 1000) % 1_000_000);
  const timeoutMs = positiveInt('timeout-s', values['timeout-s'], 180) * 1000;
  const parallel = Math.max(1, positiveInt('parallel', values.parallel, 2));
  const nonce = randomBytes(8)
    .toString('hex')
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 5)
    .padEnd(5, '0');
  console.log(
    `chaos: ${runs} run(s), seeds ${seed}..${seed + runs - 1}, ${parallel} at a time ` +
      '(replay one with --runs 1 --seed <seed>)',
  );

  const lab = await startLab(values['temporal-address'] ? { temporalAddress: values['temporal-address'] } : {});
  const reports: ChaosRunReport[] = [];
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const one = async (i: number): Promise<void> => {
    const plan = planRun(seed + i, nonce);
    let report: ChaosRunReport;
    try {
      report = await runChaos(lab, plan, { timeoutMs, log: values.quiet ? undefined : (l) => console.log(l) });
    } catch (e) {
      // The harness itself failed (not an invariant): count it as a failed run, with the error.
      report = {
        seed: plan.seed,
        summary: plan.summary,
        passed: false,
        violations: [
          { invariant: 'every-instance-accounted', detail: `harness error: ${(e as Error).stack ?? String(e)}` },
        ],
        seconds: 0,
        kills: 0,
        faultedCalls: 0,
        apiCalls: 0,
        requested: 0,
        removed: 0,
        notRemoved: 0,
        outcomes: [],
      };
    }
    reports.push(report);
    console.log(
      `run ${++done}/${runs} seed ${report.seed} ${report.passed ? 'PASS' : 'FAIL'} ${report.seconds}s · ` +
        `${report.kills} kill(s) · ${report.faultedCalls}/${report.apiCalls} calls faulted · ` +
        `removed ${report.removed}/${report.requested}, not removed ${report.notRemoved} · ` +
        `${report.outcomes.join(', ')} · ${report.summary}`,
    );
    for (const v of report.violations) console.log(`    ✗ ${v.invariant}: ${v.detail}`);
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(parallel, runs) }, async () => {
        while (next < runs) await one(next++);
      }),
    );
  } finally {
    await lab.close();
  }

  const passed = reports.filter((r) => r.passed).length;
  const sum = (f: (r: ChaosRunReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  console.log(
    '\n| runs | passed | failed | worker kills | faulted calls / API calls | ' +
      'instances requested | removed | reported not removed | wall time |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const totals = [
    reports.length,
    passed,
    reports.length - passed,
    sum((r) => r.kills),
    `${sum((r) => r.faultedCalls)} / ${sum((r) => r.apiCalls)}`,
    sum((r) => r.requested),
    sum((r) => r.removed),
    sum((r) => r.notRemoved),
    `${((Date.now() - t0) / 1000).toFixed(0)} s`,
  ];
  console.log(`| ${totals.join(' | ')} |`);
  const out = path.join('test-artifacts', 'chaos', `chaos-${seed}-${runs}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ seed, runs, reports }, null, 2) + '\n');
  console.log(`report: ${out}`);
  console.log(`${passed} passed, ${reports.length - passed} failed`);
  process.exitCode = passed === reports.length ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
