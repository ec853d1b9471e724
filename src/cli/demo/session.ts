import path from 'node:path';
import type { Io } from '../io';
import type { DemoOptions } from './run';

/** What every step of the demo shares: where it talks, the clock, Ctrl-C, and what to stop at the end. */
export interface DemoSession {
  opts: DemoOptions;
  io: Io;
  /** Progress lines; on stderr with --json, whose stdout carries only the final JSON document. */
  say: (line: string) => void;
  /** Time since the demo started, e.g. `4.2s`. */
  since: () => string;
  /** Registers something to stop at shutdown; they stop in reverse order. */
  onShutdown: (what: string, stop: () => Promise<void>) => void;
  /** Resolves when SIGINT or SIGTERM asks the demo to stop. */
  stopRequested: Promise<'stop'>;
  stopping: () => boolean;
  /** Stops everything registered (reporting, not throwing, what fails) and resolves to `code`. */
  shutdown: (code: number) => Promise<number>;
}

/** Installs the SIGINT/SIGTERM handlers; shutdown() removes them. */
export function openSession(opts: DemoOptions, io: Io): DemoSession {
  const t0 = Date.now();
  const cleanups: Array<{ what: string; stop: () => Promise<void> }> = [];
  let stopping = false;
  let requestStop = (): void => undefined;
  const stopRequested = new Promise<'stop'>((resolve) => {
    requestStop = () => resolve('stop');
  });
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    io.err('\nStopping the worker, the emulator and the Temporal server…');
    requestStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const shutdown = async (code: number): Promise<number> => {
    for (const c of cleanups.reverse()) {
      try {
        await c.stop();
      } catch (e) {
        io.err(`(while stopping the ${c.what}: ${e instanceof Error ? e.message : String(e)})`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return code;
  };
  return {
    opts,
    io,
    say: opts.json ? io.err : io.out,
    since: () => `${((Date.now() - t0) / 1000).toFixed(1)}s`,
    onShutdown: (what, stop) => cleanups.push({ what, stop }),
    stopRequested,
    stopping: () => stopping,
    shutdown,
  };
}

/** A path under the current directory, relative to it (shorter in messages); others as they are. */
export function rel(p: string): string {
  return p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p;
}
