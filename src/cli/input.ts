import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ScaleInInput } from '../client';
import { CliUsageError } from './io';
import {
  RUN_INPUT_OPTIONS,
  addRunInputOptions,
  readInputObject,
  readSource,
  setGiven,
  setRunSettings,
  setScalingGroup,
  type ScaleInKnobFlags,
} from './run-input';

/** Raw values of the `start` flags. */
export interface InputFlags extends ScaleInKnobFlags {
  input?: string;
  instances?: string[];
  instancesFile?: string;
  dryRun?: boolean;
  requireApproval?: boolean;
  requestId?: string;
}

/** `--input` and every run-input flag (src/cli/run-input.ts), as `start` lists them. */
export function addInputOptions(cmd: Command): Command {
  cmd.option(
    '--input <file.json|->',
    'raw JSON input (the workflow input schema); flags given as well override its fields',
  );
  return addRunInputOptions(cmd, RUN_INPUT_OPTIONS);
}

export function parseInstanceList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new CliUsageError(`--instances-file: not a valid JSON array: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new CliUsageError('--instances-file: expected a JSON array of instance IDs');
    return parsed.map(String);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((s) => s !== '');
}

export interface BuildInputDeps {
  /** Reads all of stdin; injectable for tests. */
  stdin?: () => string;
  /** Whether a negatable flag was actually given (commander also reports its implied default). */
  given?: (option: string) => boolean;
}

/**
 * Turns the flags into a ScaleInInput without judging it: validation (and its messages) is
 * validateInput's job, so a bad value is reported the same way whatever way it came in.
 */
export function buildInput(f: InputFlags, deps: BuildInputDeps = {}): ScaleInInput {
  const stdin = deps.stdin ?? (() => readFileSync(0, 'utf8'));
  if (f.input === '-' && f.instancesFile === '-')
    throw new CliUsageError('--input and --instances-file cannot both read stdin');
  const base = f.input === undefined ? {} : readInputObject(f.input, stdin);
  const out: Record<string, unknown> = { ...base };
  setScalingGroup(out, f);
  if (f.instances !== undefined || f.instancesFile !== undefined) out.instanceIds = instanceIdsOf(f, stdin);
  if (f.dryRun) out.dryRun = true;
  if (f.requireApproval) out.requireApproval = true;
  setGiven(out, 'requestId', f.requestId);
  setRunSettings(out, base, f, deps.given ?? (() => true));
  return out as unknown as ScaleInInput;
}

/** `--instances` (each comma- or space-separated) followed by the IDs of `--instances-file`. */
function instanceIdsOf(f: InputFlags, stdin: () => string): string[] {
  const ids = (f.instances ?? []).flatMap((v) => v.split(/[\s,]+/).filter((s) => s !== ''));
  if (f.instancesFile !== undefined)
    ids.push(...parseInstanceList(readSource(f.instancesFile, '--instances-file', stdin)));
  return ids;
}
