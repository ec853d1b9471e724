import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import { DrainInterruptedError, runDrain, runSnapshotWeights, runUndrain } from '../../../src/activities/drain';
import type { DrainRequest, RestoreRecord, UndrainRequest } from '../../../src/activities/types';
import { AliyunApiError } from '../../../src/aliyun/errors';
import { ERROR_POLICY } from '../../../src/shared/error-policy';
import { activityEnv, rejectionOf } from './activity-env';
import {
  albJob,
  albServer,
  apiError,
  instance,
  instances,
  loadBalancerCloud,
  type LoadBalancerState,
} from './fake-cloud';

const R = 'cn-hangzhou';

function drainRequest(over: Partial<DrainRequest> = {}): DrainRequest {
  return {
    regionId: R,
    scalingGroupId: 'asg-1',
    strategy: 'weight',
    instanceIds: ['i-1', 'i-2'],
    loadBalancers: {
      clbIds: ['lb-1', 'lb-2'],
      vServerGroups: [{ loadBalancerId: 'lb-1', vServerGroupId: 'rsp-1' }],
      albServerGroupIds: ['sgp-1'],
    },
    alreadyStandby: [],
    batchIndex: 4,
    ...over,
  };
}

/** The batch (i-1, i-2) behind a CLB default group, a second CLB, a vserver group and an ALB server group. */
const STATE: LoadBalancerState = {
  clb: {
    'lb-1': [
      { serverId: 'i-1', weight: 100, type: 'eni' },
      // An empty type is sent back as ecs.
      { serverId: 'i-2', weight: 50, type: '' },
      { serverId: 'i-9', weight: 100, type: 'ecs' },
    ],
    // Already at weight 0 here: nothing to change.
    'lb-2': [{ serverId: 'i-1', weight: 0, type: 'eni' }],
  },
  vsg: {
    'rsp-1': [
      { serverId: 'i-1', weight: 100, type: 'ecs', port: 80 },
      { serverId: 'i-2', weight: 100, type: 'eni' },
    ],
  },
  alb: { 'sgp-1': [albServer('i-1', 8080, 100), albServer('i-9', 8080, 100)] },
};

/** What the batch's backends weigh in STATE, in the order the activities read them. */
const ORIGINALS: RestoreRecord[] = [
  { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
  { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 50 },
  { kind: 'clb', loadBalancerId: 'lb-2', serverId: 'i-1', weight: 0 },
  { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-1', port: 80, weight: 100 },
  { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-2', port: 0, weight: 100 },
  { kind: 'alb', serverGroupId: 'sgp-1', serverId: 'i-1', serverType: 'Ecs', port: 8080, weight: 100 },
];

const READS = [
  'clb.describeLoadBalancerAttribute',
  'clb.describeLoadBalancerAttribute',
  'clb.describeVServerGroupAttribute',
  'alb.listServerGroupServers',
];

describe('snapshotWeights', () => {
  it("reads the batch's weight on every backend and changes nothing", async () => {
    const cloud = loadBalancerCloud(STATE);
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).snapshotWeights, drainRequest());

    expect(res).toEqual({ restore: ORIGINALS });
    expect(cloud.calls).toEqual([
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-1', { signal: a.signal }] },
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-2', { signal: a.signal }] },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', { signal: a.signal }] },
      { op: 'alb.listServerGroupServers', args: [R, 'sgp-1', { signal: a.signal, serverIds: ['i-1', 'i-2'] }] },
    ]);
  });

  it('is empty for a group without load balancers', async () => {
    const cloud = loadBalancerCloud({});
    const noLbs = drainRequest({ loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: [] } });
    expect(await runSnapshotWeights(cloud.client, noLbs, new AbortController().signal)).toEqual({ restore: [] });
    expect(cloud.calls).toEqual([]);
  });
});

describe('drain, weight strategy', () => {
  it('checkpoints the originals, then sets weight 0 where the batch still has weight, one call per group', async () => {
    const cloud = loadBalancerCloud(STATE);
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest(), hb));

    expect(res).toEqual({
      restore: ORIGINALS,
      requestIds: ['req-set-lb-1', 'req-set-rsp-1', 'req-set-sgp-1'],
      drainedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(cloud.ops()).toEqual([
      ...READS,
      'clb.setBackendServers',
      'clb.setVServerGroupAttribute',
      'alb.updateServerGroupServersAttribute',
      'alb.listAsynJobs',
    ]);
    const opts = { signal: a.signal };
    expect(cloud.argsOf('clb.setBackendServers')).toEqual([
      [
        R,
        'lb-1',
        [
          { serverId: 'i-1', weight: 0, type: 'eni' },
          { serverId: 'i-2', weight: 0, type: 'ecs' },
        ],
        opts,
      ],
    ]);
    expect(cloud.argsOf('clb.setVServerGroupAttribute')).toEqual([
      [
        R,
        'rsp-1',
        [
          { serverId: 'i-1', weight: 0, type: 'ecs', port: 80 },
          { serverId: 'i-2', weight: 0, type: 'eni', port: 0 },
        ],
        opts,
      ],
    ]);
    expect(cloud.argsOf('alb.updateServerGroupServersAttribute')).toEqual([
      [R, 'sgp-1', [{ serverId: 'i-1', serverType: 'Ecs', port: 8080, weight: 0 }], undefined, opts],
    ]);
    expect(cloud.argsOf('alb.listAsynJobs')).toEqual([[R, ['job-sgp-1'], opts]]);
    // Before any change, then after each CLB call; the job succeeded at once, so no beat while waiting.
    expect(a.heartbeats).toEqual([{ restore: ORIGINALS }, { restore: ORIGINALS }, { restore: ORIGINALS }]);
    expect(a.sleeps).toEqual([]);
  });

  it("keeps the snapshot's weights over those read now, which a retry finds at 0", async () => {
    const cloud = loadBalancerCloud({
      clb: {
        'lb-1': [
          { serverId: 'i-1', weight: 0, type: 'ecs' },
          { serverId: 'i-2', weight: 50, type: 'ecs' },
        ],
      },
    });
    const originals: RestoreRecord[] = [{ kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 }];
    const req = drainRequest({ loadBalancers: { clbIds: ['lb-1'], vServerGroups: [], albServerGroupIds: [] } });
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, { ...req, originals }, hb));

    expect(res.restore).toEqual([
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 50 },
    ]);
    expect(cloud.argsOf('clb.setBackendServers')[0]?.[2]).toEqual([
      { serverId: 'i-1', weight: 0, type: 'ecs' },
      { serverId: 'i-2', weight: 0, type: 'ecs' },
    ]);
  });

  it("takes the originals an earlier attempt's heartbeat recorded, the snapshot's first", async () => {
    const cloud = loadBalancerCloud({
      clb: {
        'lb-1': [
          { serverId: 'i-1', weight: 0, type: 'ecs' },
          { serverId: 'i-2', weight: 0, type: 'ecs' },
        ],
      },
    });
    const originals: RestoreRecord[] = [{ kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 }];
    const resumed: RestoreRecord[] = [
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 70 },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 30 },
    ];
    const req = drainRequest({ loadBalancers: { clbIds: ['lb-1'], vServerGroups: [], albServerGroupIds: [] } });
    const a = activityEnv({ attempt: 2, heartbeatDetails: { restore: resumed } });
    const res = await a.run((hb) => runDrain(cloud.client, { ...req, originals }, hb));

    const expected = [
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 30 },
    ];
    expect(res).toMatchObject({ restore: expected, requestIds: [] });
    // Every weight is already 0: nothing to change.
    expect(cloud.ops()).toEqual(['clb.describeLoadBalancerAttribute']);
    expect(a.heartbeats).toEqual([{ restore: expected }]);
  });

  it('waits for the ALB job with a doubling pause capped at 2 s, beating the latest checkpoint meanwhile', async () => {
    const cloud = loadBalancerCloud(STATE);
    const processing = { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Processing')] };
    // Not listed yet counts as still running.
    const notListed = { requestId: 'req-jobs', jobs: [albJob('job-other', 'Succeeded')] };
    cloud.script('alb.listAsynJobs', processing, notListed, processing, processing, processing, processing, processing);
    const a = activityEnv();
    await a.run((hb) => runDrain(cloud.client, drainRequest(), hb));

    expect(a.sleeps).toEqual([200, 400, 800, 1600, 2000, 2000, 2000]);
    expect(cloud.argsOf('alb.listAsynJobs')).toHaveLength(8);
    expect(a.heartbeats).toEqual(Array.from({ length: 3 + 7 }, () => ({ restore: ORIGINALS })));
  });
});

describe('drain that fails part-way', () => {
  it('reports, with the failure, how to restore everything it read, changed or not', async () => {
    const cloud = loadBalancerCloud(STATE);
    const busy = apiError('ServiceIsConfiguring', 400, { requestId: 'req-busy', action: 'SetVServerGroupAttribute' });
    cloud.script('clb.setVServerGroupAttribute', busy);
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest(), hb)));

    expect(err).toBeInstanceOf(DrainInterruptedError);
    expect(err).toMatchObject({ cause: busy, restore: ORIGINALS, message: busy.message });
    // lb-1 was changed; the ALB group was not reached.
    expect(cloud.ops()).toEqual([...READS, 'clb.setBackendServers', 'clb.setVServerGroupAttribute']);
  });

  it('becomes a failure of the cloud code, retried as the table says, restore records in its details', async () => {
    const cloud = loadBalancerCloud(STATE);
    cloud.script(
      'clb.setVServerGroupAttribute',
      apiError('ServiceIsConfiguring', 400, { requestId: 'req-busy', action: 'SetVServerGroupAttribute' }),
    );
    const a = activityEnv();
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).drain, drainRequest()));

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'ServiceIsConfiguring',
      nonRetryable: false,
      nextRetryDelay: ERROR_POLICY.ServiceIsConfiguring?.delayMs,
      details: [
        {
          code: 'ServiceIsConfiguring',
          action: 'SetVServerGroupAttribute',
          requestId: 'req-busy',
          httpStatus: 400,
          recommend: undefined,
          advice: ERROR_POLICY.ServiceIsConfiguring?.advice,
          restore: ORIGINALS,
        },
      ],
    });
  });

  it('fails with AlbJobFailed when the ALB job fails, still reporting what to restore', async () => {
    const cloud = loadBalancerCloud(STATE);
    cloud.script('alb.listAsynJobs', {
      requestId: 'req-jobs',
      jobs: [albJob('job-sgp-1', 'Failed', { errorCode: 'Conflict.Lock', errorMessage: 'locked by another job' })],
    });
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest(), hb)));

    expect(err).toBeInstanceOf(DrainInterruptedError);
    const cause = (err as DrainInterruptedError).cause;
    expect(cause).toBeInstanceOf(AliyunApiError);
    expect(cause).toMatchObject({
      code: 'AlbJobFailed',
      httpStatus: 200,
      action: 'UpdateServerGroupServersAttribute',
      apiMessage: 'ALB job job-sgp-1 failed: Conflict.Lock locked by another job',
    });
    expect((err as DrainInterruptedError).restore).toEqual(ORIGINALS);

    const b = activityEnv();
    cloud.script('alb.listAsynJobs', { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Failed')] });
    const failure = await rejectionOf(b.env.run(createActivities({ cloud: cloud.client }).drain, drainRequest()));
    expect(failure).toMatchObject({ type: 'AlbJobFailed', nonRetryable: false, details: [{ restore: ORIGINALS }] });
    // A job without ErrorCode or ErrorMessage leaves a bare colon before the advice (as it is today).
    expect((failure as ApplicationFailure).message).toBe(
      'UpdateServerGroupServersAttribute failed: AlbJobFailed: ALB job job-sgp-1 failed:. ' +
        ERROR_POLICY.AlbJobFailed?.advice,
    );
  });

  it('becomes DrainFailed, with the restore records, when the error is not a cloud error', async () => {
    const cloud = loadBalancerCloud(STATE);
    cloud.script('clb.setBackendServers', new Error('disk full'));
    const a = activityEnv();
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).drain, drainRequest()));

    expect(failure).toMatchObject({
      type: 'DrainFailed',
      message: 'disk full',
      nonRetryable: false,
      details: [
        {
          code: 'DrainFailed',
          action: undefined,
          requestId: undefined,
          httpStatus: undefined,
          recommend: undefined,
          advice: 'retried',
          restore: ORIGINALS,
        },
      ],
    });
  });

  it('fails without restore records while still reading: nothing was changed', async () => {
    const cloud = loadBalancerCloud(STATE);
    cloud.script('clb.describeVServerGroupAttribute', apiError('Throttling.User', 400, { action: 'DescribeX' }));
    const a = activityEnv();
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).drain, drainRequest()));

    expect(failure).toMatchObject({ type: 'Throttling.User', nonRetryable: false });
    expect((failure as ApplicationFailure).details?.[0]).not.toHaveProperty('restore');
    expect(cloud.ops()).toEqual(READS.slice(0, 3));
    expect(a.heartbeats).toEqual([]);
  });
});

describe('drain, standby strategy', () => {
  const standby = (ids: string[], alreadyStandby: string[] = []) =>
    drainRequest({ strategy: 'standby', instanceIds: ids, alreadyStandby });

  it('moves the InService instances of the batch to Standby, leaving those in Standby before the run', async () => {
    const cloud = loadBalancerCloud(STATE)
      .script(
        'ess.describeScalingInstances',
        instances(instance('i-1'), instance('i-2', { lifecycleState: 'Standby' })),
      )
      .script('ess.enterStandby', { requestId: 'req-standby' });
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, standby(['i-1', 'i-2', 'i-3'], ['i-3']), hb));

    const restore = [
      { kind: 'standby', instanceId: 'i-1' },
      { kind: 'standby', instanceId: 'i-2' },
    ];
    expect(res).toMatchObject({ restore, requestIds: ['req-standby'] });
    expect(cloud.calls).toEqual([
      {
        op: 'ess.describeScalingInstances',
        args: [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: ['i-1', 'i-2'] }, { signal: a.signal }],
      },
      // i-2 is in Standby already (an earlier attempt moved it).
      { op: 'ess.enterStandby', args: [R, 'asg-1', ['i-1'], undefined, { signal: a.signal }] },
    ]);
    expect(a.heartbeats).toEqual([{ restore }]);
  });

  it('moves at most 20 instances per call', async () => {
    const ids = Array.from({ length: 25 }, (_, k) => `i-${k}`);
    const cloud = loadBalancerCloud({})
      .script('ess.describeScalingInstances', instances(...ids.map((id) => instance(id))))
      .script('ess.enterStandby', { requestId: 'req-a' }, { requestId: 'req-b' });
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, standby(ids), hb));

    expect(cloud.argsOf('ess.enterStandby').map(([, , part]) => part)).toEqual([ids.slice(0, 20), ids.slice(20)]);
    expect(res.requestIds).toEqual(['req-a', 'req-b']);
  });
});

describe('undrain', () => {
  const undrain = (restore: RestoreRecord[]): UndrainRequest => ({ regionId: R, scalingGroupId: 'asg-1', restore });

  it('puts back every kind of record, skipping backends that are gone', async () => {
    const cloud = loadBalancerCloud({
      clb: {
        'lb-1': [
          { serverId: 'i-1', weight: 0, type: 'eni' },
          { serverId: 'i-2', weight: 0, type: '' },
        ],
        'lb-2': [],
      },
      vsg: { 'rsp-1': [{ serverId: 'i-1', weight: 0, type: 'ecs', port: 80 }] },
      alb: { 'sgp-1': [albServer('i-1', 8080, 0, 'Eni'), albServer('i-1', 8081, 0, 'Eni')] },
    })
      .script(
        'ess.describeScalingInstances',
        instances(instance('i-3', { lifecycleState: 'Standby' }), instance('i-4', { lifecycleState: 'InService' })),
      )
      .script('ess.exitStandby', { requestId: 'req-exit' });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(
        cloud.client,
        undrain([
          { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
          { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 50 },
          { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-9', weight: 100 },
          { kind: 'clb', loadBalancerId: 'lb-2', serverId: 'i-1', weight: 80 },
          { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-1', port: 80, weight: 100 },
          { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-2', port: 80, weight: 100 },
          { kind: 'alb', serverGroupId: 'sgp-1', serverId: 'i-1', serverType: 'Eni', port: 8080, weight: 100 },
          { kind: 'alb', serverGroupId: 'sgp-1', serverId: 'i-1', serverType: 'Eni', port: 8081, weight: 60 },
          { kind: 'standby', instanceId: 'i-3' },
          { kind: 'standby', instanceId: 'i-4' },
          { kind: 'standby', instanceId: 'i-5' },
        ]),
        hb,
      ),
    );

    const opts = { signal: a.signal };
    expect(cloud.calls).toEqual([
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-1', opts] },
      {
        op: 'clb.setBackendServers',
        args: [
          R,
          'lb-1',
          [
            { serverId: 'i-1', weight: 100, type: 'eni' },
            { serverId: 'i-2', weight: 50, type: 'ecs' },
          ],
          opts,
        ],
      },
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-2', opts] },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', opts] },
      {
        op: 'clb.setVServerGroupAttribute',
        args: [R, 'rsp-1', [{ serverId: 'i-1', weight: 100, type: 'ecs', port: 80 }], opts],
      },
      { op: 'alb.listServerGroupServers', args: [R, 'sgp-1', { ...opts, serverIds: ['i-1'] }] },
      {
        op: 'alb.updateServerGroupServersAttribute',
        args: [
          R,
          'sgp-1',
          [
            { serverId: 'i-1', serverType: 'Eni', port: 8080, weight: 100 },
            { serverId: 'i-1', serverType: 'Eni', port: 8081, weight: 60 },
          ],
          undefined,
          opts,
        ],
      },
      { op: 'alb.listAsynJobs', args: [R, ['job-sgp-1'], opts] },
      {
        op: 'ess.describeScalingInstances',
        args: [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: ['i-3', 'i-4', 'i-5'] }, opts],
      },
      { op: 'ess.exitStandby', args: [R, 'asg-1', ['i-3'], undefined, opts] },
    ]);
    expect(res).toEqual({
      // i-4 is in the group but not in Standby: nothing to do, its traffic is back.
      restoredInstanceIds: ['i-1', 'i-2', 'i-3', 'i-4'],
      // i-1 and i-2 are gone from lb-2 and rsp-1, but were restored elsewhere.
      goneInstanceIds: ['i-9', 'i-5'],
      requestIds: ['req-set-lb-1', 'req-set-rsp-1', 'req-set-sgp-1', 'req-exit'],
    });
  });

  it('matches vserver group backends by server and port (a backend without a port is port 0)', async () => {
    const cloud = loadBalancerCloud({
      vsg: {
        'rsp-1': [
          { serverId: 'i-1', weight: 0, type: 'ecs' },
          { serverId: 'i-2', weight: 0, type: 'ecs', port: 81 },
        ],
      },
    });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(
        cloud.client,
        undrain([
          { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-1', port: 0, weight: 10 },
          { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-2', port: 80, weight: 20 },
        ]),
        hb,
      ),
    );

    expect(cloud.argsOf('clb.setVServerGroupAttribute')[0]?.[2]).toEqual([
      { serverId: 'i-1', weight: 10, type: 'ecs', port: 0 },
    ]);
    expect(res).toEqual({ restoredInstanceIds: ['i-1'], goneInstanceIds: ['i-2'], requestIds: ['req-set-rsp-1'] });
  });

  // Found by these tests: undrain used to send every vserver group backend back as type ecs.
  it("keeps a vserver group backend's type, as drain does", async () => {
    const cloud = loadBalancerCloud({ vsg: { 'rsp-1': [{ serverId: 'i-1', weight: 0, type: 'eni', port: 80 }] } });
    const a = activityEnv();
    await a.run((hb) =>
      runUndrain(
        cloud.client,
        undrain([{ kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-1', port: 80, weight: 100 }]),
        hb,
      ),
    );
    expect(cloud.argsOf('clb.setVServerGroupAttribute')[0]?.[2]).toEqual([
      { serverId: 'i-1', weight: 100, type: 'eni', port: 80 },
    ]);
  });

  it('waits for the ALB job, and fails with AlbJobFailed if it fails', async () => {
    const alb: RestoreRecord = {
      kind: 'alb',
      serverGroupId: 'sgp-1',
      serverId: 'i-1',
      serverType: 'Ecs',
      port: 8080,
      weight: 100,
    };
    const cloud = loadBalancerCloud({ alb: { 'sgp-1': [albServer('i-1', 8080, 0)] } }).script(
      'alb.listAsynJobs',
      { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Processing')] },
      { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Succeeded')] },
      { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Failed', { errorCode: 'Conflict.Lock' })] },
    );
    const a = activityEnv();
    const res = await a.run((hb) => runUndrain(cloud.client, undrain([alb]), hb));
    expect(res.restoredInstanceIds).toEqual(['i-1']);
    expect(a.sleeps).toEqual([200]);
    // Nothing checkpointed by undrain: the keep-alive re-sends the (empty) details.
    expect(a.heartbeats).toEqual([undefined]);

    const err = await rejectionOf(a.run((hb) => runUndrain(cloud.client, undrain([alb]), hb)));
    expect(err).toBeInstanceOf(AliyunApiError);
    expect(err).toMatchObject({ code: 'AlbJobFailed', apiMessage: 'ALB job job-sgp-1 failed: Conflict.Lock' });
  });

  it('takes at most 20 instances out of Standby per call', async () => {
    const ids = Array.from({ length: 21 }, (_, k) => `i-${k}`);
    const cloud = loadBalancerCloud({})
      .script(
        'ess.describeScalingInstances',
        instances(...ids.map((id) => instance(id, { lifecycleState: 'Standby' }))),
      )
      .script('ess.exitStandby', { requestId: 'req-a' }, { requestId: 'req-b' });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(cloud.client, undrain(ids.map((instanceId) => ({ kind: 'standby', instanceId }))), hb),
    );

    expect(cloud.argsOf('ess.exitStandby').map(([, , part]) => part)).toEqual([ids.slice(0, 20), ids.slice(20)]);
    expect(res).toEqual({ restoredInstanceIds: ids, goneInstanceIds: [], requestIds: ['req-a', 'req-b'] });
  });

  it('does nothing without records', async () => {
    const cloud = loadBalancerCloud({});
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).undrain, undrain([]));
    expect(res).toEqual({ restoredInstanceIds: [], goneInstanceIds: [], requestIds: [] });
    expect(cloud.calls).toEqual([]);
  });
});
