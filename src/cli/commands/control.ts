import os from 'node:os';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { RunNotFoundError, type ControlArgs, type ControlState, type ScaleInClient } from '../../client';
import { RunEndedError } from '../errors';
import { globalsOf, withClient } from '../connect';
import { followRun } from '../follow';
import { phaseLabel } from '../format';
import { EXIT, printJson, type Done, type Io } from '../io';
import { endJson, reportEnd } from '../report';
import { addRunRef, resolveWorkflowId, type RunRef } from '../workflow-id';

type Control = 'pause' | 'resume' | 'approve' | 'endDrain';

const CONTROLS: ReadonlyArray<{ name: string; method: Control; summary: string; description: string; past: string }> = [
  {
    name: 'pause',
    method: 'pause',
    summary: 'no new batch starts until resumed',
    description:
      'Pause a run: no new batch starts until `resume`; batches already removing finish, ' +
      'and drained instances stay drained.',
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
}

/** Who did it lands in the workflow history; the login name is the honest default. */
function defaultActor(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `unknown@${os.hostname()}`;
  }
}

function controlArgs(f: ControlFlags): ControlArgs {
  return { by: f.by ?? defaultActor(), ...(f.note ? { note: f.note } : {}) };
}

async function invoke(
  client: ScaleInClient,
  method: Control,
  workflowId: string,
  args: ControlArgs,
  action: string,
): Promise<ControlState> {
  try {
    return await send(client, method, workflowId, args);
  } catch (e) {
    if (!(e instanceof RunNotFoundError)) throw e;
    // Updates to a closed run come back as "not found"; tell an ended run from a missing one.
    const desc = await client
      .handle(workflowId)
      .describe()
      .catch(() => undefined);
    if (desc && desc.status.name !== 'RUNNING') throw new RunEndedError(workflowId, desc.status.name, action);
    throw e;
  }
}

function send(client: ScaleInClient, method: Control, workflowId: string, args: ControlArgs): Promise<ControlState> {
  switch (method) {
    case 'pause':
      return client.pause(workflowId, args);
    case 'resume':
      return client.resume(workflowId, args);
    case 'approve':
      return client.approve(workflowId, args);
    case 'endDrain':
      return client.endDrain(workflowId, args);
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
      const workflowId = resolveWorkflowId(id, flags);
      done(
        await withClient(g, async (client) => {
          const state = await invoke(client, c.method, workflowId, controlArgs(flags), c.name);
          if (g.json) printJson(io, { ok: true, workflowId, action: c.name, state });
          else io.out(`${workflowId}: ${c.past} (phase ${phaseLabel(state)} when the run took the request)`);
          return EXIT.ok;
        }),
      );
    });
}

function registerCancel(program: Command, io: Io, done: Done): void {
  const cancel = program
    .command('cancel')
    .summary('cancel a run; drained instances get their traffic back')
    .description(
      'Cancel a run: no new batch starts, instances drained but not removed get their load-balancer weight ' +
        'back, and a RemoveInstances already accepted by ESS is followed to its end. With --wait, follow the ' +
        'run until it has stopped.',
    );
  addRunRef(cancel)
    .option('--wait', 'wait until the run has stopped and print what was done')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in cancel ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in cancel --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --wait --json`,
    )
    .action(async (id: string | undefined, flags: RunRef & { wait?: boolean }, self: Command) => {
      const g = globalsOf(self);
      const workflowId = resolveWorkflowId(id, flags);
      done(await withClient(g, (client) => cancelRun(client, workflowId, flags.wait === true, io, g.json === true)));
    });
}

async function cancelRun(client: ScaleInClient, workflowId: string, wait: boolean, io: Io, json: boolean) {
  // The server accepts a cancel of a closed run without complaint; say it ended instead.
  const desc = await client
    .handle(workflowId)
    .describe()
    .catch((e: unknown) => {
      throw e instanceof WorkflowNotFoundError ? new RunNotFoundError(workflowId) : e;
    });
  if (desc.status.name !== 'RUNNING') throw new RunEndedError(workflowId, desc.status.name, 'cancel');
  await client.cancel(workflowId);
  if (!wait) {
    if (json) printJson(io, { ok: true, workflowId, action: 'cancel', requested: true });
    else io.out(`${workflowId}: cancellation requested; follow it with: ess-scale-in watch ${workflowId}`);
    return EXIT.ok;
  }
  const end = await followRun(client, workflowId, io, { bar: !json });
  // Asked to stop and it stopped: success for this command, whatever the run's own outcome.
  if (json) printJson(io, { ok: true, workflowId, action: 'cancel', run: endJson(end) });
  else reportEnd(io, end, false);
  return EXIT.ok;
}
