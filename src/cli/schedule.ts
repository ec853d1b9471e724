/**
 * `ess-scale-in schedule create|list|describe|pause|unpause|trigger|delete`: scheduled scale-in
 * windows (docs/schedules.md), on the client library in src/client/schedules.ts.
 *
 * To register, in buildProgram() of src/cli/program.ts, next to the other register* calls:
 *
 *   import { registerScheduleCommands, windowsClient } from './schedule';
 *   registerScheduleCommands(program, windowsClient, io, done);
 *
 * `windowsClient` opens a client from the global flags/env (like every other command) and closes
 * it afterwards; tests pass their own. Errors other than "schedule exists / not found" are left to
 * the program's reportError (bad input → exit 2, with one `field: problem (fix)` line each).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { CalendarSpec, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  DEFAULT_CATCHUP_WINDOW,
  OVERLAP_POLICIES,
  ScaleInWindowFailedError,
  ScaleInWindows,
  WindowScheduleExistsError,
  WindowScheduleNotFoundError,
  validateCreateWindow,
} from '../client/schedules';
import { SELECTION_POLICIES, windowIdFor, type ScaleInWindowInput, type ScaleInWindowResult } from '../shared/window';
import { globalsOf, withClient } from './connect';
import { collect, type ScaleInKnobFlags } from './input';
import { CliUsageError, EXIT, printJson, processIo, type Done, type Io } from './io';
import { renderPairs, renderTable } from './table';

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
>;
/** Runs `fn` with a connected WindowsApi and closes the connection afterwards. */
export type WithWindows = <T>(cmd: Command, fn: (windows: WindowsApi) => Promise<T>) => Promise<T>;

/** The default: the global --address/--namespace/--task-queue flags and TEMPORAL_* env, like every command. */
export const windowsClient: WithWindows = (cmd, fn) => withClient(globalsOf(cmd), (c) => fn(ScaleInWindows.from(c)));

export interface WindowFlags extends ScaleInKnobFlags {
  input?: string;
  scheduleId?: string;
  region?: string;
  group?: string;
  windowMinutes?: string;
  windowSeconds?: string;
  count?: string;
  targetCapacity?: string;
  selection?: string;
  blackoutDates?: string[];
  timezone?: string;
  cron?: string[];
  calendar?: string[];
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  note?: string;
  paused?: boolean;
  validateOnly?: boolean;
}

/** Integers become numbers; anything else is kept as typed so the validator can quote it back. */
function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns the flags into a window input and a schedule spec, without judging them: validation is
 * validateCreateWindow's job (one set of messages whatever way the input came in).
 */
export function buildWindowRequest(
  f: WindowFlags,
  deps: { stdin?: () => string; given?: (option: string) => boolean } = {},
): { window: ScaleInWindowInput; cron: string[]; calendars: CalendarSpec[]; timezone: string } {
  const stdin = deps.stdin ?? (() => readFileSync(0, 'utf8'));
  const given = deps.given ?? (() => true);
  let base: Record<string, unknown> = {};
  if (f.input !== undefined) {
    let text: string;
    try {
      text = f.input === '-' ? stdin() : readFileSync(f.input, 'utf8');
    } catch (e) {
      throw new CliUsageError(
        `--input: cannot read ${f.input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliUsageError(`--input: ${f.input} is not valid JSON: ${(e as Error).message}`);
    }
    if (!isRecord(parsed)) throw new CliUsageError(`--input: ${f.input} must hold a JSON object (the window input)`);
    base = parsed;
  }
  const out: Record<string, unknown> = { ...base };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set('regionId', f.region);
  set('scalingGroupId', f.group);
  // A length or size flag replaces the input file's own (they are either-or fields).
  if (f.windowMinutes !== undefined || f.windowSeconds !== undefined) {
    delete out.windowMinutes;
    delete out.windowSeconds;
  }
  set('windowMinutes', num(f.windowMinutes));
  set('windowSeconds', num(f.windowSeconds));
  if (f.count !== undefined || f.targetCapacity !== undefined) {
    delete out.count;
    delete out.targetCapacity;
  }
  set('count', num(f.count));
  set('targetCapacity', num(f.targetCapacity));
  set('selection', f.selection);
  if (f.blackoutDates !== undefined)
    out.blackoutDates = f.blackoutDates.flatMap((v) => v.split(/[\s,]+/)).filter((s) => s !== '');
  const timezone = f.timezone ?? (typeof base.timezone === 'string' ? base.timezone : 'UTC');
  out.timezone = timezone;
  set('batchSize', num(f.batchSize));
  set('removePolicy', f.removePolicy);
  if (given('decreaseDesiredCapacity') && f.decreaseDesiredCapacity === false) out.decreaseDesiredCapacity = false;
  set('onBatchFailure', f.onBatchFailure);
  set('reason', f.reason);
  const drain: Record<string, unknown> = isRecord(base.drain) ? { ...base.drain } : {};
  for (const [k, v] of Object.entries({
    strategy: f.drainStrategy,
    timeoutSeconds: num(f.drainTimeout),
    maxDrainedAhead: num(f.maxDrainedAhead),
  }))
    if (v !== undefined) drain[k] = v;
  if (Object.keys(drain).length || base.drain !== undefined)
    out.drain = isRecord(base.drain) || base.drain === undefined ? drain : base.drain;
  const advanced: Record<string, unknown> = isRecord(base.advanced) ? { ...base.advanced } : {};
  const adv = {
    pollMinIntervalMs: num(f.pollMinIntervalMs),
    pollMaxIntervalMs: num(f.pollMaxIntervalMs),
    retryInitialIntervalMs: num(f.retryInitialIntervalMs),
    retryMaxIntervalMs: num(f.retryMaxIntervalMs),
    heartbeatTimeoutSeconds: num(f.heartbeatTimeout),
    maxBatchesPerRun: num(f.maxBatchesPerRun),
  };
  for (const [k, v] of Object.entries(adv)) if (v !== undefined) advanced[k] = v;
  if (Object.keys(advanced).length || base.advanced !== undefined)
    out.advanced = isRecord(base.advanced) || base.advanced === undefined ? advanced : base.advanced;

  const calendars: CalendarSpec[] = (f.calendar ?? []).map((c) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(c);
    } catch (e) {
      throw new CliUsageError(`--calendar: not valid JSON (${(e as Error).message}): ${c}`);
    }
    if (!isRecord(parsed))
      throw new CliUsageError(`--calendar: expected a JSON object like {"dayOfWeek":"SATURDAY","hour":2}, got ${c}`);
    return parsed as CalendarSpec;
  });
  return { window: out as unknown as ScaleInWindowInput, cron: f.cron ?? [], calendars, timezone };
}

function scheduleIdOf(id: string | undefined, f: { region?: string; group?: string }): string {
  if (id && (f.region || f.group))
    throw new CliUsageError('give either a schedule ID or --region and --group, not both');
  if (id) return id;
  if (f.region && f.group) return windowIdFor(f.region, f.group);
  throw new CliUsageError(
    'which schedule? give its ID (ess-scale-in-window/<region>/<group>) or both --region and --group',
  );
}

function addScheduleRef(cmd: Command): Command {
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

/** "Schedule exists / not found" are this command's own: exit 3, like a run that is active / missing. */
async function guarded(io: Io, json: boolean, fn: () => Promise<number>): Promise<number> {
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

function resultLines(r: ScaleInWindowResult): string[] {
  const lines = [`${r.workflowId}: ${r.outcome}`, `  ${r.message}`];
  if (r.selection)
    lines.push(
      `  selected ${r.selection.picks.length} (${r.selection.policy}), removed ${r.removed.length}, remaining ${r.remaining.length}`,
    );
  for (const x of r.remaining.slice(0, 20)) lines.push(`  remains: ${x.instanceId} (${x.state}) ${x.why}`);
  return lines;
}

export function registerScheduleCommands(
  program: Command,
  getClient: WithWindows = windowsClient,
  io: Io = processIo(),
  done: Done = (code) => {
    process.exitCode = code;
  },
): void {
  const schedule = program
    .command('schedule')
    .summary('scheduled scale-in windows (Temporal Schedules)')
    .description(
      'Scheduled scale-in windows: at each firing, pick instances (oldest, newest or oldest scaling configuration; never Protected or Standby; never below MinSize) and remove them within a time window. See docs/schedules.md.',
    );

  const create = schedule
    .command('create')
    .summary('create a window schedule (validated first: a bad input creates nothing)')
    .description(
      'Create a schedule whose every firing runs one scale-in window. The input is validated before anything is created (exit 2 with one `field: problem (fix)` line each); a schedule with the same ID exits 3.',
    )
    .option(
      '--input <file.json|->',
      'the window input as JSON (schema/scale-in-window-input.schema.json); flags given as well override its fields',
    )
    .option('--schedule-id <id>', 'schedule ID (default: ess-scale-in-window/<region>/<group>)')
    .option('--region <regionId>', 'region of the scaling group, e.g. cn-hangzhou')
    .option('--group <scalingGroupId>', 'the ESS scaling group, e.g. asg-bp1...')
    .option('--cron <expr>', 'when it fires, cron in --timezone (repeatable), e.g. "0 2 * * SAT"', collect)
    .option(
      '--calendar <json>',
      'when it fires, a Temporal calendar spec as JSON (repeatable), e.g. \'{"dayOfWeek":"SATURDAY","hour":2}\'',
      collect,
    )
    .option('--timezone <tz>', 'IANA time zone of --cron/--calendar and of the blackout dates (default UTC)')
    .option('--window-minutes <n>', 'length of the window, 1-10080 minutes from the scheduled time')
    .option('--window-seconds <n>', 'length of the window in seconds (instead of --window-minutes; for tests)')
    .option('--count <n>', 'remove this many instances per window (capped at TotalCapacity - MinSize)')
    .option(
      '--target-capacity <n>',
      'remove instances down to this TotalCapacity (instead of --count; never below MinSize)',
    )
    .option('--selection <policy>', `which instances go first: ${SELECTION_POLICIES.join(' | ')}`)
    .option(
      '--blackout-dates <dates>',
      'YYYY-MM-DD dates (in --timezone) with no scale-in, comma-separated (repeatable)',
      collect,
    )
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
    .option('--validate-only', 'check the input and print the schedule that would be created; create nothing')
    .option('--batch-size <n>', 'instances per RemoveInstances call, 1-20 (default 20)')
    .option('--drain-strategy <strategy>', 'weight (default) | standby | none')
    .option('--drain-timeout <seconds>', 'how long traffic drains before removal, 0-3600 (default 300)')
    .option('--max-drained-ahead <n>', 'at most this many instances drained ahead of removal')
    .option('--remove-policy <policy>', 'release (default) | recycle')
    .option('--no-decrease-desired-capacity', 'keep DesiredCapacity (ESS launches replacements)')
    .option('--on-batch-failure <mode>', 'abort (default) | continue')
    .option('--reason <text>', 'who asked and why; passed to every scale-in run');
  const advanced = (flags: string, description: string) =>
    new Option(flags, description).helpGroup('Advanced tuning (defaults suit production):');
  create
    .addOption(advanced('--poll-min-interval-ms <ms>', 'first scaling-activity poll interval (default 2000)'))
    .addOption(advanced('--poll-max-interval-ms <ms>', 'longest scaling-activity poll interval (default 30000)'))
    .addOption(advanced('--retry-initial-interval-ms <ms>', 'first activity retry backoff (default 2000)'))
    .addOption(advanced('--retry-max-interval-ms <ms>', 'longest activity retry backoff (default 60000)'))
    .addOption(
      advanced(
        '--heartbeat-timeout <seconds>',
        'heartbeat timeout of every activity: how soon a dead worker is noticed (default 10)',
      ),
    )
    .addOption(advanced('--max-batches-per-run <n>', 'continue-as-new after this many batches (default 100)'))
    .addHelpText(
      'after',
      `
Examples:
  $ ess-scale-in schedule create --region cn-hangzhou --group asg-bp1dk4nm0o5ldvzcpe2v \\
      --cron "0 2 * * SAT" --timezone Asia/Shanghai --window-minutes 120 --count 5 --selection oldest \\
      --blackout-dates 2026-10-01,2026-10-02 --drain-timeout 300 --note "weekly trim (alice)"
  $ ess-scale-in schedule create --input window.json --cron "0 3 * * *" --timezone UTC --validate-only --json`,
    )
    .action(async (flags: WindowFlags, self: Command) => {
      const g = globalsOf(self);
      const json = g.json === true;
      const req = buildWindowRequest(flags, { given: (key) => self.getOptionValueSource(key) === 'cli' });
      if (flags.overlap !== undefined && !(OVERLAP_POLICIES as readonly string[]).includes(flags.overlap))
        throw new CliUsageError(`--overlap must be one of ${OVERLAP_POLICIES.join(', ')}, got ${flags.overlap}`);
      if (flags.catchupWindow !== undefined && !/^\d+(ms|s|m|h|d)$/.test(flags.catchupWindow))
        throw new CliUsageError(`--catchup-window must be a duration like 10m, 90s or 1h, got ${flags.catchupWindow}`);
      const opts = {
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
      // Before connecting: a bad input fails fast and offline.
      const checked = validateCreateWindow(opts);
      if (flags.validateOnly) {
        if (json)
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
        else
          io.out([`${checked.scheduleId}: valid, nothing created`, JSON.stringify(checked.window, null, 2)].join('\n'));
        done(EXIT.ok);
        return;
      }
      done(
        await guarded(io, json, () =>
          getClient(self, async (w) => {
            const r = await w.createWindow(opts);
            const d = await w.describeWindow(r.scheduleId);
            if (json)
              printJson(io, {
                ok: true,
                scheduleId: r.scheduleId,
                window: r.window,
                nextRunTimes: d.nextRunTimes,
                paused: d.paused,
              });
            else {
              io.out(r.scheduleId);
              io.err(
                `Created ${r.scheduleId}${d.paused ? ' (paused)' : ''}; next firings: ${d.nextRunTimes.slice(0, 3).join(', ') || 'none'}`,
              );
              io.err(`Fire it now with: ess-scale-in schedule trigger ${r.scheduleId} --wait`);
            }
            return EXIT.ok;
          }),
        ),
      );
    });

  schedule
    .command('list')
    .summary('list window schedules')
    .description(
      'List the schedules that run scale-in windows (eventually consistent: a schedule created a moment ago may be missing).',
    )
    .option('--region <regionId>', 'only this region')
    .option('--group <scalingGroupId>', 'only this scaling group')
    .action(async (flags: { region?: string; group?: string }, self: Command) => {
      const g = globalsOf(self);
      done(
        await getClient(self, async (w) => {
          const rows = await w.listWindows({
            ...(flags.region ? { regionId: flags.region } : {}),
            ...(flags.group ? { scalingGroupId: flags.group } : {}),
          });
          if (g.json) printJson(io, { ok: true, schedules: rows });
          else if (!rows.length) io.err('no window schedules');
          else
            io.out(
              renderTable(
                ['ID', 'PAUSED', 'NEXT', 'LAST FIRED', 'NOTE'],
                rows.map((r) => [
                  r.scheduleId,
                  r.paused ? 'yes' : 'no',
                  r.nextRunTimes[0] ?? '-',
                  r.recentRuns.at(-1)?.takenAt ?? '-',
                  r.note ?? '',
                ]),
              ).join('\n'),
            );
          return EXIT.ok;
        }),
      );
    });

  addScheduleRef(
    schedule.command('describe').summary('show a window schedule: spec, policies, window input, recent firings'),
  ).action(async (id: string | undefined, flags: { region?: string; group?: string }, self: Command) => {
    const g = globalsOf(self);
    const scheduleId = scheduleIdOf(id, flags);
    done(
      await guarded(io, g.json === true, () =>
        getClient(self, async (w) => {
          const d = await w.describeWindow(scheduleId);
          if (g.json) printJson(io, { ok: true, schedule: d });
          else {
            io.out(
              renderPairs([
                ['schedule', d.scheduleId],
                ['state', d.paused ? `paused${d.note ? ` (${d.note})` : ''}` : `active${d.note ? ` (${d.note})` : ''}`],
                [
                  'when',
                  `${[...d.spec.cron, ...(d.spec.calendars.length && !d.spec.cron.length ? [`${d.spec.calendars.length} calendar spec(s)`] : [])].join('; ') || '-'} (${d.spec.timezone ?? 'UTC'})`,
                ],
                ['blackout', d.window?.blackoutDates?.join(', ') || '-'],
                [
                  'policies',
                  `overlap ${d.policies.overlap}, catch-up ${d.policies.catchupWindowMs / 1000}s, pause on failure ${d.policies.pauseOnFailure}`,
                ],
                ['task queue', d.taskQueue],
                ['next', d.nextRunTimes.slice(0, 3).join(', ') || '-'],
                [
                  'fired',
                  `${d.counts.taken} (skipped for overlap ${d.counts.skippedOverlap}, missed catch-up ${d.counts.missedCatchupWindow})`,
                ],
                ['running', d.runningRuns.map((r) => r.workflowId).join(', ') || '-'],
                ['last', d.recentRuns.at(-1)?.workflowId ?? '-'],
              ]).join('\n'),
            );
            io.out(JSON.stringify(d.window, null, 2));
          }
          return EXIT.ok;
        }),
      ),
    );
  });

  for (const [name, past] of [
    ['pause', 'paused'],
    ['unpause', 'unpaused'],
  ] as const) {
    addScheduleRef(
      schedule
        .command(name)
        .summary(
          name === 'pause'
            ? 'no firing starts until unpaused (a running window goes on)'
            : 'let the schedule fire again',
        ),
    )
      .option('--note <text>', 'why, kept on the schedule')
      .action(
        async (id: string | undefined, flags: { region?: string; group?: string; note?: string }, self: Command) => {
          const g = globalsOf(self);
          const scheduleId = scheduleIdOf(id, flags);
          done(
            await guarded(io, g.json === true, () =>
              getClient(self, async (w) => {
                if (name === 'pause') await w.pauseWindow(scheduleId, flags.note);
                else await w.unpauseWindow(scheduleId, flags.note);
                if (g.json) printJson(io, { ok: true, scheduleId, action: name });
                else io.out(`${scheduleId}: ${past}`);
                return EXIT.ok;
              }),
            ),
          );
        },
      );
  }

  addScheduleRef(schedule.command('trigger').summary('run one window now (the blackout check still applies)'))
    .option(
      '--overlap <policy>',
      `if a window is running: ${OVERLAP_POLICIES.join(' | ')} (default: the schedule's policy)`,
    )
    .option(
      '--wait',
      'wait for the window to end and print its result; exit 1 unless it completed, was a blackout, or closed',
    )
    .action(
      async (
        id: string | undefined,
        flags: { region?: string; group?: string; overlap?: string; wait?: boolean },
        self: Command,
      ) => {
        const g = globalsOf(self);
        const json = g.json === true;
        const scheduleId = scheduleIdOf(id, flags);
        if (flags.overlap !== undefined && !(OVERLAP_POLICIES as readonly string[]).includes(flags.overlap))
          throw new CliUsageError(`--overlap must be one of ${OVERLAP_POLICIES.join(', ')}, got ${flags.overlap}`);
        done(
          await guarded(io, json, () =>
            getClient(self, async (w) => {
              const before = (await w.describeWindow(scheduleId)).recentRuns.length;
              await w.triggerWindow(scheduleId, flags.overlap as ScheduleOverlapPolicy | undefined);
              if (!flags.wait) {
                if (json) printJson(io, { ok: true, scheduleId, action: 'trigger' });
                else io.out(`${scheduleId}: triggered`);
                return EXIT.ok;
              }
              let run;
              for (let i = 0; i < 300 && !run; i++) {
                const d = await w.describeWindow(scheduleId);
                run = d.recentRuns.length > before ? d.recentRuns.at(-1) : undefined;
                if (!run) await new Promise((r) => setTimeout(r, 200));
              }
              if (!run)
                throw new Error(
                  `${scheduleId} was triggered but no run appeared within a minute (overlap policy SKIP and a window still running?)`,
                );
              if (!json) io.err(`Window run ${run.workflowId} started; waiting for it to end…`);
              try {
                const r = await w.windowResult(run.workflowId, run.firstExecutionRunId);
                const ok = r.outcome !== 'failed' && r.outcome !== 'skipped-busy';
                if (json) printJson(io, { ok, scheduleId, workflowId: run.workflowId, outcome: r.outcome, result: r });
                else io.out(resultLines(r).join('\n'));
                return ok ? EXIT.ok : EXIT.failed;
              } catch (e) {
                if (!(e instanceof ScaleInWindowFailedError)) throw e;
                if (json)
                  printJson(io, {
                    ok: false,
                    scheduleId,
                    workflowId: run.workflowId,
                    outcome: 'failed',
                    error: { code: e.code, message: e.message },
                    result: e.result ?? null,
                  });
                else
                  io.out(
                    e.result ? resultLines(e.result).join('\n') : `${run.workflowId}: failed: ${e.code}: ${e.message}`,
                  );
                return EXIT.failed;
              }
            }),
          ),
        );
      },
    );

  addScheduleRef(schedule.command('delete').summary('delete a window schedule (a running window goes on)')).action(
    async (id: string | undefined, flags: { region?: string; group?: string }, self: Command) => {
      const g = globalsOf(self);
      const scheduleId = scheduleIdOf(id, flags);
      done(
        await guarded(io, g.json === true, () =>
          getClient(self, async (w) => {
            await w.deleteWindow(scheduleId);
            if (g.json) printJson(io, { ok: true, scheduleId, action: 'delete' });
            else io.out(`${scheduleId}: deleted`);
            return EXIT.ok;
          }),
        ),
      );
    },
  );

  schedule.commands.forEach((c) =>
    c.addHelpText(
      'after',
      '\nGlobal options (--address, --namespace, --task-queue, --json) and exit codes: ess-scale-in --help',
    ),
  );
}
