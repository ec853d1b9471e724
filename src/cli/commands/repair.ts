import type { Command } from 'commander';
import {
  RepairRefusedError,
  RepairTargetNotFoundError,
  repairRun,
  type RepairResult,
  type ScaleInClient,
} from '../../client';
import { globalsOf, temporalConfig, withClient } from '../connect';
import { EXIT, printJson, type Done, type ExitCode, type Io } from '../io';
import { renderTable } from '../table';
import { addRunRef, resolveRunId, resolveWorkflowId, type RunRef } from '../workflow-id';

const REPAIR_HELP = `
It reads the run's history (every run of its continue-as-new chain): the weights recorded before
each drain, and what RemoveInstances took. A worker then sets each drained-but-not-removed backend
back to its recorded weight (or takes the instance out of Standby) and reads it back. Safe to run
again: weights already right are only verified. Instances ESS removed, or that are no longer behind
a load balancer, are reported gone and not touched.

A terminate does not stop an activity attempt already running on a worker: a drain sent just
before it may still land. When the run ended with an activity running, the repair first waits
(a timer in the repair workflow) until twice that activity's heartbeat timeout plus 15 s have
passed since the run closed, and says so.

It works only while the run's history is kept (the namespace's retention period, shown by
temporal operator namespace describe). After that, find the instances at weight 0 with a dry run
of a new scale-in (its preflight lists instances already at weight 0 or in Standby) and set their
weights back by hand in the CLB/ALB console.

Exit codes: 0 every instance restored, already fine or gone; 1 some instance failed (see its lines),
the run is still active, or a repair of it is already running; 3 no history for the run.

Examples:
  $ ess-scale-in repair ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in repair --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --json`;

interface RepairFlags extends RunRef {
  runId?: string;
}

export function registerRepair(program: Command, io: Io, done: Done): void {
  const cmd = program
    .command('repair')
    .summary('give back the traffic a terminated run left drained, verifying each weight')
    .description(
      'Restore what a scale-in run drained but did not remove, when it ended without restoring it ' +
        '(terminated, or failed beyond its retries). Default: the latest run of the workflow ID or group, ' +
        'which must have ended.',
    );
  addRunRef(cmd)
    .addHelpText('after', REPAIR_HELP)
    .action(async (id: string | undefined, flags: RepairFlags, self: Command) => {
      const g = globalsOf(self);
      const workflowId = resolveWorkflowId(id, flags);
      const runId = resolveRunId(flags);
      const taskQueue = temporalConfig(g).taskQueue;
      done(await withClient(g, (client) => repair(client, { workflowId, runId, taskQueue }, io, g.json)));
    });
}

async function repair(
  client: ScaleInClient,
  opts: { workflowId: string; runId: string | undefined; taskQueue: string },
  io: Io,
  json: boolean | undefined,
): Promise<ExitCode> {
  let result: RepairResult;
  try {
    result = await repairRun(client.client, {
      ...opts,
      onSettle: (seconds, open) =>
        io.err(
          `The run ended with ${open.length} activity attempt(s) still running ` +
            `(${open.map((a) => a.activityType).join(', ')}): ` +
            `waiting ${seconds} s for them to stop before restoring, so a late drain cannot undo the repair.`,
        ),
    });
  } catch (e) {
    if (!(e instanceof RepairRefusedError || e instanceof RepairTargetNotFoundError)) throw e;
    if (json) printJson(io, { ok: false, error: { code: e.code, message: e.message, workflowId: e.workflowId } });
    io.err(`error: ${e.message}`);
    return e instanceof RepairTargetNotFoundError ? EXIT.conflictOrNotFound : EXIT.failed;
  }
  const exit = result.outcome === 'repaired' ? EXIT.ok : EXIT.failed;
  if (json) printJson(io, { ok: exit === EXIT.ok, ...result });
  else printReport(io, result);
  return exit;
}

function printReport(io: Io, r: RepairResult): void {
  io.out(r.message);
  if (!r.instances.length) {
    io.out('Nothing was left drained by this run.');
    return;
  }
  const rows = r.instances.flatMap((i) =>
    i.why.map((line, k) => (k === 0 ? [i.instanceId, i.outcome, line] : ['', '', line])),
  );
  io.out(['', ...renderTable(['INSTANCE', 'OUTCOME', 'WHERE / WHY'], rows)].join('\n'));
  if (r.outcome === 'incomplete')
    io.out('\nSome instances may still be drained: fix the cause above and run repair again.');
}
