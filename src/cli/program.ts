import { registerSetupNamespace } from './commands/setup-namespace';
import { Command, Option } from 'commander';
import { registerControls } from './commands/control';
import { registerDemo } from './commands/demo';
import { registerList } from './commands/list';
import { registerProcesses } from './commands/processes';
import { registerRepair } from './commands/repair';
import { registerStart } from './commands/start';
import { registerShow } from './commands/show';
import { registerStatus } from './commands/status';
import { registerWatch } from './commands/watch';
import { OUTPUT_FORMATS, type Done, type Io } from './io';
import { addVersionOption } from './version';

const EXIT_CODES_HELP = `
Exit codes:
  0  ok (for start --wait, watch, result: the run completed, or was a dry run)
  1  the run failed, was cancelled, completed with failures, or refused the request
  2  bad flags or input: nothing was started or changed
  3  no such run, or a run is already active for the scaling group
  4  Temporal could not be reached within --connect-timeout (default 3 s)

Environment:
  TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE (ess-scale-in),
  TEMPORAL_API_KEY, TEMPORAL_TLS*, read by every command; the worker also reads ALIBABA_CLOUD_* credentials
  and ESS_ENDPOINT / SLB_ENDPOINT / ALB_ENDPOINT.

Examples:
  $ ess-scale-in start --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --instances i-bp1a2b3c4d5e6f7g8h9i --wait
  $ ess-scale-in list --running
  $ npm run demo

Docs: docs/cli.md`;

/**
 * The `ess-scale-in` command tree. Commander's own usage errors and exits are routed through
 * exitOverride so they end with our exit code 2 instead of commander's 1.
 */
export function buildProgram(io: Io, done: Done): Command {
  const program = new Command('ess-scale-in')
    .description('Durable, auditable scale-in of Alibaba Cloud Auto Scaling (ESS) groups on Temporal.')
    .addOption(new Option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or default)'))
    .addOption(
      new Option(
        '--connect-timeout <seconds>',
        'how long to wait for Temporal before exit 4 (default: $ESS_SCALE_IN_CONNECT_TIMEOUT or 3)',
      ),
    )
    .addOption(
      new Option('--task-queue <name>', 'task queue of the workers (default: $TEMPORAL_TASK_QUEUE or ess-scale-in)'),
    )
    .addOption(new Option('--json', 'machine-readable JSON on stdout only (no progress bar, no tables)'))
    .addOption(
      new Option(
        '-o, --output <format>',
        'json (same as --json), jsonl (list, show: one object per line) or table',
      ).choices(OUTPUT_FORMATS),
    )
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);
  addVersionOption(program, io);
  // Subcommands created with .command() inherit exitOverride, output and help settings from here.
  registerStart(program, io, done);
  registerStatus(program, io, done);
  registerWatch(program, io, done);
  registerControls(program, io, done);
  registerRepair(program, io, done);
  registerList(program, io, done);
  registerShow(program, io, done);
  registerProcesses(program, io, done);
  registerDemo(program, io, done);
  registerSetupNamespace(program, io, done);
  program.commands.forEach((c) =>
    c.addHelpText(
      'after',
      '\nGlobal options (--address, --namespace, --task-queue, --json, -o) and exit codes: ess-scale-in --help',
    ),
  );
  return program;
}
