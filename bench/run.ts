/**
 * The benchmark suite: one Temporal dev server (the lab) for the whole invocation, then each
 * benchmark with its own in-process emulator and worker child process. Each prints a markdown table
 * on stdout and writes bench/results/<name>.json; bench/RESULTS.md is regenerated afterwards from
 * every JSON file there. Progress goes to stderr.
 *
 *   npm run bench                                  # all six, in order (about 15–18 minutes on 2 cores)
 *   npm run bench -- --only overhead,polling       # some of them
 *   npm run bench -- --only hooks                  # the lifecycle-hook modes (about 2 minutes)
 *   npm run bench -- --only fleet                  # fleet rows on Temporal 1.29.1 + PostgreSQL (about 6 minutes)
 *   npm run bench -- --quick                       # smoke sizes; results in bench/results/quick/, RESULTS.md untouched
 *   npm run bench -- --only history --instances 10000 [--batch-size 20] [--activity-ms 50] [--drain-s 0]
 *
 * Exits non-zero when any benchmark failed (a run that did not complete with every instance
 * removed exactly once fails its benchmark; no numbers are written for it).
 */
import { parseArgs } from 'node:util';
import { startLab, type Lab } from '../src/devtools/lab';
import {
  BENCH_NAMES,
  QUICK_RESULTS_DIR,
  killLiveWorkers,
  RESULTS_DIR,
  machine,
  makeProgress,
  markdownTable,
  writeResult,
  writeResultsMarkdown,
  type BenchArgs,
  type BenchModule,
  type BenchName,
} from './lib';
import * as forecastBench from './forecast';
import * as fleetBench from './fleet';
import * as historyBench from './history';
import * as hooksBench from './hooks';
import * as manyGroupsBench from './many-groups';
import * as overheadBench from './overhead';
import * as pollingBench from './polling';
import * as resumeBench from './resume';

const NAMES = BENCH_NAMES;
type Name = BenchName;

const MODULES: Record<Name, BenchModule> = {
  overhead: overheadBench,
  polling: pollingBench,
  forecast: forecastBench,
  'many-groups': manyGroupsBench,
  history: historyBench,
  resume: resumeBench,
  hooks: hooksBench,
  fleet: fleetBench,
};

const USAGE =
  `usage: npm run bench -- [--only ${NAMES.join(',')}] [--quick] ` +
  `[--instances N] [--batch-size N] [--activity-ms N] [--drain-s N]

  --only a,b        run only these benchmarks (in the canonical order): ${NAMES.join(', ')}
  --quick           smoke sizes (seconds, not minutes); results go to bench/results/quick/, RESULTS.md is left alone
  --instances N     history: instances to remove (default 10000; 200 with --quick)
  --batch-size N    history: instances per batch (default 20)
  --activity-ms N   history: emulated scaling activity duration (default 50)
  --drain-s N       history: drain timeout in seconds (default 0)`;

class UsageError extends Error {}

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function parse(argv: string[]): { only: Name[]; quick: boolean; args: BenchArgs; help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
        instances: { type: 'string' },
        'batch-size': { type: 'string' },
        'activity-ms': { type: 'string' },
        'drain-s': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let only: Name[] = [...NAMES];
  if (values.only !== undefined) {
    const asked = values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = asked.filter((n) => !(NAMES as readonly string[]).includes(n));
    if (unknown.length)
      throw new UsageError(
        `unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u)).join(', ')}; ` +
          `known: ${NAMES.join(', ')}`,
      );
    if (!asked.length) throw new UsageError(`--only needs at least one of: ${NAMES.join(', ')}`);
    only = NAMES.filter((n) => asked.includes(n));
  }
  const args: BenchArgs = {
    instances: positiveInt('instances', values.instances),
    batchSize: positiveInt('batch-size', values['batch-size']),
    activityMs: positiveInt('activity-ms', values['activity-ms'], 0),
    drainS: positiveInt('drain-s', values['drain-s'], 0),
  };
  if (args.batchSize !== undefined && args.batchSize > 20)
    throw new UsageError('--batch-size must be at most 20 (RemoveInstances takes at most 20 instances)');
  return { only, quick: values.quick, args, help: values.help };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let opts;
  try {
    opts = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Ctrl-C or a kill: exit through process.exit so the 'exit' hooks SIGKILL the worker processes
  // and the Temporal dev server (startDevServer registers its own hook).
  process.on('exit', killLiveWorkers);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}: killing the worker processes and the Temporal dev server\n`);
      process.exit(130);
    });
  }
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const progress = makeProgress('bench');
  const t0 = Date.now();
  const failed: string[] = [];
  const written: string[] = [];
  progress(
    `${opts.quick ? 'quick ' : ''}run of ${opts.only.join(', ')}; ` +
      'starting the Temporal dev server and bundling the workflows',
  );
  let lab: Lab | undefined;
  try {
    lab = await startLab();
    progress(`lab ready: Temporal at ${lab.temporalAddress}`);
    for (const only of opts.only) {
      const name = only;
      const started = Date.now();
      const benchProgress = makeProgress(name);
      benchProgress('start');
      try {
        const report = await MODULES[only].run({
          name,
          lab,
          quick: opts.quick,
          args: opts.args,
          progress: benchProgress,
        });
        const seconds = (Date.now() - started) / 1000;
        const heading = `## ${name}: ${report.title}${opts.quick ? ' (quick)' : ''}`;
        const notes = report.notes.map((n) => `\n- ${n}`).join('');
        process.stdout.write(`\n${heading}\n\n${markdownTable(report.table)}\n${notes}\n\n`);
        const file = writeResult(opts.quick ? QUICK_RESULTS_DIR : RESULTS_DIR, {
          name,
          ...report,
          command,
          date: new Date().toISOString(),
          quick: opts.quick,
          seconds,
          machine: machine(),
        });
        written.push(file);
        benchProgress(`done in ${seconds.toFixed(1)} s: ${file}`);
      } catch (e) {
        failed.push(name);
        benchProgress(`FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
  } finally {
    await lab?.close();
  }
  if (!opts.quick) {
    const md = writeResultsMarkdown();
    const skipped = md.skipped.length ? `; skipped files not in the bench format: ${md.skipped.join(', ')}` : '';
    progress(`${md.file} regenerated (${md.benchmarks.join(', ')})${skipped}`);
    const stale = failed.filter((n) => md.benchmarks.includes(n));
    if (stale.length)
      progress(`note: RESULTS.md still shows the earlier (dated) results of the failed ${stale.join(', ')}`);
  }
  progress(
    `finished in ${((Date.now() - t0) / 1000).toFixed(0)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`,
  );
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
