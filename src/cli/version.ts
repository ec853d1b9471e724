import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { printJson, type Io } from './io';

export interface VersionInfo {
  name: string;
  version: string;
  /** Version of the Temporal TypeScript SDK the CLI and the worker run (`@temporalio/client`). */
  temporalSdk: string;
  node: string;
}

/** The `version` field of a package.json, or "unknown" (never fails: `--version` must always answer). */
function versionOf(file: string): string {
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' && v ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Read at run time, relative to this file: src/cli/version.ts under tsx and dist/cli/version.js in
 * the image are both two levels below the package root, where package.json is (the image copies it
 * to /app). The SDK's version comes from its own package.json, resolved as the code resolves it.
 */
export function versionInfo(): VersionInfo {
  const root = path.resolve(__dirname, '..', '..');
  let sdkPackage = '';
  try {
    sdkPackage = createRequire(path.join(root, 'package.json')).resolve('@temporalio/client/package.json');
  } catch {
    // Not installed where expected: reported as "unknown" below.
  }
  return {
    name: 'ess-scale-in',
    version: versionOf(path.join(root, 'package.json')),
    temporalSdk: sdkPackage ? versionOf(sdkPackage) : 'unknown',
    node: process.version,
  };
}

export function versionText(v: VersionInfo = versionInfo()): string {
  return `${v.name} ${v.version} (Temporal TypeScript SDK ${v.temporalSdk}, Node.js ${v.node})`;
}

/** `--json`, `-o json` / `--output json` (or jsonl) anywhere in the arguments. */
function jsonRequested(args: readonly string[]): boolean {
  return args.some(
    (a, i) =>
      a === '--json' ||
      /^(--output=|-o)jsonl?$/.test(a) ||
      ((a === '-o' || a === '--output') && /^jsonl?$/.test(args[i + 1] ?? '')),
  );
}

/**
 * `-V, --version` on the program: prints the version and ends with exit 0, as commander's own
 * `.version()` does, but computed only when asked and as JSON with `--json` (before or after it).
 */
export function addVersionOption(program: Command, io: Io): Command {
  program.option('-V, --version', 'print the version of ess-scale-in and of the Temporal SDK, then exit');
  program.on('option:version', () => {
    // rawArgs: every argument of this parse, so `--version --json` works as well as `--json --version`.
    const json = jsonRequested((program as Command & { rawArgs?: readonly string[] }).rawArgs ?? []);
    const info = versionInfo();
    if (json) printJson(io, { ok: true, ...info });
    else io.out(versionText(info));
    throw new CommanderError(0, 'commander.version', versionText(info));
  });
  return program;
}
