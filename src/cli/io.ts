/**
 * Where the CLI writes. Human output and the final JSON go to stdout; the progress bar, hints and
 * errors go to stderr, so `--json` output can be piped into `jq` untouched.
 */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Rewrites the current stderr line in place (terminals only). */
  rewrite(line: string): void;
  /** True when stderr is a terminal: progress is redrawn in place instead of printed line by line. */
  readonly interactive: boolean;
}

export function processIo(): Io {
  // A closed pipe (`| head`) must not crash a command that owns servers and workers mid-flight.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    rewrite: (line) => process.stderr.write(`\r\x1b[2K${line}`),
    interactive: process.stderr.isTTY === true,
  };
}

/** Documented in docs/cli.md; scripts depend on them. */
export const EXIT = {
  ok: 0,
  /** The run failed, was cancelled, completed with failures, or refused the request. */
  failed: 1,
  /** Bad flags or input: nothing was started or changed. */
  usage: 2,
  /** No such run, or a run is already active for the group. */
  conflictOrNotFound: 3,
  /** Temporal could not be reached (nothing was asked of it). */
  unreachable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** How a command hands its exit code back (emulator codes pass through as they are). */
export type Done = (code: number) => void;

/** A usage problem found by the CLI itself (as opposed to input validation). */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError' as const;
  readonly code = 'Usage' as const;
}

/** `-o, --output`: `json` is `--json`; `jsonl` one object per line (list: a run, show: an instance). */
export const OUTPUT_FORMATS = ['table', 'json', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The Io objects whose JSON goes on one line (`-o jsonl`): kept per Io, so embedded programs do not share it. */
const oneLine = new WeakSet<Io>();

/**
 * The output format argv asks for, read before commander parses it, so even a usage error is
 * reported in that format; with `jsonl`, marks `io` so printJson writes one line.
 */
export function requestedOutput(argv: readonly string[], io: Io): OutputFormat {
  let format: string | undefined;
  argv.forEach((a, i) => {
    if (a === '--') return;
    if (a === '--json') format ??= 'json';
    else if (a === '-o' || a === '--output') format = argv[i + 1];
    else if (a.startsWith('--output=')) format = a.slice('--output='.length);
    else if (/^-o[a-z]/.test(a)) format = a.slice(2);
  });
  if (format === 'jsonl') oneLine.add(io);
  return format === 'json' || format === 'jsonl' ? format : 'table';
}

export function printJson(io: Io, value: unknown): void {
  io.out(oneLine.has(io) ? JSON.stringify(value) : JSON.stringify(value, null, 2));
}

/** One JSON document per line (`-o jsonl` of list and show). */
export function printJsonLines(io: Io, values: readonly unknown[]): void {
  for (const v of values) io.out(JSON.stringify(v));
}
