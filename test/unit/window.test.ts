import { describe, it, expect } from 'vitest';
import { selectFrom } from '../../src/activities/select-instances';
import type { ScalingGroup, ScalingInstance } from '../../src/aliyun/types';
import { blackoutSkipCalendars, validateCreateWindow } from '../../src/client/schedules';
import { InvalidInputError } from '../../src/shared/input';
import {
  InvalidWindowInputError,
  isCalendarDate,
  localDate,
  validateWindowInput,
  windowIdFor,
  type ScaleInWindowInput,
} from '../../src/shared/window';

const base: ScaleInWindowInput = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
  windowMinutes: 60,
  count: 3,
  selection: 'oldest',
};

function problems(raw: unknown): Array<{ field: string; problem: string; fix: string }> {
  try {
    validateWindowInput(raw);
  } catch (e) {
    if (e instanceof InvalidWindowInputError) return e.problems;
    throw e;
  }
  return [];
}

describe('validateWindowInput', () => {
  it('fills defaults and keeps the scale-in knobs for the run', () => {
    const n = validateWindowInput({
      ...base,
      batchSize: 5,
      drain: { timeoutSeconds: 30 },
      blackoutDates: ['2026-10-02', '2026-10-01'],
    });
    expect(n).toMatchObject({
      windowMs: 3_600_000,
      target: { kind: 'count', count: 3 },
      selection: 'oldest',
      timezone: 'UTC',
      blackoutDates: ['2026-10-01', '2026-10-02'],
    });
    expect(n.passthrough).toEqual({ batchSize: 5, drain: { timeoutSeconds: 30 } });
    expect(n.scaleIn).toMatchObject({
      batchSize: 5,
      drain: { strategy: 'weight', timeoutSeconds: 30, maxDrainedAhead: 100 },
      removePolicy: 'release',
    });
    expect(
      validateWindowInput({ ...base, windowMinutes: undefined, windowSeconds: 5, count: undefined, targetCapacity: 0 }),
    ).toMatchObject({ windowMs: 5000, target: { kind: 'targetCapacity', targetCapacity: 0 } });
  });

  it('names every bad field with a fix, and is an InvalidInputError (same handling as scale-in input)', () => {
    const raw = {
      ...base,
      windowMinutes: 0,
      count: 3,
      targetCapacity: 2,
      selection: 'random',
      timezone: 'Mars/Olympus',
      blackoutDates: ['2026-02-30', 'x'],
      batchSize: 40,
      regionId: 'Hangzhou',
      surprise: 1,
    };
    const p = problems(raw);
    expect(p.map((x) => x.field).sort()).toEqual([
      'batchSize',
      'blackoutDates',
      'count',
      'regionId',
      'selection',
      'surprise',
      'timezone',
      'windowMinutes',
    ]);
    expect(p.every((x) => x.fix.length > 0)).toBe(true);
    expect(p.find((x) => x.field === 'count')?.problem).toMatch(/both set/);
    expect(p.find((x) => x.field === 'blackoutDates')?.problem).toMatch(/"2026-02-30", "x"/);
    expect(() => validateWindowInput(raw)).toThrow(InvalidInputError);
    expect(() => validateWindowInput(raw)).toThrow(/^Invalid scale-in window input: /);
  });

  it('asks for a length and a size when they are missing', () => {
    expect(
      problems({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v', selection: 'newest' }).map(
        (x) => [x.field, x.problem],
      ),
    ).toEqual([
      ['windowMinutes', 'is missing'],
      ['count', 'is missing'],
    ]);
    expect(problems(undefined)).toEqual([expect.objectContaining({ field: '(input)' })]);
  });
});

describe('dates and time zones', () => {
  it('isCalendarDate accepts real dates only', () => {
    expect(['2026-01-31', '2028-02-29'].map(isCalendarDate)).toEqual([true, true]);
    expect(['2026-02-29', '2026-13-01', '2026-1-01', '20260101'].map(isCalendarDate)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('localDate reads the date in the given zone', () => {
    const t = new Date('2026-03-01T20:30:00Z');
    expect(localDate(t, 'UTC')).toBe('2026-03-01');
    expect(localDate(t, 'Asia/Shanghai')).toBe('2026-03-02');
    expect(localDate(new Date('2026-03-01T02:00:00Z'), 'America/Los_Angeles')).toBe('2026-02-28');
  });

  it('blackout dates become whole-day skip calendars', () => {
    expect(blackoutSkipCalendars(['2026-10-01'])).toEqual([
      {
        year: 2026,
        month: 'OCTOBER',
        dayOfMonth: 1,
        hour: '*',
        minute: '*',
        second: '*',
        comment: 'blackout 2026-10-01',
      },
    ]);
  });
});

describe('validateCreateWindow', () => {
  const spec = { cron: ['0 2 * * SAT'], timezone: 'Asia/Shanghai' };
  it('defaults the schedule ID per group and copies the spec time zone into the window', () => {
    const r = validateCreateWindow({ spec, window: base });
    expect(r.scheduleId).toBe(windowIdFor('cn-hangzhou', 'asg-bp1dk4nm0o5ldvzcpe2v'));
    expect(r.scheduleId).toBe('ess-scale-in-window/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v');
    expect(r.window.timezone).toBe('Asia/Shanghai');
    expect(base.timezone).toBeUndefined(); // the caller's object is left alone
  });

  it('refuses a schedule that never fires, zones that disagree, CRON_TZ, and bad window fields', () => {
    const fields = (opts: Parameters<typeof validateCreateWindow>[0]) => {
      try {
        validateCreateWindow(opts);
        return [];
      } catch (e) {
        return (e as InvalidWindowInputError).problems.map((p) => p.field);
      }
    };
    expect(fields({ spec: { timezone: 'UTC' }, window: base })).toEqual(['spec']);
    expect(fields({ spec, window: { ...base, timezone: 'UTC' } })).toEqual(['window.timezone']);
    expect(fields({ spec: { cron: ['CRON_TZ=Asia/Tokyo 0 2 * * *'], timezone: 'UTC' }, window: base })).toEqual([
      'spec.cron',
    ]);
    expect(fields({ spec, window: { ...base, count: -1 }, overlap: 'NEVER' as never })).toEqual([
      'overlap',
      'window.count',
    ]);
  });
});

describe('selectFrom (the selection activity decision)', () => {
  const group = (over: Partial<ScalingGroup> = {}): ScalingGroup => ({
    scalingGroupId: 'asg-x',
    scalingGroupName: 'x',
    regionId: 'cn-hangzhou',
    lifecycleState: 'Active',
    minSize: 0,
    maxSize: 100,
    desiredCapacity: 10,
    totalCapacity: 10,
    activeCapacity: 10,
    standbyCapacity: 0,
    protectedCapacity: 0,
    removingCapacity: 0,
    scalingPolicy: 'release',
    activeScalingConfigurationId: undefined,
    removalPolicies: [],
    loadBalancerIds: [],
    vServerGroups: [],
    albServerGroups: [],
    dbInstanceIds: [],
    ...over,
  });
  const inst = (n: number, over: Partial<ScalingInstance> = {}): ScalingInstance => ({
    instanceId: `i-inst${String(n).padStart(16, '0')}`,
    scalingGroupId: 'asg-x',
    scalingConfigurationId: 'asc-a',
    scalingActivityId: undefined,
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    creationType: 'AutoCreated',
    creationTime: `2026-01-05T02:${String(n).padStart(2, '0')}Z`,
    entrusted: false,
    zoneId: undefined,
    ...over,
  });
  const ids = (s: ReturnType<typeof selectFrom>) => s.picks.map((p) => Number(p.instanceId.slice(-2)));

  it('oldest / newest by creation time, ties broken by instance ID, whatever the API order', () => {
    const list = [inst(5), inst(1), inst(3), inst(2, { creationTime: inst(1).creationTime }), inst(4)];
    expect(ids(selectFrom(group(), list, { policy: 'oldest', count: 3 }))).toEqual([1, 2, 3]);
    expect(ids(selectFrom(group(), list, { policy: 'newest', count: 2 }))).toEqual([5, 4]);
  });

  it('never Protected, Standby or another state; counts what was left out', () => {
    const list = [
      inst(1, { lifecycleState: 'Protected' }),
      inst(2, { lifecycleState: 'Standby' }),
      inst(3, { lifecycleState: 'Pending' }),
      inst(4),
      inst(5),
      inst(6),
    ];
    const s = selectFrom(group({ totalCapacity: 6 }), list, { policy: 'oldest', count: 2 });
    expect(ids(s)).toEqual([4, 5]);
    expect(s.excluded).toEqual({
      Protected: 1,
      Standby: 1,
      'state Pending': 1,
      'not needed (later in the policy order)': 1,
    });
    expect(s.picks[0]?.why).toBe(
      '#1 of 3 eligible by oldest: created 2026-01-05T02:04Z (oldest first); InService, not protected',
    );
  });

  it('caps at TotalCapacity − MinSize, and says so', () => {
    const list = [1, 2, 3, 4, 5].map((n) => inst(n));
    const s = selectFrom(group({ totalCapacity: 5, minSize: 3 }), list, { policy: 'oldest', count: 4 });
    expect(ids(s)).toEqual([1, 2]);
    expect(s).toMatchObject({ requested: 4, maxRemovable: 2 });
    expect(s.capped).toMatch(/MinSize 3 allows at most 2 of TotalCapacity 5/);
    // targetCapacity below MinSize: the same cap.
    const t = selectFrom(group({ totalCapacity: 5, minSize: 3 }), list, { policy: 'oldest', targetCapacity: 1 });
    expect(t).toMatchObject({ requested: 4, maxRemovable: 2 });
    expect(t.capped).toMatch(/TotalCapacity 5 → targetCapacity 1/);
    // At or above the target: nothing to do.
    expect(selectFrom(group({ totalCapacity: 5 }), list, { policy: 'oldest', targetCapacity: 7 }).picks).toEqual([]);
  });

  it('fewer eligible than asked: picks what there is, and says why', () => {
    const s = selectFrom(group({ totalCapacity: 3 }), [inst(1), inst(2, { lifecycleState: 'Protected' }), inst(3)], {
      policy: 'oldest',
      count: 3,
    });
    expect(ids(s)).toEqual([1, 3]);
    expect(s.capped).toMatch(/only 2 instance\(s\) are InService and unprotected/);
  });

  it(
    'oldestScalingConfiguration without the active configuration: ' +
      'the configuration of the oldest instances goes first',
    () => {
      // asc-b's oldest instance (1) is older than asc-a's (2); attached instances (no configuration) go last.
      const list = [
        inst(1, { scalingConfigurationId: 'asc-b' }),
        inst(2, { scalingConfigurationId: 'asc-a' }),
        inst(3, { scalingConfigurationId: undefined, creationType: 'Attached' }),
        inst(4, { scalingConfigurationId: 'asc-b' }),
        inst(5, { scalingConfigurationId: 'asc-a' }),
      ];
      const s = selectFrom(group({ totalCapacity: 5 }), list, { policy: 'oldestScalingConfiguration', count: 5 });
      expect(ids(s)).toEqual([1, 4, 2, 5, 3]);
      expect(s.configurationBasis).toBe(
        "the group's active scaling configuration is not known, " +
          "so a configuration's age is that of its oldest instance: 1. asc-b, 2. asc-a",
      );
      expect(s.picks[2]?.why).toMatch(/configuration asc-a, the 2nd oldest of 2; created 2026-01-05T02:02Z/);
      expect(s.picks[4]?.why).toMatch(/no scaling configuration \(attached\)/);
    },
  );

  it('oldestScalingConfiguration with the active configuration known: every other configuration first', () => {
    const g = group({ totalCapacity: 4, activeScalingConfigurationId: 'asc-b' });
    const list = [
      inst(1, { scalingConfigurationId: 'asc-b' }),
      inst(2, { scalingConfigurationId: 'asc-a' }),
      inst(3, { scalingConfigurationId: 'asc-c' }),
      inst(4, { scalingConfigurationId: 'asc-b' }),
    ];
    const s = selectFrom(g, list, { policy: 'oldestScalingConfiguration', count: 3 });
    expect(ids(s)).toEqual([2, 3, 1]);
    expect(s.picks[0]?.why).toMatch(/configuration asc-a, not the active asc-b/);
  });
});
