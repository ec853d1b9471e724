import type { Command } from 'commander';
import type { ScaleInClient } from '../../client';
import {
  SA_INSTANCES_REMOVED,
  SA_INSTANCES_TOTAL,
  SA_PHASE,
  SA_REGION_ID,
  SA_SCALING_GROUP_ID,
} from '../../shared/search-attributes';
import { SCALE_IN_WORKFLOW_TYPE } from '../../workflows/definitions';
import { globalsOf, withClient } from '../connect';
import { CliUsageError, EXIT, printJson, printJsonLines, type Done, type Io } from '../io';
import { renderTable } from '../table';

interface ListFlags {
  group?: string;
  region?: string;
  running?: boolean;
  query?: string;
  limit: string;
}

/** Visibility queries quote with single quotes; refuse what could change the query's meaning. */
function literal(flag: string, v: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new CliUsageError(`${flag}: unexpected characters in ${JSON.stringify(v)}`);
  return `'${v}'`;
}

/**
 * The visibility query of `list`: always the scale-in workflow type, then each filter, then
 * `--query` in parentheses, so its OR cannot widen the list beyond scale-in runs.
 */
export function visibilityQuery(f: Pick<ListFlags, 'group' | 'region' | 'running' | 'query'>): string {
  const parts = [`WorkflowType='${SCALE_IN_WORKFLOW_TYPE}'`];
  if (f.group) parts.push(`${SA_SCALING_GROUP_ID.name}=${literal('--group', f.group)}`);
  if (f.region) parts.push(`${SA_REGION_ID.name}=${literal('--region', f.region)}`);
  if (f.running) parts.push(`ExecutionStatus='Running'`);
  if (f.query !== undefined) {
    const q = f.query.trim();
    if (!q)
      throw new CliUsageError('--query: empty; give a visibility query, e.g. "StartTime > \'2026-01-01T00:00:00Z\'"');
    if (/\border\s+by\b/i.test(q))
      throw new CliUsageError('--query: ORDER BY is not supported here (list is newest first); leave it out');
    parts.push(`(${q})`);
  }
  return parts.join(' AND ');
}

export function registerList(program: Command, io: Io, done: Done): void {
  program
    .command('list')
    .summary('list scale-in runs, newest first')
    .description(
      'List scale-in runs (workflow type scaleIn) from Temporal visibility, newest first: workflow ID, run ID ' +
        '(every run of a group shares the workflow ID; pass the run ID to --run-id of status, result, show…), ' +
        'status, phase (EssPhase), removed/total (EssInstancesRemoved/EssInstancesTotal), start and close time. ' +
        'Filters use the EssScalingGroupId and EssRegionId search attributes.',
    )
    .option('--group <scalingGroupId>', 'only runs of this scaling group')
    .option('--region <regionId>', 'only runs in this region')
    .option('--running', 'only runs still running')
    .option(
      '--query <visibilityQuery>',
      "a Temporal visibility query, ANDed with WorkflowType='scaleIn' and the other filters " +
        "(e.g. \"ExecutionStatus='Failed' AND StartTime > '2026-01-01T00:00:00Z'\")",
    )
    .option('--limit <n>', 'at most this many rows', '50')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in list
  $ ess-scale-in list --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --running
  $ ess-scale-in list --json | jq -r '.runs[].runId'
  $ ess-scale-in list --query "ExecutionStatus='Terminated'" -o jsonl   (one run per line)`,
    )
    .action(async (flags: ListFlags, self: Command) => {
      const g = globalsOf(self);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliUsageError(`--limit must be a positive integer, got ${flags.limit}`);
      const query = visibilityQuery(flags);
      done(
        await withClient(g, async (client) => {
          const runs = await listRuns(client, query, limit);
          if (g.output === 'jsonl') printJsonLines(io, runs);
          else if (g.json) printJson(io, { ok: true, query, runs });
          else if (!runs.length) io.err(`no scale-in runs match ${query}`);
          else io.out(runTable(runs));
          return EXIT.ok;
        }),
      );
    });
}

/** One run as `list --json` prints it. */
interface ListedRun {
  workflowId: string;
  runId: string;
  status: string;
  phase: string | null;
  startTime: string;
  closeTime: string | null;
  removed: number | null;
  total: number | null;
}

async function listRuns(client: ScaleInClient, query: string, limit: number): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for await (const w of client.client.workflow.list({ query })) {
    const sa = w.typedSearchAttributes;
    runs.push({
      workflowId: w.workflowId,
      runId: w.runId,
      status: w.status.name,
      phase: sa.get(SA_PHASE) ?? null,
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString() ?? null,
      removed: sa.get(SA_INSTANCES_REMOVED) ?? null,
      total: sa.get(SA_INSTANCES_TOTAL) ?? null,
    });
    if (runs.length >= limit) break;
  }
  return runs;
}

const seconds = (t: string) => t.replace(/\.\d{3}Z$/, 'Z');

function runTable(runs: readonly ListedRun[]): string {
  const rows = runs.map((r) => [
    r.workflowId,
    r.runId,
    r.status,
    r.phase ?? '-',
    r.total === null ? '-' : `${r.removed ?? 0}/${r.total}`,
    seconds(r.startTime),
    r.closeTime ? seconds(r.closeTime) : '-',
  ]);
  return renderTable(['WORKFLOW ID', 'RUN ID', 'STATUS', 'PHASE', 'REMOVED', 'STARTED', 'CLOSED'], rows).join('\n');
}
