import { describe, it, expect, beforeEach, afterEach, inject } from 'vitest';
import { buildProgram } from '../../src/cli/program';
import { registerScheduleCommands, windowsClient } from '../../src/cli/schedule';
import {
  InvalidWindowInputError,
  ScaleInWindowFailedError,
  ScaleInWindows,
  WindowScheduleExistsError,
  WindowScheduleNotFoundError,
  type CreateWindowOptions,
  type ScaleInWindowInput,
  type ScaleInWindowResult,
} from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { localDate, windowIdFor } from '../../src/shared/window';
import { FAST, SMALL, startStack, type Stack } from '../harness/stack';

/**
 * Scheduled windows end to end on the dev server (the time-skipping server has no Schedules API):
 * a schedule whose cron never fires during the test is created with the client library, fired
 * with `trigger`, and the window run's effect is read back from the emulator.
 */

/** Fires on 1 January only: never during a test run, in practice. */
const NEVER = '0 0 1 1 *';

let stack: Stack;
let windows: ScaleInWindows;
const createdIds: string[] = [];

beforeEach(async () => {
  stack = await startStack();
  windows = ScaleInWindows.from(stack.client);
});

afterEach(async () => {
  // Each test deletes its schedule itself; this only catches the ones a failed assertion left behind.
  for (const id of createdIds.splice(0)) await windows.deleteWindow(id).catch(() => undefined);
  await stack?.close();
});

function windowInput(extra: Partial<ScaleInWindowInput> = {}): ScaleInWindowInput {
  return {
    regionId: SMALL.region,
    scalingGroupId: stack.group,
    windowSeconds: 120,
    count: 3,
    selection: 'oldest',
    batchSize: 10,
    drain: { timeoutSeconds: 0 },
    advanced: FAST,
    ...extra,
  };
}

async function create(
  extra: Partial<ScaleInWindowInput> = {},
  opts: Partial<CreateWindowOptions> = {},
): Promise<string> {
  const { scheduleId } = await windows.createWindow({
    spec: { cron: [NEVER], timezone: 'UTC' },
    window: windowInput(extra),
    ...opts,
  });
  createdIds.push(scheduleId);
  return scheduleId;
}

async function remove(scheduleId: string): Promise<void> {
  await windows.deleteWindow(scheduleId);
  createdIds.splice(createdIds.indexOf(scheduleId), 1);
}

/** Triggers one firing and waits for the window run it started to end. */
async function fire(scheduleId: string): Promise<{
  workflowId: string;
  result: ScaleInWindowResult | undefined;
  error: ScaleInWindowFailedError | undefined;
}> {
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
  try {
    return {
      workflowId: run.workflowId,
      result: await windows.windowResult(run.workflowId, run.firstExecutionRunId),
      error: undefined,
    };
  } catch (e) {
    if (e instanceof ScaleInWindowFailedError) return { workflowId: run.workflowId, result: undefined, error: e };
    throw e;
  }
}

/** Group members, oldest first (by creationTime, then ID). */
async function membersByAge(): Promise<Array<{ instanceId: string; creationTime: string; lifecycleState: string }>> {
  const s = await stack.admin.state();
  return s.instances
    .filter((i) => i.scalingGroupId === stack.group)
    .sort((a, b) => Date.parse(a.creationTime) - Date.parse(b.creationTime) || (a.instanceId < b.instanceId ? -1 : 1));
}

async function weights(ids: string[]): Promise<number[]> {
  const s = await stack.admin.state();
  return [
    ...s.loadBalancers
      .flatMap((l) => l.backendServers)
      .filter((b) => ids.includes(b.serverId))
      .map((b) => b.weight),
    ...s.loadBalancers
      .flatMap((l) => l.vServerGroups.flatMap((v) => v.backendServers))
      .filter((b) => ids.includes(b.serverId))
      .map((b) => b.weight),
    ...s.albServerGroups
      .flatMap((g) => g.servers)
      .filter((b) => ids.includes(b.serverId))
      .map((b) => b.weight),
  ];
}

describe('scheduled scale-in windows', () => {
  it('count 3, oldest: removes the 3 oldest; the run is findable by its search attributes', async () => {
    const all = await membersByAge();
    const oldest3 = all.slice(0, 3).map((i) => i.instanceId);
    const id = await create();
    expect(id).toBe(`ess-scale-in-window/${SMALL.region}/${stack.group}`);
    const { workflowId, result } = await fire(id);
    expect(result?.outcome).toBe('completed');
    expect(result?.scheduledAtSource).toBe('TemporalScheduledStartTime');
    expect(result?.selection?.picks.map((p) => p.instanceId)).toEqual(oldest3);
    expect(result?.selection?.picks[0]?.why).toMatch(/#1 of 30 eligible by oldest: created .*oldest first/);
    expect(result?.selection?.excluded).toEqual({ 'not needed (later in the policy order)': 27 });
    expect([...(result?.removed ?? [])].sort()).toEqual([...oldest3].sort());
    expect(result?.remaining).toEqual([]);
    expect(result?.childWorkflowId).toBe(stack.workflowId);
    expect(result?.childResult?.outcome).toBe('completed');
    expect(await stack.instanceIds()).toEqual(
      all
        .slice(3)
        .map((i) => i.instanceId)
        .sort(),
    );
    // The window run carries the group's search attributes (set by the schedule and upserted by the workflow).
    const found = await waitFor(
      async () => {
        const rows: string[] = [];
        for await (const w of stack.rawClient.workflow.list({
          query: `WorkflowType='scaleInWindow' AND EssScalingGroupId='${stack.group}'`,
        }))
          rows.push(w.workflowId);
        return rows.length ? rows : undefined;
      },
      15_000,
      200,
    );
    expect(found).toEqual([workflowId]);
    expect(workflowId.startsWith(`${windowIdFor(SMALL.region, stack.group)}-`)).toBe(true);
    await remove(id);
  });

  it('count 3, newest: removes the 3 newest', async () => {
    const all = await membersByAge();
    const newest3 = all
      .slice(-3)
      .map((i) => i.instanceId)
      .reverse();
    const id = await create({ selection: 'newest' });
    const { result } = await fire(id);
    expect(result?.outcome).toBe('completed');
    expect(result?.selection?.picks.map((p) => p.instanceId)).toEqual(newest3);
    expect(await stack.instanceIds()).toEqual(
      all
        .slice(0, -3)
        .map((i) => i.instanceId)
        .sort(),
    );
    await remove(id);
  });

  it('targetCapacity with oldestScalingConfiguration: scales in to the target, oldest config first', async () => {
    await stack.close();
    // Two configurations, alternating: instances 1, 3, 5… use asc-…old; the group launches from asc-…new.
    stack = await startStack({
      mutate: (s) => {
        const g = s.instanceGenerators?.[0];
        if (g) g.scalingConfigurationIds = ['asc-bp1windowold000001', 'asc-bp1windownew000001'];
        const group = s.scalingGroups?.[0];
        if (group) group.activeScalingConfigurationId = 'asc-bp1windownew000001';
      },
    });
    windows = ScaleInWindows.from(stack.client);
    const all = await membersByAge();
    const oldConfig = all.filter((_, i) => i % 2 === 0).map((i) => i.instanceId);
    const id = await create({ count: undefined, targetCapacity: 27, selection: 'oldestScalingConfiguration' });
    const { result } = await fire(id);
    expect(result?.outcome).toBe('completed');
    expect(result?.selection?.requested).toBe(3);
    expect(result?.selection?.configurationBasis).toMatch(
      /active scaling configuration is asc-bp1windownew000001: instances of any other configuration go first/,
    );
    expect(result?.selection?.picks.map((p) => p.instanceId)).toEqual(oldConfig.slice(0, 3));
    expect(result?.selection?.picks[0]?.why).toMatch(
      /configuration asc-bp1windowold000001, not the active asc-bp1windownew000001/,
    );
    expect((await stack.instanceIds()).length).toBe(27);
    expect(await stack.instanceIds()).not.toContain(oldConfig[0]);
    await remove(id);
  });

  it('never below MinSize, never Protected or Standby', async () => {
    const all = await membersByAge();
    const [p1, p2, sb] = all.slice(0, 3).map((i) => i.instanceId) as [string, string, string];
    await stack.admin.setInstanceState(p1, 'Protected');
    await stack.admin.setInstanceState(p2, 'Protected');
    await stack.admin.setInstanceState(sb, 'Standby');
    await stack.admin.patchGroup(stack.group, { minSize: 25 });
    const id = await create({ count: 10 });
    const { result } = await fire(id);
    expect(result?.outcome).toBe('completed');
    expect(result?.selection).toMatchObject({
      requested: 10,
      maxRemovable: 5,
      excluded: { Protected: 2, Standby: 1, 'not needed (later in the policy order)': 22 },
    });
    expect(result?.selection?.capped).toMatch(/MinSize 25 allows at most 5 of TotalCapacity 30/);
    const expected = all.slice(3, 8).map((i) => i.instanceId);
    expect(result?.selection?.picks.map((p) => p.instanceId)).toEqual(expected);
    const left = await stack.instanceIds();
    expect(left).toHaveLength(25);
    expect(left).toEqual(expect.arrayContaining([p1, p2, sb]));
    await remove(id);
  });

  it('a blackout date (today in the window time zone) does nothing and is also a schedule skip entry', async () => {
    const tz = 'Asia/Shanghai';
    const today = localDate(new Date(), tz);
    // Around midnight the firing may land on the next day: black out both.
    const tomorrow = localDate(new Date(Date.now() + 60_000), tz);
    const dates = [...new Set([today, tomorrow])];
    const { scheduleId: id } = await windows.createWindow({
      spec: { cron: [NEVER], timezone: tz },
      window: windowInput({ blackoutDates: dates }),
    });
    createdIds.push(id);
    const d = await windows.describeWindow(id);
    expect(d.window?.timezone).toBe(tz);
    expect(d.spec.timezone).toBe(tz);
    const [y, m, day] = today.split('-').map(Number) as [number, number, number];
    expect(d.spec.skip[0]).toMatchObject({
      year: [{ start: y, end: y, step: 1 }],
      dayOfMonth: [{ start: day, end: day, step: 1 }],
      hour: [{ start: 0, end: 23, step: 1 }],
    });
    expect(d.spec.skip[0]?.month[0]?.start).toBe(
      [
        'JANUARY',
        'FEBRUARY',
        'MARCH',
        'APRIL',
        'MAY',
        'JUNE',
        'JULY',
        'AUGUST',
        'SEPTEMBER',
        'OCTOBER',
        'NOVEMBER',
        'DECEMBER',
      ][m - 1],
    );
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    const { result } = await fire(id);
    expect(result?.outcome).toBe('blackout');
    expect(dates).toContain(result?.localDate);
    expect(result?.selection).toBeUndefined();
    expect(result?.message).toMatch(/is a blackout date/);
    expect(await stack.admin.calls({ sinceSeq: since })).toEqual([]);
    expect(await stack.instanceIds()).toHaveLength(30);
    await remove(id);
  });

  it('window closes mid-run: the scale-in is cancelled, drained weights are restored, the rest is listed', async () => {
    const oldest3 = (await membersByAge()).slice(0, 3).map((i) => i.instanceId);
    // A 60 s drain cannot finish inside a 4 s window.
    const id = await create({ windowSeconds: 4, drain: { timeoutSeconds: 60 } });
    const { result, error } = await fire(id);
    expect(error).toBeUndefined();
    expect(result?.outcome).toBe('window-closed');
    expect(result?.message).toMatch(/cancelled.*Removed 0 of 3; 3 remain/);
    expect(result?.childFailure?.type).toBe('CancelledFailure');
    expect(result?.remaining.map((r) => r.instanceId).sort()).toEqual([...oldest3].sort());
    expect(result?.remaining.every((r) => r.state === 'InService')).toBe(true);
    expect(await weights(oldest3)).toEqual(Array(9).fill(100));
    expect(await stack.admin.calls({ action: 'RemoveInstances' })).toEqual([]);
    expect(await stack.instanceIds()).toHaveLength(30);
    expect((await stack.client.progress(stack.workflowId)).phase).toBe('Cancelled');
    await remove(id);
  });

  it('a run already active for the group: the window is skipped-busy and names it', async () => {
    const ids = (await stack.instanceIds()).slice(0, 1);
    const { workflowId } = await stack.client.start(stack.input(ids, { requireApproval: true }));
    const id = await create();
    const { result } = await fire(id);
    expect(result?.outcome).toBe('skipped-busy');
    expect(result?.message).toContain(workflowId);
    expect(result?.selection?.picks).toHaveLength(3);
    expect(result?.remaining).toHaveLength(3);
    await stack.client.cancel(workflowId);
    await stack.client.result(workflowId).catch(() => undefined);
    expect(await stack.instanceIds()).toHaveLength(30);
    await remove(id);
  });

  it('a failed scale-in fails the window with its result, and pauseOnFailure pauses the schedule', async () => {
    const oldest = (await membersByAge())[0]?.instanceId as string;
    await stack.admin.settings({
      activityOutcomes: [
        { match: { instanceIds: [oldest] }, status: 'Failed', errorCode: 'Boom', errorMessage: 'failed', times: 1 },
      ],
    });
    const id = await create({ count: 2 });
    const { error } = await fire(id);
    expect(error).toBeInstanceOf(ScaleInWindowFailedError);
    expect(error?.code).toBe('ScalingActivityFailed');
    expect(error?.result?.outcome).toBe('failed');
    expect(error?.result?.childFailure?.type).toBe('ScalingActivityFailed');
    expect(error?.result?.remaining.map((r) => r.instanceId)).toContain(oldest);
    const paused = await waitFor(
      async () => ((await windows.describeWindow(id)).paused ? true : undefined),
      15_000,
      200,
    );
    expect(paused).toBe(true);
    await remove(id);
  });

  it('create validates, refuses duplicates; pause, unpause, describe, list and delete', async () => {
    await expect(
      windows.createWindow({
        spec: { cron: [NEVER], timezone: 'Mars/Olympus' },
        window: windowInput({ count: 0, selection: 'random' as never }),
      }),
    ).rejects.toSatisfy((e: unknown) => {
      const fields = (e as InvalidWindowInputError).problems.map((p) => p.field);
      return (
        e instanceof InvalidWindowInputError &&
        fields.includes('spec.timezone') &&
        fields.includes('window.count') &&
        fields.includes('window.selection')
      );
    });
    await expect(windows.describeWindow(windowIdFor(SMALL.region, stack.group))).rejects.toBeInstanceOf(
      WindowScheduleNotFoundError,
    );

    const id = await create({}, { note: 'weekly trim', catchupWindow: '5m', pauseOnFailure: false });
    await expect(create()).rejects.toBeInstanceOf(WindowScheduleExistsError);
    const d = await windows.describeWindow(id);
    expect(d).toMatchObject({
      scheduleId: id,
      paused: false,
      note: 'weekly trim',
      workflowType: 'scaleInWindow',
      taskQueue: stack.taskQueue,
      spec: { cron: [NEVER], skip: [], timezone: 'UTC' },
      policies: { overlap: 'SKIP', catchupWindowMs: 300_000, pauseOnFailure: false },
    });
    expect(d.window).toEqual({ ...windowInput(), timezone: 'UTC' });
    expect(d.nextRunTimes[0]).toMatch(/-01-01T00:00:00/);

    await windows.pauseWindow(id, 'freeze for the release');
    expect(await windows.describeWindow(id)).toMatchObject({ paused: true, note: 'freeze for the release' });
    await windows.unpauseWindow(id, 'release done');
    expect(await windows.describeWindow(id)).toMatchObject({ paused: false, note: 'release done' });

    const listed = await waitFor(
      async () => (await windows.listWindows({ scalingGroupId: stack.group })).find((w) => w.scheduleId === id),
      20_000,
      250,
    );
    expect(listed).toMatchObject({ scheduleId: id, regionId: SMALL.region, scalingGroupId: stack.group });

    await remove(id);
    await expect(windows.describeWindow(id)).rejects.toBeInstanceOf(WindowScheduleNotFoundError);
    await expect(windows.pauseWindow(id)).rejects.toBeInstanceOf(WindowScheduleNotFoundError);
  });

  it('the CLI commands drive the same library: create, trigger --wait, describe, delete', async () => {
    const out: string[] = [];
    let code = -1;
    const io = { out: (l: string) => out.push(l), err: () => undefined, rewrite: () => undefined, interactive: false };
    const program = buildProgram(io, (c) => {
      code = c;
    });
    registerScheduleCommands(program, windowsClient, io, (c) => {
      code = c;
    });
    const cli = async (...argv: string[]): Promise<{ code: number; json: Record<string, unknown> }> => {
      code = -1;
      out.length = 0;
      await program.parseAsync(
        ['--address', inject('temporalAddress'), '--task-queue', stack.taskQueue, '--json', ...argv],
        { from: 'user' },
      );
      return { code, json: JSON.parse(out.join('\n')) as Record<string, unknown> };
    };
    const group = ['--region', SMALL.region, '--group', stack.group];
    const created = await cli(
      'schedule',
      'create',
      ...group,
      '--cron',
      NEVER,
      '--window-seconds',
      '120',
      '--count',
      '2',
      '--selection',
      'newest',
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
    );
    expect(created).toMatchObject({ code: 0, json: { ok: true, scheduleId: windowIdFor(SMALL.region, stack.group) } });
    const id = created.json.scheduleId as string;
    createdIds.push(id);
    const fired = await cli('schedule', 'trigger', ...group, '--wait');
    expect(fired, JSON.stringify(fired.json).slice(0, 1500)).toMatchObject({
      code: 0,
      json: { ok: true, outcome: 'completed' },
    });
    expect(await stack.instanceIds()).toHaveLength(28);
    expect(await cli('schedule', 'describe', id)).toMatchObject({
      code: 0,
      json: { schedule: { scheduleId: id, counts: { taken: 1 } } },
    });
    expect(await cli('schedule', 'delete', id)).toMatchObject({ code: 0, json: { ok: true } });
    createdIds.splice(createdIds.indexOf(id), 1);
    expect(await cli('schedule', 'delete', id)).toMatchObject({
      code: 3,
      json: { ok: false, error: { code: 'WindowScheduleNotFound' } },
    });
  });
});
