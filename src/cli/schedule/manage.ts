import type { Command } from 'commander';
import type { WindowScheduleDescription, WindowScheduleSummary } from '../../client/schedules';
import { zonedText } from '../../shared/window';
import { globalsOf } from '../connect';
import { EXIT, printJson } from '../io';
import { renderPairs, renderTable } from '../table';
import { addScheduleRef, guarded, scheduleIdOf, type ScheduleContext, type ScheduleRefFlags } from './common';

export function registerList(schedule: Command, { getClient, io, done }: ScheduleContext): void {
  schedule
    .command('list')
    .summary('list window schedules')
    .description(
      'List the schedules that run scale-in windows ' +
        '(eventually consistent: a schedule created a moment ago may be missing).',
    )
    .option('--region <regionId>', 'only this region')
    .option('--group <scalingGroupId>', 'only this scaling group')
    .action(async (flags: ScheduleRefFlags, self: Command) => {
      const g = globalsOf(self);
      done(
        await getClient(self, async (w) => {
          const rows = await w.listWindows({
            ...(flags.region ? { regionId: flags.region } : {}),
            ...(flags.group ? { scalingGroupId: flags.group } : {}),
          });
          if (g.json) printJson(io, { ok: true, schedules: rows });
          else if (!rows.length) io.err('no window schedules');
          else io.out(scheduleTable(rows));
          return EXIT.ok;
        }),
      );
    });
}

/** Firings as people read them: in the schedule's own zone, named (`2026-12-05 02:00 Asia/Shanghai (+08:00)`). */
export function firingText(iso: string | undefined, timezone: string): string {
  return iso ? zonedText(iso, timezone) : '-';
}

function scheduleTable(rows: readonly WindowScheduleSummary[]): string {
  return renderTable(
    ['ID', 'PAUSED', 'NEXT', 'LAST FIRED', 'NOTE'],
    rows.map((r) => [
      r.scheduleId,
      r.paused ? 'yes' : 'no',
      firingText(r.nextRunTimes[0], r.timezone),
      firingText(r.recentRuns.at(-1)?.takenAt, r.timezone),
      r.note ?? '',
    ]),
  ).join('\n');
}

export function registerDescribe(schedule: Command, { getClient, io, done }: ScheduleContext): void {
  addScheduleRef(
    schedule.command('describe').summary('show a window schedule: spec, policies, window input, recent firings'),
  ).action(async (id: string | undefined, flags: ScheduleRefFlags, self: Command) => {
    const g = globalsOf(self);
    const scheduleId = scheduleIdOf(id, flags);
    done(
      await guarded(io, g.json === true, () =>
        getClient(self, async (w) => {
          const d = await w.describeWindow(scheduleId);
          if (g.json) printJson(io, { ok: true, schedule: d });
          else {
            io.out(descriptionPairs(d));
            io.out(JSON.stringify(d.window, null, 2));
          }
          return EXIT.ok;
        }),
      ),
    );
  });
}

function descriptionPairs(d: WindowScheduleDescription): string {
  const note = d.note ? ` (${d.note})` : '';
  const calendars =
    d.spec.calendars.length && !d.spec.cron.length ? [`${d.spec.calendars.length} calendar spec(s)`] : [];
  const { overlap, catchupWindowMs, pauseOnFailure } = d.policies;
  const { taken, skippedOverlap, missedCatchupWindow } = d.counts;
  return renderPairs([
    ['schedule', d.scheduleId],
    ['state', d.paused ? `paused${note}` : `active${note}`],
    ['when', `${[...d.spec.cron, ...calendars].join('; ') || '-'} (${d.spec.timezone ?? 'UTC'})`],
    ['blackout', d.window?.blackoutDates?.join(', ') || '-'],
    ['policies', `overlap ${overlap}, catch-up ${catchupWindowMs / 1000}s, pause on failure ${pauseOnFailure}`],
    ['task queue', d.taskQueue],
    [
      'next',
      d.nextRunTimes
        .slice(0, 3)
        .map((t) => firingText(t, d.timezone))
        .join(', ') || '-',
    ],
    ['fired', `${taken} (skipped for overlap ${skippedOverlap}, missed catch-up ${missedCatchupWindow})`],
    ['running', d.runningRuns.map((r) => r.workflowId).join(', ') || '-'],
    ['last', lastRun(d)],
  ]).join('\n');
}

function lastRun(d: WindowScheduleDescription): string {
  const last = d.recentRuns.at(-1);
  return last ? `${last.workflowId} (scheduled ${firingText(last.scheduledAt, d.timezone)})` : '-';
}

const PAUSE_COMMANDS = [
  { name: 'pause', past: 'paused', summary: 'no firing starts until unpaused (a running window goes on)' },
  { name: 'unpause', past: 'unpaused', summary: 'let the schedule fire again' },
] as const;

export function registerPauseUnpause(schedule: Command, { getClient, io, done }: ScheduleContext): void {
  for (const { name, past, summary } of PAUSE_COMMANDS) {
    addScheduleRef(schedule.command(name).summary(summary))
      .option('--note <text>', 'why, kept on the schedule')
      .action(async (id: string | undefined, flags: ScheduleRefFlags & { note?: string }, self: Command) => {
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
      });
  }
}

export function registerDelete(schedule: Command, { getClient, io, done }: ScheduleContext): void {
  addScheduleRef(schedule.command('delete').summary('delete a window schedule (a running window goes on)')).action(
    async (id: string | undefined, flags: ScheduleRefFlags, self: Command) => {
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
}
