/**
 * The production topology of docker-compose.yml without Docker: the Temporal server of the compose
 * file's version (1.29.1, built once by scripts/ensure-temporal-server.sh) on a private PostgreSQL
 * cluster with SQL visibility, instead of the SQLite dev server. Debian's PostgreSQL here (15 on
 * bookworm); compose runs `postgres:16.4`: the server's `postgres12` plugin and schemas serve both.
 *
 * Start: initdb and postgres on a free loopback port (as the `postgres` user when run as root: both
 * refuse to run as root), both databases created and migrated by `temporal-sql-tool` from the
 * versioned schemas shipped in the server module, `temporal-server start` with the module's own
 * config/development-postgres12.yaml as base.yaml and an override of its ports and database
 * address, then the namespace registered and the project's search attributes added (the code of
 * `ess-scale-in setup-namespace`). stop() (also called when a step fails) stops the server, then
 * PostgreSQL, and deletes the directory.
 *
 * By hand: `npm run temporal:production [-- --port 7233] [--namespace default]`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync } from 'node:fs';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { missingSearchAttributes, setupNamespace } from '../client/namespace';
import { freePort } from './temporal-dev-server';

const execFileP = promisify(execFile);
const projectRoot = path.resolve(__dirname, '..', '..');

/** The server version of docker-compose.yml (`temporalio/auto-setup:1.29.1`). */
export const PRODUCTION_TEMPORAL_VERSION = '1.29.1';
/** As in docker-compose.yml: a private cluster on loopback, not a secret. */
const DB = { user: 'temporal', password: 'temporal' } as const;

export type ProductionTemporalErrorCode = 'ServerUnavailable' | 'PostgresUnavailable' | 'StartFailed';

/** The stack could not be provisioned or started; the message names the step and the fix. */
export class ProductionTemporalError extends Error {
  override readonly name = 'ProductionTemporalError' as const;
  constructor(
    readonly code: ProductionTemporalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ProductionTemporalOptions {
  /** Directory from scripts/ensure-temporal-server.sh; found (or built, once) when omitted. */
  serverDir?: string;
  /** Frontend gRPC port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Registered and given the project's search attributes. Default `default`. */
  namespace?: string;
  /** Extra dynamic config values (key → value), appended to the server's development-sql.yaml. */
  dynamicConfig?: Record<string, unknown>;
  /** Unprivileged user that runs initdb and postgres when this process is root. Default `postgres`. */
  postgresUser?: string;
  /** For the whole start (PostgreSQL, schemas, server, namespace). Default 180 s. */
  readyTimeoutMs?: number;
  /** Progress lines (which step is running); default: none. */
  log?: (line: string) => void;
}

export interface ProductionTemporalTimings {
  postgresMs: number;
  schemaMs: number;
  serverMs: number;
  namespaceMs: number;
  totalMs: number;
}

export interface RunningProductionTemporal {
  /** Frontend gRPC address, `127.0.0.1:<port>`. */
  address: string;
  namespace: string;
  /** Holds the PostgreSQL data directory, the server config and both logs; deleted by stop(). */
  dir: string;
  serverLog: string;
  postgresLog: string;
  serverPid: number;
  /** The postmaster (not the runuser wrapper): for CPU and memory measurements. */
  postgresPid: number;
  postgresPort: number;
  timings: ProductionTemporalTimings;
  stop(): Promise<void>;
}

/** Finds (or builds, once) the server directory with the rules of scripts/ensure-temporal-server.sh. */
export function resolveTemporalServer(): string {
  try {
    return execFileSync('bash', [path.join(projectRoot, 'scripts', 'ensure-temporal-server.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    throw new ProductionTemporalError(
      'ServerUnavailable',
      `no Temporal server ${PRODUCTION_TEMPORAL_VERSION} available: install Go so ` +
        'scripts/ensure-temporal-server.sh can build it, or set TEMPORAL_SERVER_DIR to a directory of its layout',
    );
  }
}

/** The bin directory of PostgreSQL: $POSTGRES_BIN_DIR, else Debian's newest /usr/lib/postgresql/<N>/bin. */
export function resolvePostgresBin(): string {
  const fromEnv = process.env['POSTGRES_BIN_DIR'];
  const candidates = fromEnv
    ? [fromEnv]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  const found = candidates.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'postgres')));
  if (!found) {
    const why = fromEnv ? `POSTGRES_BIN_DIR=${fromEnv} lacks initdb or postgres` : 'no /usr/lib/postgresql/<N>/bin';
    throw new ProductionTemporalError(
      'PostgresUnavailable',
      `no PostgreSQL server found (${why}): ` +
        "run `npm run setup` as root (installs Debian's postgresql) or set POSTGRES_BIN_DIR",
    );
  }
  return found;
}

interface PgUser {
  name: string;
  uid: number;
  gid: number;
}

/** The user initdb and postgres run as: an unprivileged one when we are root, else ourselves (undefined). */
function postgresUser(requested: string | undefined): PgUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = requested ?? 'postgres';
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    throw new ProductionTemporalError(
      'PostgresUnavailable',
      `initdb and postgres refuse to run as root, and user ${name} does not exist: install Debian's postgresql ` +
        "(creates the user 'postgres') or pass postgresUser",
    );
  }
}

/** argv run as `user` (through runuser) when given, else as ourselves. */
function asUser(user: PgUser | undefined, argv: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user.name, '--', ...argv]] : [argv[0] as string, argv.slice(1)];
}

async function run(what: string, cmd: [string, string[]], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  try {
    await execFileP(cmd[0], cmd[1], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new ProductionTemporalError(
      'StartFailed',
      `${what} failed: ${(err.stderr || err.stdout || err.message).trim().slice(-2000)}`,
    );
  }
}

/** Retries `check` until it passes; a ProductionTemporalError (a process that exited) ends it at once. */
async function waitUntil(what: string, deadline: number, check: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (e instanceof ProductionTemporalError) throw e;
      if (Date.now() > deadline)
        throw new ProductionTemporalError('StartFailed', `${what} not ready in time: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The end of a log, for an error raised before stop() deletes it: the server's last error or fatal
 * entries (`msg: error`, without their stack traces), else the last lines.
 */
function tail(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `(no log at ${file})`;
  }
  const lines = text.trim().split('\n');
  const errors = lines.flatMap((l) => {
    try {
      const e = JSON.parse(l) as { level?: string; msg?: string; error?: string };
      return e.level === 'error' || e.level === 'fatal' ? [`${e.msg ?? ''}${e.error ? `: ${e.error}` : ''}`] : [];
    } catch {
      return [];
    }
  });
  return (errors.length ? errors.slice(-3) : lines.slice(-10)).join(' | ').slice(-1500);
}

interface Child {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
}

function spawnLogged(cmd: [string, string[]], logFile: string, cwd: string): Child {
  const out = openSync(logFile, 'a');
  const child = spawn(cmd[0], cmd[1], { cwd, stdio: ['ignore', out, out] });
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  return { child, exited, hasExited: () => gone };
}

/** What start() has brought up so far, torn down in reverse order by stop(). */
interface Parts {
  dir: string;
  pgDir: string;
  postgres?: Child;
  postmasterPid?: number;
  server?: Child;
}

async function stopChild(c: Child | undefined, signal: NodeJS.Signals, pid?: number): Promise<void> {
  if (!c || c.hasExited()) return;
  const target = pid ?? c.child.pid;
  const kill = (s: NodeJS.Signals) => {
    try {
      if (target !== undefined) process.kill(target, s);
    } catch {
      // already gone
    }
  };
  kill(signal);
  const timer = setTimeout(() => {
    kill('SIGKILL');
    c.child.kill('SIGKILL');
  }, 20_000);
  await c.exited;
  clearTimeout(timer);
}

async function teardown(p: Parts): Promise<void> {
  await stopChild(p.server, 'SIGTERM');
  // SIGINT to the postmaster is PostgreSQL's "fast" shutdown; runuser exits with it.
  await stopChild(p.postgres, 'SIGINT', p.postmasterPid);
  rmSync(p.dir, { recursive: true, force: true });
}

/** A crash of this process (no stop()) must not leave the server and PostgreSQL holding their ports. */
function killOnExit(p: Parts): () => void {
  const handler = () => {
    for (const pid of [p.server?.child.pid, p.postmasterPid ?? p.postgres?.child.pid]) {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(p.dir, { recursive: true, force: true });
  };
  process.once('exit', handler);
  return () => process.removeListener('exit', handler);
}

async function startPostgres(p: Parts, user: PgUser | undefined, bin: string, deadline: number) {
  const port = await freePort();
  mkdirSync(p.pgDir, { mode: 0o700 });
  const pwfile = path.join(p.pgDir, 'pwfile');
  writeFileSync(pwfile, `${DB.password}\n`, { mode: 0o600 });
  if (user) for (const f of [p.pgDir, pwfile]) chownSync(f, user.uid, user.gid);
  const data = path.join(p.pgDir, 'data');
  const initdb = [path.join(bin, 'initdb'), '-D', data, '-U', DB.user, `--pwfile=${pwfile}`];
  initdb.push('--auth=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-sync');
  await run('initdb', asUser(user, initdb), { cwd: p.pgDir });
  rmSync(pwfile);
  const log = path.join(p.dir, 'postgres.log');
  // TCP on loopback only (no Unix socket in a shared directory); each Temporal service keeps a pool.
  const pg = [path.join(bin, 'postgres'), '-D', data, '-p', String(port), '-h', '127.0.0.1'];
  pg.push('-c', 'unix_socket_directories=', '-c', 'max_connections=300');
  p.postgres = spawnLogged(asUser(user, pg), log, p.pgDir);
  await waitUntil('PostgreSQL', deadline, async () => {
    if (p.postgres?.hasExited()) throw new ProductionTemporalError('StartFailed', `postgres exited: ${tail(log)}`);
    await execFileP(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
    // The postmaster's PID is the first line of postmaster.pid (readable: we are root or its owner).
    p.postmasterPid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  });
  return { port, log };
}

/** Both databases from the versioned schemas shipped in the server module, as auto-setup does. */
async function setupSchemas(serverDir: string, pgPort: number, cwd: string): Promise<void> {
  const tool = path.join(serverDir, 'temporal-sql-tool');
  const env = { SQL_PASSWORD: DB.password };
  const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', DB.user];
  for (const [db, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const dir = path.join(serverDir, 'schema', 'postgresql', 'v12', schema, 'versioned');
    await run(`create-database ${db}`, [tool, [...common, '--db', db, 'create-database']], { cwd, env });
    await run(`setup-schema ${db}`, [tool, [...common, '--db', db, 'setup-schema', '-v', '0.0']], { cwd, env });
    await run(`update-schema ${db}`, [tool, [...common, '--db', db, 'update-schema', '-d', dir]], { cwd, env });
  }
}

/**
 * A free loopback port below 32768: the server stores membership ports in a PostgreSQL `smallint`
 * (cluster_membership.rpc_port), so one from Linux's ephemeral range (32768-60999) fails the start
 * with `value "45351" is out of range for type smallint`.
 */
async function freeMembershipPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt > 100) throw new ProductionTemporalError('StartFailed', 'no free loopback port in 20000-31999');
  }
}

/**
 * The override of development-postgres12.yaml (loaded as base.yaml): free loopback ports instead of
 * the fixed 7233-7243/6933-6939/7936/8000, the private PostgreSQL, and our dynamic config file.
 * Maps (datastores, services, clusterInformation) replace the base's entries whole.
 */
async function serverOverride(frontendPort: number, pgPort: number, dynamicConfigPath: string) {
  const port = () => freePort();
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pgPort}`,
      connectProtocol: 'tcp',
      user: DB.user,
      password: DB.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = async (grpcPort: number, extra: Record<string, number> = {}) => ({
    rpc: { grpcPort, membershipPort: await freeMembershipPort(), bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      datastores: {
        'postgres-default': datastore('temporal', 20),
        'postgres-visibility': datastore('temporal_visibility', 10),
      },
    },
    global: {
      pprof: { port: 0 },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${await port()}` },
      },
    },
    services: {
      frontend: await service(frontendPort, { httpPort: await port() }),
      matching: await service(await port()),
      history: await service(await port()),
      worker: await service(await port()),
    },
    clusterMetadata: {
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${frontendPort}`,
        },
      },
    },
    dynamicConfigClient: { filepath: dynamicConfigPath, pollInterval: '10s' },
  };
}

/** Writes config/base.yaml (the module's file), config/production.yaml (JSON is YAML) and the dynamic config. */
async function writeServerConfig(p: Parts, serverDir: string, frontendPort: number, pgPort: number, extra = {}) {
  const configDir = path.join(p.dir, 'config');
  mkdirSync(configDir);
  copyFileSync(path.join(serverDir, 'config', 'development-postgres12.yaml'), path.join(configDir, 'base.yaml'));
  const dynamicConfigPath = path.join(configDir, 'dynamicconfig.yaml');
  const overrides = Object.entries(extra).map(([k, v]) => `${k}:\n  - value: ${JSON.stringify(v)}\n`);
  const shipped = readFileSync(path.join(serverDir, 'config', 'dynamicconfig', 'development-sql.yaml'), 'utf8');
  writeFileSync(dynamicConfigPath, `${shipped}\n${overrides.join('')}`);
  const override = await serverOverride(frontendPort, pgPort, dynamicConfigPath);
  writeFileSync(path.join(configDir, 'production.yaml'), JSON.stringify(override, null, 2));
}

async function startServer(p: Parts, serverDir: string, address: string, deadline: number) {
  const log = path.join(p.dir, 'temporal-server.log');
  const argv = ['--root', p.dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'];
  p.server = spawnLogged([path.join(serverDir, 'temporal-server'), argv], log, p.dir);
  await waitUntil('Temporal server', deadline, async () => {
    if (p.server?.hasExited()) throw new ProductionTemporalError('StartFailed', `temporal-server exited: ${tail(log)}`);
    const conn = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await conn.workflowService.getSystemInfo({});
    } finally {
      await conn.close();
    }
  });
  return log;
}

/** Registers the namespace and the search attributes, and waits until a visibility query can use them. */
async function setUpNamespace(address: string, namespace: string, deadline: number): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    try {
      await conn.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('3 days'),
      });
    } catch (e) {
      if (!/already exists/i.test(String((e as Error).message))) throw e;
    }
    await waitUntil(`namespace ${namespace}`, deadline, async () => {
      await conn.workflowService.describeNamespace({ namespace });
    });
    await waitUntil(`search attributes of ${namespace}`, deadline, async () => {
      await setupNamespace(conn, namespace);
      const missing = await missingSearchAttributes(conn, namespace);
      if (missing.length) throw new Error(`missing ${missing.map((m) => m.name).join(', ')}`);
      const query = "EssScalingGroupId = 'probe' AND EssInstancesRemoved >= 0";
      await conn.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 });
    });
  } finally {
    await conn.close();
  }
}

export async function startProductionTemporal(
  opts: ProductionTemporalOptions = {},
): Promise<RunningProductionTemporal> {
  const t0 = Date.now();
  const deadline = t0 + (opts.readyTimeoutMs ?? 180_000);
  const say = opts.log ?? (() => undefined);
  const serverDir = opts.serverDir ?? resolveTemporalServer();
  const bin = resolvePostgresBin();
  const user = postgresUser(opts.postgresUser);
  const namespace = opts.namespace ?? 'default';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ess-scale-in-production-'));
  // The unprivileged user must reach its data directory inside ours.
  if (user) chmodSync(dir, 0o755);
  const p: Parts = { dir, pgDir: path.join(dir, 'pg') };
  const forget = killOnExit(p);
  const stop = async () => {
    await teardown(p);
    forget();
  };
  try {
    say(`PostgreSQL (${bin}${user ? `, as ${user.name}` : ''})…`);
    const pg = await startPostgres(p, user, bin, deadline);
    const t1 = Date.now();
    say(`schemas of temporal and temporal_visibility on 127.0.0.1:${pg.port}…`);
    await setupSchemas(serverDir, pg.port, dir);
    const t2 = Date.now();
    const port = opts.port ?? (await freePort());
    const address = `127.0.0.1:${port}`;
    await writeServerConfig(p, serverDir, port, pg.port, opts.dynamicConfig);
    say(`Temporal server ${PRODUCTION_TEMPORAL_VERSION} on ${address}…`);
    const serverLog = await startServer(p, serverDir, address, deadline);
    const t3 = Date.now();
    say(`namespace ${namespace} and search attributes…`);
    await setUpNamespace(address, namespace, deadline);
    const t4 = Date.now();
    const timings = {
      postgresMs: t1 - t0,
      schemaMs: t2 - t1,
      serverMs: t3 - t2,
      namespaceMs: t4 - t3,
      totalMs: t4 - t0,
    };
    return {
      address,
      namespace,
      dir,
      serverLog,
      postgresLog: pg.log,
      serverPid: p.server?.child.pid as number,
      postgresPid: p.postmasterPid as number,
      postgresPort: pg.port,
      timings,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `npm run temporal:production [-- --port N] [--namespace NS]`: runs until Ctrl-C, then stops cleanly. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const portArg = arg('--port');
  const port = portArg === undefined ? undefined : Number(portArg);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new Error(`--port must be a TCP port (1-65535), got ${portArg}`);
  const namespace = arg('--namespace');
  const log = (line: string) => console.error(`[production-temporal] ${line}`);
  const t = await startProductionTemporal({
    ...(port === undefined ? {} : { port }),
    ...(namespace === undefined ? {} : { namespace }),
    log,
  });
  log(`ready in ${t.timings.totalMs} ms: TEMPORAL_ADDRESS=${t.address} TEMPORAL_NAMESPACE=${t.namespace}`);
  log(`logs: ${t.serverLog} ${t.postgresLog}; Ctrl-C stops the server and PostgreSQL and deletes ${t.dir}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping…');
  const s0 = Date.now();
  await t.stop();
  log(`stopped in ${Date.now() - s0} ms`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
