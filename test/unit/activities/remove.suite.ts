import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import {
  MEMBERSHIP_MAX_ATTEMPTS,
  MembershipChangedError,
  clientTokenFor,
  runRemoveBatch,
} from '../../../src/activities/remove';
import type { RemoveBatchRequest } from '../../../src/activities/types';
import { AliyunTimeoutError } from '../../../src/aliyun/errors';
import type { ScalingActivity, ScalingInstance } from '../../../src/aliyun/types';
import { ERROR_POLICY } from '../../../src/shared/error-policy';
import { activityEnv, rejectionOf } from './activity-env';
import { removeBatchRequest } from './inputs';
import { FakeCloud, activity, apiError, instance, instances } from './fake-cloud';

const IDS = ['i-1', 'i-2', 'i-3'];
const KEY = 'scale-in-1/batch/3';

function request(over: Partial<RemoveBatchRequest> = {}): RemoveBatchRequest {
  return removeBatchRequest(IDS, KEY, over);
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

/** The checkpoint an attempt writes: its number and every removal of the batch it knows of. */
const mark = (attempt: number, ...removals: Array<{ ids: string[]; activity?: string }>) => ({ attempt, removals });
const LEFT_BEFORE = 'left the scaling group before this run removed it';
const LEFT_NOT_OURS = 'left the scaling group, and no scaling activity of this run was found that removed it';

describe('runRemoveBatch: a first attempt', () => {
  it('sends the whole batch without reading the group, checkpointing the call and then its activity', async () => {
    const cloud = new FakeCloud().script('ess.removeInstances', accepted('sa-1', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res).toEqual({
      removals: [{ scalingActivityId: 'sa-1', instanceIds: IDS, adopted: false, requestId: 'req-rm' }],
      gone: [],
      attempt: 1,
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestIds: ['req-rm'],
    });
    // Exactly one RemoveInstances, under the whole batch's ClientToken, and no DescribeScalingInstances.
    expect(cloud.calls).toEqual([{ op: 'ess.removeInstances', args: [removeCall(IDS), { signal: a.signal }] }]);
    expect(a.heartbeats).toEqual([mark(1, { ids: IDS }), mark(1, { ids: IDS, activity: 'sa-1' })]);
  });

  it('refused, adopts instances Removing under a scaling activity, one removal each, and sends none', async () => {
    const cloud = new FakeCloud()
      .script('ess.removeInstances', apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st' }))
      .script(
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
    expect(res.requestIds).toEqual(['req-st']);
    expect(cloud.ops()).toEqual(['ess.removeInstances', 'ess.describeScalingInstances']);
    // The refused call stays in the checkpoint, without an activity: a retry may repeat it, never a new token.
    expect(a.heartbeats).toEqual([mark(1, { ids: IDS })]);
  });

  it('adopts what is Removing and sends the rest, including a Removing instance without an activity ID', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.removeInstances',
        apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st' }),
        accepted('sa-2'),
      )
      .script(
        'ess.describeScalingInstances',
        instances(
          instance('i-1', { lifecycleState: 'Removing', scalingActivityId: undefined }),
          instance('i-2'),
          instance('i-3', { lifecycleState: 'Removing', scalingActivityId: 'sa-9' }),
        ),
      );
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-9', instanceIds: ['i-3'], adopted: true, requestId: undefined },
      { scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-2'], adopted: false, requestId: 'req-sa-2' },
    ]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS), removeCall(['i-1', 'i-2'])]);
  });

  it('reports instances missing from the group as having left before this run, and removes the others', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-3')))
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404), accepted('sa-1'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.gone).toEqual([{ instanceId: 'i-2', why: LEFT_BEFORE }]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS), removeCall(['i-1', 'i-3'])]);
    expect(cloud.ops()).not.toContain('ess.recentScalingActivities');
  });
});

describe('runRemoveBatch: a first attempt sends before it reads (issue 16)', () => {
  const ops = (cloud: FakeCloud) => cloud.ops();
  const tokens = (cloud: FakeCloud) => cloud.argsOf('ess.removeInstances').map(([r]) => r.clientToken);

  it('all present: one RemoveInstances, under the whole batch’s token, and no DescribeScalingInstances', async () => {
    const cloud = new FakeCloud().script('ess.removeInstances', accepted('sa-1', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(ops(cloud)).toEqual(['ess.removeInstances']);
    expect(tokens(cloud)).toEqual([clientTokenFor(KEY, IDS)]);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-1', instanceIds: IDS, adopted: false, requestId: 'req-rm' },
    ]);
    expect(res.gone).toEqual([]);
    expect(a.heartbeats).toEqual([mark(1, { ids: IDS }), mark(1, { ids: IDS, activity: 'sa-1' })]);
  });

  it('one instance gone meanwhile: refused, then read, then the rest sent under their own token', async () => {
    const cloud = new FakeCloud()
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404, { requestId: 'req-nf' }))
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-3')))
      .script('ess.removeInstances', accepted('sa-2', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(ops(cloud)).toEqual(['ess.removeInstances', 'ess.describeScalingInstances', 'ess.removeInstances']);
    expect(cloud.argsOf('ess.describeScalingInstances')[0]?.[0].instanceIds).toEqual(IDS);
    expect(tokens(cloud)).toEqual([clientTokenFor(KEY, IDS), clientTokenFor(KEY, ['i-1', 'i-3'])]);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-3'], adopted: false, requestId: 'req-rm' },
    ]);
    expect(res.gone).toEqual([{ instanceId: 'i-2', why: LEFT_BEFORE }]);
    expect(res.requestIds).toEqual(['req-nf', 'req-rm']);
    expect(a.heartbeats).toEqual([
      mark(1, { ids: IDS }),
      mark(1, { ids: IDS }, { ids: ['i-1', 'i-3'] }),
      mark(1, { ids: IDS }, { ids: ['i-1', 'i-3'], activity: 'sa-2' }),
    ]);
  });

  it('one instance already Removing under another activity: refused, read, adopted, the rest sent', async () => {
    const cloud = new FakeCloud()
      .script('ess.removeInstances', apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st' }))
      .script(
        'ess.describeScalingInstances',
        instances(
          instance('i-1'),
          instance('i-2', { lifecycleState: 'Removing', scalingActivityId: 'sa-other' }),
          instance('i-3'),
        ),
      )
      .script('ess.removeInstances', accepted('sa-2', 'req-rm'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(ops(cloud)).toEqual(['ess.removeInstances', 'ess.describeScalingInstances', 'ess.removeInstances']);
    expect(tokens(cloud)).toEqual([clientTokenFor(KEY, IDS), clientTokenFor(KEY, ['i-1', 'i-3'])]);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-other', instanceIds: ['i-2'], adopted: true, requestId: undefined },
      { scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-3'], adopted: false, requestId: 'req-rm' },
    ]);
    expect(res.gone).toEqual([]);
    expect(res.requestIds).toEqual(['req-st', 'req-rm']);
  });

  it('an instance refused for a state that does not change fails the attempt with the same error', async () => {
    // i-2 is Pending (IncorrectInstanceStatus) on both calls: the read finds it there, not Removing, so it is sent.
    const again = apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st-2' });
    const cloud = new FakeCloud()
      .script('ess.removeInstances', apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st' }), again)
      .script(
        'ess.describeScalingInstances',
        instances(instance('i-1'), instance('i-2', { lifecycleState: 'Pending' }), instance('i-3')),
      );
    const a = activityEnv();
    expect(await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)))).toBe(again);
    expect(ops(cloud)).toEqual(['ess.removeInstances', 'ess.describeScalingInstances', 'ess.removeInstances']);
    // Both calls are of the whole batch, under its token: nothing left the group.
    expect(tokens(cloud)).toEqual([clientTokenFor(KEY, IDS), clientTokenFor(KEY, IDS)]);
  });

  it('any other refusal is thrown at once, without a read', async () => {
    const error = apiError('IncorrectCapacity.MinSize', 400, { requestId: 'req-min' });
    const cloud = new FakeCloud().script('ess.removeInstances', error);
    const a = activityEnv();
    expect(await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)))).toBe(error);
    expect(ops(cloud)).toEqual(['ess.removeInstances']);
    expect(a.heartbeats).toEqual([mark(1, { ids: IDS })]);
  });

  it('a retry (attempt 2) still reads the group first and adopts before it sends', async () => {
    const cloud = new FakeCloud().script(
      'ess.describeScalingInstances',
      instances(...IDS.map((id) => instance(id, { lifecycleState: 'Removing', scalingActivityId: 'sa-lost' }))),
    );
    const a = retry(mark(1, { ids: IDS }));
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(ops(cloud)).toEqual(['ess.describeScalingInstances']);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
  });
});

describe('runRemoveBatch: a retry after an earlier attempt', () => {
  it('credits instances gone from the group to the activity that a repeat of the same call names', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', accepted('sa-lost', 'req-replay'));
    const a = retry({ sent: true });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.attempt).toBe(2);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    // The same instance set, so the same ClientToken: ESS answers with the earlier call's activity.
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS)]);
  });

  it('reports instances gone from the group as skipped when no activity of this run removed them', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404, { requestId: 'req-nf' }));
    const a = retry({ sent: true });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([]);
    expect(res.gone).toEqual(IDS.map((instanceId) => ({ instanceId, why: LEFT_NOT_OURS })));
    expect(res.requestIds).toEqual(['req-nf']);
  });

  it('credits instances gone from the group to a recent activity listing them removed, sending nothing', async () => {
    // The lost call's activity ended before the retry; ESS ignored the ClientToken, so a repeat proves nothing.
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [
          activity('sa-other', { statusCode: 'Successful', destroyedInstanceIds: ['i-7'] }),
          activity('sa-lost', {
            statusCode: 'Successful',
            destroyedInstanceIds: ['i-1', 'i-2'],
            stoppedInstanceIds: ['i-3'],
          }),
        ],
      });
    const a = retry(mark(1));
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances', 'ess.recentScalingActivities']);
    expect(a.heartbeats).toEqual([mark(2, { ids: IDS, activity: 'sa-lost' })]);
  });

  it('credits no gone instance no recent activity of ours lists as removed (detached, another actor)', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [
          // Lists i-1 but also an instance outside the batch: another actor's removal, not ours.
          activity('sa-other', { statusCode: 'Successful', destroyedInstanceIds: ['i-1', 'i-9'] }),
          // Ours by its instances, but it started before the first attempt was scheduled.
          activity('sa-old', {
            statusCode: 'Successful',
            startTime: '2024-05-01T10:03Z',
            destroyedInstanceIds: ['i-2'],
          }),
          activity('sa-none', { statusCode: 'Successful', failedInstanceIds: ['i-3'] }),
        ],
      })
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404, { requestId: 'req-nf' }));
    const a = retry(mark(1));
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([]);
    expect(res.gone).toEqual(IDS.map((instanceId) => ({ instanceId, why: LEFT_NOT_OURS })));
  });

  it("never credits a gone instance to an activity this run already knows (another batch's)", async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [activity('sa-batch-2', { statusCode: 'Successful', destroyedInstanceIds: ['i-3'] })],
      })
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404), accepted('sa-new'));
    const a = retry(mark(1));
    const res = await a.run((hb) =>
      runRemoveBatch(cloud.client, request({ knownScalingActivityIds: ['sa-batch-2'] }), hb),
    );

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-new', instanceIds: ['i-1', 'i-2'], adopted: false, requestId: 'req-sa-new' },
    ]);
    expect(res.gone).toEqual([{ instanceId: 'i-3', why: LEFT_NOT_OURS }]);
  });

  it('fails the attempt, concluding nothing, when the repeated call gets ScalingActivityInProgress', async () => {
    const busy = apiError('ScalingActivityInProgress', 400);
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', busy);
    const a = retry({ sent: true });
    // Judged at the boundary of the attempt: the code as the failure type, retried, nothing adopted or sent again.
    const failure = await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ScalingActivityInProgress', nonRetryable: false });
    expect((failure as ApplicationFailure).message).toContain(busy.message);
    expect(cloud.argsOf('ess.removeInstances')).toHaveLength(1);
  });

  it('adopts a removal the checkpoint records with its activity, for its instances, asking no API', async () => {
    const cloud = new FakeCloud().script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')));
    const a = retry(mark(1, { ids: IDS, activity: 'sa-acc' }));
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-acc', instanceIds: ['i-1', 'i-2', 'i-3'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    expect(cloud.ops()).toEqual(['ess.describeScalingInstances']);
    expect(a.heartbeats).toEqual([mark(2, { ids: IDS, activity: 'sa-acc' })]);
  });

  it('adopts the activity of a checkpoint of the older shape for what is still to send', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404));
    const a = retry({ sent: true, accepted: ['sa-acc', 'sa-later'] });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-acc', instanceIds: ['i-1', 'i-2'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([{ instanceId: 'i-3', why: LEFT_NOT_OURS }]);
  });

  it("without a checkpoint, adopts the lost call's activity for the instances it failed", async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-2'), instance('i-3')))
      .script('ess.recentScalingActivities', {
        requestId: 'req-recent',
        activities: [activity('sa-lost', { statusCode: 'Warning', failedInstanceIds: ['i-3'] })],
      })
      .script('ess.removeInstances', accepted('sa-lost'));
    const a = retry(undefined);
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: ['i-3', 'i-1', 'i-2'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    expect(cloud.argsOf('ess.recentScalingActivities')).toEqual([['cn-hangzhou', 'asg-1', { signal: a.signal }]]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS)]);
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
      })
      .script('ess.removeInstances', accepted('sa-new'));
    const a = retry({ sent: true });
    const res = await a.run((hb) =>
      runRemoveBatch(cloud.client, request({ knownScalingActivityIds: ['sa-known'] }), hb),
    );

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-mine', instanceIds: ['i-2'], adopted: true, requestId: undefined },
      { scalingActivityId: 'sa-new', instanceIds: ['i-1', 'i-3'], adopted: false, requestId: 'req-sa-new' },
    ]);
    // The whole batch is not repeated: the API could accept it afresh, and i-2 would be removed twice.
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(['i-1', 'i-3'])]);
  });

  it('sends the call again, under the same ClientToken, when no recent activity is the lost one', async () => {
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
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS)]);
    expect(a.heartbeats).toEqual([mark(3, { ids: IDS }), mark(3, { ids: IDS, activity: 'sa-new' })]);
  });

  it('after an earlier attempt refused with a 4xx (sent: false), still looks for an accepted call first', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', apiError('InvalidInstanceId.NotFound', 404), accepted('sa-1'));
    const a = retry({ sent: false });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.gone).toEqual([{ instanceId: 'i-3', why: LEFT_NOT_OURS }]);
    expect(cloud.ops()).toEqual([
      'ess.describeScalingInstances',
      'ess.recentScalingActivities',
      'ess.removeInstances',
      'ess.removeInstances',
    ]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS), removeCall(['i-1', 'i-2'])]);
  });

  it('repeats a call the checkpoint records without an answer, and the whole batch, before a new token', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-3')))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script(
        'ess.removeInstances',
        apiError('InvalidInstanceId.NotFound', 404),
        apiError('InvalidInstanceId.NotFound', 404),
        accepted('sa-3'),
      );
    const a = retry(mark(1, { ids: ['i-2', 'i-3'] }), 2);
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([
      removeCall(['i-2', 'i-3']),
      removeCall(IDS),
      removeCall(['i-3']),
    ]);
    expect(res.gone.map((g) => g.instanceId)).toEqual(['i-1', 'i-2']);
    expect(a.heartbeats.at(-1)).toEqual(
      mark(2, { ids: ['i-2', 'i-3'] }, { ids: ['i-2', 'i-3'] }, { ids: IDS }, { ids: ['i-3'], activity: 'sa-3' }),
    );
  });
});

/**
 * A small stateful ESS for one batch: membership, remembered ClientTokens, activities, an optional
 * lag of DescribeScalingActivities, and the answers of RemoveInstances in order.
 */
function essModel(opts: { listingLags: boolean }) {
  const members = new Map<string, ScalingInstance>(IDS.map((id) => [id, instance(id)]));
  const tokens = new Map<string, string>();
  const activities: ScalingActivity[] = [];
  const created: Array<{ id: string; ids: string[] }> = [];
  const refusals: Error[] = [];
  const cloud = new FakeCloud()
    .always('ess.describeScalingInstances', (req) =>
      instances(...(req.instanceIds ?? []).flatMap((id) => members.get(id) ?? [])),
    )
    .always('ess.recentScalingActivities', () => ({
      requestId: 'req-recent',
      activities: opts.listingLags ? [] : [...activities],
    }))
    .always('ess.removeInstances', (req) => {
      const refusal = refusals.shift();
      if (refusal) throw refusal;
      const prior = tokens.get(req.clientToken ?? '');
      if (prior) return accepted(prior);
      const missing = req.instanceIds.find((id) => !members.has(id));
      if (missing) throw apiError('InvalidInstanceId.NotFound', 404);
      const id = `sa-${created.length + 1}`;
      created.push({ id, ids: [...req.instanceIds] });
      tokens.set(req.clientToken ?? '', id);
      return accepted(id);
    });
  /** The activity ends Warning: `failed` roll back, the others leave the group. */
  const endWarning = (activityId: string, failed: string[]) => {
    const ids = created.find((c) => c.id === activityId)?.ids ?? [];
    for (const id of ids) if (!failed.includes(id)) members.delete(id);
    activities.push(
      activity(activityId, { statusCode: 'Warning', startTime: '2024-05-01T10:06Z', failedInstanceIds: failed }),
    );
  };
  return { cloud, created, refusals, endWarning };
}

describe('runRemoveBatch: exactly once when a checkpoint is lost (issue 12, case 1)', () => {
  it.each([
    ['DescribeScalingActivities lists the activity', false],
    ['DescribeScalingActivities lags behind the accepted call', true],
  ])('attempt 3 sends nothing again and credits the removed instances to the activity (%s)', async (_, lags) => {
    const ess = essModel({ listingLags: lags });
    // Attempt 1: refused with Throttling (a 4xx); it checkpoints what it tried.
    ess.refusals.push(apiError('Throttling', 400));
    const first = activityEnv({ attempt: 1, scheduledTimestampMs: SCHEDULED });
    await rejectionOf(first.run((hb) => runRemoveBatch(ess.cloud.client, request(), hb)));
    const survivingCheckpoint = first.heartbeats.at(-1);

    // Attempt 2: sent and accepted, but its checkpoints never reach the server (the worker is killed).
    const second = activityEnv({ attempt: 2, heartbeatDetails: survivingCheckpoint, scheduledTimestampMs: SCHEDULED });
    const lost = await second.run((hb) => runRemoveBatch(ess.cloud.client, request(), hb));
    const activityId = lost.removals[0]?.scalingActivityId ?? '';
    expect(ess.created).toEqual([{ id: activityId, ids: IDS }]);
    // The activity ends Warning: i-1 and i-2 removed, i-3 failed (InService again).
    ess.endWarning(activityId, ['i-3']);

    // Attempt 3 resumes from attempt 1's checkpoint.
    const third = activityEnv({ attempt: 3, heartbeatDetails: survivingCheckpoint, scheduledTimestampMs: SCHEDULED });
    const res = await third.run((hb) => runRemoveBatch(ess.cloud.client, request(), hb));

    expect(ess.created).toHaveLength(1);
    expect(res.removals).toEqual([
      { scalingActivityId: activityId, instanceIds: expect.arrayContaining(IDS), adopted: true, requestId: undefined },
    ]);
    expect(res.removals[0]?.instanceIds).toHaveLength(3);
    expect(res.gone).toEqual([]);
  });
});

describe('runRemoveBatch: the checkpoint when the API answers with an error', () => {
  const setUp = (error: Error) =>
    new FakeCloud()
      .script('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .script('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .script('ess.removeInstances', error);

  it.each([
    ['a 4xx answer', apiError('IncorrectCapacity.MinSize', 400, { requestId: 'req-err' })],
    ['a 5xx answer', apiError('InternalError', 500)],
    ['a 503 answer', apiError('ServiceUnavailable', 503)],
    ['a timeout', new AliyunTimeoutError('RemoveInstances', 10_000)],
  ])('keeps the call in the checkpoint on %s and rethrows the error', async (_, error) => {
    const cloud = setUp(error);
    const a = activityEnv();
    expect(await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)))).toBe(error);
    expect(a.heartbeats).toEqual([mark(1, { ids: IDS })]);
  });

  it('a retry carries the removals of the checkpoint it resumed from into its own', async () => {
    const cloud = setUp(apiError('IncorrectScalingGroupStatus', 400));
    const a = retry(mark(1, { ids: IDS }));
    await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));
    expect(a.heartbeats).toEqual([mark(2, { ids: IDS }, { ids: IDS })]);
  });
});

describe('runRemoveBatch: InvalidInstanceId.NotFound', () => {
  const notFound = (requestId?: string) =>
    apiError('InvalidInstanceId.NotFound', 404, { requestId, message: 'Instance "i-2" does not exist.' });

  it('checks membership again and sends the instances still there, under a new ClientToken', async () => {
    // The first call (sent before any read) is refused: i-2 is Pending. Read: all InService. Then i-2
    // leaves between that read and the call.
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingInstances',
        instances(...IDS.map((id) => instance(id))),
        instances(instance('i-1'), instance('i-3')),
      )
      .script(
        'ess.removeInstances',
        apiError('IncorrectInstanceStatus', 400, { requestId: 'req-st' }),
        notFound('req-nf'),
        accepted('sa-2', 'req-rm'),
      );
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res).toMatchObject({
      removals: [{ scalingActivityId: 'sa-2', instanceIds: ['i-1', 'i-3'], adopted: false, requestId: 'req-rm' }],
      gone: [{ instanceId: 'i-2', why: LEFT_BEFORE }],
      requestIds: ['req-st', 'req-nf', 'req-rm'],
    });
    expect(cloud.argsOf('ess.describeScalingInstances').map(([r]) => r.instanceIds)).toEqual([IDS, IDS]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([
      removeCall(IDS),
      removeCall(IDS),
      removeCall(['i-1', 'i-3']),
    ]);
    expect(a.heartbeats).toEqual([
      mark(1, { ids: IDS }),
      mark(1, { ids: IDS }, { ids: IDS }),
      mark(1, { ids: IDS }, { ids: IDS }, { ids: ['i-1', 'i-3'] }),
      mark(1, { ids: IDS }, { ids: IDS }, { ids: ['i-1', 'i-3'], activity: 'sa-2' }),
    ]);
  });

  it('looks for an earlier call only before the first call of the attempt', async () => {
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
  });

  it('ends without a removal when the re-check finds every instance gone', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-1')), instances())
      .script('ess.removeInstances', notFound('req-nf0'), notFound('req-nf'));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveBatch(cloud.client, request(), hb));

    expect(res.removals).toEqual([]);
    expect(res.gone.map((g) => g.instanceId)).toEqual(['i-2', 'i-3', 'i-1']);
    expect(res.requestIds).toEqual(['req-nf0', 'req-nf']);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS), removeCall(['i-1'])]);
  });

  it('gives up after five rounds with MembershipChanged (ours, not a cloud code) naming the rest', async () => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .always('ess.removeInstances', notFound());
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runRemoveBatch(cloud.client, request(), hb)));

    expect(err).toBeInstanceOf(MembershipChangedError);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      code: 'MembershipChanged',
      type: 'MembershipChanged',
      nonRetryable: false,
      instanceIds: ['i-1', 'i-2'],
      message: 'instances kept leaving the scaling group while RemoveInstances was sent for them: i-1, i-2; retried',
    });
    // Round 0 of a first attempt sends without a read; each of the 4 rounds after it reads, then sends.
    expect(cloud.argsOf('ess.describeScalingInstances')).toHaveLength(4);
    expect(cloud.argsOf('ess.removeInstances')).toHaveLength(5);
  });

  it('MembershipChanged is not retried once its attempt bound is reached', async () => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')))
      .always('ess.recentScalingActivities', { requestId: 'req-recent', activities: [] })
      .always('ess.removeInstances', notFound());
    const a = activityEnv({ attempt: MEMBERSHIP_MAX_ATTEMPTS });
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).removeBatch, request()));
    expect(failure).toMatchObject({ type: 'MembershipChanged', nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(/Gave up after 10 attempts\.$/);
  });
});

describe('removeBatch activity: bounded retry per error code', () => {
  // Codes RemoveInstances answers with whose retries are bounded by the policy table.
  const bounded = [
    ['ScalingActivityInProgress', 400],
    ['IncorrectScalingGroupStatus', 400],
    ['IncorrectLoadBalancerStatus', 400],
    ['IncorrectDBInstanceStatus', 400],
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

  describe('ScalingActivityInProgress from an activity that lifecycle hooks hold', () => {
    const heldCloud = () =>
      new FakeCloud()
        .always('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
        .always('ess.recentScalingActivities', {
          requestId: 'req-recent',
          activities: [activity('asa-other', { statusCode: 'InProgress', startTime: '2020-01-01T00:00Z' })],
        })
        .always('ess.removeInstances', apiError('ScalingActivityInProgress', 400, { requestId: 'req-err' }))
        .always('ess.describeLifecycleActions', {
          requestIds: ['req-la'],
          actions: [
            {
              lifecycleActionToken: 'tok',
              lifecycleHookId: 'ash-cleanup1',
              lifecycleActionStatus: 'Pending',
              lifecycleActionResult: undefined,
              instanceIds: ['i-9'],
            },
          ],
        });
    const max = ERROR_POLICY.ScalingActivityInProgress?.maxAttempts ?? 0;

    it('is waited for past the bound, every minute, and the attempt is checkpointed as not counted', async () => {
      const a = activityEnv({ attempt: max + 30, heartbeatDetails: { attempt: max + 29, hookHeldAttempts: 40 } });
      const failure = await rejectionOf(
        a.env.run(createActivities({ cloud: heldCloud().client }).removeBatch, request()),
      );
      expect(failure).toMatchObject({ type: 'ScalingActivityInProgress', nonRetryable: false, nextRetryDelay: 60_000 });
      expect((failure as ApplicationFailure).message).toMatch(
        /Scaling activity asa-other is held by lifecycle hook\(s\) ash-cleanup1: waited for \(not counted/,
      );
      expect(a.heartbeats.at(-1)).toMatchObject({ hookHeldAttempts: 41 });
    });

    it('once the hooks let go, the bound counts only the attempts no hook held', async () => {
      const freed = heldCloud().always('ess.describeLifecycleActions', { requestIds: ['req-la'], actions: [] });
      const below = activityEnv({ attempt: max + 5, heartbeatDetails: { hookHeldAttempts: 10 } });
      const retried = await rejectionOf(
        below.env.run(createActivities({ cloud: freed.client }).removeBatch, request()),
      );
      expect(retried).toMatchObject({ type: 'ScalingActivityInProgress', nonRetryable: false });
      const at = activityEnv({ attempt: max + 10, heartbeatDetails: { hookHeldAttempts: 10 } });
      const gaveUp = await rejectionOf(at.env.run(createActivities({ cloud: freed.client }).removeBatch, request()));
      expect(gaveUp).toMatchObject({ type: 'ScalingActivityInProgress', nonRetryable: true });
      expect((gaveUp as ApplicationFailure).message).toMatch(new RegExp(`Gave up after ${max} attempts\\.$`));
    });
  });

  it.each(bounded)('%s is not retried once the attempt limit is reached', async (code, status) => {
    const max = ERROR_POLICY[code]?.maxAttempts ?? 0;
    const failure = await attemptWith(code, status, max);
    expect(failure).toMatchObject({ type: code, nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(new RegExp(`Gave up after ${max} attempts\\.$`));
  });
});

describe('runRemoveBatch: a retry under visibility lag (issue 14)', () => {
  const WAIT = 5_000;
  const lagging = (over: Partial<RemoveBatchRequest> = {}) => request({ visibilityWaitMs: WAIT, ...over });
  const none = { requestId: 'req-recent', activities: [] };
  const removingUnder = (activityId: string, ...ids: string[]) =>
    instances(...ids.map((id) => instance(id, { lifecycleState: 'Removing', scalingActivityId: activityId })));

  it('finding no trace of an earlier call, waits and looks again: the instances now Removing are adopted', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingInstances',
        // The earlier attempt's call was accepted, but DescribeScalingInstances still shows InService.
        instances(...IDS.map((id) => instance(id))),
        removingUnder('sa-lost', ...IDS),
      )
      .script('ess.recentScalingActivities', none, none);
    const a = retry(undefined);
    const res = await a.run((hb) => runRemoveBatch(cloud.client, lagging(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    // Nothing sent again: with ClientToken ignored, the same call would have been judged afresh.
    expect(cloud.argsOf('ess.removeInstances')).toEqual([]);
    expect(a.sleeps).toHaveLength(1);
    expect(a.sleeps[0]).toBeGreaterThan(0);
    expect(a.sleeps[0]).toBeLessThanOrEqual(WAIT);
    expect(cloud.argsOf('ess.describeScalingInstances')[1]?.[0].instanceIds).toEqual(IDS);
    expect(a.heartbeats).toEqual([mark(2, { ids: IDS, activity: 'sa-lost' })]);
  });

  it('credits instances gone from the group to the activity the listing shows only after the wait', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances())
      .script('ess.recentScalingActivities', none, {
        requestId: 'req-recent-2',
        activities: [activity('sa-lost', { statusCode: 'Successful', destroyedInstanceIds: IDS })],
      });
    const a = retry({ attempt: 1, removals: [{ ids: IDS }] });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, lagging(), hb));

    // Not "left the scaling group, and no scaling activity of this run was found".
    expect(res.gone).toEqual([]);
    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: true, requestId: undefined },
    ]);
    // No instance is left to look at again, and nothing is sent.
    expect(cloud.ops()).toEqual([
      'ess.describeScalingInstances',
      'ess.recentScalingActivities',
      'ess.recentScalingActivities',
    ]);
  });

  it('adopts the failed instances of an activity that ended while its listing lagged, sending none again', async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(instance('i-3')), instances(instance('i-3')))
      .script('ess.recentScalingActivities', none, {
        requestId: 'req-recent-2',
        activities: [
          activity('sa-lost', {
            statusCode: 'Warning',
            destroyedInstanceIds: ['i-1', 'i-2'],
            failedInstanceIds: ['i-3'],
          }),
        ],
      });
    const a = retry(undefined);
    const res = await a.run((hb) => runRemoveBatch(cloud.client, lagging(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: ['i-3', 'i-1', 'i-2'], adopted: true, requestId: undefined },
    ]);
    expect(res.gone).toEqual([]);
    // i-3 rolled back to InService: sending it again would remove it twice.
    expect(cloud.argsOf('ess.removeInstances')).toEqual([]);
  });

  it('once the wait is over and still nothing shows, repeats the call under the same ClientToken', async () => {
    const cloud = new FakeCloud()
      .script(
        'ess.describeScalingInstances',
        instances(...IDS.map((id) => instance(id))),
        instances(...IDS.map((id) => instance(id))),
      )
      .script('ess.recentScalingActivities', none, none)
      .script('ess.removeInstances', accepted('sa-lost'));
    const a = retry({ attempt: 1, removals: [{ ids: IDS }] });
    const res = await a.run((hb) => runRemoveBatch(cloud.client, lagging(), hb));

    expect(res.removals).toEqual([
      { scalingActivityId: 'sa-lost', instanceIds: IDS, adopted: false, requestId: 'req-sa-lost' },
    ]);
    expect(cloud.argsOf('ess.removeInstances').map(([r]) => r)).toEqual([removeCall(IDS)]);
    expect(a.sleeps).toHaveLength(1);
  });

  it('refused IncorrectInstanceStatus (Removing, not shown yet): fails retryably, concluding nothing', async () => {
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .always('ess.recentScalingActivities', none)
      .script('ess.removeInstances', apiError('IncorrectInstanceStatus', 400));
    const a = retry({ attempt: 1, removals: [{ ids: IDS }] });
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).removeBatch, lagging()));

    // Retried by the table's bound (ERROR_POLICY), as any IncorrectInstanceStatus.
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'IncorrectInstanceStatus', nonRetryable: false });
    // One call, after the wait: the next attempt looks again before anything else is sent.
    expect(cloud.argsOf('ess.removeInstances')).toHaveLength(1);
    expect(a.sleeps[0]).toBeGreaterThan(0);
    // The checkpoint still names the call without an answer: the next attempt repeats it, never a new token.
    expect(a.heartbeats.at(-1)).toEqual(mark(2, { ids: IDS }, { ids: IDS }));
  });

  it('a first attempt never waits: nothing can have been sent before it', async () => {
    const cloud = new FakeCloud().script('ess.removeInstances', accepted('sa-1'));
    const a = activityEnv();
    await a.run((hb) => runRemoveBatch(cloud.client, lagging(), hb));
    expect(a.sleeps).toEqual([]);
    expect(cloud.ops()).toEqual(['ess.removeInstances']);
  });
});
