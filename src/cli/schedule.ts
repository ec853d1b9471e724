/**
 * `ess-scale-in schedule create|list|describe|pause|unpause|trigger|delete`: scheduled scale-in
 * windows (docs/schedules.md), on the client library in src/client/schedules.ts. The subcommands
 * live in src/cli/schedule/.
 *
 * Registered by run() in src/cli.ts, not by buildProgram(), so tests can register them with a fake
 * client:
 *
 *   import { registerScheduleCommands, windowsClient } from './schedule';
 *   registerScheduleCommands(program, windowsClient, io, done);
 *
 * `windowsClient` opens a client from the global flags/env (like every other command) and closes
 * it afterwards; tests pass their own. Errors other than "schedule exists / not found" are left to
 * the program's reportError (bad input → exit 2, with one `field: problem (fix)` line each).
 */
import type { Command } from 'commander';
import { ScaleInWindows } from '../client/schedules';
import { globalsOf, withClient } from './connect';
import { processIo, type Done, type Io } from './io';
import type { WithWindows } from './schedule/common';
import { registerCreate } from './schedule/create';
import { registerDelete, registerDescribe, registerList, registerPauseUnpause } from './schedule/manage';
import { registerTrigger } from './schedule/trigger';

export type { WindowsApi, WithWindows } from './schedule/common';
export { buildWindowRequest, type WindowFlags } from './schedule/request';

/** The default: the global --address/--namespace/--task-queue flags and TEMPORAL_* env, like every command. */
export const windowsClient: WithWindows = (cmd, fn) => withClient(globalsOf(cmd), (c) => fn(ScaleInWindows.from(c), c));

export function registerScheduleCommands(
  program: Command,
  getClient: WithWindows = windowsClient,
  io: Io = processIo(),
  done: Done = (code) => {
    process.exitCode = code;
  },
): void {
  const schedule = program
    .command('schedule')
    .summary('scheduled scale-in windows (Temporal Schedules)')
    .description(
      'Scheduled scale-in windows: at each firing, pick instances (oldest, newest, oldest scaling ' +
        "configuration, or the group's own RemovalPolicies with zones balanced; never Protected or Standby; " +
        "never below MinSize) and remove them within a time window. Times are shown in the schedule's zone. " +
        'See docs/schedules.md.',
    );
  const ctx = { getClient, io, done };
  registerCreate(schedule, ctx);
  registerList(schedule, ctx);
  registerDescribe(schedule, ctx);
  registerPauseUnpause(schedule, ctx);
  registerTrigger(schedule, ctx);
  registerDelete(schedule, ctx);
  schedule.commands.forEach((c) =>
    c.addHelpText(
      'after',
      '\nGlobal options (--address, --namespace, --task-queue, --json) and exit codes: ess-scale-in --help',
    ),
  );
}
