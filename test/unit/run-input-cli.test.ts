import { describe, it, expect } from 'vitest';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/program';
import { buildInput } from '../../src/cli/input';
import type { Io } from '../../src/cli/io';
import { buildWindowRequest, registerScheduleCommands, type WithWindows } from '../../src/cli/schedule';
import { PASSTHROUGH_FIELDS } from '../../src/shared/window';

/** `start` and `schedule create` share one definition of the flags that set a run's input. */

const io: Io = { out: () => undefined, err: () => undefined, rewrite: () => undefined, interactive: false };
const noClient: WithWindows = () => Promise.reject(new Error('no client in this test'));

function commands() {
  const program = buildProgram(io, () => undefined);
  registerScheduleCommands(program, noClient, io, () => undefined);
  const sub = (parent: Command, name: string) => parent.commands.find((c) => c.name() === name) as Command;
  return { program, start: sub(program, 'start'), create: sub(sub(program, 'schedule'), 'create') };
}

/** Each option by its long flag, as --help shows it: flags, description with defaults, heading. */
function helpOf(cmd: Command): Map<string, { flags: string; help: string; group: string | undefined }> {
  const help = cmd.createHelp();
  return new Map(
    cmd.options.map((o: Option) => [
      o.long ?? o.flags,
      { flags: o.flags, help: help.optionDescription(o), group: o.helpGroupHeading },
    ]),
  );
}

const SHARED_FLAGS = [
  '--region',
  '--group',
  '--remove-policy',
  '--no-decrease-desired-capacity',
  '--batch-size',
  '--drain-strategy',
  '--drain-timeout',
  '--max-drained-ahead',
  '--on-batch-failure',
  '--allow-drained',
  '--leave-undrained',
  '--lifecycle-hooks',
  '--reason',
  '--poll-min-interval-ms',
  '--poll-max-interval-ms',
  '--retry-initial-interval-ms',
  '--retry-max-interval-ms',
  '--heartbeat-timeout',
  // A run by selection (start) and a window (schedule create) pick their instances the same way.
  '--count',
  '--selection',
  '--max-batches-per-run',
  '--poll-forecast-samples',
];

const SHARED_ARGS = [
  ['--region', 'cn-hangzhou'],
  ['--group', 'asg-bp1dk4nm0o5ldvzcpe2v'],
  ['--remove-policy', 'recycle'],
  ['--no-decrease-desired-capacity'],
  ['--batch-size', '3'],
  ['--drain-strategy', 'standby'],
  ['--drain-timeout', '30'],
  ['--max-drained-ahead', '7'],
  ['--on-batch-failure', 'continue'],
  ['--allow-drained'],
  ['--leave-undrained', 'sgp-gwlb0001, sgp-gwlb0002'],
  ['--lifecycle-hooks', 'complete:ash-bp1drain0001,ash-bp1drain0002'],
  ['--reason', 'weekly trim'],
  ['--poll-min-interval-ms', '100'],
  ['--poll-max-interval-ms', '1000'],
  ['--retry-initial-interval-ms', '200'],
  ['--retry-max-interval-ms', '2000'],
  ['--heartbeat-timeout', '20'],
  ['--max-batches-per-run', '5'],
  ['--poll-forecast-samples', '3'],
].flat();

describe('run-input flags of start and schedule create', () => {
  it('are the same flags with the same help, and the only flags the two commands have in common', () => {
    const { start, create } = commands();
    const startHelp = helpOf(start);
    const createHelp = helpOf(create);
    // --input differs on purpose: a scale-in input there, a window input here.
    const common = [...startHelp.keys()].filter((flag) => createHelp.has(flag) && flag !== '--input');
    expect(common.sort()).toEqual([...SHARED_FLAGS].sort());
    for (const flag of SHARED_FLAGS) expect(createHelp.get(flag), flag).toEqual(startHelp.get(flag));
  });

  it('set the same fields, whether a run is started or a window hands them to its runs', async () => {
    const { program, start, create } = commands();
    let run: Record<string, unknown> = {};
    let window: Record<string, unknown> = {};
    const given = (self: Command) => (key: string) => self.getOptionValueSource(key) === 'cli';
    start.action((flags, self: Command) => {
      run = buildInput(flags, { given: given(self) }) as unknown as Record<string, unknown>;
    });
    create.action((flags, self: Command) => {
      window = buildWindowRequest(flags, { given: given(self) }).window as unknown as Record<string, unknown>;
    });
    await program.parseAsync(['start', ...SHARED_ARGS], { from: 'user' });
    await program.parseAsync(['schedule', 'create', ...SHARED_ARGS], { from: 'user' });

    const fields = ['regionId', 'scalingGroupId', ...PASSTHROUGH_FIELDS];
    const pick = (o: Record<string, unknown>) => Object.fromEntries(fields.map((k) => [k, o[k]]));
    expect(pick(window)).toEqual(pick(run));
    expect(pick(run)).toEqual({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
      batchSize: 3,
      drain: { strategy: 'standby', timeoutSeconds: 30, maxDrainedAhead: 7 },
      removePolicy: 'recycle',
      decreaseDesiredCapacity: false,
      onBatchFailure: 'continue',
      allowDrainedInstances: true,
      leaveUndrained: ['sgp-gwlb0001', 'sgp-gwlb0002'],
      lifecycleHooks: { mode: 'complete', hookIds: ['ash-bp1drain0001', 'ash-bp1drain0002'] },
      reason: 'weekly trim',
      advanced: {
        pollMinIntervalMs: 100,
        pollMaxIntervalMs: 1000,
        retryInitialIntervalMs: 200,
        retryMaxIntervalMs: 2000,
        heartbeatTimeoutSeconds: 20,
        maxBatchesPerRun: 5,
        pollForecastSamples: 3,
      },
    });
  });
});
