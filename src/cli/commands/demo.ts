import path from 'node:path';
import type { Command } from 'commander';
import { globalsOf } from '../connect';
import { CliUsageError, type Done, type Io } from '../io';
import { loadDemo } from '../lazy';

interface DemoFlags {
  exitWhenDone?: boolean;
  instances: string;
  batchSize: string;
  drainTimeout: string;
  dataDir?: string;
  temporalPort?: string;
  uiPort?: string;
  emulatorPort?: string;
}

const projectRoot = path.resolve(__dirname, '..', '..', '..');

function int(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new CliUsageError(`${flag} must be an integer from ${min} to ${max}, got ${v}`);
  return n;
}

export function registerDemo(program: Command, io: Io, done: Done): void {
  program
    .command('demo')
    .summary('local Temporal + UI, the emulator, a worker, and a 45-instance scale-in (same as npm run demo)')
    .description(
      'Start everything on 127.0.0.1: a Temporal dev server with its Web UI (port 7233/8233 when free; ' +
        'state kept in <data-dir>/temporal.db, so runs survive restarts), the API emulator with the "demo" ' +
        'scenario (port 18080 when free) and an in-process worker; then scale in the oldest instances of the ' +
        'demo group, show the progress bar, the link to the run in the UI, the per-batch table and the counts. ' +
        'It keeps running until Ctrl-C, which stops the worker, the emulator and the server (exit 0).',
    )
    .option('--exit-when-done', 'stop everything once the run has ended; exit 0 only if it completed')
    .option('--instances <n>', 'how many instances to remove', '45')
    .option('--batch-size <n>', 'instances per RemoveInstances call', '15')
    .option('--drain-timeout <seconds>', 'drain wait before each removal', '5')
    .option(
      '--data-dir <dir>',
      'where temporal.db and the logs live (default: $ESS_DEMO_DIR, else .demo/ in the project)',
    )
    .option('--temporal-port <port>', 'Temporal frontend port (default 7233 when free; 0 = any free port)')
    .option('--ui-port <port>', 'Temporal Web UI port (default 8233 when free; 0 = any free port)')
    .option('--emulator-port <port>', 'emulator port (default 18080 when free; 0 = any free port)')
    .addHelpText(
      'after',
      `
Examples:
  $ npm run demo
  $ ess-scale-in demo --instances 30 --batch-size 10
  $ ESS_DEMO_DIR=$(mktemp -d) ess-scale-in demo --exit-when-done --temporal-port 0 --ui-port 0 --emulator-port 0`,
    )
    .action(async (flags: DemoFlags, self: Command) => {
      const g = globalsOf(self);
      const options = {
        exitWhenDone: flags.exitWhenDone === true,
        instances: int('--instances', flags.instances, 1, 10_000) ?? 45,
        batchSize: int('--batch-size', flags.batchSize, 1, 20) ?? 15,
        drainTimeoutSeconds: int('--drain-timeout', flags.drainTimeout, 0, 3600) ?? 5,
        dataDir: path.resolve(flags.dataDir ?? process.env.ESS_DEMO_DIR ?? path.join(projectRoot, '.demo')),
        temporalPort: int('--temporal-port', flags.temporalPort, 0, 65535),
        uiPort: int('--ui-port', flags.uiPort, 0, 65535),
        emulatorPort: int('--emulator-port', flags.emulatorPort, 0, 65535),
        json: g.json === true,
      };
      const { runDemo } = loadDemo();
      done(await runDemo(options, io));
    });
}
