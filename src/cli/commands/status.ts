import type { Command } from 'commander';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { ProgressSnapshot, ScaleInClient } from '../../client';
import { globalsOf, withClient } from '../connect';
import { describeRun, queryProgress } from '../follow';
import { statusLines, type ServerView } from '../format';
import { pendingActivitiesOf, pendingLine } from '../pending';
import { EXIT, printJson, type Done, type Io } from '../io';
import { renderPairs } from '../table';
import { addRunRef, resolveRun, type RunRef } from '../workflow-id';

export function registerStatus(program: Command, io: Io, done: Done): void {
  const cmd = program
    .command('status')
    .summary('show where a run stands (progress query)')
    .description(
      'Show the phase, counts and batches of a run, from its `progress` query. When no worker answers the ' +
        'query, the server-side status and search attributes are shown instead.',
    );
  addRunRef(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in status ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v
  $ ess-scale-in status --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --json | jq .progress.counts
  $ ess-scale-in status ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v --run-id 0b7c5e8a-...   (an earlier run)`,
    )
    .action(async (id: string | undefined, ref: RunRef, self: Command) => {
      const g = globalsOf(self);
      const { workflowId, runId } = resolveRun(id, ref);
      done(await withClient(g, (client) => showStatus(client, { workflowId, runId }, io, g.json === true)));
    });
}

/** What the server knows of a run, and its progress query's answer when a worker gives one. */
interface RunStatus {
  workflowId: string;
  desc: WorkflowExecutionDescription;
  searchAttributes: Record<string, unknown>;
  progress: ProgressSnapshot | undefined;
  progressError: string | undefined;
}

async function showStatus(
  client: ScaleInClient,
  { workflowId, runId }: { workflowId: string; runId: string | undefined },
  io: Io,
  json: boolean,
): Promise<number> {
  const desc = await describeRun(client, workflowId, runId);
  const searchAttributes = Object.fromEntries(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
  let progress: ProgressSnapshot | undefined;
  let progressError: string | undefined;
  try {
    progress = await queryProgress(client, workflowId, 5000, desc.runId);
  } catch (e) {
    progressError = e instanceof Error ? e.message : String(e);
  }
  const run: RunStatus = { workflowId, desc, searchAttributes, progress, progressError };
  if (json) printStatusJson(io, run);
  else printStatus(io, run);
  return EXIT.ok;
}

function printStatusJson(io: Io, { workflowId, desc, searchAttributes, progress, progressError }: RunStatus): void {
  printJson(io, {
    ok: true,
    workflowId,
    runId: desc.runId,
    status: desc.status.name,
    startTime: desc.startTime,
    closeTime: desc.closeTime ?? null,
    taskQueue: desc.taskQueue,
    searchAttributes,
    progress: progress ?? null,
    progressError: progressError ?? null,
    pendingActivities: pendingActivitiesOf(desc),
  });
}

/** The progress when a worker answered; otherwise what the server knows, and why that is all. */
function printStatus(io: Io, { workflowId, desc, searchAttributes, progress, progressError }: RunStatus): void {
  const server: ServerView = {
    status: desc.status.name,
    startTime: desc.startTime,
    closeTime: desc.closeTime,
    taskQueue: desc.taskQueue,
  };
  const pending = pendingActivitiesOf(desc).map(pendingLine);
  if (progress) {
    io.out(statusLines(`${workflowId} (run ${desc.runId})`, progress, server).join('\n'));
    if (pending.length) io.out(['', 'Activities in flight:', ...pending.map((l) => `  ${l}`)].join('\n'));
    return;
  }
  io.out(
    renderPairs([
      ['Workflow', workflowId],
      ['Run', desc.runId],
      ['Execution', `${server.status}, started ${desc.startTime.toISOString()}, task queue ${desc.taskQueue}`],
      ...Object.entries(searchAttributes).map(([k, v]) => [k, String(v)] as [string, string]),
    ]).join('\n'),
  );
  io.err(
    `(no answer to the progress query: ${progressError ?? '?'}; ` +
      `is a worker polling task queue "${desc.taskQueue}"?)`,
  );
}
