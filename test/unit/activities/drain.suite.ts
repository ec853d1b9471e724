import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities';
import {
  AlbJobFailedError,
  DrainInterruptedError,
  runDrain,
  runSnapshotWeights,
  runUndrain,
  SNAPSHOT_FRESH_MS,
} from '../../../src/activities/drain';
import { UNDRAIN_GIVE_UP_ATTEMPT } from '../../../src/activities/undrain';
import type { DrainRequest, RestoreRecord, UndrainRequest, UndrainResponse } from '../../../src/activities/types';
import { ALB_UPDATE_SERVERS_MAX_PER_CALL } from '../../../src/aliyun/alb';
import { AliyunApiError } from '../../../src/aliyun/errors';
import { ERROR_POLICY } from '../../../src/shared/error-policy';
import { activityEnv, rejectionOf } from './activity-env';
import {
  albJob,
  albServer,
  apiError,
  type FakeCloud,
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

  it('for a standby drain, leaves out the instances in Standby before the run', async () => {
    const cloud = loadBalancerCloud(STATE);
    const req = drainRequest({ strategy: 'standby', alreadyStandby: ['i-2'] });
    const res = await runSnapshotWeights(cloud.client, req, new AbortController().signal);

    expect(res).toEqual({ restore: ORIGINALS.filter((r) => r.kind !== 'standby' && r.serverId === 'i-1') });
    expect(cloud.argsOf('alb.listServerGroupServers')[0]?.[2]?.serverIds).toEqual(['i-1']);
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
    // Before any change, then after each CLB call; the job succeeded at the first look, so no beat while waiting.
    expect(a.heartbeats).toEqual([{ restore: ORIGINALS }, { restore: ORIGINALS }, { restore: ORIGINALS }]);
    // The first look at an ALB job waits the first pause: a job just accepted is still running.
    expect(a.sleeps).toEqual([200]);
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

    expect(a.sleeps).toEqual([200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
    expect(cloud.argsOf('alb.listAsynJobs')).toHaveLength(8);
    expect(a.heartbeats).toEqual(Array.from({ length: 3 + 7 }, () => ({ restore: ORIGINALS })));
  });
});

describe('drain from the weight snapshot (drain-from-snapshot)', () => {
  /** What snapshotWeights answers, when asked to hand its backends over, for `state` read `ageMs` ago. */
  async function snapshotOf(state: LoadBalancerState, ageMs = 0) {
    const read = loadBalancerCloud(state);
    const req = drainRequest({ handBackends: true });
    const res = await runSnapshotWeights(read.client, req, new AbortController().signal);
    const backends = res.backends && { ...res.backends, readAt: new Date(Date.now() - ageMs).toISOString() };
    return { originals: res.restore, snapshot: backends };
  }

  const WRITES = ['clb.setBackendServers', 'clb.setVServerGroupAttribute', 'alb.updateServerGroupServersAttribute'];

  it('snapshotWeights hands over every backend of the batch, one read at 0 too, when asked', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    expect(originals).toEqual(ORIGINALS);
    expect(snapshot).toEqual({
      readAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      clb: [
        {
          lbId: 'lb-1',
          servers: [
            { serverId: 'i-1', weight: 0, type: 'eni' },
            { serverId: 'i-2', weight: 0, type: 'ecs' },
          ],
        },
        // Read at 0, still planned: another actor may give it weight before the drain runs.
        { lbId: 'lb-2', servers: [{ serverId: 'i-1', weight: 0, type: 'eni' }] },
      ],
      vsg: [
        {
          vsgId: 'rsp-1',
          servers: [
            { serverId: 'i-1', weight: 0, type: 'ecs', port: 80 },
            { serverId: 'i-2', weight: 0, type: 'eni', port: 0 },
          ],
        },
      ],
      alb: [{ sgId: 'sgp-1', servers: [{ serverId: 'i-1', serverType: 'Ecs', port: 8080, weight: 0 }] }],
      nlb: [],
    });
  });

  it("a first attempt changes the snapshot's backends without reading them again", async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    const cloud = loadBalancerCloud(STATE);
    const a = activityEnv({ attempt: 1 });
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb));

    expect(cloud.ops()).toEqual([
      'clb.setBackendServers',
      'clb.setBackendServers',
      'clb.setVServerGroupAttribute',
      'alb.updateServerGroupServersAttribute',
      'alb.listAsynJobs',
    ]);
    expect(cloud.argsOf('clb.setBackendServers').map(([, id, servers]) => [id, servers])).toEqual([
      [
        'lb-1',
        [
          { serverId: 'i-1', weight: 0, type: 'eni' },
          { serverId: 'i-2', weight: 0, type: 'ecs' },
        ],
      ],
      ['lb-2', [{ serverId: 'i-1', weight: 0, type: 'eni' }]],
    ]);
    expect(res).toEqual({
      restore: ORIGINALS,
      requestIds: ['req-set-lb-1', 'req-set-lb-2', 'req-set-rsp-1', 'req-set-sgp-1'],
      drainedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // The originals are checkpointed before the first change, as when the drain reads.
    expect(a.heartbeats[0]).toEqual({ restore: ORIGINALS });
  });

  it('sets to 0 a backend another actor gave weight after the snapshot, and restores the weight it read', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    // Meanwhile another actor weighs i-1 on lb-2 (read at 0) and i-2 on lb-1, and an instance outside the batch.
    const now: LoadBalancerState = {
      ...STATE,
      clb: {
        'lb-1': [
          { serverId: 'i-1', weight: 100, type: 'eni' },
          { serverId: 'i-2', weight: 80, type: '' },
          { serverId: 'i-9', weight: 10, type: 'ecs' },
        ],
        'lb-2': [{ serverId: 'i-1', weight: 60, type: 'eni' }],
      },
    };
    const cloud = loadBalancerCloud(now);
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb));

    const sent = cloud.argsOf('clb.setBackendServers').flatMap(([, id, servers]) => servers.map((s) => [id, s]));
    expect(sent).toEqual([
      ['lb-1', { serverId: 'i-1', weight: 0, type: 'eni' }],
      ['lb-1', { serverId: 'i-2', weight: 0, type: 'ecs' }],
      ['lb-2', { serverId: 'i-1', weight: 0, type: 'eni' }],
    ]);
    // The weights of before the drain, as the snapshot read them: the other actor's i-9 is not touched.
    expect(res.restore).toEqual(ORIGINALS);
  });

  it('a retry reads the backends again: after a failure or a lost answer anything may have changed', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    const cloud = loadBalancerCloud(STATE);
    const a = activityEnv({ attempt: 2 });
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb));

    expect(cloud.ops()).toEqual([...READS, ...WRITES, 'alb.listAsynJobs']);
    // lb-2 is read at 0 and left alone, as a drain that reads does.
    expect(cloud.argsOf('clb.setBackendServers').map(([, id]) => id)).toEqual(['lb-1']);
    expect(res.restore).toEqual(ORIGINALS);
  });

  it(`reads again when the snapshot is older than ${SNAPSHOT_FRESH_MS / 1000} s (the drain waited)`, async () => {
    const { originals, snapshot } = await snapshotOf(STATE, SNAPSHOT_FRESH_MS + 1000);
    const cloud = loadBalancerCloud(STATE);
    const a = activityEnv();
    await a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb));
    expect(cloud.ops().slice(0, READS.length)).toEqual(READS);
  });

  it('an instance detached since the snapshot: a refused change, then a read, and the rest drained', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    // ESS (or another actor) took i-2 off lb-1 after the snapshot: CLB refuses a change naming it.
    const now: LoadBalancerState = {
      ...STATE,
      clb: { 'lb-1': [{ serverId: 'i-1', weight: 100, type: 'eni' }], 'lb-2': STATE.clb?.['lb-2'] ?? [] },
    };
    const cloud = loadBalancerCloud(now);
    const gone = apiError('InvalidParameter', 400, { action: 'SetBackendServers', requestId: 'req-refused' });
    cloud.script('clb.setBackendServers', gone);
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb));

    expect(cloud.ops()).toEqual(['clb.setBackendServers', ...READS, ...WRITES, 'alb.listAsynJobs']);
    expect(cloud.argsOf('clb.setBackendServers')[1]?.[2]).toEqual([{ serverId: 'i-1', weight: 0, type: 'eni' }]);
    // Still the snapshot's originals: i-2's weight on lb-1 is restored only if it comes back.
    expect(res.restore).toEqual(ORIGINALS);
    expect(a.logs.some((l) => l.level === 'WARN' && /have left since/.test(l.message))).toBe(true);
  });

  it('a change refused for good while every backend is still there fails the drain with that refusal', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    const cloud = loadBalancerCloud(STATE);
    const denied = apiError('Forbidden.Unauthorized', 403, { action: 'SetVServerGroupAttribute' });
    cloud.script('clb.setVServerGroupAttribute', denied);
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb)));

    expect(err).toBeInstanceOf(DrainInterruptedError);
    expect(err).toMatchObject({ cause: denied, restore: ORIGINALS });
    // One read to tell why, and no second try of a change the policy does not retry.
    expect(cloud.ops()).toEqual([
      'clb.setBackendServers',
      'clb.setBackendServers',
      'clb.setVServerGroupAttribute',
      ...READS,
    ]);
  });

  it('a change refused for a while (retried by Temporal) fails the attempt, with the originals', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    const cloud = loadBalancerCloud(STATE);
    const busy = apiError('ServiceIsConfiguring', 400, { action: 'SetVServerGroupAttribute' });
    cloud.script('clb.setVServerGroupAttribute', busy);
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb)));

    expect(err).toBeInstanceOf(DrainInterruptedError);
    expect(err).toMatchObject({ cause: busy, restore: ORIGINALS });
    // No read: the retry reads.
    expect(cloud.ops()).toEqual(['clb.setBackendServers', 'clb.setBackendServers', 'clb.setVServerGroupAttribute']);
  });

  it('a failed read after a partial drain from the snapshot still says what to restore', async () => {
    const { originals, snapshot } = await snapshotOf(STATE);
    const cloud = loadBalancerCloud(STATE);
    cloud.script('clb.setBackendServers', { requestId: 'req-set-lb-1', backendServers: [] });
    cloud.script('clb.setBackendServers', apiError('InvalidParameter', 400, { action: 'SetBackendServers' }));
    const throttled = apiError('Throttling.User', 400, { action: 'DescribeLoadBalancerAttribute' });
    cloud.script('clb.describeLoadBalancerAttribute', throttled);
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest({ originals, snapshot }), hb)));
    expect(err).toMatchObject({ name: 'DrainInterruptedError', cause: throttled, restore: ORIGINALS });
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

  it('fails with our own AlbJobFailedError (not an invented API answer) when the ALB job fails', async () => {
    const cloud = loadBalancerCloud(STATE);
    cloud.script('alb.listAsynJobs', {
      requestId: 'req-jobs',
      jobs: [albJob('job-sgp-1', 'Failed', { errorCode: 'Conflict.Lock', errorMessage: 'locked by another job' })],
    });
    const a = activityEnv();
    const err = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest(), hb)));

    expect(err).toBeInstanceOf(DrainInterruptedError);
    const cause = (err as DrainInterruptedError).cause;
    expect(cause).toBeInstanceOf(AlbJobFailedError);
    expect(cause).not.toBeInstanceOf(AliyunApiError);
    expect(cause).not.toHaveProperty('httpStatus');
    expect(cause).toMatchObject({
      name: 'AlbJobFailedError',
      code: 'AlbJobFailed',
      jobId: 'job-sgp-1',
      jobErrorCode: 'Conflict.Lock',
      jobErrorMessage: 'locked by another job',
      message: 'ALB job job-sgp-1 of UpdateServerGroupServersAttribute failed: Conflict.Lock locked by another job',
    });
    expect((err as DrainInterruptedError).restore).toEqual(ORIGINALS);

    const b = activityEnv();
    cloud.script('alb.listAsynJobs', { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Failed')] });
    const failure = await rejectionOf(b.env.run(createActivities({ cloud: cloud.client }).drain, drainRequest()));
    expect(failure).toMatchObject({
      type: 'AlbJobFailed',
      nonRetryable: false,
      details: [
        {
          code: 'AlbJobFailed',
          action: 'UpdateServerGroupServersAttribute',
          httpStatus: undefined,
          restore: ORIGINALS,
        },
      ],
    });
    expect((failure as ApplicationFailure).message).toBe(
      'ALB job job-sgp-1 of UpdateServerGroupServersAttribute failed. ' + ERROR_POLICY.AlbJobFailed?.advice,
    );
  });

  it('drains an ALB server group in calls of at most 40 servers, each job waited for', async () => {
    const ids = Array.from({ length: 60 }, (_, k) => `i-${k}`);
    const cloud = loadBalancerCloud({ alb: { 'sgp-1': ids.map((id) => albServer(id, 80, 100)) } });
    const req = drainRequest({
      instanceIds: ids,
      loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: ['sgp-1'] },
    });
    const a = activityEnv();
    await a.run((hb) => runDrain(cloud.client, req, hb));
    expect(ALB_UPDATE_SERVERS_MAX_PER_CALL).toBe(40);
    expect(cloud.argsOf('alb.updateServerGroupServersAttribute').map(([, , servers]) => servers.length)).toEqual([
      40, 20,
    ]);
    expect(cloud.ops().filter((o) => o !== 'alb.listServerGroupServers')).toEqual([
      'alb.updateServerGroupServersAttribute',
      'alb.listAsynJobs',
      'alb.updateServerGroupServersAttribute',
      'alb.listAsynJobs',
    ]);
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

    // ExitStandby does not give these back (it sets the default weight 50): the restore sets them.
    // Only i-1's: i-2 is in Standby already (an earlier attempt moved it) and reads weight 0.
    const i1Weights = ORIGINALS.filter((r) => r.kind !== 'standby' && r.serverId === 'i-1');
    const restore = [{ kind: 'standby', instanceId: 'i-1' }, { kind: 'standby', instanceId: 'i-2' }, ...i1Weights];
    expect(res).toEqual({ restore, requestIds: ['req-standby'], drainedAt: expect.any(String) });
    const opts = { signal: a.signal };
    expect(cloud.calls).toEqual([
      {
        op: 'ess.describeScalingInstances',
        args: [{ regionId: R, scalingGroupId: 'asg-1', instanceIds: ['i-1', 'i-2'] }, opts],
      },
      // The weights are read, and checkpointed, before EnterStandby sets them to 0.
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-1', opts] },
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-2', opts] },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', opts] },
      { op: 'alb.listServerGroupServers', args: [R, 'sgp-1', { ...opts, serverIds: ['i-1'] }] },
      { op: 'ess.enterStandby', args: [R, 'asg-1', ['i-1'], undefined, opts] },
    ]);
    expect(a.heartbeats).toEqual([{ restore }]);
  });

  it('a retried attempt keeps the weights its predecessor checkpointed, not the 0 that Standby reads', async () => {
    // The first attempt read i-1 at 100 behind lb-1, then EnterStandby took it (its weight is now 0).
    const checkpointed: RestoreRecord[] = [
      { kind: 'standby', instanceId: 'i-1' },
      { kind: 'standby', instanceId: 'i-2' },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 60 },
    ];
    const cloud = loadBalancerCloud({
      clb: {
        'lb-1': [
          { serverId: 'i-1', weight: 0, type: 'ecs' },
          { serverId: 'i-2', weight: 60, type: 'ecs' },
        ],
      },
    })
      .script(
        'ess.describeScalingInstances',
        instances(instance('i-1', { lifecycleState: 'Standby' }), instance('i-2')),
      )
      .script('ess.enterStandby', { requestId: 'req-standby' });
    const a = activityEnv({ attempt: 2, heartbeatDetails: { restore: checkpointed } });
    const req = drainRequest({
      strategy: 'standby',
      loadBalancers: { clbIds: ['lb-1'], vServerGroups: [], albServerGroupIds: [] },
    });
    const res = await a.run((hb) => runDrain(cloud.client, req, hb));

    expect(res.restore).toEqual(checkpointed);
    // Only the instance still InService is read and moved.
    expect(cloud.argsOf('ess.enterStandby').map(([, , part]) => part)).toEqual([['i-2']]);
  });

  it('a failed EnterStandby carries the standby records and the weights read before it', async () => {
    const cloud = loadBalancerCloud({ clb: { 'lb-1': [{ serverId: 'i-1', weight: 80, type: 'ecs' }] } })
      .script('ess.describeScalingInstances', instances(instance('i-1')))
      .script('ess.enterStandby', apiError('Throttling', 400, { action: 'EnterStandby' }));
    const a = activityEnv();
    const req = drainRequest({
      strategy: 'standby',
      instanceIds: ['i-1'],
      loadBalancers: { clbIds: ['lb-1'], vServerGroups: [], albServerGroupIds: [] },
    });
    const e = await rejectionOf(a.run((hb) => runDrain(cloud.client, req, hb)));

    expect(e).toBeInstanceOf(DrainInterruptedError);
    expect((e as DrainInterruptedError).restore).toEqual([
      { kind: 'standby', instanceId: 'i-1' },
      { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 80 },
    ]);
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

/**
 * A cloud whose weight changes take effect, so what undrain reads back after a change is the change
 * (the plain loadBalancerCloud answers every read from the state it was given).
 */
function liveCloud(given: LoadBalancerState): FakeCloud {
  const state = structuredClone(given);
  const setWeight = <B extends { serverId: string; weight: number; port?: number | undefined }>(
    list: B[] | undefined,
    s: { serverId: string; weight: number; port?: number | undefined },
  ) => {
    const b = list?.find((x) => x.serverId === s.serverId && (s.port === undefined || (x.port ?? 0) === s.port));
    if (b) b.weight = s.weight;
  };
  return loadBalancerCloud(state)
    .always('clb.setBackendServers', (_r, id, servers) => {
      for (const s of servers) setWeight(state.clb?.[id], { serverId: s.serverId, weight: s.weight });
      return { requestId: `req-set-${id}`, backendServers: servers };
    })
    .always('clb.setVServerGroupAttribute', (_r, id, servers) => {
      for (const s of servers) setWeight(state.vsg?.[id], s);
      return { requestId: `req-set-${id}`, backendServers: servers };
    })
    .always('alb.updateServerGroupServersAttribute', (_r, id, servers) => {
      for (const s of servers) setWeight(state.alb?.[id], s);
      return { requestId: `req-set-${id}`, jobId: `job-${id}` };
    });
}

describe('undrain', () => {
  const undrain = (restore: RestoreRecord[]): UndrainRequest => ({ regionId: R, scalingGroupId: 'asg-1', restore });
  const clbRec = (serverId: string, weight = 100, loadBalancerId = 'lb-1'): RestoreRecord => ({
    kind: 'clb',
    loadBalancerId,
    serverId,
    weight,
  });
  const vsgRec = (serverId: string, port = 80, weight = 100): RestoreRecord => ({
    kind: 'vsg',
    vServerGroupId: 'rsp-1',
    serverId,
    port,
    weight,
  });
  const albRec = (serverId: string, port = 8080, weight = 100, serverType = 'Ecs'): RestoreRecord => ({
    kind: 'alb',
    serverGroupId: 'sgp-1',
    serverId,
    serverType,
    port,
    weight,
  });
  /** i-1 and i-2 at weight 0 behind lb-1, rsp-1 and sgp-1. */
  const DRAINED: LoadBalancerState = {
    clb: {
      'lb-1': [
        { serverId: 'i-1', weight: 0, type: 'ecs' },
        { serverId: 'i-2', weight: 0, type: 'ecs' },
      ],
    },
    vsg: {
      'rsp-1': [
        { serverId: 'i-1', weight: 0, type: 'ecs', port: 80 },
        { serverId: 'i-2', weight: 0, type: 'ecs', port: 80 },
      ],
    },
    alb: { 'sgp-1': [albServer('i-1', 8080, 0), albServer('i-2', 8080, 0)] },
  };
  const ALL = ['i-1', 'i-2'].flatMap((id) => [clbRec(id), vsgRec(id), albRec(id)]);
  const denied = () => apiError('Forbidden.Unauthorized', 403, { action: 'SetBackendServers', requestId: 'req-403' });

  it('puts back every kind of record, reads each place back, and skips backends that are gone', async () => {
    const cloud = liveCloud({
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
        instances(instance('i-3'), instance('i-4')),
      )
      .script('ess.exitStandby', { requestId: 'req-exit' });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(
        cloud.client,
        undrain([
          clbRec('i-1'),
          clbRec('i-2', 50),
          clbRec('i-9'),
          clbRec('i-1', 80, 'lb-2'),
          vsgRec('i-1'),
          vsgRec('i-2'),
          albRec('i-1', 8080, 100, 'Eni'),
          albRec('i-1', 8081, 60, 'Eni'),
          { kind: 'standby', instanceId: 'i-3' },
          { kind: 'standby', instanceId: 'i-4' },
          { kind: 'standby', instanceId: 'i-5' },
        ]),
        hb,
      ),
    );

    const opts = { signal: a.signal };
    const standbyIds = { regionId: R, scalingGroupId: 'asg-1', instanceIds: ['i-3', 'i-4', 'i-5'] };
    expect(cloud.calls).toEqual([
      // Standby first: ExitStandby sets weight 50 (the reference), so weights are set after it.
      { op: 'ess.describeScalingInstances', args: [standbyIds, opts] },
      { op: 'ess.exitStandby', args: [R, 'asg-1', ['i-3'], undefined, opts] },
      { op: 'ess.describeScalingInstances', args: [standbyIds, opts] },
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
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-1', opts] },
      { op: 'clb.describeLoadBalancerAttribute', args: [R, 'lb-2', opts] },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', opts] },
      {
        op: 'clb.setVServerGroupAttribute',
        args: [R, 'rsp-1', [{ serverId: 'i-1', weight: 100, type: 'ecs', port: 80 }], opts],
      },
      { op: 'clb.describeVServerGroupAttribute', args: [R, 'rsp-1', opts] },
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
      // Read back after the job: the weights, not the call, say it is restored.
      { op: 'alb.listServerGroupServers', args: [R, 'sgp-1', { ...opts, serverIds: ['i-1'] }] },
    ]);
    expect(res).toEqual({
      // i-4 is in the group but not in Standby: nothing to do, its traffic is back.
      restoredInstanceIds: ['i-3', 'i-4', 'i-1', 'i-2'],
      // i-1 and i-2 are gone from lb-2 and rsp-1, but were restored elsewhere.
      goneInstanceIds: ['i-5', 'i-9'],
      requestIds: ['req-exit', 'req-set-lb-1', 'req-set-rsp-1', 'req-set-sgp-1'],
      notRestored: [],
    });
  });

  it('matches vserver group backends by server and port (a backend without a port is port 0)', async () => {
    const cloud = liveCloud({
      vsg: {
        'rsp-1': [
          { serverId: 'i-1', weight: 0, type: 'ecs' },
          { serverId: 'i-2', weight: 0, type: 'ecs', port: 81 },
        ],
      },
    });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(cloud.client, undrain([vsgRec('i-1', 0, 10), vsgRec('i-2', 80, 20)]), hb),
    );

    expect(cloud.argsOf('clb.setVServerGroupAttribute')[0]?.[2]).toEqual([
      { serverId: 'i-1', weight: 10, type: 'ecs', port: 0 },
    ]);
    expect(res).toEqual({
      restoredInstanceIds: ['i-1'],
      goneInstanceIds: ['i-2'],
      requestIds: ['req-set-rsp-1'],
      notRestored: [],
    });
  });

  // Found by these tests: undrain used to send every vserver group backend back as type ecs.
  it("keeps a vserver group backend's type, as drain does", async () => {
    const cloud = liveCloud({ vsg: { 'rsp-1': [{ serverId: 'i-1', weight: 0, type: 'eni', port: 80 }] } });
    const a = activityEnv();
    await a.run((hb) => runUndrain(cloud.client, undrain([vsgRec('i-1')]), hb));
    expect(cloud.argsOf('clb.setVServerGroupAttribute')[0]?.[2]).toEqual([
      { serverId: 'i-1', weight: 100, type: 'eni', port: 80 },
    ]);
  });

  it('changes nothing where the weights already read as the originals (a retry after a partial success)', async () => {
    const cloud = liveCloud({
      clb: { 'lb-1': [{ serverId: 'i-1', weight: 100, type: 'ecs' }] },
      alb: { 'sgp-1': [albServer('i-1', 8080, 100)] },
    });
    const a = activityEnv();
    const res = await a.run((hb) => runUndrain(cloud.client, undrain([clbRec('i-1'), albRec('i-1')]), hb));
    expect(cloud.ops()).toEqual(['clb.describeLoadBalancerAttribute', 'alb.listServerGroupServers']);
    expect(res).toMatchObject({ restoredInstanceIds: ['i-1'], notRestored: [] });
  });

  it('one load balancer refusing (403) does not stop the others; the answer says where each is drained', async () => {
    const cloud = liveCloud(DRAINED);
    cloud.script('clb.setBackendServers', denied());
    const a = activityEnv();
    const res = await a.run((hb) => runUndrain(cloud.client, undrain(ALL), hb));

    expect(cloud.ops()).toEqual([
      'clb.describeLoadBalancerAttribute',
      'clb.setBackendServers',
      'clb.describeVServerGroupAttribute',
      'clb.setVServerGroupAttribute',
      'clb.describeVServerGroupAttribute',
      'alb.listServerGroupServers',
      'alb.updateServerGroupServersAttribute',
      'alb.listAsynJobs',
      'alb.listServerGroupServers',
    ]);
    const drainedOn = [{ place: 'CLB lb-1', code: 'Forbidden.Unauthorized', message: denied().message }];
    const restoredOn = ['vserver group rsp-1', 'ALB server group sgp-1'];
    expect(res).toEqual({
      restoredInstanceIds: [],
      goneInstanceIds: [],
      requestIds: ['req-set-rsp-1', 'req-set-sgp-1'],
      notRestored: [
        { instanceId: 'i-1', restoredOn, drainedOn },
        { instanceId: 'i-2', restoredOn, drainedOn },
      ],
    });
  });

  it('answers (does not fail) through the activity boundary when a failure is not retried', async () => {
    const cloud = liveCloud(DRAINED);
    cloud.script('clb.setBackendServers', denied());
    const a = activityEnv();
    const res = (await a.env.run(createActivities({ cloud: cloud.client }).undrain, undrain(ALL))) as UndrainResponse;
    expect(res.notRestored?.map((n) => n.instanceId)).toEqual(['i-1', 'i-2']);
  });

  it('never calls an instance restored when its weight does not read back as before', async () => {
    const cloud = liveCloud(DRAINED);
    // The change is accepted but does not take effect.
    cloud.script('clb.setBackendServers', { requestId: 'req-lost', backendServers: [] });
    const a = activityEnv();
    const res = await a.run((hb) => runUndrain(cloud.client, undrain([clbRec('i-1'), clbRec('i-2')]), hb));
    expect(res.restoredInstanceIds).toEqual([]);
    expect(res.notRestored).toEqual(
      ['i-1', 'i-2'].map((instanceId) => ({
        instanceId,
        restoredOn: [],
        drainedOn: [
          {
            place: 'CLB lb-1',
            code: 'WeightNotRestored',
            message: 'the change was accepted but the weight did not read back as before',
          },
        ],
      })),
    );
  });

  it('restores the other places, then asks for a retry when one failed in a way the table retries', async () => {
    const cloud = liveCloud(DRAINED);
    cloud.script('clb.describeVServerGroupAttribute', apiError('Throttling.User', 400, { action: 'Describe' }));
    const a = activityEnv({ attempt: 1 });
    const failure = await rejectionOf(a.env.run(createActivities({ cloud: cloud.client }).undrain, undrain(ALL)));

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'Throttling.User',
      nonRetryable: false,
      details: [{ code: 'Throttling.User', notRestored: [{ instanceId: 'i-1' }, { instanceId: 'i-2' }] }],
    });
    // The CLB and the ALB group were restored all the same; the retry finds them done.
    expect(cloud.ops()).toContain('clb.setBackendServers');
    expect(cloud.ops()).toContain('alb.updateServerGroupServersAttribute');
    const b = activityEnv({ attempt: 2 });
    const res = await b.env.run(createActivities({ cloud: cloud.client }).undrain, undrain(ALL));
    expect(res).toMatchObject({ restoredInstanceIds: ['i-1', 'i-2'], notRestored: [] });
    expect(cloud.argsOf('clb.setBackendServers')).toHaveLength(1);
  });

  it(`gives up retrying at attempt ${UNDRAIN_GIVE_UP_ATTEMPT}: answers with what stays drained`, async () => {
    const cloud = liveCloud(DRAINED);
    cloud.script('clb.describeVServerGroupAttribute', apiError('Throttling.User', 400, { action: 'Describe' }));
    const a = activityEnv({ attempt: UNDRAIN_GIVE_UP_ATTEMPT });
    const res = (await a.env.run(createActivities({ cloud: cloud.client }).undrain, undrain(ALL))) as UndrainResponse;
    expect(res.restoredInstanceIds).toEqual([]);
    expect(res.notRestored?.map((n) => [n.instanceId, n.restoredOn, n.drainedOn.map((d) => d.code)])).toEqual([
      ['i-1', ['CLB lb-1', 'ALB server group sgp-1'], ['Throttling.User']],
      ['i-2', ['CLB lb-1', 'ALB server group sgp-1'], ['Throttling.User']],
    ]);
  });

  it('stops at a bug (not a cloud error) instead of recording it as a place that failed', async () => {
    const cloud = liveCloud(DRAINED);
    cloud.script('clb.setBackendServers', new TypeError('x is undefined'));
    const a = activityEnv();
    await expect(a.run((hb) => runUndrain(cloud.client, undrain(ALL), hb))).rejects.toThrow(TypeError);
  });

  it('restores an ALB group in calls of at most 40 servers; a failed job leaves only its servers drained', async () => {
    const ids = Array.from({ length: 60 }, (_, k) => `i-${k}`);
    const cloud = liveCloud({ alb: { 'sgp-1': ids.map((id) => albServer(id, 80, 0)) } });
    // The first job (40 servers) fails and changes nothing; the second succeeds.
    let calls = 0;
    cloud.always('alb.updateServerGroupServersAttribute', (_r, id) => {
      calls++;
      return { requestId: `req-set-${id}-${calls}`, jobId: `job-${calls}` };
    });
    const applied = new Map<string, number>();
    cloud.always('alb.listServerGroupServers', (_r, _id, opts) => ({
      requestId: 'req-list',
      servers: ids
        .filter((id) => !opts?.serverIds || opts.serverIds.includes(id))
        .map((id) => albServer(id, 80, applied.get(id) ?? 0)),
    }));
    cloud.script('alb.listAsynJobs', (_r, jobIds) => ({
      requestId: 'req-jobs',
      jobs: [albJob(jobIds[0] ?? '', 'Failed', { errorCode: 'Conflict.Lock' })],
    }));
    cloud.script('alb.listAsynJobs', (_r, jobIds) => {
      for (const id of ids.slice(40)) applied.set(id, 100);
      return { requestId: 'req-jobs', jobs: [albJob(jobIds[0] ?? '', 'Succeeded')] };
    });
    const a = activityEnv({ attempt: 5 });
    const res = await a.run((hb) => runUndrain(cloud.client, undrain(ids.map((id) => albRec(id, 80))), hb));

    expect(cloud.argsOf('alb.updateServerGroupServersAttribute').map(([, , servers]) => servers.length)).toEqual([
      40, 20,
    ]);
    expect(res.restoredInstanceIds).toEqual(ids.slice(40));
    expect(res.notRestored?.map((n) => n.instanceId)).toEqual(ids.slice(0, 40));
    expect(res.notRestored?.[0]?.drainedOn).toEqual([
      {
        place: 'ALB server group sgp-1',
        code: 'AlbJobFailed',
        message: 'ALB job job-1 of UpdateServerGroupServersAttribute failed: Conflict.Lock',
      },
    ]);
  });

  it('waits for the ALB job with a doubling pause, then reads the weights back', async () => {
    const cloud = liveCloud({ alb: { 'sgp-1': [albServer('i-1', 8080, 0)] } }).script(
      'alb.listAsynJobs',
      { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Processing')] },
      { requestId: 'req-jobs', jobs: [albJob('job-sgp-1', 'Succeeded')] },
    );
    const a = activityEnv();
    const res = await a.run((hb) => runUndrain(cloud.client, undrain([albRec('i-1')]), hb));
    expect(res.restoredInstanceIds).toEqual(['i-1']);
    // One pause before the first look, one after the look that found it still running.
    expect(a.sleeps).toEqual([200, 400]);
    expect(cloud.argsOf('alb.listAsynJobs')).toHaveLength(2);
  });

  it('takes at most 20 instances out of Standby per call, and checks they left it', async () => {
    const ids = Array.from({ length: 21 }, (_, k) => `i-${k}`);
    const cloud = loadBalancerCloud({})
      .script(
        'ess.describeScalingInstances',
        instances(...ids.map((id) => instance(id, { lifecycleState: 'Standby' }))),
        // i-0 is still in Standby when read back.
        instances(...ids.map((id) => instance(id, { lifecycleState: id === 'i-0' ? 'Standby' : 'InService' }))),
      )
      .script('ess.exitStandby', { requestId: 'req-a' }, { requestId: 'req-b' });
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(cloud.client, undrain(ids.map((instanceId) => ({ kind: 'standby', instanceId }))), hb),
    );

    expect(cloud.argsOf('ess.exitStandby').map(([, , part]) => part)).toEqual([ids.slice(0, 20), ids.slice(20)]);
    expect(res).toMatchObject({ restoredInstanceIds: ids.slice(1), requestIds: ['req-a', 'req-b'] });
    expect(res.notRestored).toEqual([
      {
        instanceId: 'i-0',
        restoredOn: [],
        drainedOn: [
          {
            place: 'standby',
            code: 'WeightNotRestored',
            message: 'the change was accepted but the weight did not read back as before',
          },
        ],
      },
    ]);
  });

  describe('standby records with the weights read before EnterStandby', () => {
    const standbyRecs: RestoreRecord[] = [
      { kind: 'standby', instanceId: 'i-1' },
      clbRec('i-1', 70),
      vsgRec('i-1', 80, 30),
    ];

    /** i-1 in Standby at weight 0; ExitStandby (if `exits`) makes it InService at weight 50, as the reference says. */
    function standbyCloud({ exits = true, weightsStick = true } = {}) {
      let state = 'Standby';
      const lbs: LoadBalancerState = {
        clb: { 'lb-1': [{ serverId: 'i-1', weight: 0, type: 'ecs' }] },
        vsg: { 'rsp-1': [{ serverId: 'i-1', weight: 0, type: 'ecs', port: 80 }] },
      };
      const all = () => [...(lbs.clb?.['lb-1'] ?? []), ...(lbs.vsg?.['rsp-1'] ?? [])];
      const set = (list: Array<{ serverId: string; weight: number }> | undefined, servers: typeof list) => {
        for (const s of servers ?? []) {
          const b = list?.find((x) => x.serverId === s.serverId);
          if (b && weightsStick) b.weight = s.weight;
        }
      };
      const cloud = loadBalancerCloud(lbs)
        .always('ess.describeScalingInstances', () => instances(instance('i-1', { lifecycleState: state })))
        .always('ess.exitStandby', () => {
          if (exits) {
            state = 'InService';
            for (const b of all()) b.weight = 50;
          }
          return { requestId: 'req-exit', scalingActivityId: undefined };
        })
        .always('clb.setBackendServers', (_r, id, servers) => {
          set(lbs.clb?.[id], servers);
          return { requestId: `req-set-${id}`, backendServers: servers };
        })
        .always('clb.setVServerGroupAttribute', (_r, id, servers) => {
          set(lbs.vsg?.[id], servers);
          return { requestId: `req-set-${id}`, backendServers: servers };
        });
      return { cloud, weights: () => all().map((b) => b.weight) };
    }

    it('leaves Standby first, then sets the weights of before (not 50) and reads them back', async () => {
      const { cloud, weights } = standbyCloud();
      const a = activityEnv();
      const res = await a.run((hb) => runUndrain(cloud.client, undrain(standbyRecs), hb));

      expect(weights()).toEqual([70, 30]);
      expect(cloud.ops()).toEqual([
        'ess.describeScalingInstances',
        'ess.exitStandby',
        'ess.describeScalingInstances',
        'clb.describeLoadBalancerAttribute',
        'clb.setBackendServers',
        'clb.describeLoadBalancerAttribute',
        'clb.describeVServerGroupAttribute',
        'clb.setVServerGroupAttribute',
        'clb.describeVServerGroupAttribute',
      ]);
      expect(cloud.argsOf('clb.setBackendServers')[0]?.[2]).toEqual([{ serverId: 'i-1', weight: 70, type: 'ecs' }]);
      expect(res).toEqual({
        restoredInstanceIds: ['i-1'],
        goneInstanceIds: [],
        requestIds: ['req-exit', 'req-set-lb-1', 'req-set-rsp-1'],
        notRestored: [],
      });
    });

    it('InService with a weight that does not read back is not restored', async () => {
      const { cloud, weights } = standbyCloud({ weightsStick: false });
      const a = activityEnv();
      const res = await a.run((hb) => runUndrain(cloud.client, undrain(standbyRecs), hb));

      expect(weights()).toEqual([50, 50]);
      expect(res.restoredInstanceIds).toEqual([]);
      const message = 'the change was accepted but the weight did not read back as before';
      expect(res.notRestored).toEqual([
        {
          instanceId: 'i-1',
          restoredOn: ['standby'],
          drainedOn: [
            { place: 'CLB lb-1', code: 'WeightNotRestored', message },
            { place: 'vserver group rsp-1', code: 'WeightNotRestored', message },
          ],
        },
      ]);
    });

    it('one still in Standby gets no weight (traffic would undo its Standby) and is not restored', async () => {
      const { cloud, weights } = standbyCloud({ exits: false });
      const a = activityEnv();
      const res = await a.run((hb) => runUndrain(cloud.client, undrain(standbyRecs), hb));

      expect(weights()).toEqual([0, 0]);
      expect(cloud.ops()).toEqual(['ess.describeScalingInstances', 'ess.exitStandby', 'ess.describeScalingInstances']);
      const still = 'still in Standby: the weight is set after it leaves';
      expect(res.notRestored).toEqual([
        {
          instanceId: 'i-1',
          restoredOn: [],
          drainedOn: [
            {
              place: 'standby',
              code: 'WeightNotRestored',
              message: 'the change was accepted but the weight did not read back as before',
            },
            { place: 'CLB lb-1', code: 'WeightNotRestored', message: still },
            { place: 'vserver group rsp-1', code: 'WeightNotRestored', message: still },
          ],
        },
      ]);
    });
  });

  it('does nothing without records', async () => {
    const cloud = loadBalancerCloud({});
    const a = activityEnv();
    const res = await a.env.run(createActivities({ cloud: cloud.client }).undrain, undrain([]));
    expect(res).toEqual({ restoredInstanceIds: [], goneInstanceIds: [], requestIds: [], notRestored: [] });
    expect(cloud.calls).toEqual([]);
  });
});
