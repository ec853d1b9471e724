import type { Command } from 'commander';
import { globalsOf, temporalConfig, withClient } from '../connect';
import { followRun } from '../follow';
import type { Done, Io } from '../io';
import { reportEnd } from '../report';
import { addRunRef, resolveRun, type RunRef } from '../workflow-id';

export function registerWatch(program: Command, io: Io, done: Done): void {
  const watch = program
    .command('watch')
    .summary('follow a run with a progress bar until it ends')
    .description(
      'Follow a run: a progress bar on stderr (batches done/total, removed, failed, phase, and any activity ' +
        'being retried with its attempt and last error), refreshed every second, then the final summary. ' +
        'Exit 0 only if the run completed or was a dry run.',
    );
  addRunRef(watch)
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in watch ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in watch --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --json > result.json
  $ ess-scale-in watch ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --run-id 0b7c5e8a-...`,
    )
    .action(async (id: string | undefined, ref: RunRef, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, ref);
      done(
        await withClient(g, async (client) => {
          const end = await followRun(client, workflowId, io, {
            bar: g.json !== true,
            taskQueue: temporalConfig(g).taskQueue,
            runId,
          });
          // `existing`: watch follows a run started before it (start --wait reports false for its own).
          return reportEnd(io, end, g.json === true, { existing: true });
        }),
      );
    });
  registerResult(program, io, done);
}

function registerResult(program: Command, io: Io, done: Done): void {
  const result = program
    .command('result')
    .summary('wait for a run to end and print its result')
    .description(
      'Wait for the end of a run (immediately, if it has ended) and print the result: per-batch table, ' +
        'counts, and every instance not removed with why. Exit 0 only if the run completed or was a dry run.',
    );
  addRunRef(result)
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in result ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in result ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --json | jq '.result.notRemoved'
  $ ess-scale-in result ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --run-id 0b7c5e8a-... --json`,
    )
    .action(async (id: string | undefined, ref: RunRef, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, ref);
      done(
        await withClient(g, async (client) =>
          reportEnd(io, await followRun(client, workflowId, io, { bar: false, runId }), g.json === true),
        ),
      );
    });
}
