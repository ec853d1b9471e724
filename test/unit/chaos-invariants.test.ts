import { describe, expect, it } from 'vitest';
import { checkInvariants, instancesNamedIn, type InvariantInput } from '../../chaos/invariants';
import type { CallLogEntry, EmulatorStateSnapshot } from '../../src/emulator/types';
import type { ScaleInResult } from '../../src/shared/progress';

const G = 'asg-bp1chaosunit000000001';
const [I1, I2, I3, I4] = [
  'i-bp1unit000000000001',
  'i-bp1unit000000000002',
  'i-bp1unit000000000003',
  'i-bp1unit000000000004',
] as const;

function snapshot(
  instances: Array<{ id: string; state?: string; weight?: number }>,
  activities: Array<{ id: string; ids: string[]; status?: string }> = [],
): EmulatorStateSnapshot {
  return {
    scenarioName: 'unit',
    now: '2026-11-26T00:00:00Z',
    accessKeyIds: [],
    timeScale: 1,
    groups: [],
    dbInstances: [],
    jobs: [],
    ecsRecords: [],
    instances: instances.map((i) => ({
      instanceId: i.id,
      scalingGroupId: G,
      lifecycleState: i.state ?? 'InService',
      creationType: 'AutoCreated',
      healthStatus: 'Healthy',
      creationTime: '2026-01-01T00:00:00Z',
      entrusted: false,
      zoneId: 'cn-hangzhou-h',
      privateIp: '10.0.0.1',
    })),
    loadBalancers: [
      {
        loadBalancerId: 'lb-unit',
        regionId: 'cn-hangzhou',
        status: 'active',
        vServerGroups: [],
        backendServers: instances
          .filter((i) => i.weight !== undefined)
          .map((i) => ({ serverId: i.id, weight: i.weight as number, type: 'ecs', health: 'normal' })),
      },
    ],
    albServerGroups: [],
    activities: activities.map((a) => ({
      scalingActivityId: a.id,
      scalingGroupId: G,
      kind: 'RemoveInstances',
      statusCode: a.status ?? 'Successful',
      progress: 100,
      instanceIds: a.ids,
      failedInstanceIds: [],
      ignoredInstanceIds: [],
      removePolicy: 'release',
      startTime: '2026-11-26T00:00:00Z',
    })),
  };
}

let seq = 0;
function call(action: string, params: Record<string, string>, createdActivityId?: string): CallLogEntry {
  return {
    seq: ++seq,
    time: '2026-11-26T00:00:00Z',
    method: 'POST',
    action,
    version: '2014-08-28',
    product: 'ess',
    params,
    httpStatus: 200,
    outcome: 'ok',
    requestId: 'r',
    delivered: true,
    durationMs: 1,
    ...(createdActivityId ? { createdActivityId } : {}),
  };
}

function result(removed: string[], notRemoved: Array<[string, string]>, countRemoved = removed.length): ScaleInResult {
  return {
    workflowId: 'w',
    outcome: 'completed-with-failures',
    message: '',
    plan: undefined,
    batches: [],
    counts: {
      total: removed.length + notRemoved.length,
      removed: countRemoved,
      failed: notRemoved.length,
      restored: 0,
      skipped: 0,
      pending: 0,
    },
    removed: removed.length
      ? [{ batch: 1, scalingActivityId: 'asa-1', statusCode: 'Warning', instanceIds: removed, why: 'removed' }]
      : [],
    notRemoved: notRemoved.map(([instanceId, why]) => ({ instanceId, outcome: 'failed' as const, why })),
  };
}

/** I1 and I2 removed by one activity; I3 failed, back in service at weight 100 and reported; I4 never requested. */
function good(): InvariantInput {
  return {
    requested: new Map([[G, [I1, I2, I3]]]),
    initial: snapshot([
      { id: I1, weight: 100 },
      { id: I2, weight: 100 },
      { id: I3, weight: 100 },
      { id: I4, weight: 100 },
    ]),
    final: snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    ),
    calls: [
      call('DescribeScalingInstances', { ScalingGroupId: G, 'InstanceId.1': I4 }),
      call('SetBackendServers', {
        LoadBalancerId: 'lb-unit',
        BackendServers: JSON.stringify([{ ServerId: I3, Weight: '0' }]),
      }),
      call(
        'RemoveInstances',
        { ScalingGroupId: G, 'InstanceId.1': I1, 'InstanceId.2': I2, 'InstanceId.3': I3 },
        'asa-1',
      ),
      // A lost-response retry that the API refused is not an acceptance.
      call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I1 }),
    ],
    results: new Map([
      [G, result([I1, I2], [[I3, 'scaling activity asa-1 ended Warning; the instance is still in the group']])],
    ]),
  };
}

const names = (i: InvariantInput) => [...new Set(checkInvariants(i).map((v) => v.invariant))].sort();

describe('chaos invariants', () => {
  it('finds nothing wrong in a consistent run, reads and refused calls included', () => {
    expect(checkInvariants(good())).toEqual([]);
  });

  it('finds instance IDs anywhere in the parameters, JSON included', () => {
    expect(
      instancesNamedIn({
        params: { BackendServers: `[{"ServerId":"${I1}"},{"ServerId":"${I2}"}]`, 'Servers.1.ServerId': I3 },
      }).sort(),
    ).toEqual([I1, I2, I3]);
  });

  it('an instance accepted twice: by two accepted calls, or in two scaling activities', () => {
    const twice = good();
    twice.calls = [...twice.calls, call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I2 }, 'asa-2')];
    expect(names(twice)).toEqual(['accepted-once']);
    const twoActivities = good();
    twoActivities.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [
        { id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' },
        { id: 'asa-2', ids: [I1], status: 'Failed' },
      ],
    );
    expect(names(twoActivities)).toEqual(['accepted-once']);
  });

  it('an instance outside the request: named by a change call, or changed in state', () => {
    const named = good();
    named.calls = [
      ...named.calls,
      call('SetBackendServers', {
        LoadBalancerId: 'lb-unit',
        BackendServers: JSON.stringify([{ ServerId: I4, Weight: '100' }]),
      }),
    ];
    expect(names(named)).toEqual(['only-requested-touched']);
    const changed = good();
    changed.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 0 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    expect(names(changed)).toEqual(['only-requested-touched']);
    const gone = good();
    gone.final = snapshot([{ id: I3, weight: 100 }], [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }]);
    expect(checkInvariants(gone).map((v) => v.detail)).toContain(`${I4} was not requested but left ${G}`);
  });

  it('an instance still in the group with no reason, or no result at all', () => {
    const silent = good();
    silent.results = new Map([[G, result([I1, I2], [])]]);
    expect(names(silent)).toEqual(['every-instance-accounted', 'result-matches-cloud']);
    const none = good();
    none.results = new Map([[G, undefined]]);
    expect(names(none)).toEqual(['every-instance-accounted']);
    const blank = good();
    blank.results = new Map([[G, result([I1, I2], [[I3, '  ']])]]);
    expect(names(blank)).toEqual(['every-instance-accounted']);
  });

  it('an instance left drained, or left in Standby, after it was not removed', () => {
    const drained = good();
    drained.final = snapshot(
      [
        { id: I3, weight: 0 },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    expect(names(drained)).toEqual(['none-left-drained']);
    const standby = good();
    standby.final = snapshot(
      [
        { id: I3, weight: 100, state: 'Standby' },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    expect(names(standby)).toEqual(['none-left-drained']);
  });

  it('a result that disagrees with the cloud', () => {
    const claimsRemoved = good();
    claimsRemoved.results = new Map([[G, result([I1, I2, I3], [])]]);
    // Still in the group and reported removed: wrong, and (being in no not-removed entry) without a reason.
    expect(names(claimsRemoved)).toEqual(['every-instance-accounted', 'result-matches-cloud']);
    const claimsFailed = good();
    claimsFailed.results = new Map([
      [
        G,
        result(
          [I1],
          [
            [I2, 'failed'],
            [I3, 'failed'],
          ],
        ),
      ],
    ]);
    expect(names(claimsFailed)).toEqual(['result-matches-cloud']);
    const miscounted = good();
    miscounted.results = new Map([[G, result([I1, I2], [[I3, 'failed']], 3)]]);
    expect(names(miscounted)).toEqual(['result-matches-cloud']);
    const stranger = good();
    stranger.results = new Map([
      [
        G,
        result(
          [I1, I2],
          [
            [I3, 'failed'],
            [I4, 'failed'],
          ],
        ),
      ],
    ]);
    expect(names(stranger)).toEqual(['result-matches-cloud']);
  });

  it('a scaling activity still running after the run ended', () => {
    const running = good();
    running.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'InProgress' }],
    );
    expect(names(running)).toEqual(['activities-ended']);
  });
});
