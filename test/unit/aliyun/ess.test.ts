import { describe, expect, it } from 'vitest';
import { AliyunApiError, AliyunBadResponseError } from '../../../src/aliyun';
import type {
  WireDescribeLifecycleActionsResponse,
  WireDescribeLifecycleHooksResponse,
  WireDescribeScalingActivitiesResponse,
  WireLifecycleAction,
  WireLifecycleHook,
  WireDescribeScalingGroupsResponse,
  WireDescribeScalingInstancesResponse,
  WireScalingActivity,
  WireScalingGroup,
  WireScalingInstance,
} from '../../../src/aliyun';
import { apiError, indexed, json, setup } from './loopback-server';

const GROUP: WireScalingGroup = {
  ScalingGroupId: 'asg-1',
  ScalingGroupName: 'web',
  RegionId: 'cn-hangzhou',
  LifecycleState: 'Active',
  MinSize: 2,
  MaxSize: 10,
  DesiredCapacity: 5,
  TotalCapacity: 5,
  ActiveCapacity: 4,
  PendingCapacity: 0,
  PendingWaitCapacity: 0,
  RemovingCapacity: 0,
  RemovingWaitCapacity: 0,
  StandbyCapacity: 1,
  ProtectedCapacity: 0,
  DefaultCooldown: 300,
  ScalingPolicy: 'recycle',
  CreationTime: '2014-08-14T10:58Z',
  RemovalPolicies: { RemovalPolicy: ['OldestInstance', 'NewestInstance'] },
  LoadBalancerIds: { LoadBalancerId: ['lb-1'] },
  VServerGroups: {
    VServerGroup: [
      {
        LoadBalancerId: 'lb-1',
        VServerGroupAttributes: { VServerGroupAttribute: [{ VServerGroupId: 'rsp-1', Port: 80, Weight: 50 }] },
      },
    ],
  },
  AlbServerGroups: { AlbServerGroup: [{ AlbServerGroupId: 'sgp-1', Port: 8080, Weight: 100 }] },
  ServerGroups: {
    ServerGroup: [
      { ServerGroupId: 'sgp-1', Type: 'ALB', Port: 8080, Weight: 100 },
      { ServerGroupId: 'sgp-2', Type: 'ALB', Port: 9090, Weight: 10 },
      { ServerGroupId: 'sgp-nlb', Type: 'NLB', Port: 80, Weight: 1 },
    ],
  },
  DBInstanceIds: { DBInstanceId: ['rm-1'] },
};

function instance(n: number): WireScalingInstance {
  return {
    InstanceId: `i-${String(n).padStart(3, '0')}`,
    ScalingGroupId: 'asg-1',
    ScalingConfigurationId: 'asc-1',
    HealthStatus: 'Healthy',
    LifecycleState: 'InService',
    CreationType: 'AutoCreated',
    CreationTime: '2020-05-18T03:11Z',
    CreatedTime: '2020-05-18T03:11:39Z',
    Entrusted: true,
    ZoneId: 'cn-hangzhou-h',
  };
}

const ACTIVITY: WireScalingActivity = {
  ScalingActivityId: 'asa-1',
  ScalingGroupId: 'asg-1',
  Description: 'Remove "2" ECS instance',
  Cause: 'A user requested to remove instances',
  StatusCode: 'Warning',
  StatusMessage: 'partly done',
  StartTime: '2020-09-10T09:54Z',
  EndTime: '2020-09-10T09:56Z',
  Progress: 100,
  TotalCapacity: '3',
  AttachedCapacity: '0',
  AutoCreatedCapacity: '3',
  ScalingInstanceNumber: 3,
  DestroyedInstances: { DestroyedInstance: ['i-7'] },
  ErrorCode: 'InstancesPartlyFailed',
  ErrorMessage: 'some failed',
  ErrorMessages: {
    ErrorMessagesItem: [
      { Code: 'A', Message: 'a', FailedInstanceIds: { FailedInstanceIds: ['i-9', 'i-8'] } },
      { Code: 'B', Message: 'b', FailedInstanceIds: { FailedInstanceIds: ['i-9'] } },
    ],
  },
};

describe('describeScalingGroup', () => {
  it('asks for ScalingGroupId.1 and converts the wrapped wire group', async () => {
    const body: WireDescribeScalingGroupsResponse = {
      RequestId: 'R1',
      TotalCount: 1,
      PageNumber: 1,
      PageSize: 10,
      ScalingGroups: { ScalingGroup: [GROUP] },
    };
    const { server, client } = await setup((_req, res) => json(res, 200, body));
    const g = await client.ess.describeScalingGroup('cn-hangzhou', 'asg-1');
    expect(server.requests[0]?.query).toMatchObject({
      Action: 'DescribeScalingGroups',
      RegionId: 'cn-hangzhou',
      'ScalingGroupId.1': 'asg-1',
    });
    expect(g).toEqual({
      requestId: 'R1',
      scalingGroupId: 'asg-1',
      scalingGroupName: 'web',
      regionId: 'cn-hangzhou',
      lifecycleState: 'Active',
      minSize: 2,
      maxSize: 10,
      desiredCapacity: 5,
      totalCapacity: 5,
      activeCapacity: 4,
      standbyCapacity: 1,
      protectedCapacity: 0,
      removingCapacity: 0,
      scalingPolicy: 'recycle',
      removalPolicies: ['OldestInstance', 'NewestInstance'],
      loadBalancerIds: ['lb-1'],
      vServerGroups: [{ loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1', port: 80, weight: 50 }],
      albServerGroups: [
        { albServerGroupId: 'sgp-1', port: 8080, weight: 100 },
        { albServerGroupId: 'sgp-2', port: 9090, weight: 10 },
      ],
      // An NLB entry of ServerGroups is kept apart, not dropped (it is drained too).
      nlbServerGroups: [{ nlbServerGroupId: 'sgp-nlb', port: 80, weight: 1 }],
      otherServerGroups: [],
      dbInstanceIds: ['rm-1'],
    });
  });

  it('accepts numeric fields sent as strings', async () => {
    const stringly = { ...GROUP, MinSize: '1', MaxSize: '3', TotalCapacity: '2', DesiredCapacity: '' };
    const { client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', ScalingGroups: { ScalingGroup: [stringly] } }),
    );
    const g = await client.ess.describeScalingGroup('cn-hangzhou', 'asg-1');
    expect(g).toMatchObject({ minSize: 1, maxSize: 3, totalCapacity: 2, desiredCapacity: undefined });
  });

  it('returns undefined when the list is empty', async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, {
        RequestId: 'R',
        TotalCount: 0,
        PageNumber: 1,
        PageSize: 10,
        ScalingGroups: { ScalingGroup: [] },
      }),
    );
    await expect(client.ess.describeScalingGroup('cn-hangzhou', 'asg-gone')).resolves.toBeUndefined();
  });

  it('rejects a group without MinSize as a bad response rather than guessing 0', async () => {
    const { MinSize: _m, ...broken } = GROUP;
    const { client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', ScalingGroups: { ScalingGroup: [broken] } }),
    );
    await expect(client.ess.describeScalingGroup('cn-hangzhou', 'asg-1')).rejects.toThrow(AliyunBadResponseError);
  });
});

describe('describeScalingInstances', () => {
  it('walks every page with PageSize 50 until TotalCount', async () => {
    const all = Array.from({ length: 120 }, (_, i) => instance(i));
    const { server, client } = await setup((req, res) => {
      const page = Number(req.query.PageNumber);
      const size = Number(req.query.PageSize);
      const body: WireDescribeScalingInstancesResponse = {
        RequestId: `R${page}`,
        TotalCount: all.length,
        PageNumber: page,
        PageSize: size,
        ScalingInstances: { ScalingInstance: all.slice((page - 1) * size, page * size) },
      };
      json(res, 200, body);
    });
    const { instances, requestIds } = await client.ess.describeScalingInstances({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-1',
      lifecycleState: 'InService',
    });
    expect(server.requests.map((r) => [r.query.PageNumber, r.query.PageSize, r.query.LifecycleState])).toEqual([
      ['1', '50', 'InService'],
      ['2', '50', 'InService'],
      ['3', '50', 'InService'],
    ]);
    expect(requestIds).toEqual(['R1', 'R2', 'R3']);
    expect(instances).toHaveLength(120);
    expect(instances[0]).toEqual({
      instanceId: 'i-000',
      scalingGroupId: 'asg-1',
      scalingConfigurationId: 'asc-1',
      scalingActivityId: undefined,
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      creationType: 'AutoCreated',
      creationTime: '2020-05-18T03:11Z',
      entrusted: true,
      zoneId: 'cn-hangzhou-h',
    });
    expect(server.requests[0]?.query).not.toHaveProperty('ScalingActivityId');
  });

  it('splits an instanceIds filter into chunks of 20 as InstanceId.1..N', async () => {
    const ids = Array.from({ length: 45 }, (_, i) => instance(i).InstanceId);
    const { server, client } = await setup((req, res) => {
      const asked = indexed(req.query, 'InstanceId');
      json(res, 200, {
        RequestId: `R-${asked[0] ?? ''}`,
        TotalCount: asked.length,
        PageNumber: 1,
        PageSize: 50,
        ScalingInstances: { ScalingInstance: asked.map((id) => ({ ...instance(0), InstanceId: id })) },
      });
    });
    const { instances, requestIds } = await client.ess.describeScalingInstances({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-1',
      instanceIds: ids,
    });
    expect(server.requests.map((r) => indexed(r.query, 'InstanceId'))).toEqual([
      ids.slice(0, 20),
      ids.slice(20, 40),
      ids.slice(40),
    ]);
    expect(instances.map((i) => i.instanceId)).toEqual(ids);
    expect(requestIds).toHaveLength(3);
  });

  it('sends nothing for an empty instanceIds filter (it must not mean "all instances")', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R' }));
    await expect(
      client.ess.describeScalingInstances({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: [] }),
    ).resolves.toEqual({ instances: [], requestIds: [] });
    expect(server.requests).toHaveLength(0);
  });

  it('stops on an empty page even if TotalCount promises more, and keeps one entry per instance', async () => {
    const { server, client } = await setup((req, res) => {
      const page = Number(req.query.PageNumber);
      const items =
        page === 1 ? Array.from({ length: 50 }, (_, i) => instance(i)) : page === 2 ? [instance(49), instance(50)] : [];
      json(res, 200, {
        RequestId: `R${page}`,
        TotalCount: 500,
        PageNumber: page,
        PageSize: 50,
        ScalingInstances: { ScalingInstance: items },
      });
    });
    const { instances } = await client.ess.describeScalingInstances({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-1',
    });
    expect(server.requests).toHaveLength(3);
    expect(instances).toHaveLength(51);
  });
});

describe('describeScalingActivities', () => {
  it('flattens ScalingActivityId.N and converts string capacities and failed instances', async () => {
    const { server, client } = await setup((_req, res) => {
      const body: WireDescribeScalingActivitiesResponse = {
        RequestId: 'RA',
        TotalCount: 1,
        PageNumber: 1,
        PageSize: 50,
        ScalingActivities: { ScalingActivity: [ACTIVITY] },
      };
      json(res, 200, body);
    });
    const { activities, requestId } = await client.ess.describeScalingActivities('cn-hangzhou', ['asa-1', 'asa-2']);
    expect(indexed(server.requests[0]?.query ?? {}, 'ScalingActivityId')).toEqual(['asa-1', 'asa-2']);
    expect(server.requests[0]?.query.RegionId).toBe('cn-hangzhou');
    expect(requestId).toBe('RA');
    expect(activities).toEqual([
      {
        scalingActivityId: 'asa-1',
        scalingGroupId: 'asg-1',
        statusCode: 'Warning',
        statusMessage: 'partly done',
        progress: 100,
        description: 'Remove "2" ECS instance',
        cause: 'A user requested to remove instances',
        startTime: '2020-09-10T09:54Z',
        endTime: '2020-09-10T09:56Z',
        totalCapacity: 3,
        errorCode: 'InstancesPartlyFailed',
        errorMessage: 'some failed',
        failedInstanceIds: ['i-9', 'i-8'],
        // Each item's code and message, with its instances: the per-instance cause of the failure.
        instanceErrors: [
          { code: 'A', message: 'a', instanceIds: ['i-9', 'i-8'] },
          { code: 'B', message: 'b', instanceIds: ['i-9'] },
        ],
        destroyedInstanceIds: ['i-7'],
        stoppedInstanceIds: [],
      },
    ]);
  });

  it('reads the instances an activity removed: DestroyedInstances (released), StoppedInstances', async () => {
    const { ErrorMessages: _ms, DestroyedInstances: _d, ...rest } = ACTIVITY;
    const released: WireScalingActivity = {
      ...rest,
      ScalingActivityId: 'asa-rel',
      StatusCode: 'Successful',
      DestroyedInstances: { DestroyedInstance: ['i-1', 'i-2'] },
    };
    // A lone value (the XML-to-JSON artefact unwrap takes) is still one instance.
    const recycled = { ...rest, ScalingActivityId: 'asa-rec', StoppedInstances: { StoppedInstance: 'i-3' } };
    const { client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', ScalingActivities: { ScalingActivity: [released, recycled, rest] } }),
    );
    const { activities } = await client.ess.recentScalingActivities('cn-hangzhou', 'asg-1');
    expect(activities.map((a) => [a.scalingActivityId, a.destroyedInstanceIds, a.stoppedInstanceIds])).toEqual([
      ['asa-rel', ['i-1', 'i-2'], []],
      ['asa-rec', [], ['i-3']],
      ['asa-1', [], []],
    ]);
  });

  it('leaves optional fields undefined for an activity still in progress', async () => {
    const {
      EndTime: _e,
      ErrorCode: _c,
      ErrorMessage: _m,
      ErrorMessages: _ms,
      ...running
    } = { ...ACTIVITY, StatusCode: 'InProgress', Progress: 40 };
    const { client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', ScalingActivities: { ScalingActivity: [running] } }),
    );
    const { activities } = await client.ess.describeScalingActivities('cn-hangzhou', ['asa-1']);
    expect(activities[0]).toMatchObject({
      statusCode: 'InProgress',
      progress: 40,
      endTime: undefined,
      errorCode: undefined,
      failedInstanceIds: [],
    });
  });

  it('refuses 0 or 21 IDs locally with a RangeError naming the field', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R' }));
    await expect(client.ess.describeScalingActivities('cn-hangzhou', [])).rejects.toThrow(RangeError);
    const ids = Array.from({ length: 21 }, (_, i) => `asa-${i}`);
    await expect(client.ess.describeScalingActivities('cn-hangzhou', ids)).rejects.toThrow(/scalingActivityIds/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('removeInstances', () => {
  it('sends InstanceId.N, booleans as true/false and the options, and returns the activity ID', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'RR', ScalingActivityId: 'asa-new' }),
    );
    const ids = Array.from({ length: 20 }, (_, i) => `i-${i + 1}`);
    const result = await client.ess.removeInstances({
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-1',
      instanceIds: ids,
      removePolicy: 'recycle',
      decreaseDesiredCapacity: false,
      ignoreInvalidInstance: true,
      clientToken: 'wf-1-batch-0',
    });
    expect(result).toEqual({ requestId: 'RR', scalingActivityId: 'asa-new' });
    const q = server.requests[0]?.query ?? {};
    expect(q).toMatchObject({
      Action: 'RemoveInstances',
      RegionId: 'cn-hangzhou',
      ScalingGroupId: 'asg-1',
      RemovePolicy: 'recycle',
      DecreaseDesiredCapacity: 'false',
      IgnoreInvalidInstance: 'true',
      ClientToken: 'wf-1-batch-0',
    });
    expect(indexed(q, 'InstanceId')).toEqual(ids);
    expect(q['InstanceId.10']).toBe('i-10');
    expect(server.requests[0]?.signatureValid).toBe(true);
  });

  it('omits options that were not given', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'RR', ScalingActivityId: 'asa-new' }),
    );
    await client.ess.removeInstances({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: ['i-1'] });
    const q = server.requests[0]?.query ?? {};
    for (const k of ['RemovePolicy', 'DecreaseDesiredCapacity', 'IgnoreInvalidInstance', 'ClientToken'])
      expect(q).not.toHaveProperty(k);
  });

  it('refuses 0 or 21 instance IDs, and a bad client token, without sending', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R', ScalingActivityId: 'a' }));
    const base = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' };
    await expect(client.ess.removeInstances({ ...base, instanceIds: [] })).rejects.toThrow(
      /instanceIds must have 1 to 20 items, got 0/,
    );
    await expect(
      client.ess.removeInstances({ ...base, instanceIds: Array.from({ length: 21 }, (_, i) => `i-${i}`) }),
    ).rejects.toThrow(RangeError);
    await expect(
      client.ess.removeInstances({ ...base, instanceIds: ['i-1'], clientToken: 'x'.repeat(65) }),
    ).rejects.toThrow(/clientToken/);
    expect(server.requests).toHaveLength(0);
  });

  it('treats a 2xx without ScalingActivityId as an ambiguous bad response (accepted but untrackable)', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { RequestId: 'RR' }));
    const e = await client.ess
      .removeInstances({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: ['i-1'] })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AliyunBadResponseError);
    expect(e).toMatchObject({ ambiguous: true, httpStatus: 200 });
    expect((e as Error).message).toContain('ScalingActivityId');
  });

  it('surfaces the API error with its code', async () => {
    const { client } = await setup((_req, res) =>
      apiError(res, 400, 'ScalingActivityInProgress', 'You cannot ... in progress'),
    );
    const e = await client.ess
      .removeInstances({ regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: ['i-1'] })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AliyunApiError);
    expect(e).toMatchObject({ code: 'ScalingActivityInProgress', httpStatus: 400, action: 'RemoveInstances' });
  });
});

describe('standby', () => {
  it('EnterStandby and ExitStandby send the group, InstanceId.N and ClientToken', async () => {
    const { server, client } = await setup((req, res) => json(res, 200, { RequestId: `R-${req.query.Action ?? ''}` }));
    await expect(client.ess.enterStandby('cn-hangzhou', 'asg-1', ['i-1', 'i-2'], 'tok-1')).resolves.toEqual({
      requestId: 'R-EnterStandby',
    });
    await expect(client.ess.exitStandby('cn-hangzhou', 'asg-1', ['i-3'])).resolves.toEqual({
      requestId: 'R-ExitStandby',
    });
    const [enter, exit] = server.requests;
    expect(enter?.query).toMatchObject({
      Action: 'EnterStandby',
      ScalingGroupId: 'asg-1',
      ClientToken: 'tok-1',
      RegionId: 'cn-hangzhou',
    });
    expect(indexed(enter?.query ?? {}, 'InstanceId')).toEqual(['i-1', 'i-2']);
    expect(exit?.query).not.toHaveProperty('ClientToken');
    expect(indexed(exit?.query ?? {}, 'InstanceId')).toEqual(['i-3']);
    await expect(client.ess.enterStandby('cn-hangzhou', 'asg-1', [])).rejects.toThrow(RangeError);
  });
});

function wireHook(n: number): WireLifecycleHook {
  return {
    ScalingGroupId: 'asg-1',
    LifecycleHookId: `ash-${n}`,
    LifecycleHookName: `hook-${n}`,
    DefaultResult: 'ABANDON',
    HeartbeatTimeout: 600,
    LifecycleTransition: 'SCALE_IN',
    NotificationArn: 'acs:ess:cn-hangzhou:1234567890123456:null/null',
  };
}

describe('describeLifecycleHooks', () => {
  it('walks PageNumber pages of 50 until TotalCount and converts each hook', async () => {
    const all = Array.from({ length: 60 }, (_, i) => wireHook(i));
    all[0] = {
      ...wireHook(0),
      NotificationArn: 'acs:mns:cn-hangzhou:1234567890123456:queue/cleanup',
      NotificationMetadata: '{"team":"web"}',
      LifecycleHookStatus: 'InActive',
    };
    const { server, client } = await setup((req, res) => {
      const page = Number(req.query.PageNumber);
      const size = Number(req.query.PageSize);
      const body: WireDescribeLifecycleHooksResponse = {
        RequestId: `RH${page}`,
        TotalCount: all.length,
        PageNumber: page,
        PageSize: size,
        LifecycleHooks: { LifecycleHook: all.slice((page - 1) * size, page * size) },
      };
      json(res, 200, body);
    });
    const { hooks, requestIds } = await client.ess.describeLifecycleHooks('cn-hangzhou', 'asg-1');
    expect(
      server.requests.map((r) => [r.query.Action, r.query.ScalingGroupId, r.query.PageNumber, r.query.PageSize]),
    ).toEqual([
      ['DescribeLifecycleHooks', 'asg-1', '1', '50'],
      ['DescribeLifecycleHooks', 'asg-1', '2', '50'],
    ]);
    expect(server.requests[0]?.query.RegionId).toBe('cn-hangzhou');
    expect(requestIds).toEqual(['RH1', 'RH2']);
    expect(hooks).toHaveLength(60);
    expect(hooks[0]).toEqual({
      lifecycleHookId: 'ash-0',
      lifecycleHookName: 'hook-0',
      scalingGroupId: 'asg-1',
      lifecycleTransition: 'SCALE_IN',
      heartbeatTimeout: 600,
      defaultResult: 'ABANDON',
      notificationArn: 'acs:mns:cn-hangzhou:1234567890123456:queue/cleanup',
      notificationMetadata: '{"team":"web"}',
      lifecycleHookStatus: 'InActive',
    });
    // The ARN the API reports for "no notification" is no target.
    expect(hooks[1]).toMatchObject({ notificationArn: undefined, lifecycleHookStatus: undefined });
  });

  it('takes HeartbeatTimeout as a string, and refuses a hook without one', async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, {
        RequestId: 'R',
        TotalCount: 1,
        LifecycleHooks: { LifecycleHook: [{ ...wireHook(1), HeartbeatTimeout: '30' }] },
      }),
    );
    expect((await client.ess.describeLifecycleHooks('cn-hangzhou', 'asg-1')).hooks[0]?.heartbeatTimeout).toBe(30);
    const { HeartbeatTimeout: _h, ...broken } = wireHook(2);
    const bad = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', TotalCount: 1, LifecycleHooks: { LifecycleHook: [broken] } }),
    );
    await expect(bad.client.ess.describeLifecycleHooks('cn-hangzhou', 'asg-1')).rejects.toThrow(AliyunBadResponseError);
  });
});

function wireAction(n: number, status = 'Pending'): WireLifecycleAction {
  return {
    LifecycleActionToken: `TOKEN-${n}`,
    LifecycleHookId: `ash-${n}`,
    LifecycleActionStatus: status,
    LifecycleActionResult: 'CONTINUE',
    InstanceIds: { InstanceId: ['i-1', 'i-2'] },
  };
}

describe('describeLifecycleActions', () => {
  it('walks NextToken with MaxResults 50 and converts the wrapped instance IDs', async () => {
    const pages: Record<string, { items: WireLifecycleAction[]; next?: string }> = {
      '': { items: [wireAction(1), wireAction(2, 'Timeout')], next: 'T2' },
      T2: { items: [wireAction(3, 'Completed')] },
    };
    const { server, client } = await setup((req, res) => {
      const p = pages[req.query.NextToken ?? ''];
      const body: WireDescribeLifecycleActionsResponse = {
        RequestId: `RA-${req.query.NextToken ?? '1'}`,
        TotalCount: 3,
        MaxResults: Number(req.query.MaxResults),
        LifecycleActions: { LifecycleAction: p?.items ?? [] },
      };
      if (p?.next) body.NextToken = p.next;
      json(res, 200, body);
    });
    const { actions, requestIds } = await client.ess.describeLifecycleActions('cn-hangzhou', 'asa-1');
    expect(
      server.requests.map((r) => [r.query.Action, r.query.ScalingActivityId, r.query.MaxResults, r.query.NextToken]),
    ).toEqual([
      ['DescribeLifecycleActions', 'asa-1', '50', undefined],
      ['DescribeLifecycleActions', 'asa-1', '50', 'T2'],
    ]);
    expect(requestIds).toEqual(['RA-1', 'RA-T2']);
    expect(actions).toEqual([
      {
        lifecycleActionToken: 'TOKEN-1',
        lifecycleHookId: 'ash-1',
        lifecycleActionStatus: 'Pending',
        lifecycleActionResult: 'CONTINUE',
        instanceIds: ['i-1', 'i-2'],
      },
      expect.objectContaining({ lifecycleActionToken: 'TOKEN-2', lifecycleActionStatus: 'Timeout' }),
      expect.objectContaining({ lifecycleActionToken: 'TOKEN-3', lifecycleActionStatus: 'Completed' }),
    ]);
  });

  it('stops when the server hands out the same NextToken again, and on an empty one', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 200, {
        RequestId: 'R',
        NextToken: 'SAME',
        LifecycleActions: { LifecycleAction: [wireAction(1)] },
      }),
    );
    const { actions } = await client.ess.describeLifecycleActions('cn-hangzhou', 'asa-1');
    expect(server.requests).toHaveLength(2);
    expect(actions).toHaveLength(1);
    const empty = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', NextToken: '', LifecycleActions: { LifecycleAction: [] } }),
    );
    await expect(empty.client.ess.describeLifecycleActions('cn-hangzhou', 'asa-1')).resolves.toEqual({
      actions: [],
      requestIds: ['R'],
    });
    expect(empty.server.requests).toHaveLength(1);
  });
});

describe('completeLifecycleAction', () => {
  it('sends the hook, the token, the result and the ClientToken', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'RC' }));
    await expect(
      client.ess.completeLifecycleAction({
        regionId: 'cn-hangzhou',
        lifecycleHookId: 'ash-1',
        lifecycleActionToken: 'TOKEN-1',
        lifecycleActionResult: 'CONTINUE',
        clientToken: 'wf-1-hook',
      }),
    ).resolves.toEqual({ requestId: 'RC' });
    expect(server.requests[0]?.query).toMatchObject({
      Action: 'CompleteLifecycleAction',
      RegionId: 'cn-hangzhou',
      LifecycleHookId: 'ash-1',
      LifecycleActionToken: 'TOKEN-1',
      LifecycleActionResult: 'CONTINUE',
      ClientToken: 'wf-1-hook',
    });
    expect(server.requests[0]?.signatureValid).toBe(true);
  });

  it('surfaces an ended action as the API error, and refuses a bad client token locally', async () => {
    const { server, client } = await setup((_req, res) =>
      apiError(res, 400, 'LifecycleHookIdAndLifecycleActionToken.Invalid', 'does not match'),
    );
    const req = {
      regionId: 'cn-hangzhou',
      lifecycleHookId: 'ash-1',
      lifecycleActionToken: 'T',
      lifecycleActionResult: 'ABANDON',
    } as const;
    await expect(client.ess.completeLifecycleAction(req)).rejects.toMatchObject({
      code: 'LifecycleHookIdAndLifecycleActionToken.Invalid',
      action: 'CompleteLifecycleAction',
    });
    await expect(client.ess.completeLifecycleAction({ ...req, clientToken: 'x'.repeat(65) })).rejects.toThrow(
      RangeError,
    );
    expect(server.requests).toHaveLength(1);
  });
});

describe('removeInstances LifecycleHookContext', () => {
  it('flattens DisableLifecycleHook and IgnoredLifecycleHookIds.N (2014 form)', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R', ScalingActivityId: 'a' }));
    const base = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', instanceIds: ['i-1'] };
    await client.ess.removeInstances({
      ...base,
      lifecycleHookContext: { disableLifecycleHook: false, ignoredLifecycleHookIds: ['ash-1', 'ash-2'] },
    });
    await client.ess.removeInstances({ ...base, lifecycleHookContext: { disableLifecycleHook: true } });
    await client.ess.removeInstances(base);
    const [ignore, disable, none] = server.requests.map((r) => r.query);
    expect(ignore).toMatchObject({ 'LifecycleHookContext.DisableLifecycleHook': 'false' });
    expect(indexed(ignore ?? {}, 'LifecycleHookContext.IgnoredLifecycleHookIds')).toEqual(['ash-1', 'ash-2']);
    expect(disable).toMatchObject({ 'LifecycleHookContext.DisableLifecycleHook': 'true' });
    expect(disable).not.toHaveProperty('LifecycleHookContext.IgnoredLifecycleHookIds.1');
    expect(Object.keys(none ?? {}).filter((k) => k.startsWith('LifecycleHookContext'))).toEqual([]);
  });
});
