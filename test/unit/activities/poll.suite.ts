import { CancelledFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../../src/activities';
import { NOT_FOUND_BUDGET_MS, ScalingActivityNotFoundError, runPoll } from '../../../src/activities/poll';
import type { PollRequest, PollResponse } from '../../../src/activities/types';
import { ENDED_ACTION_CODE } from '../../../src/activities/lifecycle-hooks';
import { AliyunApiError } from '../../../src/aliyun/errors';
import type { LifecycleAction, ScalingActivity } from '../../../src/aliyun/types';
import type { PlannedHook } from '../../../src/shared/progress';
import { activityEnv, rejectionOf } from './activity-env';
import { FakeCloud, activity, instance, instances } from './fake-cloud';

const R = 'cn-hangzhou';
const IDS = ['i-1', 'i-2', 'i-3'];

const request = (over: Partial<PollRequest> = {}): PollRequest => ({
  regionId: R,
  scalingGroupId: 'asg-1',
  scalingActivityId: 'sa-1',
  instanceIds: IDS,
  minIntervalMs: 1000,
  maxIntervalMs: 10_000,
  ...over,
});

const answer = (...activities: ScalingActivity[]) => ({ requestId: 'req-act', activities });
const sa = (over: Partial<ScalingActivity>) => answer(activity('sa-1', over));

describe('poll: end states', () => {
  it('ends at once on a finished activity, every instance gone from the group counted as removed', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ statusCode: 'Successful', statusMessage: 'done', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).pollScalingActivity, request());

    expect(res).toEqual({
      scalingActivityId: 'sa-1',
      statusCode: 'Successful',
      statusMessage: 'done',
      progress: 100,
      removedInstanceIds: IDS,
      failedInstances: [],
      polls: 1,
      endedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      // Seen ended at the first look: the end fell between the poll's start and that look.
      observedEnd: { afterMs: 0, byMs: expect.any(Number), estimateMs: expect.any(Number) },
    });
    expect(cloud.calls).toEqual([
      { op: 'ess.describeScalingActivities', args: [R, ['sa-1'], { signal: a.signal }] },
      {
        op: 'ess.describeScalingInstances',
        args: [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: IDS }, { signal: a.signal }],
      },
    ]);
    expect(a.heartbeats).toEqual([]);
    expect(a.sleeps).toEqual([]);
  });

  it.each(['Successful', 'Warning', 'Failed', 'Rejected'])(
    'on %s, takes the group as the truth about which instances left',
    async (statusCode) => {
      const cloud = new FakeCloud()
        .script(
          'ess.describeScalingActivities',
          sa({ statusCode, statusMessage: 'partly', progress: 100, failedInstanceIds: ['i-2'] }),
        )
        .script(
          'ess.describeScalingInstances',
          instances(instance('i-2'), instance('i-3', { lifecycleState: 'Removing' })),
        );
      const a = activityEnv();
      const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

      expect(res).toMatchObject({ statusCode, removedInstanceIds: ['i-1'], polls: 1 });
      expect(res.failedInstances).toEqual([
        {
          instanceId: 'i-2',
          why:
            `scaling activity sa-1 ended ${statusCode} (partly); the instance is still in the group as InService, ` +
            'listed among its failed instances',
        },
        {
          instanceId: 'i-3',
          why: `scaling activity sa-1 ended ${statusCode} (partly); the instance is still in the group as Removing`,
        },
      ]);
    },
  );

  it("names each failed instance's own cause: the code and message of its ErrorMessages item", async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        sa({
          statusCode: 'Warning',
          statusMessage: '"1" ECS instances are removed, "2" ECS instances failed to be removed.',
          progress: 100,
          failedInstanceIds: ['i-2', 'i-3'],
          instanceErrors: [
            { code: 'InstanceStopFailed', message: 'The instance failed to stop.', instanceIds: ['i-2'] },
            { code: 'OperationDenied.NoStock', message: 'No stock.', instanceIds: ['i-3'] },
          ],
        }),
      )
      .script('ess.describeScalingInstances', instances(instance('i-2'), instance('i-3')));
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));
    expect(res.failedInstances.map((f) => f.why.replace(/^.*listed among its failed instances/, ''))).toEqual([
      ' (InstanceStopFailed: The instance failed to stop.)',
      ' (OperationDenied.NoStock: No stock.)',
    ]);
  });

  it('explains with the error message without a status message, and with neither when both are empty', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        sa({ statusCode: 'Failed', statusMessage: '', errorMessage: 'quota exceeded' }),
        sa({ statusCode: 'Rejected', statusMessage: '', errorMessage: undefined }),
      )
      .always('ess.describeScalingInstances', instances(instance('i-1')));
    const a = activityEnv();
    const failed = await a.run((hb) => runPoll(cloud.client, request({ instanceIds: ['i-1'] }), hb));
    expect(failed.statusMessage).toBe('quota exceeded');
    expect(failed.failedInstances[0]?.why).toBe(
      'scaling activity sa-1 ended Failed (quota exceeded); the instance is still in the group as InService',
    );
    const rejected = await a.run((hb) => runPoll(cloud.client, request({ instanceIds: ['i-1'] }), hb));
    expect(rejected.statusMessage).toBe('');
    expect(rejected.failedInstances[0]?.why).toBe(
      'scaling activity sa-1 ended Rejected; the instance is still in the group as InService',
    );
  });
});

describe('poll: the end ESS itself accounts for (issue 16)', () => {
  const look = (statusCode: string, over: Partial<ScalingActivity> = {}) =>
    sa({ statusCode, statusMessage: 'done', progress: 100, ...over });

  it('Successful, every instance listed in DestroyedInstances: no DescribeScalingInstances, all removed', async () => {
    const cloud = new FakeCloud().script(
      'ess.describeScalingActivities',
      look('Successful', { destroyedInstanceIds: ['i-3', 'i-9', 'i-1', 'i-2'] }),
    );
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(cloud.ops()).toEqual(['ess.describeScalingActivities']);
    expect(res).toMatchObject({ statusCode: 'Successful', removedInstanceIds: IDS, failedInstances: [], polls: 1 });
  });

  it('Successful, one instance not listed: reads the group, and the group is the truth', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', look('Successful', { destroyedInstanceIds: ['i-1', 'i-2'] }))
      .script('ess.describeScalingInstances', instances(instance('i-3')));
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(cloud.ops()).toEqual(['ess.describeScalingActivities', 'ess.describeScalingInstances']);
    expect(cloud.argsOf('ess.describeScalingInstances')[0]?.[0].instanceIds).toEqual(IDS);
    expect(res.removedInstanceIds).toEqual(['i-1', 'i-2']);
    expect(res.failedInstances).toEqual([
      {
        instanceId: 'i-3',
        why: 'scaling activity sa-1 ended Successful (done); the instance is still in the group as InService',
      },
    ]);
  });

  it.each([
    ['ended Warning', look('Warning', { destroyedInstanceIds: IDS })],
    ['recycled: StoppedInstances only', look('Successful', { stoppedInstanceIds: IDS })],
    ['listed half in each', look('Successful', { destroyedInstanceIds: ['i-1'], stoppedInstanceIds: ['i-2', 'i-3'] })],
  ])('reads the group when the activity does not name each instance released (%s)', async (_, ended) => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', ended)
      .script('ess.describeScalingInstances', instances(instance('i-2')));
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(cloud.ops()).toEqual(['ess.describeScalingActivities', 'ess.describeScalingInstances']);
    expect(res.removedInstanceIds).toEqual(['i-1', 'i-3']);
    expect(res.failedInstances.map((f) => f.instanceId)).toEqual(['i-2']);
  });

  it('reads the group when the plan has lifecycle hooks the run waits for, even with all released', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', look('Successful', { destroyedInstanceIds: IDS }))
      .script('ess.describeScalingInstances', instances());
    const hooks: PlannedHook[] = [
      {
        lifecycleHookId: 'ash-1',
        lifecycleHookName: 'cleanup',
        heartbeatTimeoutSeconds: 600,
        defaultResult: 'CONTINUE',
        notificationArn: undefined,
        handling: 'wait',
      },
    ];
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request({ hooks }), hb));

    expect(cloud.ops()).toEqual(['ess.describeScalingActivities', 'ess.describeScalingInstances']);
    expect(res.removedInstanceIds).toEqual(IDS);
  });
});

describe('poll: while the activity runs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('checkpoints poll count and progress after each poll, waiting longer while progress stands still', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        sa({ progress: 0 }),
        // Not listed yet: progress 0.
        answer(activity('sa-other', { progress: 80 })),
        sa({ statusCode: 'Successful', progress: 100 }),
      )
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(res.polls).toBe(3);
    expect(a.heartbeats).toEqual([
      { polls: 1, progress: 0 },
      // Not found yet: the checkpoint keeps since when (its budget survives a retry).
      { polls: 2, progress: 0, notFoundSinceMs: expect.any(Number) },
    ]);
    expect(a.sleeps).toEqual([1500, 2250]);
  });

  it("continues the earlier attempt's poll count", async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ progress: 70 }), sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv({ attempt: 2, heartbeatDetails: { polls: 4, progress: 60 } });
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(res.polls).toBe(6);
    expect(a.heartbeats).toEqual([{ polls: 5, progress: 70 }]);
  });

  /** A clock that only the activity's sleeps and the cloud's latency move. */
  function fakeClock(startMs: number) {
    const clock = { now: startMs };
    vi.spyOn(Date, 'now').mockImplementation(() => clock.now);
    return clock;
  }

  it("paces a fresh poll by the activity's progress since the poll began", async () => {
    const clock = fakeClock(1_000_000);
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        () => ((clock.now += 1000), sa({ progress: 20 })),
        sa({ statusCode: 'Successful', progress: 100 }),
      )
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    await a.run((hb) => runPoll(cloud.client, request(), hb));
    // 20 % in 1 s: 4 s left, half of it.
    expect(a.sleeps).toEqual([2000]);
  });

  it('paces a resumed poll from its own observations only', async () => {
    const clock = fakeClock(1_000_000);
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        () => ((clock.now += 1000), sa({ progress: 20 })),
        sa({ statusCode: 'Successful', progress: 100 }),
      )
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv({ attempt: 2, heartbeatDetails: { polls: 1, progress: 10 } });
    await a.run((hb) => runPoll(cloud.client, request(), hb));
    // No rate yet: half as long again as the minimum.
    expect(a.sleeps).toEqual([1500]);
  });

  it('stops waiting when the activity is cancelled', async () => {
    const a = activityEnv();
    const cloud = new FakeCloud().always('ess.describeScalingActivities', () => {
      a.env.cancel();
      return sa({ progress: 10 });
    });
    const err = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).pollScalingActivity, request()));

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(a.signal.aborted).toBe(true);
    expect(cloud.ops()).toEqual(['ess.describeScalingActivities']);
    expect(a.heartbeats).toEqual([{ polls: 1, progress: 10 }]);
  });
});

describe('poll: scale-in lifecycle hooks', () => {
  const hook = (id: string, handling: PlannedHook['handling'], timeoutS = 600): PlannedHook => ({
    lifecycleHookId: id,
    lifecycleHookName: `name-${id}`,
    heartbeatTimeoutSeconds: timeoutS,
    defaultResult: 'CONTINUE',
    notificationArn: undefined,
    handling,
  });
  const action = (hookId: string, status = 'Pending', result?: string): LifecycleAction => ({
    lifecycleActionToken: `tok-${hookId}`,
    lifecycleHookId: hookId,
    lifecycleActionStatus: status,
    lifecycleActionResult: result,
    instanceIds: IDS,
  });
  const actions = (...list: LifecycleAction[]) => ({ actions: list, requestIds: ['req-la'] });
  const inProgress = sa({ statusCode: 'InProgress', progress: 40 });

  it('comes back while a hook it waits for holds the activity: the hook, its default, its timeout', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', inProgress)
      .script('ess.describeLifecycleActions', actions(action('ash-cleanup1')));
    const a = activityEnv();
    const res: PollResponse = await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-cleanup1', 'wait', 900)] }),
    );
    expect(res.statusCode).toBe('InProgress');
    expect(res.hookWait).toEqual({
      waitingOn: [
        {
          lifecycleHookId: 'ash-cleanup1',
          lifecycleHookName: 'name-ash-cleanup1',
          lifecycleActionToken: 'tok-ash-cleanup1',
          defaultResult: 'CONTINUE',
          timesOutBy: expect.stringMatching(/^\d{4}-/),
        },
      ],
      completed: [],
    });
    expect(cloud.ops()).not.toContain('ess.completeLifecycleAction');
  });

  it('a wait already shown is not news: it keeps polling, no faster than a twentieth of the hook timeout', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', inProgress, sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeLifecycleActions', actions(action('ash-cleanup1')))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    const res: PollResponse = await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-cleanup1', 'wait', 100)], knownWaitTokens: ['tok-ash-cleanup1'] }),
    );
    expect(res.statusCode).toBe('Successful');
    expect(res.removedInstanceIds).toEqual(IDS);
    // 100 s / 20 = 5 s, within maxIntervalMs (10 s), above the usual first interval (1 s).
    expect(a.sleeps).toEqual([5000]);
  });

  it('completes with CONTINUE only the actions of hooks marked complete, reporting token and RequestId', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', inProgress)
      .script('ess.describeLifecycleActions', actions(action('ash-drain001'), action('ash-cleanup1')))
      .script('ess.completeLifecycleAction', { requestId: 'req-complete' });
    const a = activityEnv();
    const res: PollResponse = await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-drain001', 'complete'), hook('ash-cleanup1', 'wait')] }),
    );
    expect(cloud.argsOf('ess.completeLifecycleAction')).toEqual([
      [
        {
          regionId: R,
          lifecycleHookId: 'ash-drain001',
          lifecycleActionToken: 'tok-ash-drain001',
          lifecycleActionResult: 'CONTINUE',
        },
        { signal: a.signal },
      ],
    ]);
    expect(res.hookWait?.completed).toEqual([
      {
        scalingActivityId: 'sa-1',
        lifecycleHookId: 'ash-drain001',
        lifecycleActionToken: 'tok-ash-drain001',
        result: 'CONTINUE',
        requestId: 'req-complete',
      },
    ]);
    expect(res.hookWait?.waitingOn.map((w) => w.lifecycleHookId)).toEqual(['ash-cleanup1']);
    // The completion is checkpointed before the poll answers: a worker killed now loses nothing.
    expect(a.heartbeats.at(-1)).toMatchObject({ completed: res.hookWait?.completed });
  });

  it('an action that ended before the run could complete it is harmless, and noted', async () => {
    const ended = new AliyunApiError(ENDED_ACTION_CODE, 'invalid', 400, 'req-x', undefined, 'CompleteLifecycleAction');
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', inProgress)
      .script('ess.describeLifecycleActions', actions(action('ash-drain001')))
      .script('ess.completeLifecycleAction', ended);
    const a = activityEnv();
    const res: PollResponse = await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-drain001', 'complete')] }),
    );
    expect(res.hookWait?.completed).toEqual([
      expect.objectContaining({ requestId: undefined, note: `already ended (${ENDED_ACTION_CODE})` }),
    ]);
  });

  it('a ROLLBACK that kept the instances is named in each failed instance’s reason', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        sa({ statusCode: 'Failed', statusMessage: 'rolled back', progress: 100 }),
      )
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2'), instance('i-3')))
      .script('ess.describeLifecycleActions', actions(action('ash-cleanup1', 'Timeout', 'ROLLBACK')));
    const a = activityEnv();
    const res: PollResponse = await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-cleanup1', 'wait')] }),
    );
    expect(res.failedInstances).toHaveLength(3);
    expect(res.failedInstances[0]?.why).toContain(
      'lifecycle hook name-ash-cleanup1 (ash-cleanup1) timed out with its default result ROLLBACK: ' +
        'ESS kept the instance',
    );
  });

  it('skipped hooks are not watched: no lifecycle calls at all', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    await a.env.run(
      createActivities({ cloud: cloud.client }).pollScalingActivity,
      request({ hooks: [hook('ash-cleanup1', 'skip')] }),
    );
    expect(cloud.ops()).toEqual(['ess.describeScalingActivities', 'ess.describeScalingInstances']);
  });
});

describe('poll: an activity not found yet (visibility lag)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Date.now() as the test sets it: each call answers the next of `times`, then the last one. */
  const clock = (...times: number[]) => {
    let i = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => times[Math.min(i++, times.length - 1)] ?? 0);
  };
  const notYet = answer();

  it('keeps polling while DescribeScalingActivities does not find it yet, then follows it to its end', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', notYet, notYet, sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(res).toMatchObject({ statusCode: 'Successful', removedInstanceIds: IDS, polls: 3 });
    expect(a.sleeps).toHaveLength(2);
    expect(a.heartbeats).toHaveLength(2);
    const since = (a.heartbeats[0] as { notFoundSinceMs?: number }).notFoundSinceMs;
    expect(since).toEqual(expect.any(Number));
    // The budget counts from the first poll that did not find it, not from each one.
    expect(a.heartbeats[1]).toMatchObject({ polls: 2, progress: 0, notFoundSinceMs: since });
  });

  it('forgets the budget once the activity is found', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingActivities',
        notYet,
        sa({ statusCode: 'InProgress', progress: 10 }),
        sa({ statusCode: 'Successful', progress: 100 }),
      )
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    await a.run((hb) => runPoll(cloud.client, request(), hb));
    expect(a.heartbeats[0]).toHaveProperty('notFoundSinceMs');
    expect(a.heartbeats[1]).not.toHaveProperty('notFoundSinceMs');
  });

  it('fails with ScalingActivityNotFound (ours, not retried) once not found for the whole budget', async () => {
    const t0 = Date.parse('2024-05-01T10:00:00Z');
    // The first miss, then one just inside the budget, then one at it.
    clock(t0, t0, t0, t0 + NOT_FOUND_BUDGET_MS - 1, t0 + NOT_FOUND_BUDGET_MS - 1, t0 + NOT_FOUND_BUDGET_MS);
    const cloud = new FakeCloud().always('ess.describeScalingActivities', notYet);
    const a = activityEnv();
    const failure = await rejectionOf(a.run((hb) => runPoll(cloud.client, request(), hb)));

    expect(failure).toBeInstanceOf(ScalingActivityNotFoundError);
    expect(failure).toMatchObject({ type: 'ScalingActivityNotFound', nonRetryable: true });
    expect((failure as Error).message).toContain('sa-1');
    expect(cloud.ops().every((op) => op === 'ess.describeScalingActivities')).toBe(true);
    expect(cloud.ops().length).toBeGreaterThanOrEqual(2);
  });

  it('a retry counts the budget from the checkpoint it resumed from, not afresh', async () => {
    const t0 = Date.parse('2024-05-01T10:00:00Z');
    clock(t0 + NOT_FOUND_BUDGET_MS);
    const cloud = new FakeCloud().always('ess.describeScalingActivities', notYet);
    const a = activityEnv({ attempt: 2, heartbeatDetails: { polls: 7, progress: 0, notFoundSinceMs: t0 } });
    const failure = await rejectionOf(a.run((hb) => runPoll(cloud.client, request(), hb)));

    expect(failure).toMatchObject({ type: 'ScalingActivityNotFound', nonRetryable: true });
    expect(cloud.ops()).toEqual(['ess.describeScalingActivities']);
  });
});

describe('poll: forecast of the end (predictive polling)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A clock that only the activity's sleeps move. */
  function sleepingClock(a: ReturnType<typeof activityEnv>, startMs: number) {
    const clock = { now: startMs };
    vi.spyOn(Date, 'now').mockImplementation(() => clock.now);
    vi.spyOn(a.env.context, 'sleep').mockImplementation(async (ms) => {
      a.sleeps.push(Number(ms));
      clock.now += Number(ms);
    });
    return clock;
  }

  it('sleeps until the window opens, looks where Progress puts the end, and reports where it fell', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ progress: 90 }), sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    sleepingClock(a, 1_000_000);
    const res = await a.run((hb) =>
      runPoll(cloud.client, request({ expectedEnd: { earliestMs: 800, latestMs: 1000 } }), hb),
    );

    // A near window: no look before its middle; then where 90 % at 900 ms puts the end, capped at a
    // third of the window (floor 100 ms).
    expect(a.sleeps).toEqual([900, 100]);
    expect(res.polls).toBe(2);
    expect(res.observedEnd).toEqual({ afterMs: 900, byMs: 1000, estimateMs: 1000 });
  });

  it('without a forecast, looks at once and still reports where the end fell', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ progress: 50 }), sa({ statusCode: 'Warning', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    sleepingClock(a, 1_000_000);
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    // Progress seen at the very start has no rate yet: the middle of the bracket.
    expect(a.sleeps).toEqual([1500]);
    expect(res.observedEnd).toEqual({ afterMs: 0, byMs: 1500, estimateMs: 750 });
  });

  it('a retry neither waits for the window nor reports an end: its clock did not start with the activity', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ statusCode: 'Successful', progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv({ attempt: 2, heartbeatDetails: { polls: 3, progress: 40 } });
    const res = await a.run((hb) =>
      runPoll(cloud.client, request({ expectedEnd: { earliestMs: 900, latestMs: 1100 } }), hb),
    );

    expect(a.sleeps).toEqual([]);
    expect(res.observedEnd).toBeUndefined();
  });

  it.each(['Failed', 'Rejected'])('a %s activity ends early and says nothing of the next one', async (statusCode) => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingActivities', sa({ statusCode, progress: 100 }))
      .script('ess.describeScalingInstances', instances());
    const a = activityEnv();
    const res = await a.run((hb) => runPoll(cloud.client, request(), hb));

    expect(res.observedEnd).toBeUndefined();
  });
});
