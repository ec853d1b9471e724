import type { Command } from 'commander';
import type { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  DEFAULT_CATCHUP_WINDOW,
  OVERLAP_POLICIES,
  validateCreateWindow,
  type CreateWindowOptions,
} from '../../client/schedules';
import { PASSTHROUGH_FIELDS } from '../../shared/window';
import { globalsOf } from '../connect';
import { firingText } from './manage';
import { CliUsageError, EXIT, printJson, type Io } from '../io';
import { addCountSelectionOptions, addRunInputOptions, collect, runInputOptions } from '../run-input';
import { checkOverlap, guarded, type ScheduleContext, type WindowsApi } from './common';
import { buildWindowRequest, type WindowFlags, type WindowRequest } from './request';

const CREATE_EXAMPLES = `
Examples:
  $ ess-scale-in schedule create --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v \\
      --cron "0 2 * * SAT" --timezone Asia/Shanghai --window-minutes 120 --count 5 --selection oldest \\
      --blackout-dates 2026-10-01,2026-10-02 --drain-timeout 300 --note "weekly trim (alice)"
  $ ess-scale-in schedule create --input window.json --cron "0 3 * * *" --timezone UTC --validate-only --json`;

export function registerCreate(schedule: Command, ctx: ScheduleContext): void {
  const create = schedule
    .command('create')
    .summary('create a window schedule (validated first: a bad input creates nothing)')
    .description(
      'Create a schedule whose every firing runs one scale-in window. The input is validated before anything ' +
        'is created (exit 2 with one `field: problem (fix)` line each); a schedule with the same ID exits 3.',
    )
    .option(
      '--input <file.json|->',
      'the window input as JSON (schema/scale-in-window-input.schema.json); flags given as well override its fields',
    )
    .option('--schedule-id <id>', 'schedule ID (default: ess-scale-in-window/<region>/<group>)');
  addRunInputOptions(create, runInputOptions(['regionId', 'scalingGroupId']));
  addWhenOptions(create);
  addWindowOptions(create);
  addScheduleOptions(create);
  // The run settings a window hands to every run it starts: the same flags as `start`'s.
  addRunInputOptions(create, runInputOptions(PASSTHROUGH_FIELDS));
  create
    .addHelpText('after', CREATE_EXAMPLES)
    .action((flags: WindowFlags, self: Command) => runCreate(flags, self, ctx));
}

function addWhenOptions(create: Command): void {
  create
    .option('--cron <expr>', 'when it fires, cron in --timezone (repeatable), e.g. "0 2 * * SAT"', collect)
    .option(
      '--calendar <json>',
      'when it fires, a Temporal calendar spec as JSON (repeatable), e.g. \'{"dayOfWeek":"SATURDAY","hour":2}\'',
      collect,
    )
    .option('--timezone <tz>', 'IANA time zone of --cron/--calendar and of the blackout dates (default UTC)');
}

function addWindowOptions(create: Command): void {
  create
    .option('--window-minutes <n>', 'length of the window, 1-10080 minutes from the scheduled time')
    .option('--window-seconds <n>', 'length of the window in seconds (instead of --window-minutes; for tests)')
    .option(
      '--target-capacity <n>',
      'remove instances down to this TotalCapacity (instead of --count; never below MinSize)',
    );
  addCountSelectionOptions(create).option(
    '--blackout-dates <dates>',
    'YYYY-MM-DD dates (in --timezone) with no scale-in, comma-separated (repeatable)',
    collect,
  );
}

function addScheduleOptions(create: Command): void {
  create
    .option(
      '--overlap <policy>',
      `a firing while the last window still runs: ${OVERLAP_POLICIES.join(' | ')} (default SKIP)`,
    )
    .option(
      '--catchup-window <duration>',
      `how late a missed firing may still start (default ${DEFAULT_CATCHUP_WINDOW})`,
    )
    .option('--no-pause-on-failure', 'keep firing after a failed window (default: pause the schedule)')
    .option('--note <text>', 'note kept on the schedule (who, why)')
    .option('--paused', 'create it paused')
    .option('--validate-only', 'check the input and print the schedule that would be created; create nothing');
}

async function runCreate(flags: WindowFlags, self: Command, { getClient, io, done }: ScheduleContext): Promise<void> {
  const json = globalsOf(self).json === true;
  const req = buildWindowRequest(flags, { given: (key) => self.getOptionValueSource(key) === 'cli' });
  checkOverlap(flags.overlap);
  if (flags.catchupWindow !== undefined && !/^\d+(ms|s|m|h|d)$/.test(flags.catchupWindow))
    throw new CliUsageError(`--catchup-window must be a duration like 10m, 90s or 1h, got ${flags.catchupWindow}`);
  const opts = createOptions(flags, req);
  // Before connecting: a bad input fails fast and offline.
  const checked = validateCreateWindow(opts);
  if (flags.validateOnly) {
    printValidated(io, json, opts, checked);
    done(EXIT.ok);
    return;
  }
  done(await guarded(io, json, () => getClient(self, (w) => createAndReport(w, opts, io, json))));
}

function createOptions(flags: WindowFlags, req: WindowRequest): CreateWindowOptions {
  return {
    ...(flags.scheduleId ? { scheduleId: flags.scheduleId } : {}),
    spec: {
      ...(req.cron.length ? { cron: req.cron } : {}),
      ...(req.calendars.length ? { calendars: req.calendars } : {}),
      timezone: req.timezone,
    },
    window: req.window,
    ...(flags.overlap ? { overlap: flags.overlap as ScheduleOverlapPolicy } : {}),
    catchupWindow: (flags.catchupWindow ?? DEFAULT_CATCHUP_WINDOW) as Duration,
    pauseOnFailure: flags.pauseOnFailure !== false,
    ...(flags.note ? { note: flags.note } : {}),
    ...(flags.paused ? { paused: true } : {}),
  };
}

function printValidated(
  io: Io,
  json: boolean,
  opts: CreateWindowOptions,
  checked: ReturnType<typeof validateCreateWindow>,
): void {
  if (!json) {
    io.out([`${checked.scheduleId}: valid, nothing created`, JSON.stringify(checked.window, null, 2)].join('\n'));
    return;
  }
  printJson(io, {
    ok: true,
    validateOnly: true,
    scheduleId: checked.scheduleId,
    spec: opts.spec,
    window: checked.window,
    policies: {
      overlap: opts.overlap ?? 'SKIP',
      catchupWindow: opts.catchupWindow,
      pauseOnFailure: opts.pauseOnFailure,
    },
  });
}

async function createAndReport(w: WindowsApi, opts: CreateWindowOptions, io: Io, json: boolean): Promise<number> {
  const r = await w.createWindow(opts);
  const d = await w.describeWindow(r.scheduleId);
  if (json) {
    printJson(io, {
      ok: true,
      scheduleId: r.scheduleId,
      window: r.window,
      nextRunTimes: d.nextRunTimes,
      nextRunTimesLocal: d.nextRunTimesLocal,
      timezone: d.timezone,
      paused: d.paused,
    });
    return EXIT.ok;
  }
  io.out(r.scheduleId);
  const next =
    d.nextRunTimes
      .slice(0, 3)
      .map((t) => firingText(t, d.timezone))
      .join(', ') || 'none';
  io.err(`Created ${r.scheduleId}${d.paused ? ' (paused)' : ''}; next firings: ${next}`);
  io.err(`Fire it now with: ess-scale-in schedule trigger ${r.scheduleId} --wait`);
  return EXIT.ok;
}
