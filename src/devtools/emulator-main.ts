/**
 * Entry point of the emulator in a process of its own (src/devtools/emulator-process.ts starts it):
 *
 *   node --require tsx/cjs src/devtools/emulator-main.ts <scenario: built-in name or JSON file> [timeScale]
 *
 * Serves on 127.0.0.1 on a free port and writes one line `EMULATOR_READY {"url","port","pid"}` on
 * stdout once it listens. SIGUSR2 writes `EMULATOR_STATS {...}` (the delay of this process's event
 * loop since the previous report, or since it listened); SIGTERM, SIGINT or the end of stdin (the
 * parent is gone) stops it, writes `EMULATOR_STOPPED {...}` (since the previous report) and exits 0.
 * Access keys come from the scenario or EMULATOR_ACCESS_KEYS; no secret is ever written.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEmulator } from '../emulator';
import { READY_PREFIX, STATS_PREFIX, STOPPED_PREFIX, type EmulatorProcessStats } from './emulator-process';

function emit(prefix: string, body: unknown): void {
  process.stdout.write(`${prefix}${JSON.stringify(body)}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [scenario, scale] = argv;
  if (!scenario) {
    process.stderr.write('usage: emulator-main.ts <scenario name or JSON file> [timeScale]\n');
    return 2;
  }
  const timeScale = scale === undefined ? 1 : Number(scale);
  if (!Number.isFinite(timeScale) || timeScale < 0) {
    process.stderr.write(`timeScale must be a number >= 0, got ${scale}\n`);
    return 2;
  }
  const emu = await startEmulator({ host: '127.0.0.1', port: 0, scenario, timeScale });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = Date.now();
  const stats = (): EmulatorProcessStats => ({
    loopDelayMs: {
      max: Math.round(loop.max / 1e5) / 10,
      p99: Math.round(loop.percentile(99) / 1e5) / 10,
      mean: Math.round(loop.mean / 1e5) / 10,
    },
    calls: emu.state.callLog({}).length,
    uptimeSeconds: (Date.now() - t0) / 1000,
  });
  process.on('SIGUSR2', () => {
    emit(STATS_PREFIX, stats());
    loop.reset();
  });
  emit(READY_PREFIX, { url: emu.url, port: emu.port, pid: process.pid });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
    // The parent holds our stdin: when it goes (even SIGKILLed), so do we.
    process.stdin.once('end', resolve);
    process.stdin.once('error', resolve);
    process.stdin.resume();
  });
  const last = stats();
  loop.disable();
  await emu.close();
  emit(STOPPED_PREFIX, last);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    process.stdin.destroy();
  },
  (e: unknown) => {
    process.stderr.write(`emulator failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
