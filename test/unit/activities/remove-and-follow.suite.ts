import { describe, expect, it } from 'vitest';
import { runRemoveAndFollow } from '../../../src/activities/remove-and-follow';
import type { RemoveBatchRequest } from '../../../src/activities/types';
import type { ScalingActivity } from '../../../src/aliyun/types';
import { activityEnv } from './activity-env';
import { removeBatchRequest } from './inputs';
import { FakeCloud, activity, apiError, instance, instances } from './fake-cloud';

const IDS = ['i-1', 'i-2'];
const FOLLOW = { minIntervalMs: 1000, maxIntervalMs: 10_000 };

function request(over: Partial<RemoveBatchRequest> = {}): RemoveBatchRequest {
  return removeBatchRequest(IDS, 'scale-in-1/batch/1', { follow: FOLLOW, ...over });
}

const answer = (...activities: ScalingActivity[]) => ({ requestId: 'req-act', activities });
const running = answer(activity('asa-1', { progress: 50 }));
const ended = answer(activity('asa-1', { statusCode: 'Successful', progress: 100 }));

/** A group whose instances are all InService before the call and gone after it. */
function cloudRemovingAll(): FakeCloud {
  let removed = false;
  return new FakeCloud()
    .always('ess.describeScalingInstances', () => (removed ? instances() : instances(...IDS.map((id) => instance(id)))))
    .always('ess.removeInstances', () => {
      removed = true;
      return { requestId: 'req-rm', scalingActivityId: 'asa-1' };
    });
}

describe('removeBatch with follow (remove-and-follow)', () => {
  it('polls the one activity its call started to the end; the checkpoint keeps the call beside the poll', async () => {
    const cloud = cloudRemovingAll().script('ess.describeScalingActivities', running, ended);
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveAndFollow(cloud.client, request(), hb));
    expect(res.removals).toEqual([
      { scalingActivityId: 'asa-1', instanceIds: IDS, adopted: false, requestId: 'req-rm' },
    ]);
    expect(res.followed).toMatchObject({
      scalingActivityId: 'asa-1',
      statusCode: 'Successful',
      removedInstanceIds: IDS,
    });
    expect(res.notFollowed).toBeUndefined();
    expect(cloud.argsOf('ess.removeInstances')).toHaveLength(1);
    expect(a.heartbeats.at(-1)).toMatchObject({
      removals: [{ ids: IDS, activity: 'asa-1' }],
      follow: { scalingActivityId: 'asa-1', poll: { polls: 1, progress: 50 } },
    });
  });

  it('a retry adopts the call from the checkpoint and resumes the poll where it stopped', async () => {
    // Still Removing under the earlier attempt's activity when the retry reads; gone once it ended.
    const removing = IDS.map((id) => instance(id, { lifecycleState: 'Removing', scalingActivityId: 'asa-1' }));
    const cloud = new FakeCloud()
      .script('ess.describeScalingInstances', instances(...removing))
      .always('ess.describeScalingInstances', instances())
      .script('ess.describeScalingActivities', ended);
    const earlier = {
      attempt: 1,
      removals: [{ ids: IDS, activity: 'asa-1' }],
      follow: { scalingActivityId: 'asa-1', poll: { polls: 3, progress: 50 } },
    };
    const a = activityEnv({ attempt: 2, heartbeatDetails: earlier });
    const res = await a.run((hb) => runRemoveAndFollow(cloud.client, request(), hb));
    expect(cloud.argsOf('ess.removeInstances')).toEqual([]);
    expect(res.removals.map((r) => [r.scalingActivityId, r.adopted])).toEqual([['asa-1', true]]);
    expect(res.followed).toMatchObject({ statusCode: 'Successful', polls: 4 });
  });

  it('a poll that fails does not fail the accepted removal: the result says why it was not followed', async () => {
    const cloud = cloudRemovingAll().script('ess.describeScalingActivities', apiError('Forbidden.RAM', 403));
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveAndFollow(cloud.client, request(), hb));
    expect(res.removals.map((r) => r.scalingActivityId)).toEqual(['asa-1']);
    expect(res.followed).toBeUndefined();
    expect(res.notFollowed).toMatch(/Forbidden\.RAM/);
  });

  it('without follow it only removes, as before', async () => {
    const cloud = cloudRemovingAll();
    const a = activityEnv();
    const res = await a.run((hb) => runRemoveAndFollow(cloud.client, request({ follow: undefined }), hb));
    expect(res.followed).toBeUndefined();
    expect(cloud.argsOf('ess.describeScalingActivities')).toEqual([]);
  });
});
