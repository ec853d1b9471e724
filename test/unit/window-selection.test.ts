import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { toScalingGroup } from '../../src/aliyun/wire';
import { runSelectInstances, selectFrom } from '../../src/activities/select-instances';
import type { CloudClient, ScalingGroup, ScalingInstance } from '../../src/aliyun/types';
import { RemovalPolicyNotFollowableError, validateWindowInput } from '../../src/shared/window';
import { instance, scalingGroup } from './activities/fake-cloud';

/**
 * Issue 15 item 10: the window's selection follows the group's own RemovalPolicies (`groupPolicy`),
 * balances zones as ESS does, keeps instances attached by hand after the ones the group created
 * (`oldest` / `newest`), says which rule picked each instance, and refuses CustomPolicy.
 */

// The activity tests' builders (test/unit/activities/fake-cloud.ts), with this file's group and times.
const group = (over: Partial<ScalingGroup> = {}): ScalingGroup =>
  scalingGroup({
    scalingGroupId: 'asg-x',
    scalingGroupName: 'x',
    desiredCapacity: 10,
    activeScalingConfigurationId: undefined,
    ...over,
  });

const inst = (n: number, over: Partial<ScalingInstance> = {}): ScalingInstance =>
  instance(`i-inst${String(n).padStart(16, '0')}`, {
    scalingGroupId: 'asg-x',
    scalingConfigurationId: 'asc-a',
    creationTime: `2026-01-05T02:${String(n).padStart(2, '0')}Z`,
    ...over,
  });

const ids = (s: ReturnType<typeof selectFrom>) => s.picks.map((p) => Number(p.instanceId.slice(-2)));

describe('oldest / newest: instances attached by hand go after the ones the group created', () => {
  it('an attached instance older than all others is not the first pick of oldest', () => {
    const list = [inst(1, { creationType: 'Attached', scalingConfigurationId: undefined }), inst(2), inst(3), inst(4)];
    const s = selectFrom(group({ totalCapacity: 4 }), list, { policy: 'oldest', count: 4 });
    expect(ids(s)).toEqual([2, 3, 4, 1]);
    expect(s.picks.map((p) => p.rule)).toEqual(['oldest', 'oldest', 'auto-created before attached', 'last candidate']);
    expect(s.picks[3]?.why).toMatch(/attached by hand, so after every instance the group created/);
    const newest = selectFrom(group({ totalCapacity: 4 }), list, { policy: 'newest', count: 2 });
    expect(ids(newest)).toEqual([4, 3]);
  });
});

describe('groupPolicy: the group’s RemovalPolicies, zones balanced first', () => {
  it('follows NewestInstance when that is the group’s policy, and names it in every pick', () => {
    const list = [1, 2, 3, 4].map((n) => inst(n));
    const s = selectFrom(group({ totalCapacity: 4, removalPolicies: ['NewestInstance'] }), list, {
      policy: 'groupPolicy',
      count: 2,
    });
    expect(ids(s)).toEqual([4, 3]);
    expect(s.picks.map((p) => p.rule)).toEqual(['NewestInstance', 'NewestInstance']);
    expect(s.removalPolicies).toEqual({ followed: ['NewestInstance'], source: 'group', zoneBalance: true });
    expect(s.picks[0]?.why).toMatch(/^#1 of 4 eligible by groupPolicy \(NewestInstance\): zone cn-hangzhou-h had 4/);
  });

  it('no RemovalPolicies: ESS’s defaults, OldestScalingConfiguration then OldestInstance', () => {
    const list = [
      inst(1, { scalingConfigurationId: 'asc-new' }),
      inst(2, { scalingConfigurationId: 'asc-old' }),
      inst(3, { scalingConfigurationId: 'asc-old' }),
      inst(4, { scalingConfigurationId: undefined, creationType: 'Attached' }),
    ];
    const g = group({ totalCapacity: 4, activeScalingConfigurationId: 'asc-new' });
    const s = selectFrom(g, list, { policy: 'groupPolicy', count: 4 });
    expect(ids(s)).toEqual([2, 3, 1, 4]);
    expect(s.removalPolicies).toMatchObject({
      followed: ['OldestScalingConfiguration', 'OldestInstance'],
      source: 'ESS default',
    });
    expect(s.picks.map((p) => p.rule)).toEqual([
      'OldestInstance',
      'OldestScalingConfiguration',
      'OldestScalingConfiguration',
      'last candidate',
    ]);
  });

  it('zone balance: the zone with the most instances loses one first, then the policy decides', () => {
    // Zone h has 4 instances, zone i 2: the two oldest are in i, but h goes first until they are even.
    const list = [
      inst(1, { zoneId: 'cn-hangzhou-i' }),
      inst(2, { zoneId: 'cn-hangzhou-i' }),
      inst(3),
      inst(4),
      inst(5),
      inst(6),
    ];
    const s = selectFrom(group({ totalCapacity: 6, removalPolicies: ['OldestInstance'] }), list, {
      policy: 'groupPolicy',
      count: 4,
    });
    expect(ids(s)).toEqual([3, 4, 1, 5]);
    expect(s.picks.map((p) => p.rule)).toEqual(['zone balance', 'zone balance', 'OldestInstance', 'zone balance']);
    expect(s.picks[0]?.why).toMatch(
      /zone cn-hangzhou-h had 4 of the group's instances \(cn-hangzhou-h: 4, cn-hangzhou-i: 2\)/,
    );
    // A Protected instance still counts for its zone (it is there), but is never picked.
    const p = selectFrom(
      group({ totalCapacity: 4, removalPolicies: ['OldestInstance'] }),
      [
        inst(1, { zoneId: 'cn-hangzhou-i' }),
        inst(2, { zoneId: 'cn-hangzhou-i', lifecycleState: 'Protected' }),
        inst(3),
      ],
      { policy: 'groupPolicy', count: 1 },
    );
    expect(ids(p)).toEqual([1]);
  });

  it('CustomPolicy cannot be followed: a typed error naming the policy and the fix', () => {
    const g = group({ removalPolicies: ['CustomPolicy'] });
    let caught: unknown;
    try {
      selectFrom(g, [inst(1)], { policy: 'groupPolicy', count: 1 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RemovalPolicyNotFollowableError);
    const e = caught as RemovalPolicyNotFollowableError;
    expect(e).toMatchObject({ name: 'RemovalPolicyNotFollowableError', code: 'RemovalPolicyNotFollowable' });
    expect(e.policy).toBe('CustomPolicy');
    expect(e.message).toMatch(/CustomPolicy/);
    expect(e.message).toMatch(/Function Compute/);
    expect(e.message).toMatch(/Fix: set the window's selection to oldest, newest or oldestScalingConfiguration/);
    // The other policies never ask for it.
    expect(ids(selectFrom(g, [inst(1)], { policy: 'oldest', count: 1 }))).toEqual([1]);
  });

  it('the activity turns it into a non-retryable failure of that type', async () => {
    const cloud = {
      ess: {
        describeScalingGroup: async () => ({
          ...group({ removalPolicies: ['OldestInstance', 'CustomPolicy'] }),
          requestId: 'r1',
        }),
        describeScalingInstances: async () => ({ instances: [inst(1)], requestIds: ['r2'] }),
      },
    } as unknown as CloudClient;
    await expect(
      runSelectInstances(cloud, { regionId: 'cn-hangzhou', scalingGroupId: 'asg-x', policy: 'groupPolicy', count: 1 }),
    ).rejects.toMatchObject({ type: 'RemovalPolicyNotFollowable', nonRetryable: true });
  });

  it('is a valid window selection', () => {
    const w = validateWindowInput({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
      windowMinutes: 60,
      count: 1,
      selection: 'groupPolicy',
    });
    expect(w.selection).toBe('groupPolicy');
  });
});

describe('docs/schedules.md says what the code does', () => {
  it('the client carries ActiveScalingConfigurationId (the old text said it did not); the doc cites ESS', () => {
    const doc = readFileSync(path.join(__dirname, '../../docs/schedules.md'), 'utf8');
    expect(doc).not.toMatch(/does not currently carry/);
    expect(doc).toMatch(/`ActiveScalingConfigurationId`, which the cloud client reads from DescribeScalingGroups/);
    expect(doc).toContain('https://help.aliyun.com/en/auto-scaling/user-guide/scale-in-policy');
    expect(doc).toMatch(/groupPolicy/);
    // The client does: the wire's ActiveScalingConfigurationId and RemovalPolicies reach ScalingGroup.
    const g = toScalingGroup({
      ScalingGroupId: 'asg-x',
      LifecycleState: 'Active',
      MinSize: 0,
      MaxSize: 5,
      TotalCapacity: 1,
      ActiveScalingConfigurationId: 'asc-new',
      RemovalPolicies: { RemovalPolicy: ['NewestInstance'] },
    } as Parameters<typeof toScalingGroup>[0]);
    expect(g).toMatchObject({ activeScalingConfigurationId: 'asc-new', removalPolicies: ['NewestInstance'] });
  });
});
