/**
 * A Temporal dev server of its own that keeps its state in a SQLite file, so it can be SIGKILLed
 * (no shutdown: whatever the server had not written is lost, as in a crash) and started again on
 * the same port and database. The chaos suite gives one to each run that draws a server restart;
 * the other runs share the lab's in-memory server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, resolveTemporalCli, startDevServer, type RunningDevServer } from './temporal-dev-server';

export interface RestartableDevServer {
  address: string;
  dbFilename: string;
  /** SIGKILLs the server, waits `downMs`, and starts it again on the same port and database file. */
  crashAndRestart(downMs: number): Promise<void>;
  /** How many times it was restarted. */
  restarts(): number;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

export async function startRestartableDevServer(opts: { cliPath?: string } = {}): Promise<RestartableDevServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-temporal-'));
  const cliPath = opts.cliPath ?? resolveTemporalCli();
  const port = await freePort();
  const dbFilename = path.join(dir, 'temporal.db');
  const logFile = path.join(dir, 'temporal-dev-server.log');
  const start = () => startDevServer({ cliPath, port, dbFilename, logFile });
  let server: RunningDevServer | undefined;
  try {
    server = await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let restarts = 0;
  return {
    address: server.address,
    dbFilename,
    async crashAndRestart(downMs) {
      const child = server?.process;
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      server = undefined;
      await new Promise((r) => setTimeout(r, downMs));
      server = await start();
      restarts++;
    },
    restarts: () => restarts,
    async close() {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
