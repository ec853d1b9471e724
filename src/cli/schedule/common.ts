import { Option, type Command } from 'commander';
import type { ScaleInClient } from '../../client';
import {
  OVERLAP_POLICIES,
  WindowScheduleExistsError,
  WindowScheduleNotFoundError,
  type ScaleInWindows,
} from '../../client/schedules';
import { windowIdFor } from '../../shared/window';
import { CliUsageError, EXIT, printJson, type Done, type Io } from '../io';

/** The client-library calls the commands use (a ScaleInWindows, or a fake of the same shape). */
export type WindowsApi = Pick<
  ScaleInWindows,
  | 'createWindow'
  | 'listWindows'
  | 'describeWindow'
  | 'pauseWindow'
  | 'unpauseWindow'
  | 'triggerWindow'
  | 'deleteWindow'
  | 'windowResult'
> &
  /** Optional so fakes may leave it out: without it, `trigger --wait` only waits for the window's end. */
  Partial<Pick<ScaleInWindows, 'windowState'>>;
/**
 * Runs `fn` with a connected WindowsApi (and the ScaleInClient under it, which `trigger --wait`
 * follows the scale-in run with) and closes the connection afterwards.
 */
export type WithWindows = <T>(
  cmd: Command,
  fn: (windows: WindowsApi, client?: ScaleInClient) => Promise<T>,
) => Promise<T>;

/** What every `schedule` subcommand is registered with. */
export interface ScheduleContext {
  getClient: WithWindows;
  io: Io;
  done: Done;
}

/** A schedule named by its ID, or by the scaling group it scales in. */
export interface ScheduleRefFlags {
  region?: string;
  group?: string;
}

export function scheduleIdOf(id: string | undefined, f: ScheduleRefFlags): string {
  if (id && (f.region || f.group))
    throw new CliUsageError('give either a schedule ID or --region and --group, not both');
  if (id) return id;
  if (f.region && f.group) return windowIdFor(f.region, f.group);
  throw new CliUsageError(
    'which schedule? give its ID (ess-scale-in-window/<region>/<group>) or both --region and --group',
  );
}

export function addScheduleRef(cmd: Command): Command {
  return cmd
    .argument(
      '[scheduleId]',
      'the schedule, e.g. ess-scale-in-window/cn-hangzhou/asg-bp1...; or give --region and --group',
    )
    .addOption(
      new Option('--region <regionId>', 'region of the scaling group (with --group, instead of the schedule ID)'),
    )
    .addOption(new Option('--group <scalingGroupId>', 'the scaling group (with --region, instead of the schedule ID)'));
}

/** Checked before connecting, so a typo fails fast and offline. */
export function checkOverlap(overlap: string | undefined): void {
  if (overlap !== undefined && !(OVERLAP_POLICIES as readonly string[]).includes(overlap))
    throw new CliUsageError(`--overlap must be one of ${OVERLAP_POLICIES.join(', ')}, got ${overlap}`);
}

/** "Schedule exists / not found" are this command's own: exit 3, like a run that is active / missing. */
export async function guarded(io: Io, json: boolean, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WindowScheduleExistsError || e instanceof WindowScheduleNotFoundError) {
      if (json) printJson(io, { ok: false, error: { code: e.code, message: e.message, scheduleId: e.scheduleId } });
      io.err(`error: ${e.message}`);
      return EXIT.conflictOrNotFound;
    }
    throw e;
  }
}
