import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program';
import type { Io } from '../../src/cli/io';
import { registerScheduleCommands, type WithWindows } from '../../src/cli/schedule';

/**
 * Every `ess-scale-in …` command in the runbooks' code blocks parses with today's CLI: a flag renamed
 * or removed fails here instead of in an operator's first hour.
 */
const DOCS = ['docs/go-live.md', 'docs/schedules.md'];
const root = path.resolve(__dirname, '../..');
const io: Io = { out: () => undefined, err: () => undefined, rewrite: () => undefined, interactive: false };
const noClient: WithWindows = () => Promise.reject(new Error('no client in this test'));

/** The shell code blocks (bash, sh or unlabelled) of a markdown text. */
function shellBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let open: { shell: boolean; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    const fence = /^\s*```(\w*)/.exec(line);
    if (fence && !open) open = { shell: ['', 'bash', 'sh', 'shell'].includes(fence[1] ?? ''), lines: [] };
    else if (fence && open) {
      if (open.shell) blocks.push(open.lines.join('\n'));
      open = undefined;
    } else open?.lines.push(line);
  }
  return blocks;
}

/**
 * The `ess-scale-in` command lines of the shell blocks: continuations joined, comments and
 * redirections dropped; synopses (`[--flag …]`) left out, they are not commands.
 */
function commandLines(markdown: string): string[] {
  return shellBlocks(markdown).flatMap((b) =>
    b
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) =>
        l
          .replace(/\s+#\s.*$/, '')
          .replace(/\s[>|].*$/, '')
          .trim(),
      )
      .filter((l) => l.startsWith('ess-scale-in ') && !l.includes('[--')),
  );
}

/** Shell words: single and double quotes, no expansion (a `$(…)` is kept as one word). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** A program whose actions do nothing, that throws instead of exiting. */
function parser(): Command {
  const program = buildProgram(io, () => undefined);
  registerScheduleCommands(program, noClient, io, () => undefined);
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    c.action(() => undefined);
    c.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}

describe.each(DOCS)('%s', (doc) => {
  const lines = commandLines(readFileSync(path.join(root, doc), 'utf8'));

  it('has ess-scale-in commands to check', () => {
    expect(lines.length).toBeGreaterThan(3);
  });

  it.each(lines)('parses: %s', async (line) => {
    const argv = words(line).slice(1);
    try {
      await parser().parseAsync(argv, { from: 'user' });
    } catch (e) {
      // --version and --help end the parse on purpose.
      if (e instanceof CommanderError && /version|help/.test(e.code)) return;
      throw e;
    }
  });
});
