/**
 * The chaos suite: `npm run chaos -- --runs 50 [--seed 1000] [--parallel 2] [--timeout-s 180] [--classes ...]`.
 * Runs are independent (an emulator, a worker process and a task queue each), so `--parallel`
 * overlaps their waits; the seeds, not the timing, decide what each run does.
 * Run i uses seed `seed + i`; a failing run is replayed alone with `--runs 1 --seed <its seed>` and the
 * same `--classes`.
 * Ends with `N passed, M failed`; exit code 1 when any run failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startLab } from '../src/devtools/lab';
import {
  CLASS_DESCRIPTIONS,
  CLASS_RATE,
  DEFAULT_CLASSES,
  FAULT_CLASSES,
  parseClasses,
  planRun,
  type FaultClass,
} from './plan';
import { runChaos, type ChaosRunReport } from './run';

const OPTIONS = {
  runs: { type: 'string', default: '10' },
  seed: { type: 'string' },
  'timeout-s': { type: 'string', default: '180' },
  parallel: { type: 'string', default: '2' },
  classes: { type: 'string' },
  'temporal-address': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function usage(): string {
  const classes = FAULT_CLASSES.map(
    (c) => `  ${c.padEnd(20)}${DEFAULT_CLASSES.includes(c) ? '(default) ' : ''}${CLASS_DESCRIPTIONS[c]}`,
  );
  return [
    'Usage: npm run chaos -- [options]',
    '',
    'Each run: its own emulator and worker process, 1-3 scaling groups scaled in at once, faults drawn from a seed,',
    'then invariants checked against the emulator (accepted-once, only-requested-touched, every-instance-accounted,',
    'none-left-drained, result-matches-cloud, activities-ended, hooks-as-asked).',
    '',
    'Options:',
    '  --runs N             runs to do (default 10); run i uses seed + i',
    '  --seed S             first seed (default: from the clock)',
    '  --parallel P         runs at a time (default 2)',
    '  --timeout-s T        a run still going after T s fails (default 180)',
    `  --classes LIST       fault classes each run may draw (each with probability ${CLASS_RATE}, on dice of its own):`,
    '                       comma-separated names, `all`, or `none`; default: those that pass today',
    '                       (the base faults - API errors, lost answers, resets, latency, early worker kills,',
    '                       cancels, Warning/Failed activities - are always drawn)',
    '  --temporal-address A use this Temporal server instead of starting a dev server',
    '  --quiet              no per-event log lines',
    '  -h, --help           this text',
    '',
    'Fault classes:',
    ...classes,
  ].join('\n');
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  let values;
  let classes: Array<(typeof FAULT_CLASSES)[number]>;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
    classes = parseClasses(values.classes);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    console.log(usage());
    return;
  }
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
    `chaos: ${runs} run(s), seeds ${seed}..${seed + runs - 1}, ${parallel} at a time, ` +
      `classes: ${classes.length ? classes.join(',') : 'none'} (replay one with --runs 1 --seed <seed> --classes ...)`,
  );

  const lab = await startLab(values['temporal-address'] ? { temporalAddress: values['temporal-address'] } : {});
  const reports: ChaosRunReport[] = [];
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const one = async (i: number): Promise<void> => {
    const plan = planRun(seed + i, nonce, classes);
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
        classes: plan.classes,
        seconds: 0,
        kills: 0,
        serverRestarts: 0,
        terminates: 0,
        otherActorEvents: 0,
        faultedCalls: 0,
        latencyCalls: 0,
        apiCalls: 0,
        requested: 0,
        requestedWithoutResult: 0,
        removed: 0,
        notRemoved: 0,
        outcomes: [],
        leftDrained: [],
        pending: [],
      };
    }
    reports.push(report);
    console.log(
      `run ${++done}/${runs} seed ${report.seed} ${report.passed ? 'PASS' : 'FAIL'} ${report.seconds}s · ` +
        `${report.kills} kill(s) · ${report.faultedCalls}/${report.apiCalls} calls faulted ` +
        `(+${report.latencyCalls} delayed) · ` +
        `${report.serverRestarts} server restart(s), ${report.terminates} terminate(s), ` +
        `${report.otherActorEvents} other-actor event(s) · ` +
        `removed ${report.removed}/${report.requested}, not removed ${report.notRemoved} · ` +
        `${report.outcomes.join(', ')} · ${report.summary}`,
    );
    for (const v of report.violations) console.log(`    ✗ ${v.invariant}: ${v.detail}`);
    for (const p of report.pending) console.log(`    … pending: ${p}`);
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

  printSummary(reports, classes, Date.now() - t0);
  const out = path.join('test-artifacts', 'chaos', `chaos-${seed}-${runs}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ seed, runs, reports }, null, 2) + '\n');
  console.log(`report: ${out}`);
  const passed = reports.filter((r) => r.passed).length;
  console.log(`${passed} passed, ${reports.length - passed} failed`);
  process.exitCode = passed === reports.length ? 0 : 1;
}

function printSummary(reports: ChaosRunReport[], classes: readonly FaultClass[], wallMs: number): void {
  const passed = reports.filter((r) => r.passed).length;
  const sum = (f: (r: ChaosRunReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const row = (cells: Array<string | number>) => console.log(`| ${cells.join(' | ')} |`);
  console.log('');
  row([
    'runs',
    'passed',
    'failed',
    'worker kills',
    'server restarts',
    'terminates',
    'other-actor events',
    'faulted calls (real faults)',
    'latency-only calls',
    'API calls',
    'instances requested',
    'removed',
    'reported not removed',
    'violations',
    'wall time',
  ]);
  console.log(`|${'---|'.repeat(15)}`);
  row([
    reports.length,
    passed,
    reports.length - passed,
    sum((r) => r.kills),
    sum((r) => r.serverRestarts),
    sum((r) => r.terminates),
    sum((r) => r.otherActorEvents),
    sum((r) => r.faultedCalls),
    sum((r) => r.latencyCalls),
    sum((r) => r.apiCalls),
    sum((r) => r.requested),
    sum((r) => r.removed),
    sum((r) => r.notRemoved),
    sum((r) => r.violations.length),
    `${(wallMs / 1000).toFixed(0)} s`,
  ]);
  console.log('\n| fault class | runs drawn | runs failed | violations |');
  console.log('|---|---|---|---|');
  for (const c of ['base', ...classes] as FaultClass[]) {
    const drawn = reports.filter((r) => r.classes.includes(c));
    const failed = drawn.filter((r) => !r.passed);
    const kinds = [...new Set(failed.flatMap((r) => r.violations.map((v) => v.invariant)))].join(', ');
    row([c, drawn.length, failed.length, kinds || '-']);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
