import { describe, expect, it } from 'vitest';
import { checkInvariants, instancesNamedIn, unnamed, type InvariantInput } from '../../chaos/invariants';
import { DEFAULT_CLASSES, FAULT_CLASSES, parseClasses, planRun } from '../../chaos/plan';
import { validateScenario } from '../../src/emulator/scenario';
import type { CallLogEntry, EmulatorStateSnapshot, LifecycleActionSnapshot } from '../../src/emulator/types';
import type { InstanceOutcome, ScaleInResult } from '../../src/shared/progress';

const G = 'asg-bp1chaosunit000000001';
const [I1, I2, I3, I4] = [
  'i-bp1unit000000000001',
  'i-bp1unit000000000002',
  'i-bp1unit000000000003',
  'i-bp1unit000000000004',
] as const;

function snapshot(
  instances: Array<{ id: string; state?: string; weight?: number; group?: string }>,
  activities: Array<{ id: string; ids: string[]; status?: string; kind?: 'RemoveInstances' | 'Injected' }> = [],
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
      scalingGroupId: i.group ?? G,
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
      kind: a.kind ?? 'RemoveInstances',
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

function result(
  removed: string[],
  notRemoved: Array<[string, string] | [string, string, string]>,
  countRemoved = removed.length,
): ScaleInResult {
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
    notRemoved: notRemoved.map(([instanceId, why, outcome]) => ({
      instanceId,
      outcome: (outcome ?? 'failed') as InstanceOutcome,
      why,
    })),
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
    // A first activity that ended Rejected touched nothing: sending the instance again is no second removal.
    const afterRejected = good();
    afterRejected.calls = [
      call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I1, 'InstanceId.2': I2 }, 'asa-0'),
      ...afterRejected.calls,
    ];
    afterRejected.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [
        { id: 'asa-0', ids: [I1, I2], status: 'Rejected' },
        { id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' },
      ],
    );
    expect(checkInvariants(afterRejected)).toEqual([]);
    afterRejected.final.activities[0]!.statusCode = 'Failed';
    expect(names(afterRejected)).toEqual(['accepted-once']);
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

  it('a scaling activity of the run still running when the run said it was done, though it ended later', () => {
    const early = good();
    // By the final state the cloud had finished it; at the moment the result came back it had not.
    early.atEnd = new Map([
      [
        G,
        snapshot(
          [
            { id: I1, state: 'Removing' },
            { id: I2, state: 'Removing' },
            { id: I3, weight: 100 },
            { id: I4, weight: 100 },
          ],
          [{ id: 'asa-1', ids: [I1, I2, I3], status: 'InProgress' }],
        ),
      ],
    ]);
    expect(names(early)).toEqual(['activities-ended']);
    // Another actor's activity, or one the run never created, is not the run's to wait for.
    const other = good();
    other.atEnd = new Map([[G, snapshot([], [{ id: 'asa-other', ids: [], status: 'InProgress', kind: 'Injected' }])]]);
    expect(checkInvariants(other)).toEqual([]);
    other.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [
        { id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' },
        { id: 'asa-other', ids: [], status: 'InProgress', kind: 'Injected' },
      ],
    );
    expect(names(other)).toEqual(['activities-ended']);
    other.otherActors = [{ kind: 'competing-activity', groupId: G, activityId: 'asa-other' }];
    expect(checkInvariants(other)).toEqual([]);
  });

  it('an instance another actor moved out of the group while drained: left drained unless reported by place', () => {
    const P = 'asg-bp1chaosunitparking0';
    const detached = good();
    detached.final = snapshot(
      [
        { id: I3, weight: 0, group: P },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2], status: 'Successful' }],
    );
    detached.otherActors = [{ kind: 'detach', groupId: G, instanceId: I3 }];
    detached.results = new Map([[G, result([I1, I2], [[I3, 'skipped: left the scaling group', 'skipped']])]]);
    // The old check skipped instances whose group changed; this one does not.
    expect(names(detached)).toEqual(['none-left-drained']);
    detached.results = new Map([
      [G, result([I1, I2], [[I3, 'left the scaling group; weight 0 at lb-unit', 'drained-not-restored']])],
    ]);
    expect(checkInvariants(detached)).toEqual([]);
    // Reported, but without the place where it stays drained.
    detached.results = new Map([
      [G, result([I1, I2], [[I3, 'left the group, still drained', 'drained-not-restored']])],
    ]);
    expect(names(detached)).toEqual(['none-left-drained']);
    // Reported as removed by this run: it still exists, in another group.
    detached.results = new Map([[G, result([I1, I2, I3], [])]]);
    expect(names(detached)).toEqual(['every-instance-accounted', 'none-left-drained', 'result-matches-cloud']);
  });

  it('an instance still in the group, drained, reported with another outcome', () => {
    const drained = good();
    drained.final = snapshot(
      [
        { id: I3, weight: 0 },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    drained.results = new Map([[G, result([I1, I2], [[I3, 'failed; weight 0 at lb-unit']])]]);
    expect(names(drained)).toEqual(['none-left-drained']);
    drained.results = new Map([[G, result([I1, I2], [[I3, 'weight 0 at lb-unit', 'drained-not-restored']])]]);
    expect(checkInvariants(drained)).toEqual([]);
  });

  it('an instance left in Standby: naming Standby names the load balancers its state took it out of', () => {
    const standby = good();
    standby.final = snapshot(
      [
        { id: I3, weight: 0, state: 'Standby' },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    standby.results = new Map([
      [G, result([I1, I2], [[I3, 'left in standby: ExitStandby refused', 'drained-not-restored']])],
    ]);
    expect(checkInvariants(standby)).toEqual([]);
    // Not named at all, or named at its load balancer only: still a violation.
    standby.results = new Map([[G, result([I1, I2], [[I3, 'weight 0 at lb-unit', 'drained-not-restored']])]]);
    expect(checkInvariants(standby).map((v) => v.detail)).toEqual([expect.stringContaining('without naming Standby')]);
    // Standby covers the load balancers only while the instance really is in Standby.
    expect(unnamed(['lb-unit'], 'left in standby', 'InService')).toEqual(['lb-unit']);
    expect(unnamed(['Standby', 'lb-unit'], 'left in standby', 'Standby')).toEqual([]);
  });

  it('a terminated run: no result needed, but whatever it left drained must be in the harness report', () => {
    const term = good();
    term.final = snapshot(
      [
        { id: I2, weight: 0 },
        { id: I3, weight: 0, state: 'Standby' },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1], status: 'Successful' }],
    );
    term.results = new Map([[G, undefined]]);
    term.terminated = new Map([[G, [{ instanceId: I2, places: ['lb-unit'] }]]]);
    const found = checkInvariants(term);
    expect(found.map((v) => v.invariant)).toEqual(['none-left-drained']);
    expect(found[0]?.detail).toContain(I3);
    term.terminated = new Map([
      [
        G,
        [
          { instanceId: I2, places: ['lb-unit'] },
          { instanceId: I3, places: ['lb-unit', 'Standby'] },
        ],
      ],
    ]);
    expect(checkInvariants(term)).toEqual([]);
  });

  it("another actor's weight change outside the request is not blamed on the run, once recorded", () => {
    const manual = good();
    const own = call('SetVServerGroupAttribute', {
      VServerGroupId: 'rsp-unit',
      BackendServers: JSON.stringify([{ ServerId: I4, Weight: '7', Port: '8080' }]),
    });
    manual.calls = [...manual.calls, own];
    manual.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 7 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    expect(names(manual)).toEqual(['only-requested-touched']);
    manual.otherActors = [
      { kind: 'manual-weight', groupId: G, instanceId: I4, callSeqs: [own.seq], backendsAfter: { 'clb lb-unit': 7 } },
    ];
    expect(checkInvariants(manual)).toEqual([]);
    // The run setting it back to what it was before the other actor is a change outside the request.
    manual.final = snapshot(
      [
        { id: I3, weight: 100 },
        { id: I4, weight: 100 },
      ],
      [{ id: 'asa-1', ids: [I1, I2, I3], status: 'Warning' }],
    );
    expect(names(manual)).toEqual(['only-requested-touched']);
  });
});

describe('chaos invariants: a run refused without a result', () => {
  it('is accounted for only if it changed none of its instances', () => {
    const refused = good();
    refused.results = new Map([[G, undefined]]);
    refused.final = refused.initial;
    refused.calls = refused.calls.filter((c) => !/^(Set|Remove)/.test(c.action));
    expect(names(refused)).toEqual(['every-instance-accounted']);
    refused.refused = new Map([[G, 'PreflightFailed: instances are Protected']]);
    expect(checkInvariants(refused)).toEqual([]);
    refused.calls = [...refused.calls, call('EnterStandby', { ScalingGroupId: G, 'InstanceId.1': I1 })];
    expect(checkInvariants(refused).map((v) => v.detail)).toEqual([
      expect.stringContaining('failed without a result (PreflightFailed: instances are Protected) after 1 change call'),
    ]);
  });
});

describe('chaos invariants: lifecycle hooks', () => {
  const H1 = 'ash-unit1';
  const H2 = 'ash-unit2';
  const action = (token: string, hookId: string, activity: string): LifecycleActionSnapshot => ({
    lifecycleActionToken: token,
    lifecycleHookId: hookId,
    scalingActivityId: activity,
    scalingGroupId: G,
    instanceIds: [I1, I2, I3],
    status: 'Completed',
    result: 'CONTINUE',
    startTime: '2026-11-26T00:00:00Z',
    timeoutTime: '2026-11-26T00:10:00Z',
    heartbeats: 0,
  });
  const withHooks = (mode: 'wait' | 'complete' | 'skip', extra: Partial<InvariantInput> = {}): InvariantInput => {
    const i = good();
    i.final.lifecycleActions = [action('TOK-1', H1, 'asa-1'), action('TOK-2', H2, 'asa-1')];
    return {
      ...i,
      lifecycleHooks: new Map([[G, mode === 'wait' ? { mode } : { mode, hookIds: [H1] }]]),
      ...extra,
    };
  };
  const completeCall = (token: string, hookId: string, result = 'CONTINUE') =>
    call('CompleteLifecycleAction', {
      LifecycleHookId: hookId,
      LifecycleActionToken: token,
      LifecycleActionResult: result,
    });

  it('a run that completes the named hook of its own activity with CONTINUE is fine', () => {
    const i = withHooks('complete');
    expect(checkInvariants({ ...i, calls: [...i.calls, completeCall('TOK-1', H1)] })).toEqual([]);
  });

  it('completing a hook it was not asked to, another result, or an action that is not its own', () => {
    const i = withHooks('complete');
    expect(names({ ...i, calls: [...i.calls, completeCall('TOK-2', H2)] })).toEqual(['hooks-as-asked']);
    expect(names({ ...i, calls: [...i.calls, completeCall('TOK-1', H1, 'ABANDON')] })).toEqual(['hooks-as-asked']);
    expect(names({ ...i, calls: [...i.calls, completeCall('TOK-9', H1)] })).toEqual(['hooks-as-asked']);
    const w = withHooks('wait');
    expect(names({ ...w, calls: [...w.calls, completeCall('TOK-1', H1)] })).toEqual(['hooks-as-asked']);
    // An action of a scaling activity the run did not create (another actor's).
    i.final.lifecycleActions = [action('TOK-1', H1, 'asa-other')];
    expect(names({ ...i, calls: [...i.calls, completeCall('TOK-1', H1)] })).toEqual(['hooks-as-asked']);
  });

  it('RemoveInstances bypasses exactly the hooks the run was asked to skip', () => {
    const remove = (extra: Record<string, string>) =>
      call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I1, ...extra }, 'asa-2');
    const skip = withHooks('skip');
    const named = { 'LifecycleHookContext.IgnoredLifecycleHookIds.1': H1 };
    const disable = { 'LifecycleHookContext.DisableLifecycleHook': 'true' };
    // Only the bypass is judged here; asa-2 is not in the final state's activities.
    const only = (i: InvariantInput) => checkInvariants(i).filter((v) => v.invariant === 'hooks-as-asked');
    expect(only({ ...skip, calls: [remove(named)] })).toEqual([]);
    expect(only({ ...skip, calls: [remove(disable)] })).toHaveLength(1);
    expect(only({ ...skip, calls: [remove({})] })).toHaveLength(1);
    const all = { ...skip, lifecycleHooks: new Map([[G, { mode: 'skip' as const, all: true }]]) };
    expect(only({ ...all, calls: [remove(disable)] })).toEqual([]);
    expect(only({ ...all, calls: [remove(named)] })).toHaveLength(1);
    expect(only({ ...withHooks('wait'), calls: [remove(named)] })).toHaveLength(1);
    expect(only({ ...withHooks('complete'), calls: [remove({})] })).toEqual([]);
  });

  it('an instance a ROLLBACK kept must be reported not removed, with a reason that says ROLLBACK', () => {
    const rolledBack = () => {
      const i = withHooks('wait');
      i.final.activities = [
        { ...(i.final.activities[0] as EmulatorStateSnapshot['activities'][number]), instanceIds: [I1, I2] },
        {
          ...(i.final.activities[0] as EmulatorStateSnapshot['activities'][number]),
          scalingActivityId: 'asa-2',
          statusCode: 'Failed',
          instanceIds: [I3],
          failedInstanceIds: [I3],
          errorCode: 'LifecycleHookRollback',
        },
      ];
      i.calls = [
        ...i.calls.filter((c) => c.action !== 'RemoveInstances'),
        call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I1, 'InstanceId.2': I2 }, 'asa-1'),
        call('RemoveInstances', { ScalingGroupId: G, 'InstanceId.1': I3 }, 'asa-2'),
      ];
      return i;
    };
    const vague = rolledBack();
    expect(names(vague)).toEqual(['hooks-as-asked']);
    const said = rolledBack();
    said.results = new Map([
      [G, result([I1, I2], [[I3, 'lifecycle hook h (ash-unit1) ended ROLLBACK: ESS kept the instance']])],
    ]);
    expect(checkInvariants(said)).toEqual([]);
  });
});

describe('chaos plan', () => {
  it('is the same for the same seed, and a class drawn leaves the base plan and the other classes as they were', () => {
    const none = planRun(1000, 'abcde', []);
    const all = planRun(1000, 'abcde', [...FAULT_CLASSES]);
    expect(planRun(1000, 'abcde', [...FAULT_CLASSES])).toEqual(all);
    expect(none.classes).toEqual(['base']);
    // Classes only add rules, ahead of the base ones (lost-checkpoint's must decide first).
    expect(all.faults.slice(all.faults.length - none.faults.length)).toEqual(none.faults);
    expect(all.groups.map((g) => g.requested)).toEqual(none.groups.map((g) => g.requested));
    // Each class alone is drawn exactly when it is drawn among all of them.
    for (const c of FAULT_CLASSES) {
      const alone = planRun(1000, 'abcde', [c]).classes.includes(c);
      expect(alone).toBe(all.classes.includes(c));
    }
  });

  it('draws every class at a rate near CLASS_RATE over 200 seeds', () => {
    for (const c of FAULT_CLASSES) {
      const drawn = Array.from({ length: 200 }, (_, i) => planRun(5000 + i, 'abcde', [c])).filter((p) =>
        p.classes.includes(c),
      ).length;
      expect(drawn, c).toBeGreaterThan(40);
      expect(drawn, c).toBeLessThan(110);
    }
  });

  it('lost-checkpoint: a throttle, a held answer and slow reads aimed at one group, a Warning, a kill', () => {
    const seeds = Array.from({ length: 60 }, (_, i) => planRun(3000 + i, 'abcde', ['lost-checkpoint']));
    const drawn = seeds.filter((p) => p.classes.includes('lost-checkpoint'));
    expect(drawn.length).toBeGreaterThan(5);
    for (const p of drawn) {
      const kill = p.kills.find((k) => k.onRemovalOf);
      const g = p.groups.find((x) => x.groupId === kill?.onRemovalOf);
      expect(g).toBeDefined();
      const mine = { ScalingGroupId: g?.groupId };
      expect(p.faults.slice(0, 3)).toEqual([
        { action: 'RemoveInstances', kind: 'Throttling', times: 1, params: mine },
        expect.objectContaining({ action: 'RemoveInstances', latencyMs: 8000, latencyAfterEffect: true, params: mine }),
        expect.objectContaining({ action: 'DescribeScalingInstances', latencyMs: 2500, params: mine }),
      ]);
      const victim = p.activityOutcomes[0]?.failInstanceIds?.[0] ?? '';
      expect(g?.requested.slice(0, g.input.batchSize)).toContain(victim);
      expect(p.ignoreClientToken).toBe(false);
    }
    const lags = new Set(drawn.map((p) => p.scenario.timings?.activityListingLagMs ?? 0));
    expect(lags).toEqual(new Set([0, 60_000]));
  });

  it('lifecycle-hooks: hooks on the scenario, the input names existing ones, time-scaled within the budget', () => {
    const drawn = Array.from({ length: 60 }, (_, i) => 3000 + i)
      .map((seed) => ({ seed, p: planRun(seed, 'abcde', ['lifecycle-hooks']) }))
      .filter(({ p }) => p.classes.includes('lifecycle-hooks'));
    expect(drawn.length).toBeGreaterThan(5);
    const modes = new Set<string>();
    const defaults = new Set<string>();
    const actorResults = new Set<string>();
    for (const { seed, p } of drawn) {
      // Deterministic, and the same drawn alone as among all the classes.
      expect(planRun(seed, 'abcde', ['lifecycle-hooks'])).toEqual(p);
      const all = planRun(seed, 'abcde', [...FAULT_CLASSES]);
      expect(all.scenario.scalingGroups?.map((g) => g.lifecycleHooks)).toEqual(
        p.scenario.scalingGroups?.map((g) => g.lifecycleHooks),
      );
      expect(all.groups.map((g) => g.input.lifecycleHooks)).toEqual(p.groups.map((g) => g.input.lifecycleHooks));
      expect(all.otherActors.filter((a) => a.kind === 'complete-hook')).toEqual(
        p.otherActors.filter((a) => a.kind === 'complete-hook'),
      );
      expect(all.timeScale).toBe(p.timeScale);
      expect(() => validateScenario(p.scenario)).not.toThrow();
      const scale = p.timeScale ?? 0;
      expect(scale).toBeGreaterThan(0);
      expect(scale).toBeLessThanOrEqual(0.01);
      // The scenario's timings, once the emulator scales them, are those of the plan without the class.
      const none = planRun(seed, 'abcde', []);
      for (const [k, v] of Object.entries(p.scenario.timings ?? {}))
        expect(Math.round(v * scale), k).toBe(
          none.scenario.timings?.[k as keyof NonNullable<typeof none.scenario.timings>],
        );
      const hooked = p.groups.filter((g) => g.input.lifecycleHooks);
      expect(hooked.length).toBeGreaterThan(0);
      for (const g of hooked) {
        const hooks = p.scenario.scalingGroups?.find((x) => x.id === g.groupId)?.lifecycleHooks ?? [];
        expect(hooks.length).toBeGreaterThanOrEqual(1);
        expect(hooks.length).toBeLessThanOrEqual(2);
        const opts = g.input.lifecycleHooks ?? {};
        modes.add(opts.all ? 'skip-all' : (opts.mode ?? 'wait'));
        for (const id of opts.hookIds ?? []) expect(hooks.map((h) => h.id)).toContain(id);
        for (const h of hooks) {
          expect(h.lifecycleTransition).toBe('SCALE_IN');
          expect(h.heartbeatTimeout).toBeGreaterThanOrEqual(30);
          expect(h.heartbeatTimeout).toBeLessThanOrEqual(300);
          defaults.add(h.defaultResult ?? '');
        }
        // Every batch waiting out its longest hook stays within 30 s of wall time.
        const batches = Math.ceil(g.requested.length / (g.input.batchSize ?? 20));
        const longest = Math.max(...hooks.map((h) => h.heartbeatTimeout ?? 600));
        expect(batches * longest * scale).toBeLessThanOrEqual(30.001);
      }
      for (const a of p.otherActors.filter((x) => x.kind === 'complete-hook')) {
        expect(hooked.map((g) => g.groupId)).toContain(a.groupId);
        for (const c of a.completions ?? []) actorResults.add(c.result);
      }
    }
    expect(modes).toEqual(new Set(['wait', 'complete', 'skip', 'skip-all']));
    expect(defaults).toEqual(new Set(['CONTINUE', 'ABANDON', 'ROLLBACK']));
    expect(actorResults).toEqual(new Set(['CONTINUE', 'ABANDON', 'ROLLBACK']));
    // Plans without the class are left as they were: no time scale.
    expect(planRun(3000, 'abcde', []).timeScale).toBeUndefined();
  });

  it('parses --classes, naming the valid classes when one is unknown', () => {
    expect(parseClasses('all')).toEqual([...FAULT_CLASSES]);
    expect(parseClasses('none')).toEqual([]);
    expect(parseClasses(undefined)).toEqual([...DEFAULT_CLASSES]);
    expect(parseClasses('terminate, detach')).toEqual(['terminate', 'detach']);
    expect(() => parseClasses('terminate,explode')).toThrow(/unknown class\(es\) explode; valid: late-kill, /);
  });
});

describe('chaos plan: class lag', () => {
  it('draws the three visibility lags within the shortest retryMaxIntervalMs, on its own dice', () => {
    const drawn = Array.from({ length: 60 }, (_, i) => 3000 + i)
      .map((seed) => ({ seed, p: planRun(seed, 'abcde', ['lag']) }))
      .filter(({ p }) => p.classes.includes('lag'));
    expect(drawn.length).toBeGreaterThan(5);
    for (const { seed, p } of drawn) {
      const t = p.scenario.timings ?? {};
      const cap = Math.min(...p.groups.map((g) => g.input.advanced?.retryMaxIntervalMs ?? 0));
      for (const k of ['activityListingLagMs', 'activityLookupLagMs', 'lifecycleStateLagMs'] as const) {
        expect(t[k], k).toBeGreaterThanOrEqual(50);
        expect(t[k], k).toBeLessThanOrEqual(cap);
      }
      expect(() => validateScenario(p.scenario)).not.toThrow();
      // The rest of the plan is the plan without the class.
      const none = planRun(seed, 'abcde', []);
      expect(p.groups).toEqual(none.groups);
      expect(p.faults).toEqual(none.faults);
    }
    const off = Array.from({ length: 20 }, (_, i) => planRun(3000 + i, 'abcde', []));
    expect(off.every((p) => p.scenario.timings?.lifecycleStateLagMs === undefined)).toBe(true);
  });
});
