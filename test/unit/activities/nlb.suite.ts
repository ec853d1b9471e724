import { describe, expect, it } from 'vitest';
import { DrainInterruptedError, NlbJobFailedError, runDrain, runUndrain } from '../../../src/activities/drain';
import { runPreflight } from '../../../src/activities/preflight';
import type { DrainRequest, RestoreRecord } from '../../../src/activities/types';
import { runRepairWeights, type RepairWeightsResponse } from '../../../src/activities/verify';
import { Heartbeat } from '../../../src/activities/heartbeat';
import { NLB_UPDATE_SERVERS_MAX_PER_CALL } from '../../../src/aliyun/nlb';
import type { NlbServer, ScalingGroup } from '../../../src/aliyun/types';
import type { NormalizedInput } from '../../../src/shared/input';
import { activityEnv, rejectionOf } from './activity-env';
import {
  apiError,
  FakeCloud,
  instance,
  instances,
  loadBalancer,
  loadBalancerCloud,
  nlbServer,
  scalingGroup,
  vServerGroup,
} from './fake-cloud';
import { normalizedInput } from './inputs';

const R = 'cn-hangzhou';

function drainRequest(over: Partial<DrainRequest> = {}): DrainRequest {
  return {
    regionId: R,
    scalingGroupId: 'asg-1',
    strategy: 'weight',
    instanceIds: ['i-1', 'i-2'],
    loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: [], nlbServerGroupIds: ['sgp-n1'] },
    alreadyStandby: [],
    batchIndex: 0,
    ...over,
  };
}

const nlbRec = (serverId: string, weight: number, port = 443): RestoreRecord => ({
  kind: 'nlb',
  serverGroupId: 'sgp-n1',
  serverId,
  serverType: 'Ecs',
  port,
  weight,
});

/** An NLB whose weights change when a job is read back as Succeeded (after `processing` polls). */
function liveNlb(servers: NlbServer[], processing = 0): { cloud: FakeCloud; servers: Map<string, NlbServer> } {
  const state = new Map(servers.map((s) => [`${s.serverId}/${s.port}`, { ...s }]));
  const pending = new Map<string, Array<{ key: string; weight: number }>>();
  let polls = 0;
  let n = 0;
  const cloud = new FakeCloud()
    .always('nlb.listServerGroupServers', (_r, id, opts) => ({
      requestId: `req-list-${id}`,
      servers: [...state.values()].filter((s) => !opts?.serverIds || opts.serverIds.includes(s.serverId)),
    }))
    .always('nlb.updateServerGroupServersAttribute', (_r, id, list) => {
      const jobId = `job-${++n}`;
      pending.set(
        jobId,
        list.map((s) => ({ key: `${s.serverId}/${s.port}`, weight: s.weight })),
      );
      return { requestId: `req-set-${id}-${n}`, jobId };
    })
    .always('nlb.getJobStatus', (_r, jobId) => {
      if (polls++ < processing) return { requestId: 'req-job', status: 'Processing' };
      for (const u of pending.get(jobId) ?? []) {
        const s = state.get(u.key);
        if (s) s.weight = u.weight;
      }
      return { requestId: 'req-job', status: 'Succeeded' };
    });
  return { cloud, servers: state };
}

describe('NLB drain', () => {
  it('snapshots the NLB weights, sets them to 0 and waits for the job (GetJobStatus)', async () => {
    const { cloud, servers } = liveNlb(
      [nlbServer('i-1', 443, 100), nlbServer('i-2', 443, 30, 'Eni'), nlbServer('i-9', 443, 100)],
      2,
    );
    const a = activityEnv();
    const res = await a.run((hb) => runDrain(cloud.client, drainRequest(), hb));

    expect(res.restore).toEqual([nlbRec('i-1', 100), { ...nlbRec('i-2', 30), serverType: 'Eni' }]);
    expect(res.requestIds).toEqual(['req-set-sgp-n1-1']);
    expect(cloud.ops()).toEqual([
      'nlb.listServerGroupServers',
      'nlb.updateServerGroupServersAttribute',
      'nlb.getJobStatus',
      'nlb.getJobStatus',
      'nlb.getJobStatus',
    ]);
    expect(cloud.argsOf('nlb.updateServerGroupServersAttribute')[0]?.[2]).toEqual([
      { serverId: 'i-1', serverType: 'Ecs', port: 443, weight: 0 },
      { serverId: 'i-2', serverType: 'Eni', port: 443, weight: 0 },
    ]);
    expect(a.sleeps).toEqual([200, 400]);
    expect([...servers.values()].map((s) => s.weight)).toEqual([0, 0, 100]);
  });

  it(`splits more than ${NLB_UPDATE_SERVERS_MAX_PER_CALL} servers into calls of at most that many`, async () => {
    const ids = Array.from({ length: 45 }, (_, i) => `i-${i + 1}`);
    const { cloud } = liveNlb(ids.map((id) => nlbServer(id, 443, 100)));
    const a = activityEnv();
    await a.run((hb) => runDrain(cloud.client, drainRequest({ instanceIds: ids }), hb));
    expect(cloud.argsOf('nlb.updateServerGroupServersAttribute').map((c) => c[2].length)).toEqual([40, 5]);
  });

  it('a plan from before NLB was drained (no nlbServerGroupIds) makes no NLB call', async () => {
    const cloud = loadBalancerCloud({ nlb: { 'sgp-n1': [nlbServer('i-1', 443, 100)] } });
    const req = drainRequest({ loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: [] } });
    const a = activityEnv();
    expect((await a.run((hb) => runDrain(cloud.client, req, hb))).restore).toEqual([]);
    expect(cloud.calls).toEqual([]);
  });

  it('a job that ends Failed interrupts the drain with the originals to restore', async () => {
    const cloud = loadBalancerCloud({ nlb: { 'sgp-n1': [nlbServer('i-1', 443, 70)] } }).script('nlb.getJobStatus', {
      requestId: 'req-job',
      status: 'Failed',
    });
    const a = activityEnv();
    const e = await rejectionOf(a.run((hb) => runDrain(cloud.client, drainRequest(), hb)));
    expect(e).toBeInstanceOf(DrainInterruptedError);
    expect((e as DrainInterruptedError).cause).toBeInstanceOf(NlbJobFailedError);
    expect((e as DrainInterruptedError).restore).toEqual([nlbRec('i-1', 70)]);
  });
});

describe('NLB undrain and repair', () => {
  it('puts the recorded weights back, waits for the job and reads them back', async () => {
    const { cloud, servers } = liveNlb([nlbServer('i-1', 443, 0), nlbServer('i-2', 443, 0)], 1);
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(
        cloud.client,
        { regionId: R, scalingGroupId: 'asg-1', restore: [nlbRec('i-1', 100), nlbRec('i-2', 30), nlbRec('i-3', 50)] },
        hb,
      ),
    );
    expect(res.restoredInstanceIds.sort()).toEqual(['i-1', 'i-2']);
    expect(res.goneInstanceIds).toEqual(['i-3']);
    expect(res.notRestored).toEqual([]);
    expect([...servers.values()].map((s) => s.weight)).toEqual([100, 30]);
    expect(cloud.ops().filter((o) => o === 'nlb.getJobStatus')).toHaveLength(2);
  });

  it('a refused change leaves the instance drained on "NLB server group sgp-n1", with the code', async () => {
    const { cloud } = liveNlb([nlbServer('i-1', 443, 0)]);
    cloud.script('nlb.updateServerGroupServersAttribute', apiError('Forbidden.Unauthorized', 403));
    const a = activityEnv();
    const res = await a.run((hb) =>
      runUndrain(cloud.client, { regionId: R, scalingGroupId: 'asg-1', restore: [nlbRec('i-1', 100)] }, hb),
    );
    expect(res.notRestored).toEqual([
      {
        instanceId: 'i-1',
        restoredOn: [],
        drainedOn: [{ place: 'NLB server group sgp-n1', code: 'Forbidden.Unauthorized', message: expect.any(String) }],
      },
    ]);
  });

  it('repair sets what differs, verifies it, and names the NLB place with its port', async () => {
    const { cloud } = liveNlb([nlbServer('i-1', 443, 0), nlbServer('i-2', 443, 100)]);
    cloud.always('ess.describeScalingInstances', instances(instance('i-1'), instance('i-2')));
    const a = activityEnv({ heartbeatTimeoutMs: 0 });
    const res: RepairWeightsResponse = await a.env.run(() =>
      runRepairWeights(
        cloud.client,
        { regionId: R, scalingGroupId: 'asg-1', restore: [nlbRec('i-1', 80), nlbRec('i-2', 100)] },
        new Heartbeat(),
      ),
    );
    expect(res.places).toEqual(
      expect.arrayContaining([
        { instanceId: 'i-1', place: 'NLB server group sgp-n1 port 443', outcome: 'restored', why: 'weight 0 → 80' },
        {
          instanceId: 'i-2',
          place: 'NLB server group sgp-n1 port 443',
          outcome: 'already-fine',
          why: 'weight 100, as before the run',
        },
      ]),
    );
  });
});

describe('NLB preflight', () => {
  const IDS = ['i-1', 'i-2'];
  function input(over: Partial<NormalizedInput> = {}): NormalizedInput {
    return normalizedInput(IDS, over);
  }
  function cloudWith(group: Partial<ScalingGroup>, nlb: Record<string, NlbServer[] | Error> = {}): FakeCloud {
    return new FakeCloud()
      .always('ess.describeScalingGroup', scalingGroup(group))
      .always('ess.describeScalingInstances', instances(...IDS.map((id) => instance(id))))
      .always('clb.describeLoadBalancerAttribute', (_r, id) => loadBalancer(id))
      .always('clb.describeVServerGroupAttribute', (_r, id) => vServerGroup(id))
      .always('alb.listServerGroupServers', (_r, id) => ({ requestId: `req-${id}`, servers: [] }))
      .always('nlb.listServerGroupServers', (_r, id) => {
        const s = nlb[id];
        if (s instanceof Error) throw s;
        return { requestId: `req-${id}`, servers: s ?? [] };
      })
      .always('ess.describeLifecycleHooks', { hooks: [], requestIds: ['req-hooks'] });
  }
  const nlbAttached = {
    nlbServerGroups: [
      { nlbServerGroupId: 'sgp-n1', port: 443, weight: 100 },
      { nlbServerGroupId: 'sgp-n1', port: 80, weight: 100 },
    ],
  };

  it('plans the attached NLB server groups once each and reads each one', async () => {
    const cloud = cloudWith(nlbAttached, { 'sgp-n1': [nlbServer('i-1', 443, 100)] });
    const res = await runPreflight(cloud.client, { input: input() }, undefined);
    expect(res.problems).toEqual([]);
    expect(res.plan.loadBalancers).toEqual({
      clbIds: [],
      vServerGroups: [],
      albServerGroupIds: [],
      nlbServerGroupIds: ['sgp-n1'],
    });
    expect(cloud.argsOf('nlb.listServerGroupServers')).toEqual([[R, 'sgp-n1', { signal: undefined }]]);
    expect(res.plan.warnings.join('\n')).not.toMatch(/no attached load balancer/);
  });

  it('a group without NLB keeps the plan shape it had before (no nlbServerGroupIds)', async () => {
    const res = await runPreflight(cloudWith({}).client, { input: input() }, undefined);
    expect(res.plan.loadBalancers).toEqual({ clbIds: [], vServerGroups: [], albServerGroupIds: [] });
  });

  it('refuses an attached NLB server group that does not exist, naming it', async () => {
    const cloud = cloudWith(nlbAttached, { 'sgp-n1': apiError('ResourceNotFound.serverGroup', 404) });
    const res = await runPreflight(cloud.client, { input: input() }, undefined);
    expect(res.problems).toEqual([
      {
        field: 'drain',
        problem: 'NLB server group sgp-n1 attached to the group was not found',
        fix: 'detach it from the group (DetachServerGroups)',
      },
    ]);
  });

  it('sees an instance already at weight 0 on an NLB server group as drained before the run', async () => {
    const cloud = cloudWith(nlbAttached, { 'sgp-n1': [nlbServer('i-2', 443, 0)] });
    const res = await runPreflight(cloud.client, { input: input() }, undefined);
    expect(res.problems.map((p) => [p.field, p.instanceIds])).toEqual([['allowDrainedInstances', ['i-2']]]);
    expect(res.plan.warnings.join('\n')).toMatch(/i-2 \(NLB server group sgp-n1\)/);
  });

  it('refuses an attachment it cannot drain (GWLB), naming it, unless leaveUndrained lists it', async () => {
    const group = { otherServerGroups: [{ serverGroupId: 'sgp-g1', type: 'GWLB', port: 6081, weight: 100 }] };
    const refused = await runPreflight(cloudWith(group).client, { input: input() }, undefined);
    expect(refused.problems).toHaveLength(1);
    expect(refused.problems[0]?.field).toBe('drain');
    expect(refused.problems[0]?.problem).toMatch(/GWLB server group sgp-g1/);
    expect(refused.problems[0]?.fix).toMatch(/--leave-undrained sgp-g1/);

    const allowed = await runPreflight(
      cloudWith(group).client,
      { input: input({ leaveUndrained: ['sgp-g1'] }) },
      undefined,
    );
    expect(allowed.problems).toEqual([]);
    expect(allowed.plan.warnings.join('\n')).toMatch(/left undrained as asked: GWLB server group sgp-g1/);

    // Nothing is drained by weight with the other strategies, so nothing to refuse.
    const standby = await runPreflight(
      cloudWith(group).client,
      { input: input({ drain: { strategy: 'standby', timeoutSeconds: 300, maxDrainedAhead: 100 } }) },
      undefined,
    );
    expect(standby.problems).toEqual([]);
  });

  it('warns about a leaveUndrained ID that is no undrainable attachment', async () => {
    const res = await runPreflight(cloudWith({}).client, { input: input({ leaveUndrained: ['sgp-typo'] }) }, undefined);
    expect(res.problems).toEqual([]);
    expect(res.plan.warnings.join('\n')).toMatch(
      /leaveUndrained names no undrainable attachment of the group: sgp-typo/,
    );
  });
});
