import type { Command } from 'commander';
import { validateInput, type ScaleInClient, type ScaleInInput, type StartedRun } from '../../client';
import { globalsOf, temporalConfig, withClient, type GlobalOptions } from '../connect';
import { followRun } from '../follow';
import { addInputOptions, buildInput, type InputFlags } from '../input';
import { EXIT, printJson, type Done, type Io } from '../io';
import { reportEnd } from '../report';
import { addSelectionOptions, isSelectionStart, startBySelection, type SelectionFlags } from '../schedule/manual';

interface StartFlags extends InputFlags, SelectionFlags {
  wait?: boolean;
}

const JQ_INPUT = `'{regionId:"cn-hangzhou",scalingGroupId:"asg-bp1...",instanceIds:["i-bp1..."]}'`;
const START_EXAMPLES = `
Examples:
  $ ess-scale-in start --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v \\
      --instances i-bp1a2b3c4d5e6f7g8h9i,i-bp1b2c3d4e5f6g7h8i9j --batch-size 10 --drain-timeout 120 --wait
  $ ess-scale-in start --region cn-hangzhou --group asg-bp1... --instances-file victims.txt --dry-run --wait
  $ ess-scale-in start --region cn-hangzhou --group asg-bp1... --count 5 --selection groupPolicy --wait
  $ jq -n ${JQ_INPUT} | ess-scale-in start --input - --json`;

export function registerStart(program: Command, io: Io, done: Done): void {
  const cmd = program
    .command('start')
    .summary('start a scale-in (validated first: a bad input starts nothing)')
    .description(
      'Start a scale-in of the given instances. The input is validated before anything is started; every ' +
        'problem is printed as `field: problem (fix)` and the exit code is 2. One run per scaling group at a ' +
        'time: if one is active, the exit code is 3 and the message names it.',
    );
  addSelectionOptions(addInputOptions(cmd))
    .option(
      '--wait',
      'follow the run with a progress bar, print the summary, exit 0 only if it completed (or was a dry run)',
    )
    .addHelpText('after', START_EXAMPLES)
    .action(async (flags: StartFlags, self: Command) => {
      // --count/--selection: the instances are picked as a window picks them (src/cli/schedule/manual.ts).
      if (isSelectionStart(flags)) return done(await startBySelection(flags, self, io));
      const g = globalsOf(self);
      const input = buildInput(flags, { given: (key) => self.getOptionValueSource(key) === 'cli' });
      // Before connecting: a bad input must fail fast and offline.
      const run: RunToStart = { input, normalized: validateInput(input), wait: flags.wait === true };
      done(await withClient(g, (client) => startRun(client, run, io, g)));
    });
}

interface RunToStart {
  input: ScaleInInput;
  normalized: ReturnType<typeof validateInput>;
  /** Follow it to its end (--wait). */
  wait: boolean;
}

async function startRun(client: ScaleInClient, { input, normalized, wait }: RunToStart, io: Io, g: GlobalOptions) {
  const started = await client.start(input);
  const json = g.json === true;
  if (!json) io.err(startedLine(started, normalized));
  if (!wait) {
    if (json) printJson(io, { ok: true, ...started });
    else {
      io.out(started.workflowId);
      io.err(`Follow it with: ess-scale-in watch ${started.workflowId}`);
      if (normalized.requireApproval)
        io.err(`It waits for approval after the preflight: ess-scale-in approve ${started.workflowId} --by <you>`);
    }
    return EXIT.ok;
  }
  const end = await followRun(client, started.workflowId, io, {
    bar: !json,
    taskQueue: temporalConfig(g).taskQueue,
    runId: started.runId,
  });
  return reportEnd(io, end, json, { existing: started.existing });
}

function startedLine(started: StartedRun, n: ReturnType<typeof validateInput>): string {
  if (started.existing)
    return (
      `A run with request ID ${n.requestId ?? '?'} is already active: ` + `${started.workflowId} (run ${started.runId})`
    );
  return (
    `Started ${started.workflowId} (run ${started.runId}): ${n.instanceIds.length} instance(s) ` +
    `in batches of ${n.batchSize}${n.dryRun ? ' [dry run]' : ''}`
  );
}
