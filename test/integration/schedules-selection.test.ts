import { describe, it, expect, afterEach, inject } from 'vitest';
import { buildProgram } from '../../src/cli/program';
import { registerScheduleCommands, windowsClient } from '../../src/cli/schedule';
import type { Io } from '../../src/cli/io';
import {
  ScaleInWindowFailedError,
  ScaleInWindows,
  type ScaleInWindowInput,
  type ScaleInWindowResult,
} from '../../src/client';
import type { Scenario } from '../../src/emulator';
import { waitFor } from '../../src/emulator/testing';
import { FAST, SMALL, startStack, type Stack } from '../harness/stack';

/**
 * Issue 15 item 10 end to end (dev server + emulator): the group's own RemovalPolicies with zones
 * balanced (`groupPolicy`), instances attached by hand, CustomPolicy refused, times in the
 * schedule's zone, `trigger --wait` showing picks and following the run, `start --count --selection`.
 */

/** Fires on 1 January only: never during a test run, in practice. */
const NEVER = '0 0 1 1 *';

let stack: Stack | undefined;
let windows: ScaleInWindows;
const createdIds: string[] = [];

afterEach(async () => {
  for (const id of createdIds.splice(0)) await windows.deleteWindow(id).catch(() => undefined);
  await stack?.close();
  stack = undefined;
});

/** The small scenario (30 instances, one a minute), its group changed by `mutate`. */
async function setUp(mutate?: (s: Scenario) => void): Promise<Stack> {
  stack = await startStack(mutate ? { mutate } : {});
  windows = ScaleInWindows.from(stack.client);
  return stack;
}

function windowInput(s: Stack, extra: Partial<ScaleInWindowInput> = {}): ScaleInWindowInput {
  return {
    regionId: SMALL.region,
    scalingGroupId: s.group,
    windowSeconds: 120,
    count: 3,
    selection: 'groupPolicy',
    batchSize: 10,
    drain: { timeoutSeconds: 0 },
    advanced: FAST,
    ...extra,
  };
}

async function fire(scheduleId: string): Promise<ScaleInWindowResult | ScaleInWindowFailedError> {
  const before = (await windows.describeWindow(scheduleId)).recentRuns.length;
  await windows.triggerWindow(scheduleId);
  const run = await waitFor(
    async () => {
      const d = await windows.describeWindow(scheduleId);
      return d.recentRuns.length > before ? d.recentRuns.at(-1) : undefined;
    },
    30_000,
    200,
  );
  return windows.windowResult(run.workflowId, run.firstExecutionRunId).catch((e: unknown) => {
    if (e instanceof ScaleInWindowFailedError) return e;
    throw e;
  });
}

async function members(s: Stack) {
  const st = await s.admin.state();
  return st.instances
    .filter((i) => i.scalingGroupId === s.group)
    .sort((a, b) => Date.parse(a.creationTime) - Date.parse(b.creationTime) || (a.instanceId < b.instanceId ? -1 : 1));
}

/** A program with every command, run as a user would (`--json` optional), capturing out and err. */
function cli(s: Stack) {
  const out: string[] = [];
  const err: string[] = [];
  let code = -1;
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), rewrite: () => undefined, interactive: false };
  const program = buildProgram(io, (c) => {
    code = c;
  });
  registerScheduleCommands(program, windowsClient, io, (c) => {
    code = c;
  });
  return {
    out,
    err,
    run: async (...argv: string[]) => {
      code = -1;
      out.length = 0;
      err.length = 0;
      await program.parseAsync(['--address', inject('temporalAddress'), '--task-queue', s.taskQueue, ...argv], {
        from: 'user',
      });
      return code;
    },
  };
}

const FAST_FLAGS = [
  '--drain-timeout',
  '0',
  '--retry-initial-interval-ms',
  '50',
  '--retry-max-interval-ms',
  '300',
  '--poll-max-interval-ms',
  '300',
  '--poll-min-interval-ms',
  '50',
];

/** Two thirds of the instances in zone h, one third in zone i; the group removes the oldest first. */
const twoZones = (policies: string[]) => (sc: Scenario) => {
  const g = sc.scalingGroups?.[0];
  const gen = sc.instanceGenerators?.[0];
  if (!g || !gen) throw new Error('small scenario changed');
  g.removalPolicies = policies;
  gen.zoneIds = ['cn-hangzhou-h', 'cn-hangzhou-h', 'cn-hangzhou-i'];
};

describe('window selection by the group’s RemovalPolicies', () => {
  it(
    'groupPolicy balances zones first, then OldestInstance; trigger --wait prints the picks with their rule, ' +
      'follows the run, and times are in the schedule’s zone',
    async () => {
      const s = await setUp(twoZones(['OldestInstance']));
      const all = await members(s);
      // Zone h has 20, zone i 10: the 4 picks are the 4 oldest of zone h, although zone i holds the 3rd oldest.
      const expected = all
        .filter((i) => i.zoneId === 'cn-hangzhou-h')
        .slice(0, 4)
        .map((i) => i.instanceId);
      expect(all[2]?.zoneId).toBe('cn-hangzhou-i');
      const c = cli(s);
      const group = ['--region', SMALL.region, '--group', s.group];
      const created = [
        'schedule',
        'create',
        ...group,
        '--cron',
        NEVER,
        '--timezone',
        'Asia/Shanghai',
        '--window-seconds',
        '120',
        '--count',
        '4',
        '--selection',
        'groupPolicy',
        ...FAST_FLAGS,
      ];
      expect(await c.run('--json', ...created)).toBe(0);
      const made = JSON.parse(c.out.join('\n')) as { scheduleId: string; nextRunTimesLocal: string[] };
      createdIds.push(made.scheduleId);
      expect(made.nextRunTimesLocal[0]).toMatch(/^\d{4}-01-01T00:00:00\+08:00\[Asia\/Shanghai\]$/);
      expect(await c.run('schedule', 'describe', made.scheduleId)).toBe(0);
      expect(c.out.join('\n')).toMatch(/next\s+\d{4}-01-01 00:00 Asia\/Shanghai \(\+08:00\)/);

      expect(await c.run('schedule', 'trigger', ...group, '--wait')).toBe(0);
      const out = c.out.join('\n');
      expect(out).toMatch(/selected 4 of 30 eligible by groupPolicy \(the group's RemovalPolicies OldestInstance/);
      for (const id of expected) expect(out).toMatch(new RegExp(`#\\d ${id} cn-hangzhou-h picked by `));
      // The oldest is also in the fuller zone; the next ones are picked over zone i's older instance by zone balance.
      expect(out).toMatch(/#1 \S+ cn-hangzhou-h picked by OldestInstance: zone cn-hangzhou-h had 20 of the group's/);
      expect(out).toMatch(/#3 \S+ cn-hangzhou-h picked by zone balance: zone cn-hangzhou-h had 18 of the group's/);
      // The scale-in run's own summary, then the window's end with its time in Asia/Shanghai.
      expect(out).toMatch(/removed 4/i);
      expect(out).toMatch(/: completed\n/);
      expect(out).toMatch(/ {2}scheduled \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? Asia\/Shanghai \(\+08:00\)/);
      const err = c.err.join('\n');
      expect(err).toContain(`Scale-in run ${s.workflowId} started; following it…`);
      // The progress bar drew at least once after that (in a pipe, one line per change).
      expect(c.err.findIndex((l) => l.includes('following it')) < c.err.length - 1).toBe(true);
      expect((await s.instanceIds()).filter((id) => expected.includes(id))).toEqual([]);
      expect(await s.instanceIds()).toHaveLength(26);
    },
  );

  it('oldest: an instance attached by hand goes after the ones the group created, even the oldest', async () => {
    const s = await setUp();
    const all = await members(s);
    const attached = all[0]?.instanceId as string;
    await s.admin.patchInstance(attached, { creationType: 'Attached' });
    const { scheduleId } = await windows.createWindow({
      spec: { cron: [NEVER], timezone: 'UTC' },
      window: windowInput(s, { selection: 'oldest', count: 2 }),
    });
    createdIds.push(scheduleId);
    const r = await fire(scheduleId);
    expect(r).not.toBeInstanceOf(ScaleInWindowFailedError);
    const picks = (r as ScaleInWindowResult).selection?.picks ?? [];
    expect(picks.map((p) => p.instanceId)).toEqual([all[1]?.instanceId, all[2]?.instanceId]);
    expect(picks.map((p) => p.rule)).toEqual(['oldest', 'oldest']);
    expect(await s.instanceIds()).toContain(attached);
  });

  it('CustomPolicy: the window fails at once (RemovalPolicyNotFollowable), naming the policy and the fix', async () => {
    const s = await setUp(twoZones(['CustomPolicy']));
    const { scheduleId } = await windows.createWindow({
      spec: { cron: [NEVER], timezone: 'UTC' },
      window: windowInput(s),
    });
    createdIds.push(scheduleId);
    const r = await fire(scheduleId);
    expect(r).toBeInstanceOf(ScaleInWindowFailedError);
    const e = r as ScaleInWindowFailedError;
    expect(e.code).toBe('RemovalPolicyNotFollowable');
    expect(e.result?.outcome).toBe('failed');
    expect(e.result?.message).toMatch(/CustomPolicy/);
    expect(e.result?.message).toMatch(/set the window's selection to oldest, newest or oldestScalingConfiguration/);
    expect(await s.instanceIds()).toHaveLength(30);
  });

  it('start --count --selection: one window without a schedule picks like a window and records the picks', async () => {
    const s = await setUp(twoZones(['OldestInstance']));
    const all = await members(s);
    const expected = all
      .filter((i) => i.zoneId === 'cn-hangzhou-h')
      .slice(0, 2)
      .map((i) => i.instanceId);
    const c = cli(s);
    const argv = ['start', '--region', SMALL.region, '--group', s.group, '--count', '2', '--selection', 'groupPolicy'];
    expect(await c.run('--json', ...argv, ...FAST_FLAGS, '--wait')).toBe(0);
    const j = JSON.parse(c.out.join('\n')) as { ok: boolean; outcome: string; result: ScaleInWindowResult };
    expect(j).toMatchObject({ ok: true, outcome: 'completed' });
    expect(j.result.workflowId).toMatch(new RegExp(`^ess-scale-in-window/${SMALL.region}/${s.group}-manual-`));
    expect(j.result.selection?.picks.map((p) => p.instanceId)).toEqual(expected);
    expect(j.result.selection?.picks.every((p) => typeof p.rule === 'string')).toBe(true);
    expect(j.result.childResult?.outcome).toBe('completed');
    expect(await s.instanceIds()).toHaveLength(28);
    // A usage mistake is refused before anything starts.
    await expect(c.run(...argv, '--instances', all[5]?.instanceId as string)).rejects.toThrow(/drop --instances/);
  });
});
