import os from 'node:os';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  RunNotFoundError,
  type CancelArgs,
  type ControlArgs,
  type ControlState,
  type PauseArgs,
  type ScaleInClient,
} from '../../client';
import { RunEndedError } from '../errors';
import { globalsOf, withClient } from '../connect';
import { followRun } from '../follow';
import { phaseLabel } from '../format';
import { EXIT, printJson, type Done, type Io } from '../io';
import { endJson, reportEnd } from '../report';
import { addRunRef, resolveRun, type RunRef } from '../workflow-id';

type Control = 'pause' | 'resume' | 'approve' | 'endDrain';

const CONTROLS: ReadonlyArray<{ name: string; method: Control; summary: string; description: string; past: string }> = [
  {
    name: 'pause',
    method: 'pause',
    summary: 'no new drain or removal starts until resumed',
    description:
      'Pause a run: no new drain and no new RemoveInstances start until `resume`; a RemoveInstances already ' +
      'accepted by ESS is followed to its end. Drained instances stay drained, unless --restore gives them ' +
      'their traffic back (they are drained again on resume, before their removal).',
    past: 'paused',
  },
  {
    name: 'resume',
    method: 'resume',
    summary: 'let a paused run go on',
    description: 'Resume a paused run.',
    past: 'resumed',
  },
  {
    name: 'approve',
    method: 'approve',
    summary: 'let a --require-approval run go past its preflight',
    description:
      'Approve a run started with --require-approval: it goes past the preflight and starts changing things. ' +
      'Check the plan first with `status`.',
    past: 'approved',
  },
  {
    name: 'end-drain',
    method: 'endDrain',
    summary: 'end the current drain waits now',
    description:
      'End the current drain waits now: the instances drained so far may be removed at once, ' +
      'without waiting for --drain-timeout.',
    past: 'drain ended',
  },
];

interface ControlFlags extends RunRef {
  by?: string;
  note?: string;
  /** pause only */
  restore?: boolean;
}

/** Who did it lands in the workflow history; the login name is the honest default. */
function defaultActor(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `unknown@${os.hostname()}`;
  }
}

function controlArgs(f: ControlFlags): PauseArgs {
  return { by: f.by ?? defaultActor(), ...(f.note ? { note: f.note } : {}), ...(f.restore ? { restore: true } : {}) };
}

async function invoke(
  client: ScaleInClient,
  method: Control,
  workflowId: string,
  args: ControlArgs,
  action: string,
  runId?: string,
): Promise<ControlState> {
  try {
    return await send(client, method, workflowId, args, runId);
  } catch (e) {
    if (!(e instanceof RunNotFoundError)) throw e;
    // Updates to a closed run come back as "not found"; tell an ended run from a missing one.
    const desc = await client
      .handle(workflowId, runId)
      .describe()
      .catch(() => undefined);
    if (desc && desc.status.name !== 'RUNNING') throw new RunEndedError(workflowId, desc.status.name, action);
    throw e;
  }
}

function send(
  client: ScaleInClient,
  method: Control,
  workflowId: string,
  args: ControlArgs,
  runId?: string,
): Promise<ControlState> {
  switch (method) {
    case 'pause':
      return client.pause(workflowId, args, runId);
    case 'resume':
      return client.resume(workflowId, args, runId);
    case 'approve':
      return client.approve(workflowId, args, runId);
    case 'endDrain':
      return client.endDrain(workflowId, args, runId);
  }
}

export function registerControls(program: Command, io: Io, done: Done): void {
  for (const c of CONTROLS) registerControl(program, c, io, done);
  registerCancel(program, io, done);
}

function registerControl(program: Command, c: (typeof CONTROLS)[number], io: Io, done: Done): void {
  const cmd = program
    .command(c.name)
    .summary(c.summary)
    .description(
      `${c.description} The request is a Temporal update: it is refused (exit 1) when the run cannot take it, ` +
        'e.g. after it ended.',
    );
  const note = c.name === 'approve' ? 'plan checked' : 'change window';
  if (c.name === 'pause')
    cmd.option(
      '--restore',
      'also give their traffic back to drained instances not yet sent to RemoveInstances (drained again on resume)',
    );
  addRunRef(cmd)
    .option('--by <who>', 'who does it, kept in the history (default: user@host)')
    .option('--note <text>', 'why, kept in the history')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in ${c.name} ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --by alice --note "${note}"
  $ ess-scale-in ${c.name} --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --json`,
    )
    .action(async (id: string | undefined, flags: ControlFlags, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, flags);
      done(
        await withClient(g, async (client) => {
          const state = await invoke(client, c.method, workflowId, controlArgs(flags), c.name, runId);
          if (g.json) printJson(io, { ok: true, workflowId, action: c.name, state });
          else io.out(`${workflowId}: ${c.past} (phase ${phaseLabel(state)} when the run took the request)`);
          if (!g.json && state.restoredInstanceIds) io.out(givenBackLine(state));
          return EXIT.ok;
        }),
      );
    });
}

/** What `pause --restore` did, in one line. */
function givenBackLine(s: ControlState): string {
  const back = s.restoredInstanceIds ?? [];
  const stay = s.notRestoredInstanceIds ?? [];
  const kept = stay.length ? `; still drained (see status): ${stay.join(', ')}` : '';
  return `traffic given back to ${back.length} drained instance(s); they are drained again on resume${kept}`;
}

interface CancelFlags extends RunRef {
  wait?: boolean;
  by?: string;
  reason?: string;
}

function cancelNote(f: CancelFlags): CancelArgs {
  return { by: f.by ?? defaultActor(), ...(f.reason ? { reason: f.reason } : {}) };
}

function registerCancel(program: Command, io: Io, done: Done): void {
  const cancel = program
    .command('cancel')
    .summary('cancel a run; drained instances get their traffic back')
    .description(
      'Cancel a run: no new batch starts, instances drained but not removed get their load-balancer weight ' +
        'back, and a RemoveInstances already accepted by ESS is followed to its end. --by and --reason go into ' +
        "the run's result, status and memo. With --wait, follow the " +
        'run until it has stopped.',
    );
  addRunRef(cancel)
    .option('--wait', 'wait until the run has stopped and print what was done')
    .option('--by <who>', 'who cancels, kept in the result (default: user@host)')
    .option('--reason <text>', 'why, kept in the result, status and memo')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in cancel ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --by alice --reason "change freeze"
  $ ess-scale-in cancel --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --wait --json`,
    )
    .action(async (id: string | undefined, flags: CancelFlags, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, flags);
      done(
        await withClient(g, (client) =>
          cancelRun(client, { workflowId, runId, note: cancelNote(flags) }, flags.wait === true, io, g.json === true),
        ),
      );
    });
}

async function cancelRun(
  client: ScaleInClient,
  { workflowId, runId, note }: { workflowId: string; runId: string | undefined; note?: CancelArgs },
  wait: boolean,
  io: Io,
  json: boolean,
) {
  // The server accepts a cancel of a closed run without complaint; say it ended instead.
  const desc = await client
    .handle(workflowId, runId)
    .describe()
    .catch((e: unknown) => {
      throw e instanceof WorkflowNotFoundError ? new RunNotFoundError(workflowId, runId) : e;
    });
  if (desc.status.name !== 'RUNNING') throw new RunEndedError(workflowId, desc.status.name, 'cancel');
  await client.cancel(workflowId, runId, note);
  if (!wait) {
    if (json) printJson(io, { ok: true, workflowId, action: 'cancel', requested: true });
    else io.out(`${workflowId}: cancellation requested; follow it with: ess-scale-in watch ${workflowId}`);
    return EXIT.ok;
  }
  const end = await followRun(client, workflowId, io, { bar: !json, runId });
  // Asked to stop and it stopped: success for this command, whatever the run's own outcome.
  if (json) printJson(io, { ok: true, workflowId, action: 'cancel', run: endJson(end) });
  else reportEnd(io, end, false);
  return EXIT.ok;
}
