/**
 * ExitStandby's weight, as the reference pages say (docs/emulator.md, EnterStandby / ExitStandby):
 * the current 2014-08-28 page gives the default weight 50, an older one the configured weight;
 * neither gives back the weight before EnterStandby.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startContractEnv, stopContractEnv } from './harness';
import type { ClosableCloudClient } from '../../src/aliyun';
import type { EmulatorAdminClient, RunningEmulator } from '../../src/emulator';
import {
  buildTestScenario,
  TEST_ALB,
  TEST_GROUP,
  TEST_LB,
  TEST_REGION,
  TEST_VSG,
  testInstanceId,
} from '../../src/emulator/testing';
import type { Scenario } from '../../src/emulator/types';

let emu: RunningEmulator;
let admin: EmulatorAdminClient;
let client: ClosableCloudClient;

beforeAll(async () => {
  ({ emu, admin, client } = await startContractEnv());
});

afterAll(async () => {
  await stopContractEnv({ emu, client });
});

beforeEach(async () => {
  await admin.reset();
});

const sid = testInstanceId(3);

/** The instance's weight on the CLB default server group, the vserver group and the ALB server group. */
async function weightsOf(id: string): Promise<Array<number | undefined>> {
  return [
    (await client.clb.describeLoadBalancerAttribute(TEST_REGION, TEST_LB)).backendServers.find((b) => b.serverId === id)
      ?.weight,
    (await client.clb.describeVServerGroupAttribute(TEST_REGION, TEST_VSG)).backendServers.find(
      (b) => b.serverId === id,
    )?.weight,
    (await client.alb.listServerGroupServers(TEST_REGION, TEST_ALB)).servers.find((b) => b.serverId === id)?.weight,
  ];
}

/** Non-default weights before standby: 70 on the CLB, 30 on the vserver group, 90 on the ALB group. */
async function setOriginalWeights(): Promise<void> {
  await client.clb.setBackendServers(TEST_REGION, TEST_LB, [{ serverId: sid, weight: 70, type: 'ecs' }]);
  await client.clb.setVServerGroupAttribute(TEST_REGION, TEST_VSG, [
    { serverId: sid, weight: 30, type: 'ecs', port: 8080 },
  ]);
  const { jobId } = await client.alb.updateServerGroupServersAttribute(TEST_REGION, TEST_ALB, [
    { serverId: sid, serverType: 'Ecs', port: 8080, weight: 90 },
  ]);
  for (;;) {
    const { jobs } = await client.alb.listAsynJobs(TEST_REGION, [jobId]);
    if (jobs[0]?.status === 'Succeeded') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await weightsOf(sid)).toEqual([70, 30, 90]);
}

async function standbyRoundTrip(): Promise<void> {
  await client.ess.enterStandby(TEST_REGION, TEST_GROUP, [sid]);
  expect(await weightsOf(sid)).toEqual([0, 0, 0]);
  await client.ess.exitStandby(TEST_REGION, TEST_GROUP, [sid]);
  const { instances } = await client.ess.describeScalingInstances({
    regionId: TEST_REGION,
    scalingGroupId: TEST_GROUP,
    instanceIds: [sid],
  });
  expect(instances[0]?.lifecycleState).toBe('InService');
}

describe('ExitStandby weight (current 2014-08-28 page: default 50)', () => {
  it('comes back at 50 on every attached LB, not at the weights before EnterStandby', async () => {
    await setOriginalWeights();
    await standbyRoundTrip();
    expect(await weightsOf(sid)).toEqual([50, 50, 50]);
  });

  it('an instance of the same group that stayed InService keeps its weights', async () => {
    await setOriginalWeights();
    const other = testInstanceId(4);
    await standbyRoundTrip();
    expect(await weightsOf(other)).toEqual([100, 100, 100]);
  });

  it('the state snapshot no longer carries saved standby weights', async () => {
    await client.ess.enterStandby(TEST_REGION, TEST_GROUP, [sid]);
    const snap = (await admin.state()).instances.find((i) => i.instanceId === sid);
    expect(snap).toBeDefined();
    expect(Object.keys(snap ?? {})).not.toContain('standbySavedWeights');
  });
});

describe('ExitStandby weight (older page: the scaling configuration weight)', () => {
  const older = (extra: Partial<Scenario>): Scenario => {
    const s = buildTestScenario({ extra: { exitStandbyWeight: 'scalingConfiguration', ...extra } });
    // The group's attachments carry the configured weights: 40 on the vserver group, 60 on ALB.
    const [group] = s.scalingGroups ?? [];
    if (group) {
      group.vServerGroups = (group.vServerGroups ?? []).map((v) => ({ ...v, weight: 40 }));
      group.albServerGroups = (group.albServerGroups ?? []).map((a) => ({ ...a, weight: 60 }));
    }
    // LoadBalancerWeight 20: the CLB default server group's configured weight.
    for (const g of s.instanceGenerators ?? []) g.weight = 20;
    return s;
  };

  afterAll(async () => {
    await admin.loadScenario(buildTestScenario());
  });

  it('comes back at the configured weights, not at the weights before EnterStandby', async () => {
    await admin.loadScenario(older({}));
    await setOriginalWeights();
    await standbyRoundTrip();
    expect(await weightsOf(sid)).toEqual([20, 40, 60]);
  });

  it('a scenario with another value is refused with its path', async () => {
    const bad = buildTestScenario({ extra: { exitStandbyWeight: 'previous' as never } });
    await expect(admin.loadScenario(bad)).rejects.toThrow(/exitStandbyWeight/);
  });
});
