/**
 * One chaos run, drawn from a seed: the scaling groups and load balancers, which instances to
 * remove and how, which faults the emulator injects, when the worker is killed. The same seed
 * gives the same plan; `nonce` only keeps IDs apart on a shared Temporal server.
 */
import type { ActivityOutcomeRule, FaultRule, Scenario, ScenarioScalingGroup } from '../src/emulator/types';
import { mulberry32 } from '../src/emulator/faults';
import type { ScaleInInput } from '../src/shared/input';

export const CHAOS_REGION = 'cn-hangzhou';
export const CHAOS_KEY = {
  accessKeyId: 'LTAIchaosEmulatorKey1',
  accessKeySecret: 'chaos-emulator-secret-not-real',
} as const;

export interface GroupPlan {
  groupId: string;
  /** Every instance of the group, in creation order. */
  instanceIds: string[];
  requested: string[];
  input: ScaleInInput;
  /** An operator cancels the run this long after it started (its drained instances must come back). */
  cancelAfterMs?: number;
}

export interface KillPlan {
  /** After the runs start. */
  afterMs: number;
  /** How long the worker stays down. */
  downMs: number;
}

export interface ChaosPlan {
  seed: number;
  scenario: Scenario;
  groups: GroupPlan[];
  faults: FaultRule[];
  faultSeed: number;
  ignoreClientToken: boolean;
  activityOutcomes: ActivityOutcomeRule[];
  kills: KillPlan[];
  /** One line: what this run does. */
  summary: string;
}

interface Dice {
  real(lo: number, hi: number): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: readonly T[]): T[];
}

function dice(seed: number): Dice {
  const r = mulberry32(seed);
  const d: Dice = {
    real: (lo, hi) => lo + r() * (hi - lo),
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    chance: (p) => r() < p,
    pick: (items) => items[Math.floor(r() * items.length)] as (typeof items)[number],
    shuffle: (items) => {
      const a = [...items];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [a[i], a[j]] = [a[j] as (typeof a)[number], a[i] as (typeof a)[number]];
      }
      return a;
    },
  };
  return d;
}

const base36 = (n: number, width: number) => n.toString(36).padStart(width, '0').slice(-width);

/** `nonce`: 5 lowercase alphanumerics. */
export function planRun(seed: number, nonce: string): ChaosPlan {
  if (!/^[a-z0-9]{5}$/.test(nonce)) throw new RangeError('nonce must be 5 lowercase alphanumerics');
  const d = dice(seed);
  const tag = `${nonce}${base36(seed, 6)}`;
  const timings = {
    activityDurationMs: d.int(200, 1500),
    essDrainWaitMs: d.int(30, 150),
    albJobDurationMs: d.int(50, 400),
  };
  const scenario: Scenario = {
    name: `chaos-${seed}`,
    accessKeys: { [CHAOS_KEY.accessKeyId]: CHAOS_KEY.accessKeySecret },
    regions: [CHAOS_REGION],
    scalingGroups: [],
    instanceGenerators: [],
    loadBalancers: [],
    albServerGroups: [],
    timings,
  };
  const groups: GroupPlan[] = [];
  const activityOutcomes: ActivityOutcomeRule[] = [];
  const groupCount = d.int(1, 3);
  for (let g = 0; g < groupCount; g++) {
    const id = `${tag}${g}`;
    const groupId = `asg-ch${id}`.padEnd(24, '0');
    const lbId = `lb-ch${id}`.padEnd(23, '0');
    const vsgId = `rsp-ch${id}`;
    const albId = `sgp-ch${id}`.padEnd(22, '0');
    const count = d.int(6, 40);
    const minSize = d.int(0, 3);
    const weight = d.pick([10, 50, 80, 100]);
    const idPrefix = `${tag}${g}`;
    const instanceIds = Array.from({ length: count }, (_, i) => `i-${idPrefix}${base36(i + 1, 20 - idPrefix.length)}`);
    const group: ScenarioScalingGroup = {
      id: groupId,
      name: `chaos-${seed}-${g}`,
      regionId: CHAOS_REGION,
      minSize,
      maxSize: 1000,
      desiredCapacity: count,
      loadBalancerIds: [lbId],
      vServerGroups: [{ loadBalancerId: lbId, vServerGroupId: vsgId, port: 8080, weight }],
      albServerGroups: [{ albServerGroupId: albId, port: 8080, weight }],
    };
    scenario.scalingGroups?.push(group);
    scenario.instanceGenerators?.push({
      scalingGroupId: groupId,
      count,
      idPrefix,
      creationType: 'AutoCreated',
      startTime: '2026-01-05T02:00:00Z',
      intervalMinutes: 1,
      attachTo: { loadBalancerIds: [lbId], vServerGroupIds: [vsgId], albServerGroupIds: [albId], port: 8080, weight },
    });
    scenario.loadBalancers?.push({
      id: lbId,
      regionId: CHAOS_REGION,
      vServerGroups: [{ id: vsgId, name: `chaos-${g}-8080` }],
      listeners: [{ port: 80 }, { port: 8080, vServerGroupId: vsgId }],
    });
    scenario.albServerGroups?.push({ id: albId, regionId: CHAOS_REGION });

    const requested = d
      .shuffle(instanceIds)
      .slice(0, d.int(1, count - minSize))
      .sort();
    // Some activities end Warning (one instance fails) or Failed: those instances must come back to service.
    if (d.chance(0.3)) {
      const victim = d.pick(requested);
      activityOutcomes.push(
        d.chance(0.6)
          ? { match: { instanceIds: [victim] }, status: 'Warning', failInstanceIds: [victim], times: 1 }
          : { match: { instanceIds: [victim] }, status: 'Failed', errorCode: 'InstanceStopFailed', times: 1 },
      );
    }
    const input: ScaleInInput = {
      regionId: CHAOS_REGION,
      scalingGroupId: groupId,
      instanceIds: requested,
      batchSize: d.int(2, 20),
      drain: { strategy: d.chance(0.2) ? 'standby' : 'weight', timeoutSeconds: d.int(0, 2) },
      onBatchFailure: d.chance(0.5) ? 'continue' : 'abort',
      advanced: {
        pollMinIntervalMs: d.int(50, 200),
        pollMaxIntervalMs: d.int(300, 800),
        retryInitialIntervalMs: d.int(50, 200),
        retryMaxIntervalMs: d.int(300, 1000),
        heartbeatTimeoutSeconds: 2,
        maxBatchesPerRun: d.int(2, 100),
      },
    };
    groups.push({ groupId, instanceIds, requested, input });
  }

  // Specific rules first: the first matching non-latency rule decides a call's fate.
  const faults: FaultRule[] = [];
  if (d.chance(0.7)) faults.push({ action: 'RemoveInstances', kind: 'commitThenDrop', rate: d.real(0.1, 0.4) });
  if (d.chance(0.5))
    faults.push({
      action: d.pick([
        'SetBackendServers',
        'SetVServerGroupAttribute',
        'UpdateServerGroupServersAttribute',
        'EnterStandby',
        'ExitStandby',
      ]),
      kind: 'commitThenDrop',
      rate: d.real(0.1, 0.3),
    });
  faults.push({ action: '*', kind: d.pick(['Throttling', 'Throttling.User'] as const), rate: d.real(0, 0.15) });
  faults.push({ action: '*', kind: d.pick(['ServiceUnavailable', 'InternalError'] as const), rate: d.real(0, 0.1) });
  faults.push({ action: '*', kind: 'reset', rate: d.real(0, 0.08) });
  faults.push({
    action: '*',
    kind: 'latency',
    rate: d.real(0, 0.2),
    latencyMs: d.int(100, 2500),
    latencyAfterEffect: d.chance(0.5),
  });

  const killCount = d.pick([0, 1, 1, 2, 2, 3]);
  const kills = Array.from({ length: killCount }, () => ({ afterMs: d.int(300, 8000), downMs: d.int(0, 1500) })).sort(
    (a, b) => a.afterMs - b.afterMs,
  );
  const ignoreClientToken = d.chance(0.5);
  // Drawn last, so the rest of a seed's plan is what it was before cancels existed.
  for (const g of groups) if (d.chance(0.2)) g.cancelAfterMs = d.int(500, 6000);
  const cancels = groups.filter((g) => g.cancelAfterMs !== undefined).length;
  const groupSummary = groups
    .map((g) => {
      const standby = g.input.drain?.strategy === 'standby' ? ' (standby)' : '';
      return `${g.requested.length}/${g.instanceIds.length} in batches of ${g.input.batchSize}${standby}`;
    })
    .join(', ');
  const failing = activityOutcomes.length;
  const summary =
    `${groups.length} group(s), ${groupSummary}; ` +
    `${kills.length} kill(s)${cancels ? `, ${cancels} cancel(s)` : ''}; ` +
    `${faults.length} fault rules${ignoreClientToken ? ', ClientToken ignored' : ''}` +
    `${failing ? `, ${failing} failing activit${failing > 1 ? 'ies' : 'y'}` : ''}`;
  return {
    seed,
    scenario,
    groups,
    faults,
    faultSeed: seed ^ 0x5eed,
    ignoreClientToken,
    activityOutcomes,
    kills,
    summary,
  };
}
