import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import {
  ApiRateLimiter,
  createCloudClient,
  staticCredentials,
  type ClosableCloudClient,
  type RpcCallEvent,
} from '../../src/aliyun';
import { ScaleInClient } from '../../src/client';
import { EmulatorAdminClient, startEmulator, type RunningEmulator, type Scenario } from '../../src/emulator';
import type { ScaleInInput } from '../../src/shared/input';
import { FAST, SMALL } from '../harness/stack';
import { uniqueName, workflowBundle } from '../harness/temporal';

/**
 * Ten scale-ins at once on one worker, against an emulator that enforces the account's API quota:
 * the worker's process-wide limiter (ESS_SCALE_IN_API_RATE's rules) keeps every action under it,
 * so the emulator never answers Throttling.User.
 */
const RUNS = 10;
const PER_GROUP = 8;
const REMOVE = 6;
/** The account's quota in the emulator: 10 calls per second for every action. */
const QUOTA_PER_SECOND = 10;
/** The worker's pace: 20 % below the quota, as docs/operations.md advises. */
const WORKER_RATE = '*=8';

interface Group {
  id: string;
  lb: string;
  vsg: string;
  alb: string;
}

function groupOf(i: number, tag: string): Group {
  const n = String(i).padStart(2, '0');
  return {
    id: `asg-q${tag}${n}`,
    lb: `lb-bp1quota${tag}${n}`,
    vsg: `rsp-bp1quota${n}`,
    alb: `sgp-bp1quota${tag}${n}`,
  };
}

/** RUNS groups shaped like the `small` scenario's, each with its own CLB (and vserver group) and ALB server group. */
function fleetScenario(groups: Group[]): Scenario {
  return {
    name: 'quota-fleet',
    accessKeys: { [SMALL.keyId]: SMALL.secret },
    regions: [SMALL.region],
    scalingGroups: groups.map((g) => ({
      id: g.id,
      regionId: SMALL.region,
      minSize: 1,
      maxSize: 50,
      desiredCapacity: PER_GROUP,
      loadBalancerIds: [g.lb],
      vServerGroups: [{ loadBalancerId: g.lb, vServerGroupId: g.vsg, port: 8080, weight: 100 }],
      albServerGroups: [{ albServerGroupId: g.alb, port: 8080, weight: 100 }],
    })),
    instanceGenerators: groups.map((g, i) => ({
      scalingGroupId: g.id,
      count: PER_GROUP,
      idPrefix: `bp1q${i.toString(36)}`,
      startTime: '2026-01-05T02:00:00Z',
      weight: 100,
      attachTo: { loadBalancerIds: [g.lb], vServerGroupIds: [g.vsg], albServerGroupIds: [g.alb], port: 8080 },
    })),
    loadBalancers: groups.map((g) => ({
      id: g.lb,
      regionId: SMALL.region,
      vServerGroups: [{ id: g.vsg }],
      listeners: [{ port: 80 }, { port: 8080, vServerGroupId: g.vsg }],
    })),
    albServerGroups: groups.map((g) => ({ id: g.alb, regionId: SMALL.region })),
    timings: { activityDurationMs: 300, essDrainWaitMs: 100, albJobDurationMs: 100 },
    apiQuota: { limits: { '*': QUOTA_PER_SECOND } },
  };
}

describe('account API quota: a fleet of runs paced by the worker', () => {
  const tag = randomUUID().replace(/-/g, '').slice(0, 12);
  const groups = Array.from({ length: RUNS }, (_, i) => groupOf(i, tag));
  const events: RpcCallEvent[] = [];
  let emulator: RunningEmulator;
  let admin: EmulatorAdminClient;
  let cloud: ClosableCloudClient;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let worker: Worker;
  let running: Promise<void>;
  let client: ScaleInClient;

  beforeAll(async () => {
    emulator = await startEmulator({ scenario: fleetScenario(groups) });
    admin = new EmulatorAdminClient(emulator.url);
    cloud = createCloudClient({
      credentials: staticCredentials(SMALL.keyId, SMALL.secret),
      endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url, nlb: emulator.url },
      rateLimiter: new ApiRateLimiter(WORKER_RATE),
      onCall: (e) => events.push(e),
    });
    const address = inject('temporalAddress');
    const taskQueue = uniqueName('quota');
    nativeConnection = await NativeConnection.connect({ address });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities({ cloud }),
      shutdownGraceTime: '5s',
    });
    running = worker.run();
    connection = await Connection.connect({ address });
    client = await ScaleInClient.connect({
      client: new Client({ connection }),
      temporal: { address, namespace: 'default', taskQueue, apiKey: undefined, tls: undefined },
    });
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await cloud?.close();
    await emulator?.close();
  });

  it(`completes ${RUNS} concurrent scale-ins without a single Throttling.User`, async () => {
    const state = await admin.state();
    const inputs: ScaleInInput[] = groups.map((g) => ({
      regionId: SMALL.region,
      scalingGroupId: g.id,
      instanceIds: state.instances
        .filter((i) => i.scalingGroupId === g.id)
        .map((i) => i.instanceId)
        .sort()
        .slice(0, REMOVE),
      batchSize: 3,
      drain: { timeoutSeconds: 1 },
      advanced: FAST,
    }));
    const started = await Promise.all(inputs.map((input) => client.start(input)));
    const results = await Promise.all(started.map((s) => client.result(s.workflowId)));

    for (const r of results) {
      expect(r.outcome).toBe('completed');
      expect(r.counts).toMatchObject({ total: REMOVE, removed: REMOVE, failed: 0 });
    }
    // Not one call bounced off the quota.
    const throttled = await admin.calls({ outcome: 'Throttling.User' });
    expect(
      throttled.map((c) => `${c.action} at ${c.time}`),
      'calls the emulator refused past the quota',
    ).toEqual([]);
    expect(emulator.state.quota.refusedCalls).toBe(0);
    expect(events.filter((e) => /Throttling/.test(e.outcome))).toEqual([]);
    // The test means something: the quota was on (10 calls a second for every action)...
    expect(emulator.state.quota.limitOf('ess', 'DescribeScalingActivities')).toEqual({
      calls: QUOTA_PER_SECOND,
      windowSeconds: 1,
    });
    // ...and the fleet asked for more than that, so the limiter held calls back.
    const waited = events.filter((e) => (e.rateLimitWaitMs ?? 0) > 0);
    expect(waited.length).toBeGreaterThan(0);
  });
});
