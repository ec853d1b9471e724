import type { Command } from 'commander';
import { reportError } from '../../src/cli/errors';
import type { Io } from '../../src/cli/io';
import { buildProgram } from '../../src/cli/program';
import { registerScheduleCommands, type WindowsApi, type WithWindows } from '../../src/cli/schedule';

/**
 * The `schedule` commands over a fake WindowsApi, with what they print and their exit code.
 * `fresh`: each run starts with empty output (else the lines of every run are kept).
 */
export function scheduleCli(api: WindowsApi, opts: { fresh?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), rewrite: () => undefined, interactive: false };
  let code = -1;
  const done = (c: number) => {
    code = c;
  };
  const withWindows: WithWindows = async (_cmd: Command, fn) => fn(api);
  const program = buildProgram(io, done);
  registerScheduleCommands(program, withWindows, io, done);
  const run = async (...argv: string[]) => {
    code = -1;
    if (opts.fresh) {
      out.length = 0;
      err.length = 0;
    }
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (e) {
      code = reportError(io, e, argv.includes('--json'));
    }
    return code;
  };
  return { run, out, err };
}
