import { describe, it, expect } from 'vitest';
import { scheduleCli } from './schedule-cli-harness';
import type { WindowsApi } from '../../src/cli/schedule';
import { selectionWindow } from '../../src/cli/schedule/manual';
import { CliUsageError } from '../../src/cli/io';
import type { WindowScheduleDescription, WindowScheduleSummary } from '../../src/client/schedules';
import { zonedIso, zonedText, type ScaleInWindowResult } from '../../src/shared/window';

/**
 * Issue 15 item 10, on the CLI over a fake client: firings are printed in the schedule's own zone
 * (named), JSON keeps ISO UTC and adds the zoned times; `trigger --wait` lists every pick with the
 * rule that picked it; `start --count --selection` builds a window input.
 */

const SH = 'Asia/Shanghai';
/** Saturday 02:00 in Shanghai is Friday 18:00 UTC. */
const NEXT_UTC = '2026-12-04T18:00:00.000Z';
const ID = 'ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v';

const description = (recent = 0): WindowScheduleDescription => ({
  scheduleId: ID,
  paused: false,
  note: undefined,
  window: undefined,
  spec: { cron: ['0 2 * * SAT'], calendars: [], skip: [], timezone: SH },
  policies: { overlap: 'SKIP', catchupWindowMs: 600_000, pauseOnFailure: true },
  taskQueue: 'q',
  workflowType: 'scaleInWindow',
  recentRuns: Array.from({ length: recent }, (_, i) => ({
    workflowId: `${ID}-run${i}`,
    firstExecutionRunId: `r${i}`,
    scheduledAt: '2026-11-27T18:00:00.000Z',
    takenAt: '2026-11-27T18:00:01.000Z',
  })),
  runningRuns: [],
  nextRunTimes: [NEXT_UTC],
  nextRunTimesLocal: [zonedIso(NEXT_UTC, SH) as string],
  timezone: SH,
  counts: { taken: recent, skippedOverlap: 0, missedCatchupWindow: 0 },
  createdAt: '',
});

const result: ScaleInWindowResult = {
  workflowId: `${ID}-run0`,
  outcome: 'completed',
  message: 'Removed 2 of 2 instance(s).',
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
  scheduledAt: NEXT_UTC,
  scheduledAtSource: 'TemporalScheduledStartTime',
  localDate: '2026-12-05',
  timezone: SH,
  windowClosesAt: '2026-12-04T20:00:00.000Z',
  selection: {
    policy: 'groupPolicy',
    group: {
      scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
      totalCapacity: 6,
      minSize: 1,
      maxSize: 10,
      desiredCapacity: 6,
    },
    requested: 2,
    maxRemovable: 5,
    capped: undefined,
    picks: [
      {
        instanceId: 'i-bp1aaaaaaaaaaaaaaaa1',
        rank: 1,
        creationTime: '2026-01-05T02:03Z',
        scalingConfigurationId: 'asc-a',
        why: "#1 of 6 eligible by groupPolicy (OldestInstance): zone cn-hangzhou-h had 4 of the group's instances",
        rule: 'zone balance',
        zoneId: 'cn-hangzhou-h',
      },
      {
        instanceId: 'i-bp1aaaaaaaaaaaaaaaa2',
        rank: 2,
        creationTime: '2026-01-05T02:01Z',
        scalingConfigurationId: 'asc-a',
        why: '#2 of 6 eligible by groupPolicy (OldestInstance): created 2026-01-05T02:01Z',
        rule: 'OldestInstance',
        zoneId: 'cn-hangzhou-i',
      },
    ],
    excluded: {},
    configurationBasis: undefined,
    removalPolicies: { followed: ['OldestInstance'], source: 'group', zoneBalance: true },
    requestIds: [],
  },
  childWorkflowId: 'ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v',
  childResult: undefined,
  childFailure: undefined,
  removed: ['i-bp1aaaaaaaaaaaaaaaa1', 'i-bp1aaaaaaaaaaaaaaaa2'],
  remaining: [],
};

function harness() {
  let fired = 0;
  const summary: WindowScheduleSummary = {
    scheduleId: ID,
    paused: false,
    note: undefined,
    regionId: 'cn-hangzhou',
    scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
    recentRuns: [],
    nextRunTimes: [NEXT_UTC],
    nextRunTimesLocal: [zonedIso(NEXT_UTC, SH) as string],
    timezone: SH,
  };
  const api: WindowsApi = {
    createWindow: async (opts) => ({ scheduleId: ID, window: opts.window }),
    listWindows: async () => [summary],
    describeWindow: async () => description(fired),
    pauseWindow: async () => undefined,
    unpauseWindow: async () => undefined,
    triggerWindow: async () => {
      fired++;
    },
    deleteWindow: async () => undefined,
    windowResult: async () => result,
  };
  return scheduleCli(api, { fresh: true });
}

const LOCAL = '2026-12-05 02:00 Asia/Shanghai (+08:00)';

describe('firings in the schedule’s zone', () => {
  it('zonedIso / zonedText name the zone and its offset, across DST too', () => {
    expect(zonedIso(NEXT_UTC, SH)).toBe('2026-12-05T02:00:00+08:00[Asia/Shanghai]');
    expect(zonedText(NEXT_UTC, SH)).toBe(LOCAL);
    expect(zonedIso('2026-07-01T06:00:00Z', 'America/New_York')).toBe('2026-07-01T02:00:00-04:00[America/New_York]');
    expect(zonedIso('2026-12-01T07:00:00Z', 'America/New_York')).toBe('2026-12-01T02:00:00-05:00[America/New_York]');
    expect(zonedText('2026-12-01T07:00:00Z', 'UTC')).toBe('2026-12-01 07:00 UTC (+00:00)');
  });

  it('describe prints the next firings and the last run in Asia/Shanghai, not UTC', async () => {
    const h = harness();
    await h.run('schedule', 'trigger', ID); // one recent run
    expect(await h.run('schedule', 'describe', ID)).toBe(0);
    const text = h.out.join('\n');
    expect(text).toMatch(/next\s+2026-12-05 02:00 Asia\/Shanghai \(\+08:00\)/);
    expect(text).toContain('(scheduled 2026-11-28 02:00 Asia/Shanghai (+08:00))');
    expect(text).not.toContain('2026-12-04T18:00');
  });

  it('list shows NEXT in the schedule’s zone; JSON keeps ISO UTC and adds the zoned times', async () => {
    const h = harness();
    expect(await h.run('schedule', 'list')).toBe(0);
    expect(h.out.join('\n')).toContain(LOCAL);
    expect(await h.run('--json', 'schedule', 'list')).toBe(0);
    expect(JSON.parse(h.out.join('\n'))).toMatchObject({
      schedules: [
        {
          nextRunTimes: [NEXT_UTC],
          nextRunTimesLocal: ['2026-12-05T02:00:00+08:00[Asia/Shanghai]'],
          timezone: SH,
        },
      ],
    });
  });

  it('create says the next firings in the zone; its JSON has both forms', async () => {
    const h = harness();
    const args = [
      'schedule',
      'create',
      '--region',
      'cn-hangzhou',
      '--group',
      'asg-bp1dk4nm0o5ldvzcpe2v',
      '--cron',
      '0 2 * * SAT',
      '--timezone',
      SH,
      '--window-minutes',
      '120',
      '--count',
      '2',
      '--selection',
      'groupPolicy',
    ];
    expect(await h.run(...args)).toBe(0);
    expect(h.err.join('\n')).toContain(`next firings: ${LOCAL}`);
    expect(await h.run('--json', ...args)).toBe(0);
    expect(JSON.parse(h.out.join('\n'))).toMatchObject({
      nextRunTimes: [NEXT_UTC],
      nextRunTimesLocal: ['2026-12-05T02:00:00+08:00[Asia/Shanghai]'],
      timezone: SH,
    });
  });
});

describe('trigger --wait', () => {
  it('prints every pick with the rule that picked it, and when the window ran, in its zone', async () => {
    const h = harness();
    expect(await h.run('schedule', 'trigger', ID, '--wait')).toBe(0);
    const text = h.out.join('\n');
    expect(text).toContain('  scheduled 2026-12-05 02:00 Asia/Shanghai (+08:00); the window closes 2026-12-05 04:00');
    expect(text).toContain(
      '  #1 i-bp1aaaaaaaaaaaaaaaa1 cn-hangzhou-h picked by zone balance: zone cn-hangzhou-h had 4',
    );
    expect(text).toContain(
      '  #2 i-bp1aaaaaaaaaaaaaaaa2 cn-hangzhou-i picked by OldestInstance: created 2026-01-05T02:01Z',
    );
  });
});

describe('start --count --selection: the window input of a manual run', () => {
  const given = () => true;
  const base = { region: 'cn-hangzhou', group: 'asg-bp1dk4nm0o5ldvzcpe2v' };

  it('takes the scale-in knobs through, and the longest window', () => {
    expect(
      selectionWindow({ ...base, count: '3', selection: 'groupPolicy', batchSize: '2', drainTimeout: '0' }, given),
    ).toEqual({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
      windowMinutes: 10_080,
      count: 3,
      selection: 'groupPolicy',
      batchSize: 2,
      drain: { timeoutSeconds: 0 },
      reason: 'manual start by selection: 3 by groupPolicy',
    });
  });

  it('refuses instance lists and a half-given selection, naming the flags', () => {
    expect(() => selectionWindow({ ...base, count: '3', selection: 'oldest', instances: ['i-a'] }, given)).toThrow(
      /drop --instances\/--instances-file/,
    );
    expect(() => selectionWindow({ ...base, count: '3' }, given)).toThrow(CliUsageError);
    expect(() => selectionWindow({ ...base, selection: 'oldest' }, given)).toThrow(/--selection needs --count/);
  });
});
