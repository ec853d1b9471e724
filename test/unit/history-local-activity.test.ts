import { defaultPayloadConverter as pc } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { followedPollOf, localActivityOf } from '../../src/client/history-local-activity';

function marker(name: string, type: string, result: unknown, failed = false) {
  return {
    markerRecordedEventAttributes: {
      markerName: name,
      details: {
        data: { payloads: [pc.toPayload({ seq: 2, attempt: 1, activity_type: type })] },
        result: { payloads: [pc.toPayload(result)] },
      },
      ...(failed ? { failure: { message: 'boom' } } : {}),
    },
  };
}

describe('localActivityOf', () => {
  it('reads the type and the result of a local activity marker', () => {
    const restore = [{ kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 }];
    expect(localActivityOf(marker('core_local_activity', 'snapshotWeights', { restore }), pc)).toEqual({
      type: 'snapshotWeights',
      result: { restore },
    });
  });

  it('ignores other markers, and gives no result for a failed local activity', () => {
    expect(localActivityOf(marker('core_patch', 'x', {}), pc)).toBeUndefined();
    expect(localActivityOf({}, pc)).toBeUndefined();
    expect(localActivityOf(marker('core_local_activity', 'snapshotWeights', {}, true), pc)?.result).toBeUndefined();
  });
});

describe('followedPollOf', () => {
  it('stands the followed poll in for a pollScalingActivity of the removal it followed', () => {
    const followed = { scalingActivityId: 'asa-2', statusCode: 'Successful', removedInstanceIds: ['i-2'] };
    const removals = [
      { scalingActivityId: 'asa-1', instanceIds: ['i-1'], adopted: true, requestId: undefined },
      { scalingActivityId: 'asa-2', instanceIds: ['i-2'], adopted: false, requestId: 'r' },
    ];
    expect(followedPollOf({ removals, followed } as never)).toEqual({
      input: { scalingActivityId: 'asa-2', instanceIds: ['i-2'] },
      result: followed,
    });
    expect(followedPollOf({ removals })).toBeUndefined();
    expect(followedPollOf(undefined)).toBeUndefined();
  });
});
