import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import { runPreflight } from '../../../src/activities/preflight';
import { AliyunApiError } from '../../../src/aliyun/errors';
import type { LifecycleHook, ScalingGroup } from '../../../src/aliyun/types';
import type { NormalizedInput } from '../../../src/shared/input';
import type { Plan } from '../../../src/shared/progress';
import { activityEnv, rejectionOf } from './activity-env';
import {
  FakeCloud,
  albServer,
  apiError,
  instance,
  instances,
  loadBalancer,
  scalingGroup,
  vServerGroup,
} from './fake-cloud';
import { normalizedInput } from './inputs';

const R = 'cn-hangzhou';
const IDS = ['i-1', 'i-2', 'i-3'];
const NO_LBS = { clbIds: [], vServerGroups: [], albServerGroupIds: [] };

function input(over: Partial<NormalizedInput> = {}): NormalizedInput {
  return normalizedInput(IDS, over);
}

/** A cloud with `group` and the instances; every attached load balancer exists and is active. */
function cloudWith(group: Partial<ScalingGroup> | undefined, members = IDS.map((id) => instance(id))): FakeCloud {
  return new FakeCloud()
    .always('ess.describeScalingGroup', group && scalingGroup(group))
    .always('ess.describeScalingInstances', instances(...members))
    .always('clb.describeLoadBalancerAttribute', (_r, id) => loadBalancer(id))
    .always('clb.describeVServerGroupAttribute', (_r, id) => vServerGroup(id))
    .always('alb.listServerGroupServers', (_r, id) => ({ requestId: `req-${id}`, servers: [] }))
    .always('ess.describeLifecycleHooks', { hooks: [], requestIds: ['req-hooks'] });
}

const preflight = (cloud: FakeCloud, over: Partial<NormalizedInput> = {}) =>
  runPreflight(cloud.client, { input: input(over) }, undefined);

describe('preflight: the happy plan', () => {
  it('reads the group, its instances and each attached load balancer once, and plans the run', async () => {
    const cloud = cloudWith(
      {
        minSize: 2,
        totalCapacity: 10,
        desiredCapacity: 10,
        loadBalancerIds: ['lb-1'],
        // A vserver group or ALB server group attached on two ports is one group to drain.
        vServerGroups: [
          { loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1', port: 80, weight: 100 },
          { loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1', port: 443, weight: 100 },
        ],
        albServerGroups: [
          { albServerGroupId: 'sgp-1', port: 80, weight: 100 },
          { albServerGroupId: 'sgp-1', port: 443, weight: 100 },
        ],
      },
      [instance('i-1'), instance('i-2', { lifecycleState: 'Standby' }), instance('i-3', { lifecycleState: 'Stopped' })],
    );
    const a = activityEnv();
    // i-2 is already in Standby: the request says to go on with it (see "instances already drained").
    const res = await a.env.run(createActivities({ cloud: cloud.client }).preflight, {
      input: input({ allowDrainedInstances: true }),
    });

    expect(res).toEqual({
      problems: [],
      plan: {
        group: {
          scalingGroupId: 'asg-1',
          scalingGroupName: 'web',
          lifecycleState: 'Active',
          minSize: 2,
          maxSize: 100,
          totalCapacity: 10,
          desiredCapacity: 10,
          scalingPolicy: 'release',
        },
        instanceCount: 3,
        batchCount: 2,
        batchSize: 2,
        capacityAfter: 7,
        drainStrategy: 'weight',
        drainTimeoutSeconds: 300,
        loadBalancers: {
          clbIds: ['lb-1'],
          vServerGroups: [{ loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1' }],
          albServerGroupIds: ['sgp-1'],
        },
        alreadyStandby: ['i-2'],
        lifecycleHooks: [],
        hookWaitSecondsPerBatch: 0,
        warnings: ['1 instance(s) are already in Standby: i-2'],
      } satisfies Plan,
    });
    const opts = { signal: a.signal };
    expect(cloud.calls).toEqual([
      { op: 'ess.describeScalingGroup', args: [R, 'asg-1', opts] },
      { op: 'ess.describeScalingInstances', args: [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: IDS }, opts] },
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-1', opts] },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', opts] },
      { op: 'alb.listServerGroupServers', args: [R, 'sgp-1', opts] },
      { op: 'ess.describeLifecycleHooks', args: [R, 'asg-1', opts] },
    ]);
  });

  it('reads the whole group once for more than 200 instances instead of filtering by ID', async () => {
    const ids = Array.from({ length: 201 }, (_, k) => `i-${k}`);
    const cloud = cloudWith(
      { totalCapacity: 300 },
      ids.map((id) => instance(id)),
    );
    const res = await preflight(cloud, { instanceIds: ids, batchSize: 20 });

    expect(res.problems).toEqual([]);
    expect(res.plan).toMatchObject({ instanceCount: 201, batchCount: 11, capacityAfter: 99 });
    expect(cloud.argsOf('ess.describeScalingInstances')).toEqual([
      [{ regionId: R, scalingGroupId: 'asg-1' }, { signal: undefined }],
    ]);

    const twoHundred = cloudWith({ totalCapacity: 300 }, []);
    await preflight(twoHundred, { instanceIds: ids.slice(0, 200), batchSize: 20 });
    expect(twoHundred.argsOf('ess.describeScalingInstances')[0]?.[0].instanceIds).toEqual(ids.slice(0, 200));
  });
});

describe('preflight: what it refuses', () => {
  it('stops at a group that does not exist, with an empty plan', async () => {
    const cloud = cloudWith(undefined);
    const res = await preflight(cloud);

    expect(res).toEqual({
      problems: [
        {
          field: 'scalingGroupId',
          problem: 'scaling group asg-1 does not exist in region cn-hangzhou',
          fix: 'check regionId and scalingGroupId (DescribeScalingGroups)',
        },
      ],
      plan: {
        group: {
          scalingGroupId: 'asg-1',
          scalingGroupName: '',
          lifecycleState: 'NotFound',
          minSize: 0,
          maxSize: 0,
          totalCapacity: 0,
          desiredCapacity: undefined,
          scalingPolicy: '',
        },
        instanceCount: 3,
        batchCount: 2,
        batchSize: 2,
        capacityAfter: 0,
        drainStrategy: 'weight',
        drainTimeoutSeconds: 300,
        loadBalancers: NO_LBS,
        alreadyStandby: [],
        warnings: [],
      },
    });
    expect(cloud.ops()).toEqual(['ess.describeScalingGroup']);
  });

  it('refuses a group that is not Active, and goes on checking the rest', async () => {
    const cloud = cloudWith({ lifecycleState: 'Inactive' }, [instance('i-1'), instance('i-2')]);
    const res = await preflight(cloud);

    expect(res.problems).toEqual([
      {
        field: 'scalingGroupId',
        problem: 'scaling group asg-1 is Inactive, not Active',
        fix: 'enable the group (EnableScalingGroup) and start again',
      },
      expect.objectContaining({ field: 'instanceIds', instanceIds: ['i-3'] }),
    ]);
    expect(res.plan.group.lifecycleState).toBe('Inactive');
  });

  it('names the instances not in the group, counting members of another group as not in it', async () => {
    const cloud = cloudWith({}, [
      instance('i-1', { scalingGroupId: 'asg-other' }),
      // The API leaves the group ID out in some answers: still a member.
      instance('i-2', { scalingGroupId: '' }),
    ]);
    const res = await preflight(cloud);

    expect(res.problems).toEqual([
      {
        field: 'instanceIds',
        instanceIds: ['i-1', 'i-3'],
        problem: '2 instance(s) are not in scaling group asg-1: i-1, i-3',
        fix: 'remove them from the request (DescribeScalingInstances lists the members)',
      },
    ]);
  });

  it('shows the first ten of a long list and counts the rest', async () => {
    const ids = Array.from({ length: 12 }, (_, k) => `i-${k}`);
    const res = await preflight(cloudWith({ totalCapacity: 20 }, []), { instanceIds: ids });

    expect(res.problems[0]?.problem).toBe(
      '12 instance(s) are not in scaling group asg-1: i-0, i-1, i-2, i-3, i-4, i-5, i-6, i-7, i-8, i-9 and 2 more',
    );
  });

  it('refuses instances in a state RemoveInstances rejects, one problem per state with its own fix', async () => {
    const ids = ['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6'];
    const cloud = cloudWith({}, [
      instance('i-1', { lifecycleState: 'Protected' }),
      instance('i-2', { lifecycleState: 'Removing' }),
      instance('i-3', { lifecycleState: 'Pending' }),
      instance('i-4', { lifecycleState: 'Protected' }),
      instance('i-5', { lifecycleState: 'Removing:Wait' }),
      instance('i-6', { lifecycleState: 'InService' }),
    ]);
    const res = await preflight(cloud, { instanceIds: ids });

    expect(res.problems).toEqual([
      {
        field: 'instanceIds',
        instanceIds: ['i-1', 'i-4'],
        problem: '2 instance(s) are Protected, which cannot be removed: i-1, i-4',
        fix: 'remove the protection (SetInstancesProtection) first, or leave them out',
      },
      {
        field: 'instanceIds',
        instanceIds: ['i-2'],
        problem: '1 instance(s) are Removing, which cannot be removed: i-2',
        fix: 'they are already being removed; leave them out',
      },
      {
        field: 'instanceIds',
        instanceIds: ['i-3'],
        problem: '1 instance(s) are Pending, which cannot be removed: i-3',
        fix: 'wait until they are InService, or leave them out',
      },
      {
        field: 'instanceIds',
        instanceIds: ['i-5'],
        problem: '1 instance(s) are Removing:Wait, which cannot be removed: i-5',
        fix: 'they are already being removed; leave them out',
      },
    ]);
  });

  it('refuses to take TotalCapacity below MinSize, saying how many may go', async () => {
    const res = await preflight(cloudWith({ totalCapacity: 4, minSize: 2 }));
    expect(res.problems).toEqual([
      {
        field: 'instanceIds',
        problem: 'removing 3 instance(s) would take TotalCapacity from 4 to 1, below MinSize 2',
        fix: 'remove at most 2 instance(s), or lower MinSize first',
      },
    ]);
    expect(res.plan.capacityAfter).toBe(1);

    const under = await preflight(cloudWith({ totalCapacity: 3, minSize: 5 }));
    expect(under.problems[0]?.fix).toBe('remove at most 0 instance(s), or lower MinSize first');
  });

  it('refuses removePolicy recycle on a group whose ScalingPolicy is not recycle', async () => {
    const res = await preflight(cloudWith({ scalingPolicy: 'release' }), { removePolicy: 'recycle' });
    expect(res.problems).toEqual([
      {
        field: 'removePolicy',
        problem: '"recycle" needs a group whose ScalingPolicy is recycle; asg-1 has "release"',
        fix: 'use removePolicy "release", or change the group\'s ScalingPolicy',
      },
    ]);
    const ok = await preflight(cloudWith({ scalingPolicy: 'recycle' }), { removePolicy: 'recycle' });
    expect(ok.problems).toEqual([]);
  });
});

describe('preflight: attached load balancers', () => {
  const attached = {
    loadBalancerIds: ['lb-1', 'lb-2'],
    vServerGroups: [{ loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1', port: 80, weight: 100 }],
    albServerGroups: [{ albServerGroupId: 'sgp-1', port: 80, weight: 100 }],
  };

  it('refuses a CLB that is not active, and any attached group that does not exist', async () => {
    const cloud = cloudWith(attached)
      .script('clb.describeLoadBalancerAttribute', loadBalancer('lb-1', [], 'inactive'))
      .script('clb.describeLoadBalancerAttribute', apiError('InvalidLoadBalancerId.NotFound', 400))
      .script('clb.describeVServerGroupAttribute', apiError('InvalidVServerGroupId.NotFound', 400))
      .script('alb.listServerGroupServers', apiError('ResourceNotFound.ServerGroup', 404));
    const res = await preflight(cloud);

    expect(res.problems).toEqual([
      {
        field: 'drain',
        problem:
          'load balancer lb-1 is inactive; ESS rejects removals while it is not active (IncorrectLoadBalancerStatus)',
        fix: 'start lb-1 or detach it from the group',
      },
      {
        field: 'drain',
        problem: 'load balancer lb-2 attached to the group was not found',
        fix: 'detach lb-2 from the group (DetachLoadBalancers)',
      },
      {
        field: 'drain',
        problem: 'vserver group rsp-1 attached to the group was not found',
        fix: 'detach it from the group (DetachVServerGroups)',
      },
      {
        field: 'drain',
        problem: 'ALB server group sgp-1 attached to the group was not found',
        fix: 'detach it from the group (DetachAlbServerGroups)',
      },
    ]);
  });

  it.each([
    ['InvalidParameter.VServerGroupId', 400],
    ['ResourceNotFound.VServerGroup', 404],
    ['SomeOther.NotFound', 404],
  ])('takes %s (HTTP %i) for a missing group', async (code, status) => {
    const cloud = cloudWith(attached).script('clb.describeVServerGroupAttribute', apiError(code, status));
    const res = await preflight(cloud);
    expect(res.problems.map((p) => p.problem)).toEqual(['vserver group rsp-1 attached to the group was not found']);
  });

  it.each([
    [
      'clb.describeLoadBalancerAttribute',
      apiError('Throttling.User', 400, { action: 'DescribeLoadBalancerAttribute' }),
    ],
    ['clb.describeVServerGroupAttribute', apiError('InternalError', 500, { action: 'DescribeVServerGroupAttribute' })],
    ['alb.listServerGroupServers', apiError('Forbidden', 403, { action: 'ListServerGroupServers' })],
  ] as const)('lets other errors of %s through, for the retry policy', async (op, error) => {
    const cloud = cloudWith(attached).script(op, error);
    expect(await rejectionOf(preflight(cloud))).toBe(error);
  });

  it('translates them at the activity boundary', async () => {
    const cloud = cloudWith(attached).script(
      'clb.describeLoadBalancerAttribute',
      apiError('Throttling.User', 400, { action: 'DescribeLoadBalancerAttribute' }),
    );
    const a = activityEnv();
    const failure = await rejectionOf(
      a.env.run(createActivities({ cloud: cloud.client }).preflight, { input: input() }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'Throttling.User', nonRetryable: false, nextRetryDelay: 5000 });
  });
});

describe('preflight: warnings', () => {
  it('warns that a weight drain has nothing to drain without load balancers (a standby drain has)', async () => {
    expect((await preflight(cloudWith({}))).plan.warnings).toEqual([
      'the group has no attached load balancer: nothing to drain',
    ]);
    const standby = { strategy: 'standby', timeoutSeconds: 300, maxDrainedAhead: 100 } as const;
    expect((await preflight(cloudWith({}), { drain: standby })).plan.warnings).toEqual([]);
  });

  it('warns about attached RDS instances and about replacements when DesiredCapacity is kept', async () => {
    const cloud = cloudWith({ loadBalancerIds: ['lb-1'], dbInstanceIds: ['rm-1', 'rm-2'], desiredCapacity: 10 });
    const res = await preflight(cloud, { decreaseDesiredCapacity: false });
    expect(res.problems).toEqual([]);
    expect(res.plan.warnings).toEqual([
      'the group has RDS instances attached (rm-1, rm-2); if one is not Running, ESS answers ' +
        'IncorrectDBInstanceStatus and the run retries',
      'decreaseDesiredCapacity is false: ESS will launch replacements to keep DesiredCapacity',
    ]);
    // No DesiredCapacity on the group: nothing to replace.
    const noDesired = await preflight(cloudWith({ loadBalancerIds: ['lb-1'] }), { decreaseDesiredCapacity: false });
    expect(noDesired.plan.warnings).toEqual([]);
  });
});

describe('preflight: instances already drained', () => {
  const backend = (serverId: string, weight: number, port?: number) => ({ serverId, weight, type: 'ecs', port });
  /** i-1 at weight 0 on the CLB and the ALB group, i-3 at 0 on the vserver group; i-2 serves everywhere. */
  function drainedCloud(members = IDS.map((id) => instance(id))): FakeCloud {
    return cloudWith(
      {
        loadBalancerIds: ['lb-1'],
        vServerGroups: [{ loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1', port: 80, weight: 100 }],
        albServerGroups: [{ albServerGroupId: 'sgp-1', port: 80, weight: 100 }],
      },
      members,
    )
      .always('clb.describeLoadBalancerAttribute', (_r, id) =>
        loadBalancer(id, [backend('i-1', 0), backend('i-2', 100), backend('i-3', 100), backend('i-other', 0)]),
      )
      .always('clb.describeVServerGroupAttribute', (_r, id) =>
        vServerGroup(id, [backend('i-1', 100, 80), backend('i-2', 50, 80), backend('i-3', 0, 80)]),
      )
      .always('alb.listServerGroupServers', (_r, id) => ({
        requestId: `req-${id}`,
        servers: [albServer('i-1', 80, 0), albServer('i-2', 80, 100), albServer('i-3', 80, 100)],
      }));
  }

  it('refuses a real run on instances at weight 0, naming them, where, and the flag', async () => {
    const res = await preflight(drainedCloud());

    expect(res.problems).toEqual([
      {
        field: 'allowDrainedInstances',
        instanceIds: ['i-1', 'i-3'],
        problem:
          '2 instance(s) are already drained (weight 0 on an attached load balancer, or in Standby) ' +
          'before this run: i-1, i-3',
        fix: expect.stringMatching(/ess-scale-in repair .*allowDrainedInstances: true \(--allow-drained\)/),
      },
    ]);
    expect(res.plan.warnings).toEqual([
      '2 instance(s) are already at weight 0 on an attached load balancer: ' +
        'i-1 (CLB lb-1, ALB server group sgp-1), i-3 (vserver group rsp-1); ' +
        'a drain would record 0 as their original weight',
    ]);
  });

  it('refuses instances already in Standby the same way', async () => {
    const res = await preflight(cloudWith({}, [instance('i-1'), instance('i-2', { lifecycleState: 'Standby' })]), {
      instanceIds: ['i-1', 'i-2'],
      drain: { strategy: 'standby', timeoutSeconds: 300, maxDrainedAhead: 100 },
    });

    expect(res.problems.map((p) => [p.field, p.instanceIds])).toEqual([['allowDrainedInstances', ['i-2']]]);
    expect(res.plan.alreadyStandby).toEqual(['i-2']);
    expect(res.plan.warnings).toEqual(['1 instance(s) are already in Standby: i-2']);
  });

  it('only warns in a dry run, and goes on with allowDrainedInstances', async () => {
    const dry = await preflight(drainedCloud(), { dryRun: true });
    expect(dry.problems).toEqual([]);
    expect(dry.plan.warnings).toHaveLength(1);
    expect(dry.plan.warnings[0]).toMatch(/^2 instance\(s\) are already at weight 0/);

    const allowed = await preflight(drainedCloud(), { allowDrainedInstances: true });
    expect(allowed.problems).toEqual([]);
    expect(allowed.plan.warnings).toEqual(dry.plan.warnings);
  });

  it('says nothing about instances at weight 0 that the request does not name', async () => {
    const res = await preflight(drainedCloud(), { instanceIds: ['i-2'] });
    expect(res.problems).toEqual([]);
    expect(res.plan.warnings).toEqual([]);
  });
});

describe('preflight: scale-in lifecycle hooks', () => {
  const hook = (id: string, over: Partial<LifecycleHook> = {}): LifecycleHook => ({
    lifecycleHookId: id,
    lifecycleHookName: `name-${id}`,
    scalingGroupId: 'asg-1',
    lifecycleTransition: 'SCALE_IN',
    heartbeatTimeout: 600,
    defaultResult: 'CONTINUE',
    notificationArn: undefined,
    notificationMetadata: undefined,
    lifecycleHookStatus: 'Active',
    ...over,
  });
  const withHooks = (...hooks: LifecycleHook[]) =>
    cloudWith({ totalCapacity: 10 }).always('ess.describeLifecycleHooks', { hooks, requestIds: ['req-hooks'] });

  it('lists the active scale-in hooks with what the run does, and the longest wait of those it waits for', async () => {
    const cloud = withHooks(
      hook('ash-drain0001', { heartbeatTimeout: 300 }),
      hook('ash-cleanup01', { heartbeatTimeout: 900, defaultResult: 'ROLLBACK', notificationArn: 'acs:mns:q' }),
      hook('ash-scaleout1', { lifecycleTransition: 'SCALE_OUT' }),
      hook('ash-inactive1', { lifecycleHookStatus: 'InActive' }),
    );
    const res = await preflight(cloud, {
      lifecycleHooks: { mode: 'complete', hookIds: ['ash-drain0001'], all: false },
    });
    expect(res.problems).toEqual([]);
    expect(res.plan.lifecycleHooks?.map((h) => [h.lifecycleHookId, h.handling])).toEqual([
      ['ash-drain0001', 'complete'],
      ['ash-cleanup01', 'wait'],
    ]);
    expect(res.plan.hookWaitSecondsPerBatch).toBe(900);
    expect(res.plan.warnings.filter((w) => w.includes('lifecycle hook'))).toEqual([
      expect.stringMatching(/^scale-in lifecycle hook name-ash-drain0001 \(ash-drain0001\): completed with CONTINUE/),
      'scale-in lifecycle hook name-ash-cleanup01 (ash-cleanup01, notifies acs:mns:q): each batch waits for it in ' +
        'Removing:Wait, up to 900 s (then ROLLBACK; on timeout the instances stay in the group)',
    ]);
  });

  it('skip all bypasses every hook, and nothing is waited for', async () => {
    const res = await preflight(withHooks(hook('ash-a0000001'), hook('ash-b0000001')), {
      lifecycleHooks: { mode: 'skip', hookIds: [], all: true },
    });
    expect(res.plan.lifecycleHooks?.map((h) => h.handling)).toEqual(['skip', 'skip']);
    expect(res.plan.hookWaitSecondsPerBatch).toBe(0);
  });

  it('a named hook that is not an active scale-in hook of the group is a problem naming the ones it has', async () => {
    const res = await preflight(
      withHooks(hook('ash-a0000001'), hook('ash-out00001', { lifecycleTransition: 'SCALE_OUT' })),
      {
        lifecycleHooks: { mode: 'skip', hookIds: ['ash-out00001', 'ash-zzzzzzz1'], all: false },
      },
    );
    expect(res.problems).toEqual([
      {
        field: 'lifecycleHooks.hookIds',
        problem: 'ash-out00001, ash-zzzzzzz1 are not active scale-in hooks of asg-1 (its scale-in hooks: ash-a0000001)',
        fix: expect.stringContaining('DescribeLifecycleHooks'),
      },
    ]);
  });

  it('without permission to read hooks: a warning when waiting, a problem when asked to complete or skip', async () => {
    const denied = new AliyunApiError(
      'Forbidden.RAM',
      'User not authorized to operate on the specified resource.',
      403,
      'req-x',
      undefined,
      'DescribeLifecycleHooks',
    );
    const cloud = () => cloudWith({ totalCapacity: 10 }).always('ess.describeLifecycleHooks', denied);
    const waited = await preflight(cloud());
    expect(waited.problems).toEqual([]);
    expect(waited.plan.warnings.filter((w) => w.includes('lifecycle hooks'))).toEqual([
      expect.stringContaining('could not be read (Forbidden.RAM)'),
    ]);
    const completing = await preflight(cloud(), {
      lifecycleHooks: { mode: 'complete', hookIds: ['ash-a0000001'], all: false },
    });
    expect(completing.problems.map((p) => p.field)).toEqual(['lifecycleHooks']);
  });
});
