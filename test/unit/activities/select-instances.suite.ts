import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import { orderByPolicy, runCheckInstances, selectFrom } from '../../../src/activities/select-instances';
import type { ScalingInstance } from '../../../src/aliyun/types';
import { activityEnv, rejectionOf } from './activity-env';
import { FakeCloud, instance, scalingGroup } from './fake-cloud';

const R = 'cn-hangzhou';
const at = (minute: number) => `2026-01-05T02:${String(minute).padStart(2, '0')}Z`;
const inst = (n: number, over: Partial<ScalingInstance> = {}) =>
  instance(`i-${String(n).padStart(2, '0')}`, { creationTime: at(n), ...over });

describe('selectInstancesForWindow', () => {
  it("reads the group and its instances, leaving out other groups' instances", async () => {
    const cloud = new FakeCloud()
      .script('ess.describeScalingGroup', scalingGroup({ totalCapacity: 10, requestId: 'req-g' }))
      .script('ess.describeScalingInstances', {
        instances: [inst(1, { scalingGroupId: 'asg-other' }), inst(2, { scalingGroupId: '' }), inst(3)],
        requestIds: ['req-i1', '', 'req-i2'],
      });
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).selectInstancesForWindow, {
      regionId: R,
      scalingGroupId: 'asg-1',
      policy: 'oldest' as const,
      count: 5,
    });

    expect(res).toEqual({
      policy: 'oldest',
      group: { scalingGroupId: 'asg-1', totalCapacity: 10, minSize: 0, maxSize: 100, desiredCapacity: undefined },
      requested: 5,
      maxRemovable: 10,
      capped: 'asked for 5, picked 2: only 2 instance(s) are InService and unprotected',
      picks: [
        {
          instanceId: 'i-02',
          rank: 1,
          creationTime: at(2),
          scalingConfigurationId: 'asc-1',
          why: `#1 of 2 eligible by oldest: created ${at(2)} (oldest first); InService, not protected`,
          rule: 'oldest',
          zoneId: 'cn-hangzhou-h',
          creationType: 'AutoCreated',
        },
        {
          instanceId: 'i-03',
          rank: 2,
          creationTime: at(3),
          scalingConfigurationId: 'asc-1',
          why: `#2 of 2 eligible by oldest: created ${at(3)} (oldest first); InService, not protected`,
          rule: 'last candidate',
          zoneId: 'cn-hangzhou-h',
          creationType: 'AutoCreated',
        },
      ],
      excluded: {},
      configurationBasis: undefined,
      requestIds: ['req-g', 'req-i1', 'req-i2'],
    });
    expect(cloud.calls).toEqual([
      { op: 'ess.describeScalingGroup', args: [R, 'asg-1', { signal: a.signal }] },
      { op: 'ess.describeScalingInstances', args: [{ regionId: R, scalingGroupId: 'asg-1' }, { signal: a.signal }] },
    ]);
  });

  it('fails, not retried, for a group that does not exist', async () => {
    const cloud = new FakeCloud().script('ess.describeScalingGroup', undefined);
    const a = activityEnv();
    const failure = await rejectionOf(
      a.env.run(createActivities({ cloud: cloud.client }).selectInstancesForWindow, {
        regionId: R,
        scalingGroupId: 'asg-9',
        policy: 'oldest' as const,
        count: 1,
      }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'InvalidScalingGroupId.NotFound',
      nonRetryable: true,
      message:
        'scaling group asg-9 does not exist in region cn-hangzhou; ' +
        "check the window's regionId and scalingGroupId, or delete the schedule",
    });
    expect(cloud.ops()).toEqual(['ess.describeScalingGroup']);
  });
});

describe('selectFrom: how many, and why not more', () => {
  it('explains a cap by MinSize and by eligible instances together, with the target capacity', () => {
    const list = [inst(1), inst(2, { lifecycleState: 'Protected' })];
    const s = selectFrom(scalingGroup({ totalCapacity: 6, minSize: 4 }), list, {
      policy: 'oldest',
      targetCapacity: 1,
    });
    expect(s).toMatchObject({ requested: 5, maxRemovable: 2 });
    expect(s.capped).toBe(
      'asked for 5 (TotalCapacity 6 → targetCapacity 1), picked 1: MinSize 4 allows at most 2 of TotalCapacity 6 ' +
        'to go; only 1 instance(s) are InService and unprotected',
    );
    expect(s.excluded).toEqual({ Protected: 1 });
  });

  it('is not capped when it picks what was asked', () => {
    const s = selectFrom(scalingGroup({ totalCapacity: 3 }), [inst(1), inst(2), inst(3)], {
      policy: 'newest',
      count: 2,
    });
    expect(s.capped).toBeUndefined();
    expect(s.picks.map((p) => p.instanceId)).toEqual(['i-03', 'i-02']);
    expect(s.excluded).toEqual({ 'not needed (later in the policy order)': 1 });
  });
});

describe('orderByPolicy', () => {
  it('sorts an unreadable creation time first and breaks ties by instance ID', () => {
    const list = [inst(3), inst(2, { creationTime: at(1) }), inst(1), inst(9, { creationTime: 'yesterday' })];
    const { ordered, basis } = orderByPolicy(list, 'oldest', undefined);
    expect(ordered.map((o) => o.inst.instanceId)).toEqual(['i-09', 'i-01', 'i-02', 'i-03']);
    expect(basis).toBeUndefined();
  });

  it('with the active configuration known, explains each instance against it', () => {
    const list = [
      inst(1, { scalingConfigurationId: 'asc-new' }),
      inst(2, { scalingConfigurationId: undefined }),
      inst(3, { scalingConfigurationId: 'asc-old' }),
    ];
    const { ordered, basis } = orderByPolicy(list, 'oldestScalingConfiguration', 'asc-new');
    expect(basis).toBe(
      "the group's active scaling configuration is asc-new: instances of any other configuration go first, " +
        'oldest first',
    );
    expect(ordered.map((o) => [o.inst.instanceId, o.reason])).toEqual([
      ['i-03', `configuration asc-old, not the active asc-new; created ${at(3)}`],
      ['i-01', `the active configuration asc-new; created ${at(1)}`],
      ['i-02', `no scaling configuration (attached), after every configuration; created ${at(2)}`],
    ]);
  });

  it('without it, ranks configurations by their oldest instance, in English ordinals', () => {
    // One instance per configuration, the older the configuration the lower its number.
    const list = Array.from({ length: 23 }, (_, k) => inst(k + 1, { scalingConfigurationId: `asc-${k + 1}` }));
    const { ordered, basis } = orderByPolicy(list, 'oldestScalingConfiguration', undefined);
    expect(basis).toMatch(/^the group's active scaling configuration is not known, so a configuration's age is that/);
    expect(basis).toMatch(/oldest instance: 1\. asc-1, 2\. asc-2, .*, 23\. asc-23$/);
    const ordinals = ordered.map((o) => /the (\w+) oldest of 23/.exec(o.reason)?.[1]);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map((n) => ordinals[n - 1])).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
    ]);
  });

  it('says when no instance has a configuration', () => {
    const { basis } = orderByPolicy([inst(1, { scalingConfigurationId: undefined })], 'oldestScalingConfiguration', '');
    expect(basis).toBe(
      "the group's active scaling configuration is not known, so a configuration's age is that of its oldest " +
        'instance: no configurations',
    );
  });
});

describe('checkWindowInstances', () => {
  it('asks nothing for no instances', async () => {
    const cloud = new FakeCloud();
    const res = await runCheckInstances(cloud.client, { regionId: R, scalingGroupId: 'asg-1', instanceIds: [] });
    expect(res).toEqual({ inGroup: [], requestIds: [] });
    expect(cloud.calls).toEqual([]);
  });

  it('reports the asked-for instances still in the group, with their state', async () => {
    const cloud = new FakeCloud().script('ess.describeScalingInstances', {
      instances: [
        inst(1, { lifecycleState: 'Removing' }),
        inst(2, { scalingGroupId: 'asg-other' }),
        inst(3, { scalingGroupId: '' }),
        inst(4),
      ],
      requestIds: ['req-1'],
    });
    const ids = ['i-01', 'i-02', 'i-03'];
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).checkWindowInstances, {
      regionId: R,
      scalingGroupId: 'asg-1',
      instanceIds: ids,
    });
    expect(res).toEqual({
      inGroup: [
        { instanceId: 'i-01', lifecycleState: 'Removing' },
        { instanceId: 'i-03', lifecycleState: 'InService' },
      ],
      requestIds: ['req-1'],
    });
    expect(cloud.argsOf('ess.describeScalingInstances')).toEqual([
      [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: ids }, { signal: a.signal }],
    ]);
  });
});
