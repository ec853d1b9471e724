import { CommanderError } from 'commander';
import { buildProgram } from './cli/program';
import { reportError } from './cli/errors';
import { registerScheduleCommands, windowsClient } from './cli/schedule';
import { EXIT, printJson, processIo, requestedOutput, type Io } from './cli/io';

/** Runs one command and resolves to its exit code; never calls process.exit itself (tests embed it). */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const done = (c: number) => {
    code = c;
  };
  const program = buildProgram(io, done);
  // Added here rather than in buildProgram: tests build the program and add it with a fake client.
  registerScheduleCommands(program, windowsClient, io, done);
  const json = requestedOutput(argv, io) !== 'table';
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    // exitOverride turns --help into an "error" with exit code 0; commander has printed its message already.
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT.ok;
      if (json) printJson(io, { ok: false, error: { code: 'Usage', message: e.message.replace(/^error: /, '') } });
      return EXIT.usage;
    }
    return reportError(io, e, json);
  }
}

/** Exits only once stdout has drained, so piped JSON is never cut short. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  run(argv).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(EXIT.failed);
    },
  );
}

if (require.main === module) main();
