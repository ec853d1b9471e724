import { CancelledFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../../src/activities';
import { runPoll } from '../../../src/activities/poll';
import type { PollRequest } from '../../../src/activities/types';
import type { ScalingActivity } from '../../../src/aliyun/types';
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
      { polls: 2, progress: 0 },
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
