import type { Command } from 'commander';
import { auditRun, type InstanceAudit, type RunAudit } from '../../client/audit';
import { globalsOf, withClient } from '../connect';
import { EXIT, printJson, printJsonLines, type Done, type Io } from '../io';
import { renderPairs, renderTable } from '../table';
import { addRunRef, resolveRun, type RunRef } from '../workflow-id';

const SHOW_HELP = `
Read from the run's history (and the runs of its continue-as-new chain), finished or running:
per instance its batch; its drain (which CLB / vserver group / ALB / NLB server group, weight before
-> after, or Standby, with the RequestIds); the RemoveInstances call (RequestIds, ScalingActivityId,
attempts and the last retry's error); the scaling activity's end status; restores; and the outcome
with why (error code and message). Works while the history is kept (the namespace's retention).

Output: a table (default), --json (the run's JSON, docs/run.schema.json, with instances[]), or
-o jsonl (one instance per line, each with workflowId and runId). Exit 0 when the history was read,
whatever the run's outcome (see "outcome" and "ok"); 3 when there is no such run.

Examples:
  $ ess-scale-in show ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in show --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --run-id 0b7c5e8a-... --json
  $ ess-scale-in show ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v -o jsonl | jq 'select(.outcome != "removed")'`;

export function registerShow(program: Command, io: Io, done: Done): void {
  const cmd = program
    .command('show')
    .summary("a run's audit trail per instance, from its history")
    .description(
      'Show what a run (the latest, or --run-id) did to each instance: batch, drain and weights, ' +
        'RemoveInstances RequestIds and scaling activity, its end, and the outcome with why.',
    );
  addRunRef(cmd)
    .addHelpText('after', SHOW_HELP)
    .action(async (id: string | undefined, ref: RunRef, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, ref);
      done(
        await withClient(g, async (client) => {
          const audit = await auditRun(client.client, workflowId, runId);
          if (g.output === 'jsonl')
            printJsonLines(
              io,
              audit.instances.map((i) => ({ workflowId, runId: audit.runId, ...i })),
            );
          else if (g.json) printJson(io, audit);
          else io.out(auditLines(audit).join('\n'));
          return EXIT.ok;
        }),
      );
    });
}

/** The run, then one block of lines per instance. */
export function auditLines(a: RunAudit): string[] {
  const chain = a.runIds.length > 1 ? ` (chain of ${a.runIds.length} runs: ${a.runIds.join(', ')})` : '';
  const head = renderPairs([
    ['Workflow', a.workflowId],
    ['Run', `${a.runId}${chain}`],
    ['Group', `${a.scalingGroupId} (${a.regionId})`],
    ['Execution', `${a.status}, started ${a.startTime}${a.closeTime ? `, closed ${a.closeTime}` : ''}`],
    ['Outcome', a.outcome + (a.result ? `: ${a.result.message}` : '')],
    ...(a.error ? [['Error', `${a.error.code}${a.error.message ? `: ${a.error.message}` : ''}`] as const] : []),
  ]);
  const rows = a.instances.flatMap((i) =>
    instanceRows(i).map(([what, detail], k) => [k === 0 ? i.instanceId : '', k === 0 ? batchOf(i) : '', what, detail]),
  );
  return [...head, '', ...renderTable(['INSTANCE', 'BATCH', 'STEP', 'DETAIL'], rows)];
}

const batchOf = (i: InstanceAudit) => (i.batch === null ? '-' : String(i.batch));
const ids = (xs: readonly string[]) => (xs.length ? `RequestId ${xs.join(', ')}` : 'no RequestId recorded');
const err = (e: { code: string; message: string } | null) => (e ? `${e.code}: ${e.message}` : '');

/** `[step, detail]` pairs of one instance, in the order they happened. */
function instanceRows(i: InstanceAudit): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const d = i.drain;
  if (d) {
    const changes = d.changes.map((c) => `${c.place} ${c.before} -> ${c.after}`).join(', ') || 'no backend recorded';
    const at = d.drainedAt ? ` at ${d.drainedAt}` : '';
    rows.push([
      'drain',
      `${d.strategy}: ${changes}; ${ids(d.requestIds)}${at}${d.error ? `; failed ${err(d.error)}` : ''}`,
    ]);
  }
  const m = i.removal;
  if (m) {
    const activity = m.scalingActivityId
      ? `ScalingActivityId ${m.scalingActivityId}${m.adopted ? ' (adopted)' : ''}`
      : '';
    const attempts = m.attempts && m.attempts > 1 ? `attempt ${m.attempts}` : '';
    const retry = m.lastRetryError ? `last retry ${err(m.lastRetryError)}` : '';
    const failed = m.error ? `failed ${err(m.error)}` : '';
    rows.push(['RemoveInstances', [ids(m.requestIds), activity, attempts, retry, failed].filter(Boolean).join('; ')]);
  }
  const s = i.scalingActivity;
  if (s) {
    const msg = s.statusMessage ? `: ${s.statusMessage}` : '';
    const end = s.endedAt ? ` (ended ${s.endedAt})` : '';
    rows.push([
      'scaling activity',
      `${s.scalingActivityId} ${s.statusCode}${msg}${end}${s.error ? `; ${err(s.error)}` : ''}`,
    ]);
  }
  const r = i.restore;
  if (r) {
    const on = r.restoredOn.length ? `given back on ${r.restoredOn.join(', ')}` : 'not given back';
    const left = r.drainedOn.map((p) => `${p.place} (${p.code})`).join(', ');
    rows.push([
      'restore',
      [on, left ? `still drained on ${left}` : '', ids(r.requestIds), err(r.error)].filter(Boolean).join('; '),
    ]);
  }
  rows.push([
    'outcome',
    `${i.outcome}: ${i.why}${i.error && !i.why.includes(i.error.message) ? ` (${err(i.error)})` : ''}`,
  ]);
  return rows;
}
