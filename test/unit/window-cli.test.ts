import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { scheduleCli } from './schedule-cli-harness';
import { buildWindowRequest, type WindowsApi } from '../../src/cli/schedule';
import {
  WindowScheduleNotFoundError,
  ScaleInWindowFailedError,
  type CreateWindowOptions,
  type WindowScheduleDescription,
} from '../../src/client/schedules';
import type { ScaleInWindowResult } from '../../src/shared/window';

/**
 * The `schedule` commands on the real program, over a fake client: flags → client-library calls,
 * output, exit codes.
 */

const describeStub = (scheduleId: string, recent = 0): WindowScheduleDescription => ({
  scheduleId,
  paused: false,
  note: undefined,
  window: undefined,
  spec: { cron: ['0 2 * * SAT'], calendars: [], skip: [], timezone: 'UTC' },
  policies: { overlap: 'SKIP', catchupWindowMs: 600_000, pauseOnFailure: true },
  taskQueue: 'q',
  workflowType: 'scaleInWindow',
  recentRuns: Array.from({ length: recent }, (_, i) => ({
    workflowId: `${scheduleId}-run${i}`,
    firstExecutionRunId: `r${i}`,
    scheduledAt: '',
    takenAt: '',
  })),
  runningRuns: [],
  nextRunTimes: ['2026-01-10T02:00:00.000Z'],
  nextRunTimesLocal: ['2026-01-10T02:00:00+00:00[UTC]'],
  timezone: 'UTC',
  counts: { taken: recent, skippedOverlap: 0, missedCatchupWindow: 0 },
  createdAt: '',
});

function harness(over: Partial<WindowsApi> = {}) {
  const calls: Array<[string, unknown[]]> = [];
  let fired = 0;
  const api: WindowsApi = {
    async createWindow(opts: CreateWindowOptions) {
      calls.push(['createWindow', [opts]]);
      return {
        scheduleId: opts.scheduleId ?? 'ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v',
        window: opts.window,
      };
    },
    async listWindows(f) {
      calls.push(['listWindows', [f]]);
      return [];
    },
    async describeWindow(id) {
      calls.push(['describeWindow', [id]]);
      return describeStub(id, fired);
    },
    async pauseWindow(id, note) {
      calls.push(['pauseWindow', [id, note]]);
    },
    async unpauseWindow(id, note) {
      calls.push(['unpauseWindow', [id, note]]);
    },
    async triggerWindow(id, overlap) {
      calls.push(['triggerWindow', [id, overlap]]);
      fired++;
    },
    async deleteWindow(id) {
      calls.push(['deleteWindow', [id]]);
    },
    async windowResult(id) {
      calls.push(['windowResult', [id]]);
      return {
        outcome: 'completed',
        message: 'done',
        workflowId: id,
        selection: undefined,
        removed: [],
        remaining: [],
      } as unknown as ScaleInWindowResult;
    },
    ...over,
  };
  return { ...scheduleCli(api), calls };
}

const GROUP = ['--region', 'cn-hangzhou', '--group', 'asg-bp1dk4nm0o5ldvzcpe2v'];

describe('ess-scale-in schedule …', () => {
  it('create: every window field from flags, defaults made explicit', async () => {
    const h = harness();
    const code = await h.run(
      'schedule',
      'create',
      ...GROUP,
      '--cron',
      '0 2 * * SAT',
      '--cron',
      '0 3 * * SUN',
      '--timezone',
      'Asia/Shanghai',
      '--window-minutes',
      '90',
      '--count',
      '4',
      '--selection',
      'newest',
      '--blackout-dates',
      '2026-10-01,2026-10-02',
      '--blackout-dates',
      '2026-10-03',
      '--batch-size',
      '2',
      '--drain-timeout',
      '30',
      '--drain-strategy',
      'standby',
      '--no-decrease-desired-capacity',
      '--on-batch-failure',
      'continue',
      '--reason',
      'weekly',
      '--note',
      'alice',
      '--retry-max-interval-ms',
      '5000',
    );
    expect(code).toBe(0);
    const [name, [opts]] = h.calls[0] as [string, [CreateWindowOptions]];
    expect(name).toBe('createWindow');
    expect(opts).toEqual({
      spec: { cron: ['0 2 * * SAT', '0 3 * * SUN'], timezone: 'Asia/Shanghai' },
      window: {
        regionId: 'cn-hangzhou',
        scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
        windowMinutes: 90,
        count: 4,
        selection: 'newest',
        blackoutDates: ['2026-10-01', '2026-10-02', '2026-10-03'],
        timezone: 'Asia/Shanghai',
        batchSize: 2,
        decreaseDesiredCapacity: false,
        onBatchFailure: 'continue',
        reason: 'weekly',
        drain: { strategy: 'standby', timeoutSeconds: 30 },
        advanced: { retryMaxIntervalMs: 5000 },
      },
      catchupWindow: '10m',
      pauseOnFailure: true,
      note: 'alice',
    });
    expect(h.out).toEqual(['ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v']);
  });

  it('create: a bad input is exit 2 with one line per problem, and nothing is created', async () => {
    const h = harness();
    const code = await h.run(
      'schedule',
      'create',
      ...GROUP,
      '--timezone',
      'UTC',
      '--window-minutes',
      '0',
      '--count',
      'three',
      '--selection',
      'oldest',
    );
    expect(code).toBe(2);
    expect(h.calls).toEqual([]);
    expect(h.err.join('\n')).toMatch(/spec: has neither cron nor calendars/);
    expect(h.err.join('\n')).toMatch(/window\.windowMinutes: must be an integer/);
    expect(h.err.join('\n')).toMatch(/window\.count: must be an integer .* got "three"/);
  });

  it('create --input file, flags on top; --validate-only creates nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'window-cli-'));
    const file = path.join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        regionId: 'cn-hangzhou',
        scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
        windowSeconds: 30,
        targetCapacity: 10,
        selection: 'oldest',
        timezone: 'Europe/Berlin',
        drain: { timeoutSeconds: 5 },
      }),
    );
    const h = harness();
    const code = await h.run(
      '--json',
      'schedule',
      'create',
      '--input',
      file,
      '--count',
      '2',
      '--drain-strategy',
      'none',
      '--calendar',
      '{"dayOfWeek":"SATURDAY","hour":2}',
      '--validate-only',
    );
    expect(code).toBe(0);
    expect(h.calls).toEqual([]);
    const printed = JSON.parse(h.out.join('\n')) as {
      scheduleId: string;
      window: Record<string, unknown>;
      spec: unknown;
    };
    expect(printed.window).toMatchObject({
      count: 2,
      windowSeconds: 30,
      timezone: 'Europe/Berlin',
      drain: { timeoutSeconds: 5, strategy: 'none' },
    });
    expect(printed.window.targetCapacity).toBeUndefined();
    expect(printed.spec).toEqual({ calendars: [{ dayOfWeek: 'SATURDAY', hour: 2 }], timezone: 'Europe/Berlin' });
    expect(printed.scheduleId).toBe('ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v');
  });

  it('pause / unpause / delete / describe by --region and --group; list filters', async () => {
    const h = harness();
    expect(await h.run('schedule', 'pause', ...GROUP, '--note', 'freeze')).toBe(0);
    expect(await h.run('schedule', 'unpause', 'my-schedule')).toBe(0);
    expect(await h.run('schedule', 'describe', 'my-schedule')).toBe(0);
    expect(await h.run('schedule', 'list', '--group', 'asg-bp1dk4nm0o5ldvzcpe2v')).toBe(0);
    expect(await h.run('schedule', 'delete', 'my-schedule')).toBe(0);
    expect(h.calls).toEqual([
      ['pauseWindow', ['ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v', 'freeze']],
      ['unpauseWindow', ['my-schedule', undefined]],
      ['describeWindow', ['my-schedule']],
      ['listWindows', [{ scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v' }]],
      ['deleteWindow', ['my-schedule']],
    ]);
    expect(await h.run('schedule', 'delete')).toBe(2);
  });

  it('a missing schedule is exit 3 with a JSON error naming it', async () => {
    const h = harness({
      async deleteWindow(id) {
        throw new WindowScheduleNotFoundError(id);
      },
    });
    expect(await h.run('--json', 'schedule', 'delete', 'nope')).toBe(3);
    expect(JSON.parse(h.out.join('\n'))).toEqual({
      ok: false,
      error: {
        code: 'WindowScheduleNotFound',
        message: expect.stringContaining('No schedule nope'),
        scheduleId: 'nope',
      },
    });
  });

  it('trigger --wait: exit 0 for a completed window, 1 for a failed one', async () => {
    const ok = harness();
    expect(await ok.run('schedule', 'trigger', 'my-schedule', '--wait')).toBe(0);
    expect(ok.calls.map(([n]) => n)).toEqual(['describeWindow', 'triggerWindow', 'describeWindow', 'windowResult']);
    expect(ok.out.join('\n')).toBe('my-schedule-run0: completed\n  done');
    const bad = harness({
      async windowResult(id) {
        throw new ScaleInWindowFailedError('ScalingActivityFailed', 'boom', id, undefined);
      },
    });
    expect(await bad.run('--json', 'schedule', 'trigger', 'my-schedule', '--wait')).toBe(1);
    expect(JSON.parse(bad.out.join('\n'))).toMatchObject({
      ok: false,
      outcome: 'failed',
      error: { code: 'ScalingActivityFailed' },
    });
  });
});

describe('buildWindowRequest', () => {
  it('keeps values as typed for the validator to quote back, and defaults the time zone to UTC', () => {
    const r = buildWindowRequest({ region: 'cn-hangzhou', count: '2.5', windowMinutes: '60' });
    expect(r.window).toEqual({ regionId: 'cn-hangzhou', count: '2.5', windowMinutes: 60, timezone: 'UTC' });
    expect(r.timezone).toBe('UTC');
  });
});
