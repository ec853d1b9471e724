/**
 * The ESS/CLB/ALB emulator in a child process of its own (entry: src/devtools/emulator-main.ts), so
 * that its event loop is not shared with a harness that polls and verifies at the same time: a
 * stall of a shared loop bunches the calls the emulator counts against its API quota. Benchmarks
 * use it for fleet-scale rows; state, call log and scenarios go over the admin API (HTTP).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmulatorAdminClient } from '../emulator/admin-client';
import type { CallLogEntry, CallLogFilter, EmulatorStateSnapshot, Scenario } from '../emulator/types';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'src/devtools/emulator-main.ts');

export const READY_PREFIX = 'EMULATOR_READY ';
export const STATS_PREFIX = 'EMULATOR_STATS ';
export const STOPPED_PREFIX = 'EMULATOR_STOPPED ';

/** What the child reports about itself on request (SIGUSR2) and when it stops. */
export interface EmulatorProcessStats {
  /** How late the child's event loop ran since its previous report (or since it listened); ms, 10 ms resolution. */
  loopDelayMs: { max: number; p99: number; mean: number };
  /** API calls the emulator answered (its call log length). */
  calls: number;
  uptimeSeconds: number;
}

/** The child did not start, did not answer, or was asked something it cannot do. */
export class EmulatorProcessError extends Error {
  override readonly name = 'EmulatorProcessError' as const;
  readonly code = 'EmulatorProcessFailed' as const;
}

export interface EmulatorProcessOptions {
  /** A scenario object (written to a temporary file for the child), a built-in name or a JSON file path. */
  scenario: Scenario | string;
  /** Multiplies every scenario duration (default 1). */
  timeScale?: number;
  /** AccessKeyId -> secret when the scenario has none (passed as EMULATOR_ACCESS_KEYS, never printed). */
  accessKeys?: Record<string, string>;
  /** Extra environment of the child. */
  env?: Record<string, string>;
  /** How long to wait for the child to listen. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface EmulatorProcess {
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:PORT`: the endpoint for ESS, SLB, ALB and NLB alike. */
  url: string;
  port: number;
  admin: EmulatorAdminClient;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the child is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  loadScenario(s: Scenario | { name: string }): ReturnType<EmulatorAdminClient['loadScenario']>;
  calls(filter?: CallLogFilter): Promise<CallLogEntry[]>;
  state(): Promise<EmulatorStateSnapshot>;
  /** The child's own report (event-loop delay since its previous report), asked for with SIGUSR2. */
  stats(timeoutMs?: number): Promise<EmulatorProcessStats>;
  /**
   * SIGTERM, SIGKILL if it is still there after `graceMs` (default 10 s); resolves once it is gone,
   * with its last report when it stopped cleanly. Removes the temporary scenario file.
   */
  stop(graceMs?: number): Promise<EmulatorProcessStats | undefined>;
}

/** Lines of the child's stdout, and waiters for the next line with a given prefix. */
class LineReader {
  text = '';
  private partial = '';
  private readonly waiters: Array<{ prefix: string; resolve: (body: string) => void }> = [];

  push(chunk: string, fromStdout: boolean): void {
    this.text += chunk;
    if (!fromStdout) return;
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      for (const w of [...this.waiters]) {
        if (!line.startsWith(w.prefix)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line.slice(w.prefix.length));
      }
    }
  }

  /** The body of the next line starting with `prefix`; rejects after `timeoutMs` or when `gone` settles first. */
  next(prefix: string, timeoutMs: number, gone: Promise<unknown>): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new EmulatorProcessError(`the emulator process wrote no ${prefix.trim()} line within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        prefix,
        resolve: (body: string) => {
          clearTimeout(timer);
          resolve(body);
        },
      };
      this.waiters.push(waiter);
      void gone.then(() => {
        clearTimeout(timer);
        reject(new EmulatorProcessError(`the emulator process exited before its ${prefix.trim()} line`));
      });
    });
  }
}

function scenarioArg(scenario: Scenario | string): { arg: string; dir: string | undefined } {
  if (typeof scenario === 'string') return { arg: scenario, dir: undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-emulator-'));
  const file = path.join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  return { arg: file, dir };
}

function spawnChild(opts: EmulatorProcessOptions, scenario: string): ChildProcess {
  const keys = opts.accessKeys
    ? {
        EMULATOR_ACCESS_KEYS: Object.entries(opts.accessKeys)
          .map(([id, secret]) => `${id}:${secret}`)
          .join(','),
      }
    : {};
  // tsx's hook inside the child itself: the tsx CLI would fork a grandchild that a signal to the child misses.
  return spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), ENTRY, scenario, String(opts.timeScale ?? 1)],
    // stdin stays a pipe: the child stops when it closes, so it never outlives this process.
    { cwd: ROOT, env: { ...process.env, ...keys, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
}

/** Starts the emulator in a child process and resolves once it listens. */
export async function spawnEmulatorProcess(opts: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const { arg, dir } = scenarioArg(opts.scenario);
  const cleanup = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const child = spawnChild(opts, arg);
  const lines = new LineReader();
  child.stdout?.on('data', (d: Buffer) => lines.push(d.toString(), true));
  child.stderr?.on('data', (d: Buffer) => lines.push(d.toString(), false));
  child.stdin?.on('error', () => undefined);
  // 'close', not 'exit': its stdout is read to the end first (the last report line included).
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('close', (code, signal) => resolve(signal ?? code)),
  );
  let ready: { url: string; port: number };
  try {
    const timeout = opts.readyTimeoutMs ?? 60_000;
    ready = JSON.parse(await lines.next(READY_PREFIX, timeout, exited)) as { url: string; port: number };
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw new EmulatorProcessError(`${(e as Error).message}:\n${lines.text}`, { cause: e });
  }
  return remote(child, ready, lines, exited, cleanup);
}

function remote(
  child: ChildProcess,
  ready: { url: string; port: number },
  lines: LineReader,
  exited: Promise<number | NodeJS.Signals | null>,
  cleanup: () => void,
): EmulatorProcess {
  const admin = new EmulatorAdminClient(ready.url);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid as number,
    url: ready.url,
    port: ready.port,
    admin,
    output: () => lines.text,
    exited,
    loadScenario: (s) => admin.loadScenario(s),
    calls: (filter) => admin.calls(filter),
    state: () => admin.state(),
    async stats(timeoutMs = 10_000) {
      if (!alive()) throw new EmulatorProcessError('the emulator process is not running');
      const body = lines.next(STATS_PREFIX, timeoutMs, exited);
      child.kill('SIGUSR2');
      return JSON.parse(await body) as EmulatorProcessStats;
    },
    async stop(graceMs = 10_000) {
      let last: Promise<string> | undefined;
      if (alive()) {
        last = lines.next(STOPPED_PREFIX, graceMs, exited).catch(() => '');
        child.kill('SIGTERM');
        const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
        if (!gone) child.kill('SIGKILL');
        await exited;
      }
      cleanup();
      const body = last ? await last : '';
      return body ? (JSON.parse(body) as EmulatorProcessStats) : undefined;
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
