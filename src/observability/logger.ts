import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { percentEncode } from '../aliyun/signer';
import { ConfigError } from '../config';

/**
 * The worker's log lines. `json`: one object per line (time, level, msg, then the well-known
 * fields workflowId, runId, activity, batch, requestId, action, code, then the rest), for log
 * shippers; `pretty`: one readable line for a terminal. Everything passes a redactor first.
 */
export type LogFormat = 'json' | 'pretty';

export const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export interface LoggingConfig {
  format: LogFormat;
  level: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `LOG_FORMAT` (json | pretty; default json unless stdout is a terminal) and `LOG_LEVEL` (default INFO). */
export function loggingConfigFromEnv(
  env: Env = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): LoggingConfig {
  const rawFormat = env.LOG_FORMAT?.trim().toLowerCase();
  let format: LogFormat;
  if (!rawFormat) format = isTTY ? 'pretty' : 'json';
  else if (rawFormat === 'json') format = 'json';
  else if (rawFormat === 'pretty' || rawFormat === 'text') format = 'pretty';
  else throw new ConfigError('LOG_FORMAT', `expected json or pretty, got ${JSON.stringify(rawFormat.slice(0, 20))}`);
  const rawLevel = env.LOG_LEVEL?.trim().toUpperCase();
  if (rawLevel && !(LOG_LEVELS as readonly string[]).includes(rawLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(rawLevel.slice(0, 20))}`,
    );
  }
  return { format, level: (rawLevel || 'INFO') as LogLevel };
}

/** Variables whose values must never be printed, even if some library puts one in a message. */
export const SECRET_VARIABLES = [
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
  'TEMPORAL_API_KEY',
] as const;

/** Keys whose values are dropped wherever they appear in log metadata. */
const SECRET_KEY = new RegExp(
  [
    'secret',
    'passw(or)?d',
    'api[-_]?key',
    'authorization',
    'signature',
    'security[-_]?token',
    'session[-_]?token',
    'access[-_]?token',
    'private[-_]?key',
    'credential',
    '^token$',
  ].join('|'),
  'i',
);

/** Names whose value, written `name=value` or `"name": "value"` in free text, is a secret. */
const SECRET_NAMES_IN_TEXT = [
  'AccessKeySecret',
  'SecurityToken',
  'Signature',
  'api[-_]?key',
  'password',
  'secret',
  'x-acs-security-token',
].join('|');

/** Secret-looking fragments inside free text: `key=value`, `"key": "value"`, bearer tokens, PEM keys. */
const SECRET_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED]'],
  [new RegExp(String.raw`((?:${SECRET_NAMES_IN_TEXT})"?\s*[:=]\s*"?)[^\s"&,;}]+`, 'gi'), '$1[REDACTED]'],
];

const REDACTED = '[REDACTED]';

/**
 * Redacts log metadata and messages: values of secret-looking keys, secret-looking fragments of
 * text, and, defensively, every known secret value (raw and percent-encoded) wherever it appears.
 */
export class Redactor {
  private readonly values: string[];

  constructor(secrets: ReadonlyArray<string | undefined> = []) {
    const set = new Set<string>();
    for (const s of secrets) {
      // Very short values would blank out ordinary words; real keys and tokens are long.
      if (!s || s.length < 8) continue;
      for (const v of [
        s,
        percentEncode(s),
        percentEncode(percentEncode(s)),
        encodeURIComponent(s),
        Buffer.from(s).toString('base64'),
      ])
        set.add(v);
    }
    this.values = [...set].sort((a, b) => b.length - a.length);
  }

  static fromEnv(env: Env = process.env): Redactor {
    return new Redactor(SECRET_VARIABLES.map((v) => env[v]));
  }

  text(s: string): string {
    let out = s;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const [re, to] of SECRET_TEXT) out = out.replace(re, to);
    return out;
  }

  value(v: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
    if (seen.has(v)) return '[Circular]';
    if (depth > 6) return '[…]';
    seen.add(v);
    if (v instanceof Error) {
      const e = v as Error & { code?: unknown; type?: unknown; cause?: unknown };
      return this.value(
        {
          name: e.name,
          message: e.message,
          ...(e.code !== undefined ? { code: e.code } : {}),
          ...(e.type !== undefined ? { type: e.type } : {}),
          ...(e.stack ? { stack: e.stack } : {}),
          ...(e.cause !== undefined ? { cause: e.cause } : {}),
        },
        depth + 1,
        seen,
      );
    }
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.byteLength} bytes]`;
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((x) => this.value(x, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] =
        SECRET_KEY.test(k) && x !== undefined && x !== null && x !== '' ? REDACTED : this.value(x, depth + 1, seen);
    return out;
  }
}

/** Field names as they appear in the line; SDK metadata uses other names for the same things. */
const RENAMES: Readonly<Record<string, string>> = {
  workflowRunId: 'runId',
  activityType: 'activity',
  batchIndex: 'batch',
};
const FIRST = ['workflowId', 'runId', 'activity', 'batch', 'requestId', 'action', 'code'] as const;

export interface LogRecord {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The object one JSON line holds: redacted, well-known fields first. */
export function toRecord(entry: LogEntry, redactor: Redactor): LogRecord {
  const meta = (redactor.value(entry.meta ?? {}) ?? {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    // A task token can complete the activity through the client API: it stays out of logs.
    if (v === undefined || k === 'taskToken') continue;
    const name = RENAMES[k] ?? k;
    if (name === 'time' || name === 'level' || name === 'msg') fields[`meta.${name}`] = v;
    else if (!(name in fields)) fields[name] = v;
  }
  const first: Record<string, unknown> = {};
  for (const k of FIRST) {
    if (k in fields) {
      first[k] = fields[k];
      delete fields[k];
    }
  }
  return {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    msg: redactor.text(entry.message),
    ...first,
    ...fields,
  };
}

export function formatLine(entry: LogEntry, format: LogFormat, redactor: Redactor): string {
  const rec = toRecord(entry, redactor);
  if (format === 'json') return JSON.stringify(rec);
  const { time, level, msg, ...rest } = rec;
  const kv = Object.entries(rest)
    .filter(([k]) => k !== 'sdkComponent')
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return `${time} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length ? `  ${kv.join(' ')}` : ''}`;
}

export interface CreateLoggerOptions extends LoggingConfig {
  /** Where lines go; default stdout (containers collect it). */
  write?: (line: string) => void;
  redactor?: Redactor;
}

/**
 * A Temporal `DefaultLogger` that writes our lines: used as the Runtime logger, so SDK, workflow
 * and activity logs all pass through it.
 */
export function createLogger(opts: CreateLoggerOptions): DefaultLogger {
  const redactor = opts.redactor ?? Redactor.fromEnv();
  const write = opts.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  return new DefaultLogger(opts.level, (entry) => {
    try {
      write(formatLine(entry, opts.format, redactor));
    } catch {
      // A log line that cannot be written must not take the worker down.
    }
  });
}

/** Logs one line without a Runtime (start-up errors), in the same format. */
export function logOnce(opts: CreateLoggerOptions, level: LogLevel, message: string, meta?: LogMetadata): void {
  createLogger(opts).log(level, message, meta);
}
