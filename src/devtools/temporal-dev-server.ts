import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES, searchAttributeCliArgs } from '../shared/search-attributes';

/**
 * Starts `temporal server start-dev` ourselves (rather than through the SDK's ephemeral-server
 * launcher) so the binary comes from the project's own provisioning and the project's search
 * attributes are registered before the first workflow starts.
 */

const projectRoot = path.resolve(__dirname, '..', '..');

/** Finds (or builds, once) the Temporal CLI with the same rules as `.ci/run`. */
export function resolveTemporalCli(): string {
  try {
    return execFileSync('bash', [path.join(projectRoot, 'scripts', 'ensure-temporal-cli.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new Error(
      'No Temporal CLI available. Run `npm run setup` (builds it with Go), ' +
        'or set TEMPORAL_CLI_PATH to a `temporal` binary.',
    );
  }
}

export function resolveJavaTestServer(): string {
  try {
    return execFileSync('bash', [path.join(projectRoot, 'scripts', 'ensure-java-test-server.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new Error('No Java time-skipping test server available. Run `npm run setup` (needs Java and Maven).');
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface DevServerOptions {
  cliPath?: string;
  port?: number;
  /** Serve the Web UI on this port; omit for headless. */
  uiPort?: number;
  /** SQLite file to keep state across restarts; in memory when omitted. */
  dbFilename?: string;
  /** Where the server's own log goes; default: discarded. */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<RunningDevServer> {
  const cli = opts.cliPath ?? resolveTemporalCli();
  const port = opts.port ?? (await freePort());
  const args = devServerArgs(port, opts);
  const server = spawnDevServer(cli, args, opts.logFile);
  const address = `127.0.0.1:${port}`;
  await waitUntilReady(address, server, args, opts.readyTimeoutMs ?? 60_000);
  const { child } = server;
  return {
    address,
    uiUrl: opts.uiPort !== undefined ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    process: child,
    async stop() {
      if (server.hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await server.exited;
      clearTimeout(timer);
    },
  };
}

function devServerArgs(port: number, opts: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    '--dynamic-config-value',
    'frontend.workerVersioningWorkflowAPIs=true',
    ...searchAttributeCliArgs(),
  ];
  if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  return args;
}

interface DevServerProcess {
  child: ChildProcess;
  hasExited: () => boolean;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

/** The server's output goes to `logFile` (appended), or nowhere. */
function spawnDevServer(cli: string, args: string[], logFile: string | undefined): DevServerProcess {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(cli, args, { stdio: ['ignore', out, out], detached: false });
  let exited = false;
  // A parent that exits without stop() (a crash, an uncaught error) must not leave the server holding its port.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  return { child, hasExited: () => exited, exited: exitPromise };
}

/** Polls until the frontend answers and the default namespace is ready; kills the server if it never is. */
async function waitUntilReady(
  address: string,
  server: DevServerProcess,
  args: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.hasExited())
      throw new Error(
        `temporal dev server exited during start (exit code ${server.child.exitCode}); args: ${args.join(' ')}`,
      );
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        // The namespace is ready only once its registration has propagated.
        await conn.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await conn.close();
      }
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        server.child.kill('SIGKILL');
        throw new Error(`temporal dev server at ${address} not ready after ${timeoutMs} ms: ${String(e)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Registers the project's search attributes on a running server (the Java test server, or a
 * self-hosted cluster). Already-registered attributes are fine.
 */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  const T = temporal.api.enums.v1.IndexedValueType;
  const map: Record<string, number> = {
    KEYWORD: T.INDEXED_VALUE_TYPE_KEYWORD,
    INT: T.INDEXED_VALUE_TYPE_INT,
    TEXT: T.INDEXED_VALUE_TYPE_TEXT,
    BOOL: T.INDEXED_VALUE_TYPE_BOOL,
    DOUBLE: T.INDEXED_VALUE_TYPE_DOUBLE,
    DATETIME: T.INDEXED_VALUE_TYPE_DATETIME,
    KEYWORD_LIST: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  };
  const searchAttributes = Object.fromEntries(
    ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, map[k.type] ?? T.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (e) {
    if (!/already exists/i.test(String((e as Error).message))) throw e;
  }
}
