import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import { clientTokenFor, runRemoveBatch } from '../../../src/activities/remove';
import type { RemoveBatchRequest } from '../../../src/activities/types';
import { AliyunApiError, AliyunTimeoutError } from '../../../src/aliyun/errors';
import { ERROR_POLICY } from '../../../src/shared/error-policy';
import { activityEnv, rejectionOf } from './activity-env';
import { FakeCloud, activity, apiError, instance, instances } from './fake-cloud';

const IDS = ['i-1', 'i-2', 'i-3'];
const KEY = 'scale-in-1/batch/3';

function request(over: Partial<RemoveBatchRequest> = {}): RemoveBatchRequest {
  return {
    regionId: 'cn-hangzhou',
    scalingGroupId: 'asg-1',
    instanceIds: IDS,
    removePolicy: 'release',
    decreaseDesiredCapacity: true,
    idempotencyKey: KEY,
    ...over,
  };
}

const accepted = (scalingActivityId: string, requestId = `req-${scalingActivityId}`) => ({
  requestId,
  scalingActivityId,
});

/** The RemoveInstances request the activity must send for `ids`. */
const removeCall = (ids: string[]) => ({
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-1',
  instanceIds: ids,
  removePolicy: 'release',
  decreaseDesiredCapacity: true,
  clientToken: clientTokenFor(KEY, ids),
});

/** A retry: `attempt` > 1 with the checkpoint the earlier attempt left (`scheduled` at 10:05:30). */
const SCHEDULED = Date.parse('2024-05-01T10:05:30Z');
const retry = (heartbeatDetails: unknown, attempt = 2) =>
  activityEnv({ attempt, heartbeatDetails, scheduledTimestampMs: SCHEDULED });

describe('clientTokenFor', () => {
  it('is the same for the same batch and instance set in any order, and differs for another set or batch', () => {
    const token = clientTokenFor(KEY, ['i-1', 'i-2']);
    expect(token).toMatch(/^esi-[0-9a-f]{40}$/);
    expect(clientTokenFor(KEY, ['i-2', 'i-1'])).toBe(token);
    expect(clientTokenFor(KEY, ['i-1'])).not.toBe(token);
    expect(clientTokenFor('scale-in-1/batch/4', ['i-1', 'i-2'])).not.toBe(token);
  });
});

describe('runRemoveBatch: a first attempt', () => {
  it('sends RemoveInstances for the InService instances, checkpointing sent before and accepted after', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.removeInstances', accepted('sa-1', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res).toEqual({
      removals: [{ scalingActivityId: 'sa-1', instanceIds: IDS, adopted: false, requestId: 'req-rm' }],
      gone: [],
      attempt: 1,
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestIds: ['req-rm'],
    });
    expect(cloud.calls).toEqual([
      {
        op: 'ess.describeScalingInstances',
        args: [{ regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: IDS }, { signal: a.signal }],
      },
      { op: 'ess.removeInstances', args: [removeCall(IDS), { signal: a.signal }] },
    ]);
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: true, accepted: ['sa-1'] }]);
  });

  it('adopts instances already Removing under a scaling activity, one removal each, and sends none', async () => {
    const cloud = new FakeCloud().script(
      'ess.describeScalingInstances',
      instances(
        instance('i-1', { lifecycleState: 'Removing', scalingActivityId: 'sa-9' }),
        instance('i-2', { lifecycleState: 'Removing:Wait', scalingActivityId: 'sa-9' }),
        instance('i-3', { lifecycleState: 'Removing', scalingActivityId: 'sa-8' }),
      ),
    );
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-9', instanceIds: ['i-1', 'i-2'], adopted: true, requestId: undefined },
      { scalingActivityId: 'sa-8', instanceIds: ['i-3'], adopted: true, requestId: undefined },
    ]);
    expect(res.requestIds).toEqual([]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances']);
    expect(a.heartbeats).toEqual([]);
  });

  it('adopts what is Removing and sends the rest, including a Removing instance without an activity ID', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingInstances',
        instances(
          instance('i-1', { lifecycleState: 'Removing', scalingActivityId: undefined }),
          instance('i-2'),
          instance('i-3', { lifecycleState: 'Removing', scalingActivityId: 'sa-9' }),
        ),
      )
      .script('ess.removeInstances', accepted('sa-2'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-9', instanceIds: ['i-3'], adopted: true, requestId: undefined },
      { scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-2'], adopted: false, requestId: 'req-sa-2' },
    ]);
    expect(cloud.argsOf('ess.removeInstances')[0]?.[0]).toEqual(removeCall(['i-1', 'i-2']));
  });

  it('reports instances missing from the group as having left before this run, and removes the others', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-3')))
      .script('ess.removeInstances', accepted('sa-1'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.gone).toEqual([
      { instanceId: 'i-2', removedByEarlierAttempt: false, why: 'left the scaling group before this run removed it' },
    ]);
    expect(cloud.argsOf('ess.removeInstances')[0]?.[0]).toEqual(removeCall(['i-1', 'i-3']));
    expect(cloud.ops()).not.toContain('ess.recentScalingActivities');
  });
});

describe('runRemoveBatch: a retry after an earlier attempt', () => {
  it('counts instances gone from the group as removed by the earlier attempt that sent the call', async () => {
    const cloud = new FakeCloud().script('ess.describeScalingInstances', instances());
    const a = retry({ sent: true });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.attempt).toBe(2);
    expect(res.removals).toEqual([]);
    expect(res.gone).toEqual(
      IDS.map((instanceId) => ({
        instanceId,
        removedByEarlierAttempt: true,
        why:
          'no longer in the group after an earlier attempt of this batch whose response was lost; ' +
          'counted as removed by it',
      })),
    );
    // Nothing left to send: no lookup, no call, no checkpoint.
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances']);
    expect(a.heartbeats).toEqual([]);
  });

  it('adopts the scaling activity the earlier attempt checkpointed as accepted, without asking the API', async () => {
    const cloud = new FakeCloud().script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')));
    const a = retry({ sent: true, accepted: ['sa-acc', 'sa-later'] });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-acc', instanceIds: ['i-1', 'i-2'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone.map((g) => [g.instanceId, g.removedByEarlierAttempt])).toEqual([['i-3', true]]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances']);
    expect(a.heartbeats).toEqual([]);
  });

  it("without a checkpoint, counts the call as sent and finds the lost call's activity among recent ones", async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-2'), instance('i-3')))
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [activity('sa-lost', { statusCode: 'Warning', failedInstanceIds: ['i-3'] })],
      });
    const a = retry(undefined);
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: ['i-2', 'i-3'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([expect.objectContaining({ instanceId: 'i-1', removedByEarlierAttempt: true })]);
    expect(cloud.argsOf('ess.recentScalingActivities')).toEqual([['cn-hangzhou', 'asg-1', { signal: a.signal }]]);
    expect(cloud.ops()).not.toContain('ess.removeInstances');
    expect(a.heartbeats).toEqual([]);
  });

  it('takes as its own only an unknown, recent enough activity that failed some of these instances', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [
          // An earlier batch of this run.
          activity('sa-known', { startTime: '2024-05-01T10:05Z', failedInstanceIds: ['i-1'] }),
          // Started before the minute before the first attempt was scheduled.
          activity('sa-old', { startTime: '2024-05-01T10:03:59Z', failedInstanceIds: ['i-1'] }),
          // Another actor's activity, about other instances.
          activity('sa-other', { startTime: '2024-05-01T10:06Z', failedInstanceIds: ['i-9'] }),
          // Removed everything it was given: nothing of ours to find there.
          activity('sa-clean', { startTime: '2024-05-01T10:06Z', failedInstanceIds: [] }),
          activity('sa-mine', { startTime: '2024-05-01T10:04Z', failedInstanceIds: ['i-9', 'i-2'] }),
        ],
      });
    const a = retry({ sent: true });
    const res = await a.run((hb) =>
      runRemoveBatch(cloud.client, request({ knownScalingActivityIds: ['sa-known'] }), hb),
    );

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-mine', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
  });

  it('sends the call again when no recent activity is the lost one', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [activity('sa-known', { failedInstanceIds: ['i-1'] })],
      })
      .script('ess.removeInstances', accepted('sa-new'));
    const a = retry({ sent: true }, 3);
    const res = await a.run((hb) =>
      runRemoveBatch(cloud.client, request({ knownScalingActivityIds: ['sa-known'] }), hb),
    );

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-new', instanceIds: IDS, adopted: false, requestId: 'req-sa-new' },
    ]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances', 'ess.recentScalingActivities', 'ess.removeInstances']);
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: true, accepted: ['sa-new'] }]);
  });

  it('after an earlier attempt whose call was answered with an error (sent: false), starts afresh', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .script('ess.removeInstances', accepted('sa-1'));
    const a = retry({ sent: false });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.gone).toEqual([
      { instanceId: 'i-3', removedByEarlierAttempt: false, why: 'left the scaling group before this run removed it' },
    ]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances', 'ess.removeInstances']);
  });
});

describe('runRemoveBatch: the sent mark when the API answers with an error', () => {
  const setUp = (error: Error) =>
    new FakeCloud()
      .script('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', error);

  it('clears the mark on a 4xx answer of a first attempt (nothing was accepted) and rethrows the error', async () => {
    const error = apiError('IncorrectCapacity.MinSize', 400, { requestId: 'req-err' });
    const cloud = setUp(error);
    const a = activityEnv();
    expect(await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)))).toBe(error);
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: false }]);
  });

  it("keeps the mark on a 4xx answer of a retry: the earlier attempt's call may have been accepted", async () => {
    const cloud = setUp(apiError('ScalingActivityInProgress', 400));
    const a = retry({ sent: true });
    await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: true }]);
  });

  it("keeps the earlier attempt's accepted activity in the checkpoint it writes after a 4xx answer", async () => {
    const cloud = setUp(apiError('IncorrectScalingGroupStatus', 400));
    const a = retry({ sent: false, accepted: ['sa-old'] });
    await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: false, accepted: ['sa-old'] }]);
  });

  it.each([
    ['a 5xx answer', apiError('InternalError', 500)],
    ['a 503 answer', apiError('ServiceUnavailable', 503)],
    ['a timeout', new AliyunTimeoutError('RemoveInstances', 10_000)],
  ])('leaves the mark set on %s, whose call may have been accepted', async (_, error) => {
    const cloud = setUp(error);
    const a = activityEnv();
    expect(await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)))).toBe(error);
    expect(a.heartbeats).toEqual([{ sent: true }]);
  });
});

describe('runRemoveBatch: InvalidInstanceId.NotFound', () => {
  const notFound = (requestId?: string) =>
    apiError('InvalidInstanceId.NotFound', 404, { requestId, message: 'Instance "i-2" does not exist.' });

  it('checks membership again and sends the instances still there, under a new ClientToken', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingInstances',
        instances(...IDS.map((id) => instance(id))),
        instances(instance('i-1'), instance('i-3')),
      )
      .script('ess.removeInstances', notFound('req-nf'), accepted('sa-2', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res).toMatchObject({
      removals: [{ scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-3'], adopted: false, requestId: 'req-rm' }],
      gone: [{ instanceId: 'i-2', removedByEarlierAttempt: false }],
      requestIds: ['req-nf', 'req-rm'],
    });
    expect(cloud.argsOf('ess.describeScalingInstances').map(([r]) => r.instanceIds)).toEqual([IDS, IDS]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS), removeCall(['i-1', 'i-3'])]);
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: false }, { sent: true }, { sent: true, accepted: ['sa-2'] }]);
  });

  it('looks for a lost activity only before the first call of the attempt', async () => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', notFound(), accepted('sa-2'));
    const a = retry({ sent: true });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(cloud.ops()).toEqual([
      'ess.describeScalingInstances',
      'ess.recentScalingActivities',
      'ess.removeInstances',
      'ess.describeScalingInstances',
      'ess.removeInstances',
    ]);
    // An answer without a RequestId adds none.
    expect(res.requestIds).toEqual(['req-sa-2']);
    expect(a.heartbeats).toEqual([{ sent: true }, { sent: true }, { sent: true }, { sent: true, accepted: ['sa-2'] }]);
  });

  it('ends without a removal when the re-check finds every instance gone', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1')), instances())
      .script('ess.removeInstances', notFound('req-nf'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([]);
    expect(res.gone.map((g) => g.instanceId)).toEqual(['i-2', 'i-3', 'i-1']);
    expect(res.requestIds).toEqual(['req-nf']);
  });

  it('gives up after five rounds with InvalidInstanceId.NotFound naming the instances left', async () => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .always('ess.removeInstances', notFound());
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));

    expect(err).toBeInstanceOf(AliyunApiError);
    expect(err).toMatchObject({
      code: 'InvalidInstanceId.NotFound',
      httpStatus: 404,
      action: 'RemoveInstances',
      requestId: undefined,
      message:
        'RemoveInstances failed: InvalidInstanceId.NotFound: instances kept disappearing from the group: i-1, i-2',
    });
    expect(cloud.argsOf('ess.describeScalingInstances')).toHaveLength(5);
    expect(cloud.argsOf('ess.removeInstances')).toHaveLength(5);
  });
});

describe('removeBatch activity: bounded retry per error code', () => {
  // Codes RemoveInstances answers with whose retries are bounded by the policy table.
  const bounded = [
    ['ScalingActivityInProgress', 400],
    ['IncorrectScalingGroupStatus', 400],
    ['IncorrectLoadBalancerStatus', 400],
    ['IncorrectDBInstanceStatus', 400],
    ['InvalidInstanceId.NotFound', 404],
  ] as const;

  const attemptWith = async (code: string, status: number, attempt: number) => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .always('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .always('ess.removeInstances', apiError(code, status, { requestId: 'req-err' }));
    const a = activityEnv({ attempt, heartbeatDetails: { sent: false } });
    return rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).removeBatch, request()));
  };

  it.each(bounded)('%s is retried below its attempt limit, with the delay the table sets', async (code, status) => {
    const policy = ERROR_POLICY[code];
    if (!policy?.maxAttempts) throw new Error(`${code} is not bounded in the table`);
    const failure = await attemptWith(code, status, policy.maxAttempts - 1);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: code, nonRetryable: false, nextRetryDelay: policy.delayMs });
    expect((failure as ApplicationFailure).message).not.toContain('Gave up');
  });

  it.each(bounded)('%s is not retried once the attempt limit is reached', async (code, status) => {
    const max = ERROR_POLICY[code]?.maxAttempts ?? 0;
    const failure = await attemptWith(code, status, max);
    expect(failure).toMatchObject({ type: code, nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(new RegExp(`Gave up after ${max} attempts\\.$`));
  });
});
