import { Option, type Command } from 'commander';
import { workflowIdFor } from '../client';
import { CliUsageError } from './io';

export interface RunRef {
  region?: string;
  group?: string;
  /** A given run of the workflow ID (every run of a group shares the ID) instead of the latest. */
  runId?: string;
}

/** `<workflowId>` or `--region/--group`: operators know the group, scripts keep the ID; `--run-id` picks one run. */
export function addRunRef(cmd: Command): Command {
  return cmd
    .argument('[workflowId]', 'the run, e.g. ess-scale-in/cn-hangzhou/asg-bp1...; or give --region and --group')
    .addOption(
      new Option('--region <regionId>', 'region of the scaling group (with --group, instead of the workflow ID)'),
    )
    .addOption(new Option('--group <scalingGroupId>', 'the scaling group (with --region, instead of the workflow ID)'))
    .addOption(
      new Option(
        '--run-id <runId>',
        'a given run of the workflow instead of the latest (every run of a group shares the workflow ID; ' +
          'list shows the run IDs)',
      ),
    );
}

export function resolveWorkflowId(workflowId: string | undefined, ref: RunRef): string {
  if (workflowId && (ref.region || ref.group))
    throw new CliUsageError('give either a workflow ID or --region and --group, not both');
  if (workflowId) return workflowId;
  if (ref.region && ref.group) return workflowIdFor(ref.region, ref.group);
  throw new CliUsageError(
    'which run? give the workflow ID (ess-scale-in/<region>/<group>) or both --region and --group',
  );
}

/** Temporal run IDs are UUIDs; anything else would come back as the server's "Invalid RunId". */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function resolveRunId(ref: RunRef): string | undefined {
  if (ref.runId === undefined) return undefined;
  if (!RUN_ID.test(ref.runId))
    throw new CliUsageError(
      '--run-id: expected a run ID (a UUID such as 0b7c5e8a-…, shown by ess-scale-in list), ' +
        `got ${JSON.stringify(ref.runId)}`,
    );
  return ref.runId;
}

/** The workflow ID and, with --run-id, the run: what every command that names a run acts on. */
export function resolveRun(workflowId: string | undefined, ref: RunRef): { workflowId: string; runId?: string } {
  const id = resolveWorkflowId(workflowId, ref);
  const runId = resolveRunId(ref);
  return runId ? { workflowId: id, runId } : { workflowId: id };
}
