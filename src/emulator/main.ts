/**
 * `ess-scale-in emulator [--port 18080] [--host 127.0.0.1] [--scenario demo|small|<file.json>]
 *  [--access-key id:secret]... [--time-scale 1] [--log]`
 *
 * Starts the emulator, prints the URL and the environment lines for the worker / CLI (never the
 * secret, only where it comes from), and runs until SIGINT / SIGTERM.
 */
import { BUILTIN_SCENARIOS } from './scenario';
import { parseAccessKeys, startEmulator } from './index';

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

function parseArgs(argv: readonly string[]): CliOptions | 'help' {
  const opts: CliOptions = {
    port: 18080,
    host: '127.0.0.1',
    scenario: 'demo',
    accessKeys: undefined,
    timeScale: 1,
    log: false,
  };
  const args = [...argv];
  // Tolerate being handed the subcommand itself.
  if (args[0] === 'emulator') args.shift();
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port must be 0..65535, got ${v}`);
        opts.port = Number(v);
        break;
      }
      case '--host':
        opts.host = value();
        break;
      case '--scenario':
        opts.scenario = value();
        break;
      case '--access-key': {
        const v = value();
        const parsed = parseAccessKeys(v);
        if (!parsed || Object.keys(parsed).length !== 1) throw new UsageError('--access-key must look like id:secret');
        opts.accessKeys = { ...(opts.accessKeys ?? {}), ...parsed };
        break;
      }
      case '--time-scale': {
        const v = Number(value());
        if (!Number.isFinite(v) || v < 0) throw new UsageError('--time-scale must be a number >= 0');
        opts.timeScale = v;
        break;
      }
      case '--log':
        opts.log = true;
        break;
      default:
        throw new UsageError(`unknown argument ${raw}`);
    }
  }
  return opts;
}

/** Runs until SIGINT / SIGTERM (or `io.signal`); resolves to the process exit code. */
export async function runEmulatorCli(argv: readonly string[], io: EmulatorCliIo = defaultIo): Promise<number> {
  let opts: CliOptions | 'help';
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`error: ${e.message}`);
    io.err(USAGE);
    return 2;
  }
  if (opts === 'help') {
    io.out(USAGE);
    return 0;
  }

  let emu: Awaited<ReturnType<typeof startEmulator>>;
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

  const snap = emu.state.snapshot();
  const keyIds = snap.accessKeyIds;
  const firstKey = keyIds[0] ?? '';
  const scenarioKeys = emu.state.scenario.accessKeys;
  const secretHint = opts.accessKeys
    ? 'the secret you passed with --access-key'
    : scenarioKeys && firstKey in scenarioKeys
      ? `accessKeys["${firstKey}"] in scenario ${BUILTIN_SCENARIOS[opts.scenario] ? `src/emulator/scenarios/${opts.scenario}.json` : opts.scenario}`
      : 'the secret of that key in EMULATOR_ACCESS_KEYS';

  io.out(`Alibaba Cloud API emulator (ESS 2014-08-28, SLB 2014-05-15, ALB 2020-06-16) listening on ${emu.url}`);
  io.out(
    `scenario: ${snap.scenarioName} (${snap.groups.length} scaling group(s), ${snap.instances.length} instance(s)); admin API: ${emu.url}/__emulator/state`,
  );
  if (keyIds.length > 1) io.out(`access keys accepted: ${keyIds.join(', ')}`);
  io.out('');
  io.out('Point the worker / CLI at it with:');
  io.out(`  export ESS_ENDPOINT=${emu.url}`);
  io.out(`  export SLB_ENDPOINT=${emu.url}`);
  io.out(`  export ALB_ENDPOINT=${emu.url}`);
  io.out(`  export ALIBABA_CLOUD_ACCESS_KEY_ID=${firstKey}`);
  io.out(`  export ALIBABA_CLOUD_ACCESS_KEY_SECRET=...   # ${secretHint}`);
  io.out('');
  io.out('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await emu.close();
  io.out('emulator stopped');
  return 0;
}
