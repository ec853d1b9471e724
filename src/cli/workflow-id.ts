import { Option, type Command } from 'commander';
import { workflowIdFor } from '../client';
import { CliUsageError } from './io';

export interface RunRef {
  region?: string;
  group?: string;
}

/** `<workflowId>` or `--region/--group`: operators know the group, scripts keep the ID. */
export function addRunRef(cmd: Command): Command {
  return cmd
    .argument('[workflowId]', 'the run, e.g. ess-scale-in/cn-hangzhou/asg-bp1...; or give --region and --group')
    .addOption(
      new Option('--region <regionId>', 'region of the scaling group (with --group, instead of the workflow ID)'),
    )
    .addOption(new Option('--group <scalingGroupId>', 'the scaling group (with --region, instead of the workflow ID)'));
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
