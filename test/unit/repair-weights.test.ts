import { describe, expect, it } from 'vitest';
import { runRepairWeights, type RepairWeightsResponse } from '../../src/activities/verify';
import { Heartbeat } from '../../src/activities/heartbeat';
import type { AlbServer, ClbBackendServer } from '../../src/aliyun/types';
import type { RestoreRecord } from '../../src/shared/restore';
import { activityEnv } from './activities/activity-env';
import { FakeCloud, albJob, apiError, instance, instances, loadBalancer, vServerGroup } from './activities/fake-cloud';

const R = 'cn-hangzhou';
const clbRec = (serverId: string, weight: number): RestoreRecord => ({
  kind: 'clb',
  loadBalancerId: 'lb-1',
  serverId,
  weight,
});
const vsgRec = (serverId: string, weight: number): RestoreRecord => ({
  kind: 'vsg',
  vServerGroupId: 'rsp-1',
  serverId,
  port: 80,
  weight,
});
const albRec = (serverId: string, weight: number): RestoreRecord => ({
  kind: 'alb',
  serverGroupId: 'sgp-1',
  serverId,
  serverType: 'Ecs',
  port: 80,
  weight,
});

/** Load balancers whose weights change when set, unless `sticks` says a set is ignored. */
function liveCloud(
  state: { clb: ClbBackendServer[]; vsg: ClbBackendServer[]; alb: AlbServer[] },
  members = ['i-1', 'i-2', 'i-3'].map((id) => instance(id)),
  sticks = true,
): FakeCloud {
  const apply = <T extends { serverId: string; weight: number; port?: number | undefined }>(list: T[], set: T[]) => {
    if (!sticks) return;
    for (const s of set) {
      const b = list.find((x) => x.serverId === s.serverId && (s.port === undefined || x.port === s.port));
      if (b) b.weight = s.weight;
    }
  };
  return new FakeCloud()
    .always('ess.describeScalingInstances', instances(...members))
    .always('clb.describeLoadBalancerAttribute', (_r, id) => loadBalancer(id, structuredClone(state.clb)))
    .always('clb.describeVServerGroupAttribute', (_r, id) => vServerGroup(id, structuredClone(state.vsg)))
    .always('alb.listServerGroupServers', () => ({ requestId: 'req-list', servers: structuredClone(state.alb) }))
    .always('clb.setBackendServers', (_r, id, servers) => {
      apply(state.clb, servers);
      return { requestId: `req-set-${id}`, backendServers: servers };
    })
    .always('clb.setVServerGroupAttribute', (_r, id, servers) => {
      apply(state.vsg, servers);
      return { requestId: `req-set-${id}`, backendServers: servers };
    })
    .always('alb.updateServerGroupServersAttribute', (_r, id, servers) => {
      apply(state.alb, servers as AlbServer[]);
      return { requestId: `req-set-${id}`, jobId: `job-${id}` };
    })
    .always('alb.listAsynJobs', (_r, ids) => ({
      requestId: 'req-jobs',
      jobs: ids.map((id) => albJob(id, 'Succeeded')),
    }));
}

const ecs = (serverId: string, weight: number, port?: number): ClbBackendServer => ({
  serverId,
  weight,
  type: 'ecs',
  port,
});
const alb = (serverId: string, weight: number): AlbServer => ({
  serverId,
  serverType: 'Ecs',
  port: 80,
  weight,
  status: 'Available',
});

async function repair(cloud: FakeCloud, restore: RestoreRecord[]): Promise<RepairWeightsResponse> {
  const a = activityEnv({ heartbeatTimeoutMs: 0 });
  return a.env.run(() =>
    runRepairWeights(cloud.client, { regionId: R, scalingGroupId: 'asg-1', restore }, new Heartbeat()),
  );
}

describe('repairWeights: restore, then read back', () => {
  it('sets only what differs, verifies it, and reports already fine, gone and being removed', async () => {
    const state = { clb: [ecs('i-1', 0), ecs('i-2', 100)], vsg: [ecs('i-1', 0, 80)], alb: [] as AlbServer[] };
    const cloud = liveCloud(state, [instance('i-1'), instance('i-2'), instance('i-3', { lifecycleState: 'Removing' })]);
    const res = await repair(cloud, [
      clbRec('i-1', 80),
      clbRec('i-2', 100),
      vsgRec('i-1', 50),
      vsgRec('i-4', 100),
      clbRec('i-3', 100),
    ]);

    expect(res.places).toEqual([
      { instanceId: 'i-3', place: 'CLB lb-1', outcome: 'gone', why: 'being removed from the group (Removing)' },
      { instanceId: 'i-2', place: 'CLB lb-1', outcome: 'already-fine', why: 'weight 100, as before the run' },
      { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'restored', why: 'weight 0 → 80' },
      {
        instanceId: 'i-4',
        place: 'vserver group rsp-1 port 80',
        outcome: 'gone',
        why: 'no longer a backend of vserver group rsp-1 port 80',
      },
      { instanceId: 'i-1', place: 'vserver group rsp-1 port 80', outcome: 'restored', why: 'weight 0 → 50' },
    ]);
    expect(cloud.argsOf('clb.setBackendServers').map((a) => a[2])).toEqual([
      [{ serverId: 'i-1', weight: 80, type: 'ecs' }],
    ]);
    expect(state.clb.map((b) => b.weight)).toEqual([80, 100]);
  });

  it('a weight that does not read back as set is failed, with what it reads', async () => {
    const cloud = liveCloud({ clb: [ecs('i-1', 0)], vsg: [], alb: [] }, undefined, false);
    const res = await repair(cloud, [clbRec('i-1', 100)]);
    expect(res.places).toEqual([
      { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'failed', why: 'weight is 0 after setting 100' },
    ]);
  });

  it('an ALB job that fails leaves the weight as it was: the place fails with what it reads', async () => {
    // A failed job changes nothing: the server keeps weight 0.
    const state = { clb: [], vsg: [], alb: [alb('i-1', 0)] };
    const cloud = liveCloud(state, undefined, false).always('alb.listAsynJobs', (_r, ids) => ({
      requestId: 'req-jobs',
      jobs: ids.map((id) => albJob(id, 'Failed')),
    }));
    const res = await repair(cloud, [albRec('i-1', 100)]);
    expect(res.places).toEqual([
      {
        instanceId: 'i-1',
        place: 'ALB server group sgp-1 port 80',
        outcome: 'failed',
        why: 'weight is 0 after setting 100',
      },
    ]);
    expect(cloud.argsOf('alb.updateServerGroupServersAttribute')).toHaveLength(1);
  });

  it('a load balancer that refuses for good fails its own records; the others are still restored', async () => {
    const state = { clb: [ecs('i-1', 0)], vsg: [], alb: [alb('i-1', 0)] };
    const cloud = liveCloud(state).always(
      'clb.setBackendServers',
      apiError('Forbidden.Unauthorized', 403, { action: 'SetBackendServers' }),
    );
    const res = await repair(cloud, [clbRec('i-1', 100), albRec('i-1', 100)]);
    expect(res.places.map((p) => [p.place, p.outcome])).toEqual([
      ['CLB lb-1', 'failed'],
      ['ALB server group sgp-1 port 80', 'restored'],
    ]);
    expect(res.places[0]?.why).toMatch(/^CLB lb-1: Forbidden.Unauthorized: /);
    expect(state.alb[0]?.weight).toBe(100);
  });

  it('a load balancer that no longer exists: its records are gone, not failed', async () => {
    const cloud = liveCloud({ clb: [], vsg: [], alb: [] }).always(
      'clb.describeLoadBalancerAttribute',
      apiError('InvalidLoadBalancerId.NotFound', 404, { action: 'DescribeLoadBalancerAttribute' }),
    );
    const res = await repair(cloud, [clbRec('i-1', 100)]);
    expect(res.places).toEqual([
      {
        instanceId: 'i-1',
        place: 'CLB lb-1',
        outcome: 'gone',
        why: 'CLB lb-1 no longer exists (InvalidLoadBalancerId.NotFound)',
      },
    ]);
  });

  it('a retryable error retries the whole activity (it is idempotent)', async () => {
    const cloud = liveCloud({ clb: [ecs('i-1', 0)], vsg: [], alb: [] }).always(
      'clb.setBackendServers',
      apiError('Throttling', 400, { action: 'SetBackendServers' }),
    );
    await expect(repair(cloud, [clbRec('i-1', 100)])).rejects.toMatchObject({ code: 'Throttling' });
  });

  it('ALB changes go out 40 servers per call at most', async () => {
    const ids = Array.from({ length: 45 }, (_, k) => `i-${k}`);
    const state = { clb: [], vsg: [], alb: ids.map((id) => alb(id, 0)) };
    const cloud = liveCloud(
      state,
      ids.map((id) => instance(id)),
    );
    const res = await repair(
      cloud,
      ids.map((id) => albRec(id, 100)),
    );
    expect(cloud.argsOf('alb.updateServerGroupServersAttribute').map((a) => a[2].length)).toEqual([40, 5]);
    expect(res.places.every((p) => p.outcome === 'restored')).toBe(true);
  });

  it('standby: out of standby and read back; one already InService is fine, one that left is gone', async () => {
    let inStandby = true;
    const cloud = new FakeCloud()
      .always('ess.describeScalingInstances', () =>
        instances(instance('i-1', { lifecycleState: inStandby ? 'Standby' : 'InService' }), instance('i-2')),
      )
      .always('ess.exitStandby', () => {
        inStandby = false;
        return { requestId: 'req-exit', scalingActivityId: undefined };
      });
    const standby = (instanceId: string): RestoreRecord => ({ kind: 'standby', instanceId });
    const res = await repair(cloud, [standby('i-1'), standby('i-2'), standby('i-3')]);
    expect(res.places).toEqual([
      { instanceId: 'i-2', place: 'standby', outcome: 'already-fine', why: 'InService, not in Standby' },
      { instanceId: 'i-3', place: 'standby', outcome: 'gone', why: 'no longer in the scaling group' },
      { instanceId: 'i-1', place: 'standby', outcome: 'restored', why: 'Standby → InService' },
    ]);
  });

  describe('standby with the weights read before EnterStandby', () => {
    const recs: RestoreRecord[] = [{ kind: 'standby', instanceId: 'i-1' }, clbRec('i-1', 70), vsgRec('i-1', 30)];

    /** i-1 in Standby at weight 0; ExitStandby (if `exits`) makes it InService at weight 50, as the reference says. */
    function standbyCloud(exits: boolean, sticks = true) {
      let state = 'Standby';
      const lbs = { clb: [ecs('i-1', 0)], vsg: [ecs('i-1', 0, 80)], alb: [] as AlbServer[] };
      const cloud = liveCloud(lbs, [], sticks)
        .always('ess.describeScalingInstances', () => instances(instance('i-1', { lifecycleState: state })))
        .always('ess.exitStandby', () => {
          if (exits) {
            state = 'InService';
            for (const b of [...lbs.clb, ...lbs.vsg]) b.weight = 50;
          }
          return { requestId: 'req-exit', scalingActivityId: undefined };
        });
      return { cloud, weights: () => [...lbs.clb, ...lbs.vsg].map((b) => b.weight) };
    }

    it('out of Standby first, then the weights of before (not the 50 ExitStandby sets), each read back', async () => {
      const { cloud, weights } = standbyCloud(true);
      const res = await repair(cloud, recs);

      expect(weights()).toEqual([70, 30]);
      expect(cloud.ops().indexOf('ess.exitStandby')).toBeLessThan(cloud.ops().indexOf('clb.setBackendServers'));
      expect(res.places).toEqual([
        { instanceId: 'i-1', place: 'standby', outcome: 'restored', why: 'Standby → InService' },
        { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'restored', why: 'weight 50 → 70' },
        { instanceId: 'i-1', place: 'vserver group rsp-1 port 80', outcome: 'restored', why: 'weight 50 → 30' },
      ]);
    });

    it('InService but a weight that does not read back: the weight place fails', async () => {
      const { cloud } = standbyCloud(true, false);
      const res = await repair(cloud, recs);

      expect(res.places).toEqual([
        { instanceId: 'i-1', place: 'standby', outcome: 'restored', why: 'Standby → InService' },
        { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'failed', why: 'weight is 50 after setting 70' },
        {
          instanceId: 'i-1',
          place: 'vserver group rsp-1 port 80',
          outcome: 'failed',
          why: 'weight is 50 after setting 30',
        },
      ]);
    });

    it('still in Standby after ExitStandby: no weight is set, every place fails', async () => {
      const { cloud, weights } = standbyCloud(false);
      const res = await repair(cloud, recs);

      expect(weights()).toEqual([0, 0]);
      expect(cloud.argsOf('clb.setBackendServers')).toEqual([]);
      expect(cloud.argsOf('clb.setVServerGroupAttribute')).toEqual([]);
      const still = 'still in Standby: the weight is set after it leaves Standby';
      expect(res.places).toEqual([
        { instanceId: 'i-1', place: 'standby', outcome: 'failed', why: 'still in Standby after ExitStandby' },
        { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'failed', why: still },
        { instanceId: 'i-1', place: 'vserver group rsp-1 port 80', outcome: 'failed', why: still },
      ]);
    });

    it('already InService (the run exited Standby but a weight failed): only the weight is set', async () => {
      const cloud = liveCloud({ clb: [ecs('i-1', 50)], vsg: [ecs('i-1', 30, 80)], alb: [] }, [instance('i-1')]);
      const res = await repair(cloud, recs);

      expect(cloud.argsOf('ess.exitStandby')).toEqual([]);
      expect(res.places).toEqual([
        { instanceId: 'i-1', place: 'standby', outcome: 'already-fine', why: 'InService, not in Standby' },
        { instanceId: 'i-1', place: 'CLB lb-1', outcome: 'restored', why: 'weight 50 → 70' },
        {
          instanceId: 'i-1',
          place: 'vserver group rsp-1 port 80',
          outcome: 'already-fine',
          why: 'weight 30, as before the run',
        },
      ]);
    });
  });
});
