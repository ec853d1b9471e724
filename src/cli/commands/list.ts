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
import { CliUsageError, EXIT, printJson, type Done, type Io } from '../io';
import { renderTable } from '../table';

interface ListFlags {
  group?: string;
  region?: string;
  running?: boolean;
  limit: string;
}

/** Visibility queries quote with single quotes; refuse what could change the query's meaning. */
function literal(flag: string, v: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new CliUsageError(`${flag}: unexpected characters in ${JSON.stringify(v)}`);
  return `'${v}'`;
}

export function visibilityQuery(f: Pick<ListFlags, 'group' | 'region' | 'running'>): string {
  const parts = [`WorkflowType='${SCALE_IN_WORKFLOW_TYPE}'`];
  if (f.group) parts.push(`${SA_SCALING_GROUP_ID.name}=${literal('--group', f.group)}`);
  if (f.region) parts.push(`${SA_REGION_ID.name}=${literal('--region', f.region)}`);
  if (f.running) parts.push(`ExecutionStatus='Running'`);
  return parts.join(' AND ');
}

export function registerList(program: Command, io: Io, done: Done): void {
  program
    .command('list')
    .summary('list scale-in runs, newest first')
    .description(
      'List scale-in runs (workflow type scaleIn) from Temporal visibility, newest first, with their status, ' +
        'phase (EssPhase) and start time. Filters use the EssScalingGroupId and EssRegionId search attributes.',
    )
    .option('--group <scalingGroupId>', 'only runs of this scaling group')
    .option('--region <regionId>', 'only runs in this region')
    .option('--running', 'only runs still running')
    .option('--limit <n>', 'at most this many rows', '50')
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in list
  $ ess-scale-in list --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v --running
  $ ess-scale-in list --json | jq -r '.runs[].workflowId'`,
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
          if (g.json) printJson(io, { ok: true, query, runs });
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

function runTable(runs: readonly ListedRun[]): string {
  const rows = runs.map((r) => [
    r.workflowId,
    r.status,
    r.phase ?? '-',
    r.total === null ? '-' : `${r.removed ?? 0}/${r.total}`,
    r.startTime.replace(/\.\d{3}Z$/, 'Z'),
  ]);
  return renderTable(['ID', 'STATUS', 'PHASE', 'REMOVED', 'STARTED'], rows).join('\n');
}
