import type { Command } from 'commander';
import { MANUAL_WINDOW_MINUTES, ScaleInWindows } from '../../client/schedules';
import {
  PASSTHROUGH_FIELDS,
  SELECTION_POLICIES,
  validateWindowInput,
  type ScaleInWindowInput,
} from '../../shared/window';
import { globalsOf, temporalConfig, withClient } from '../connect';
import { buildInput, type InputFlags } from '../input';
import { CliUsageError, EXIT, printJson, type Io } from '../io';
import { addCountSelectionOptions, num } from '../run-input';
import { followWindow } from './follow-window';

/**
 * `start --count N --selection <policy>`: a manual run that picks its instances the way a window
 * does. It starts the `scaleInWindow` workflow once, without a schedule (docs/schedules.md,
 * "A manual run by selection"): the same selection activity, the same audit lines in the result,
 * the scale-in under the group's one-run lock. `--wait` follows it like `schedule trigger --wait`.
 */

export interface SelectionFlags {
  count?: string;
  selection?: string;
  wait?: boolean;
}

/** The input fields that name instances or change what a run is, which a run by selection cannot take. */
const NOT_WITH_SELECTION: Record<string, string> = {
  instanceIds: '--instances/--instances-file (or instanceIds in --input)',
  dryRun: '--dry-run',
  requireApproval: '--require-approval',
  requestId: '--request-id',
};

/** The same --count/--selection as `schedule create` (one definition: src/cli/run-input.ts). */
export function addSelectionOptions(cmd: Command): Command {
  return addCountSelectionOptions(cmd);
}

export function isSelectionStart(f: SelectionFlags): boolean {
  return f.count !== undefined || f.selection !== undefined;
}

/** The window input of a manual run, from the same flags as `start` (checked by validateWindowInput). */
export function selectionWindow(f: InputFlags & SelectionFlags, given: (key: string) => boolean): ScaleInWindowInput {
  const input = buildInput(f, { given }) as unknown as Record<string, unknown>;
  const clash = Object.keys(NOT_WITH_SELECTION).filter((k) => input[k] !== undefined);
  if (clash.length)
    throw new CliUsageError(
      `--count/--selection pick the instances themselves: drop ${clash.map((k) => NOT_WITH_SELECTION[k]).join(', ')}`,
    );
  if (f.count === undefined)
    throw new CliUsageError('--selection needs --count <n>: how many instances to pick (or give --instances)');
  if (f.selection === undefined)
    throw new CliUsageError(
      `--count needs --selection <policy>: one of ${SELECTION_POLICIES.join(', ')} (or give --instances)`,
    );
  const w: Record<string, unknown> = {
    regionId: input.regionId,
    scalingGroupId: input.scalingGroupId,
    windowMinutes: MANUAL_WINDOW_MINUTES,
    count: num(f.count),
    selection: f.selection,
  };
  for (const k of PASSTHROUGH_FIELDS) if (input[k] !== undefined) w[k] = input[k];
  w.reason ??= `manual start by selection: ${f.count} by ${f.selection}`;
  return w as unknown as ScaleInWindowInput;
}

export async function startBySelection(f: InputFlags & SelectionFlags, self: Command, io: Io): Promise<number> {
  const g = globalsOf(self);
  const json = g.json === true;
  const window = selectionWindow(f, (key) => self.getOptionValueSource(key) === 'cli');
  // Before connecting: a bad input fails fast and offline (exit 2, one `field: problem (fix)` line each).
  validateWindowInput(window);
  return withClient(g, async (client) => {
    const windows = ScaleInWindows.from(client);
    const started = await windows.startManualWindow(window);
    if (!json)
      io.err(
        `Started ${started.workflowId} (run ${started.runId}): picks ${window.count} instance(s) by ` +
          `${window.selection}, then scales them in under ess-scale-in/${window.regionId}/${window.scalingGroupId}`,
      );
    if (!f.wait) {
      if (json) printJson(io, { ok: true, workflowId: started.workflowId, runId: started.runId, window });
      else {
        io.out(started.workflowId);
        io.err(`Its picks and result: temporal workflow result --workflow-id ${started.workflowId}`);
        io.err(`Follow the scale-in: ess-scale-in watch ess-scale-in/${window.regionId}/${window.scalingGroupId}`);
      }
      return EXIT.ok;
    }
    return followWindow(windows, client, { workflowId: started.workflowId, runId: started.runId }, io, {
      json,
      taskQueue: temporalConfig(g).taskQueue,
    });
  });
}
