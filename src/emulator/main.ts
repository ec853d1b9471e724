/**
 * `ess-scale-in emulator [--port 18080] [--host 127.0.0.1] [--scenario demo|small|<file.json>]
 *  [--access-key id:secret]... [--time-scale 1] [--log]`
 *
 * Starts the emulator, prints the URL and the environment lines for the worker / CLI (never the
 * secret, only where it comes from), and runs until SIGINT / SIGTERM.
 */
import { BUILTIN_SCENARIOS } from './scenario';
import { parseAccessKeys, startEmulator, type RunningEmulator } from './index';

export interface EmulatorCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Stops the emulator when aborted (tests); SIGINT / SIGTERM always do. */
  signal?: AbortSignal;
}

const defaultIo: EmulatorCliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

const USAGE = `Usage: ess-scale-in emulator [options]

Runs the ESS / SLB / ALB API emulator on one port.

Options:
  --port <n>              port to listen on (default 18080; 0 = any free port)
  --host <addr>           address to bind (default 127.0.0.1)
  --scenario <name|file>  built-in scenario (${Object.keys(BUILTIN_SCENARIOS).join(', ')}) or a JSON file (default demo)
  --access-key <id:secret> accept this key (repeatable; replaces the scenario's keys)
  --time-scale <x>        multiply every scenario duration (default 1)
  --log                   print one line per API call
  -h, --help              show this help`;

interface CliOptions {
  port: number;
  host: string;
  scenario: string;
  accessKeys: Record<string, string> | undefined;
  timeScale: number;
  log: boolean;
}

class UsageError extends Error {}

/** Options that take a value: each checks it and sets its option. */
const VALUE_OPTIONS: Readonly<Record<string, (opts: CliOptions, value: string) => void>> = {
  '--port': (opts, v) => {
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port must be 0..65535, got ${v}`);
    opts.port = Number(v);
  },
  '--host': (opts, v) => {
    opts.host = v;
  },
  '--scenario': (opts, v) => {
    opts.scenario = v;
  },
  '--access-key': (opts, v) => {
    const parsed = parseAccessKeys(v);
    if (!parsed || Object.keys(parsed).length !== 1) throw new UsageError('--access-key must look like id:secret');
    opts.accessKeys = { ...(opts.accessKeys ?? {}), ...parsed };
  },
  '--time-scale': (opts, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError('--time-scale must be a number >= 0');
    opts.timeScale = n;
  },
};

function defaultOptions(): CliOptions {
  return { port: 18080, host: '127.0.0.1', scenario: 'demo', accessKeys: undefined, timeScale: 1, log: false };
}

function parseArgs(argv: readonly string[]): CliOptions | 'help' {
  const opts = defaultOptions();
  const args = [...argv];
  // Tolerate being handed the subcommand itself.
  if (args[0] === 'emulator') args.shift();
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const eq = raw.indexOf('=');
    const inlineForm = raw.startsWith('--') && eq > 0;
    const flag = inlineForm ? raw.slice(0, eq) : raw;
    if (flag === '-h' || flag === '--help') return 'help';
    if (flag === '--log') {
      opts.log = true;
      continue;
    }
    const setOption = Object.hasOwn(VALUE_OPTIONS, flag) ? VALUE_OPTIONS[flag] : undefined;
    if (!setOption) throw new UsageError(`unknown argument ${raw}`);
    const value = inlineForm ? raw.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    setOption(opts, value);
  }
  return opts;
}

/** Where the secret of the first key comes from: printed instead of the secret itself. */
function secretHint(opts: CliOptions, scenarioKeys: Record<string, string> | undefined, firstKey: string): string {
  if (opts.accessKeys) return 'the secret you passed with --access-key';
  if (!scenarioKeys || !(firstKey in scenarioKeys)) return 'the secret of that key in EMULATOR_ACCESS_KEYS';
  const file = BUILTIN_SCENARIOS[opts.scenario] ? `src/emulator/scenarios/${opts.scenario}.json` : opts.scenario;
  return `accessKeys["${firstKey}"] in scenario ${file}`;
}

function printBanner(io: EmulatorCliIo, opts: CliOptions, emu: RunningEmulator): void {
  const snap = emu.state.snapshot();
  const keyIds = snap.accessKeyIds;
  const firstKey = keyIds[0] ?? '';
  const hint = secretHint(opts, emu.state.scenario.accessKeys, firstKey);
  io.out(`Alibaba Cloud API emulator (ESS 2014-08-28, SLB 2014-05-15, ALB 2020-06-16) listening on ${emu.url}`);
  const size = `${snap.groups.length} scaling group(s), ${snap.instances.length} instance(s)`;
  io.out(`scenario: ${snap.scenarioName} (${size}); admin API: ${emu.url}/__emulator/state`);
  if (keyIds.length > 1) io.out(`access keys accepted: ${keyIds.join(', ')}`);
  io.out('');
  io.out('Point the worker / CLI at it with:');
  io.out(`  export ESS_ENDPOINT=${emu.url}`);
  io.out(`  export SLB_ENDPOINT=${emu.url}`);
  io.out(`  export ALB_ENDPOINT=${emu.url}`);
  io.out(`  export NLB_ENDPOINT=${emu.url}`);
  io.out(`  export ALIBABA_CLOUD_ACCESS_KEY_ID=${firstKey}`);
  io.out(`  export ALIBABA_CLOUD_ACCESS_KEY_SECRET=...   # ${hint}`);
  io.out('');
  io.out('Press Ctrl+C to stop.');
}

/** Resolves on SIGINT, SIGTERM or `signal`'s abort, whichever comes first. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}

/** The options, or the exit code when there is nothing to run (help, or a usage error). */
function optionsOrExit(argv: readonly string[], io: EmulatorCliIo): CliOptions | number {
  try {
    const opts = parseArgs(argv);
    if (opts !== 'help') return opts;
    io.out(USAGE);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`error: ${e.message}`);
    io.err(USAGE);
    return 2;
  }
}

/** Runs until SIGINT / SIGTERM (or `io.signal`); resolves to the process exit code. */
export async function runEmulatorCli(argv: readonly string[], io: EmulatorCliIo = defaultIo): Promise<number> {
  const opts = optionsOrExit(argv, io);
  if (typeof opts === 'number') return opts;
  let emu: RunningEmulator;
  try {
    emu = await startEmulator({
      host: opts.host,
      port: opts.port,
      scenario: opts.scenario,
      ...(opts.accessKeys ? { accessKeys: opts.accessKeys } : {}),
      timeScale: opts.timeScale,
      ...(opts.log ? { log: (l: string) => io.out(l) } : {}),
    });
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 1;
  }
  printBanner(io, opts, emu);
  await untilStopped(io.signal);
  await emu.close();
  io.out('emulator stopped');
  return 0;
}
