import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AliyunApiError } from '../../src/aliyun/errors';
import { NLB_UPDATE_SERVERS_MAX_PER_CALL } from '../../src/aliyun/nlb';
import type { Scenario } from '../../src/emulator';
import {
  buildTestScenario,
  TEST_GROUP,
  TEST_KEY,
  TEST_REGION,
  rawCall,
  testInstanceId,
  waitFor,
} from '../../src/emulator/testing';
import { startContractEnv, stopContractEnv, type ContractEnv } from './harness';

/** The NLB 2022-04-30 server-group API of the emulator, through the real client (docs/emulator.md, "NLB"). */
const NLB = 'sgp-bp1testnlb0000001';
const GWLB = 'sgp-bp1testgwlb000001';
const COUNT = 45;

function withNlb(): Partial<Scenario> {
  const base = buildTestScenario({ count: COUNT });
  const group = base.scalingGroups?.[0];
  const gen = base.instanceGenerators?.[0];
  if (!group || !gen?.attachTo) throw new Error('test scenario changed shape');
  return {
    scalingGroups: [
      {
        ...group,
        nlbServerGroups: [{ nlbServerGroupId: NLB, port: 443, weight: 100 }],
        otherServerGroups: [{ serverGroupId: GWLB, type: 'GWLB', port: 6081, weight: 100 }],
      },
    ],
    instanceGenerators: [{ ...gen, attachTo: { ...gen.attachTo, nlbServerGroupIds: [NLB], port: 443 } }],
    nlbServerGroups: [{ id: NLB, regionId: TEST_REGION }],
  };
}

let env: ContractEnv;

beforeAll(async () => {
  env = await startContractEnv({ count: COUNT, extra: withNlb() });
});

afterAll(async () => {
  await stopContractEnv(env);
});

beforeEach(async () => {
  await env.admin.reset();
});

const servers = (ids: string[], weight: number) =>
  ids.map((serverId) => ({ serverId, serverType: 'Ecs', port: 443, weight }));

describe('DescribeScalingGroups reports NLB and other server groups as ServerGroups entries', () => {
  it('the client sees the NLB attachment and the GWLB one', async () => {
    const g = await env.client.ess.describeScalingGroup(TEST_REGION, TEST_GROUP);
    expect(g?.nlbServerGroups).toEqual([{ nlbServerGroupId: NLB, port: 443, weight: 100 }]);
    expect(g?.otherServerGroups).toEqual([{ serverGroupId: GWLB, type: 'GWLB', port: 6081, weight: 100 }]);
  });
});

describe('NLB ListServerGroupServers', () => {
  it('lists every instance registered by the scenario, paging with NextToken', async () => {
    const { servers: all } = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB);
    expect(all).toHaveLength(COUNT);
    expect(all[0]).toMatchObject({ serverId: testInstanceId(1), serverType: 'Ecs', port: 443, weight: 100 });
  });

  it('an unknown server group is ResourceNotFound.serverGroup (404)', async () => {
    const e = await env.client.nlb.listServerGroupServers(TEST_REGION, 'sgp-nope').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AliyunApiError);
    expect((e as AliyunApiError).code).toBe('ResourceNotFound.serverGroup');
    expect((e as AliyunApiError).httpStatus).toBe(404);
  });

  it('ServerIds.41 is refused: at most 40 IDs per call', async () => {
    const params: Record<string, string> = {
      Action: 'ListServerGroupServers',
      Version: '2022-04-30',
      RegionId: TEST_REGION,
      ServerGroupId: NLB,
    };
    for (let i = 1; i <= 41; i++) params[`ServerIds.${i}`] = testInstanceId(i);
    const res = await rawCall(env.emu.url, params, TEST_KEY);
    expect(res.status).toBe(400);
    expect(res.json.Code).toBe('InvalidParameter');
  });
});

describe('NLB UpdateServerGroupServersAttribute and GetJobStatus', () => {
  it('weights change only when the job has succeeded; servers are Configuring meanwhile', async () => {
    const ids = [testInstanceId(1), testInstanceId(2)];
    const { jobId } = await env.client.nlb.updateServerGroupServersAttribute(TEST_REGION, NLB, servers(ids, 0));
    const during = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB, { serverIds: ids });
    expect(during.servers.map((s) => [s.weight, s.status])).toEqual([
      [100, 'Configuring'],
      [100, 'Configuring'],
    ]);
    expect((await env.client.nlb.getJobStatus(TEST_REGION, jobId)).status).toBe('Processing');
    await waitFor(async () => (await env.client.nlb.getJobStatus(TEST_REGION, jobId)).status === 'Succeeded');
    const after = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB, { serverIds: ids });
    expect(after.servers.map((s) => [s.weight, s.status])).toEqual([
      [0, 'Available'],
      [0, 'Available'],
    ]);
  });

  it(`accepts ${NLB_UPDATE_SERVERS_MAX_PER_CALL} servers in one call and refuses Servers.41`, async () => {
    expect(NLB_UPDATE_SERVERS_MAX_PER_CALL).toBe(40);
    const ids = Array.from({ length: 41 }, (_, i) => testInstanceId(i + 1));
    const ok = await env.client.nlb.updateServerGroupServersAttribute(TEST_REGION, NLB, servers(ids.slice(0, 40), 0));
    expect(ok.jobId).not.toBe('');
    const body: Record<string, string> = { RegionId: TEST_REGION, ServerGroupId: NLB };
    ids.forEach((id, i) => {
      body[`Servers.${i + 1}.ServerId`] = id;
      body[`Servers.${i + 1}.ServerType`] = 'Ecs';
      body[`Servers.${i + 1}.Port`] = '443';
      body[`Servers.${i + 1}.Weight`] = '0';
    });
    const res = await rawCall(
      env.emu.url,
      { Action: 'UpdateServerGroupServersAttribute', Version: '2022-04-30' },
      { ...TEST_KEY, body },
    );
    expect(res.status).toBe(400);
    expect(res.json.Code).toBe('InvalidParameter');
  });

  it('a server not in the group is ResourceNotFound.backendServer and starts no job', async () => {
    const e = await env.client.nlb
      .updateServerGroupServersAttribute(TEST_REGION, NLB, servers(['i-bp1notthere000000001'], 0))
      .catch((x: unknown) => x);
    expect((e as AliyunApiError).code).toBe('ResourceNotFound.backendServer');
    expect((await env.admin.state()).nlbJobs).toEqual([]);
  });

  it('the same ClientToken answers the same JobId; another body with it is refused', async () => {
    const ids = [testInstanceId(3)];
    const a = await env.client.nlb.updateServerGroupServersAttribute(TEST_REGION, NLB, servers(ids, 0), 'tok-1');
    const b = await env.client.nlb.updateServerGroupServersAttribute(TEST_REGION, NLB, servers(ids, 0), 'tok-1');
    expect(b.jobId).toBe(a.jobId);
    const e = await env.client.nlb
      .updateServerGroupServersAttribute(TEST_REGION, NLB, servers(ids, 5), 'tok-1')
      .catch((x: unknown) => x);
    expect((e as AliyunApiError).code).toBe('IdempotenceSignatureMismatch');
  });

  it('ESS deregisters a removed instance from the NLB server group too', async () => {
    const id = testInstanceId(COUNT);
    await env.client.ess.removeInstances({ regionId: TEST_REGION, scalingGroupId: TEST_GROUP, instanceIds: [id] });
    await waitFor(async () => {
      const { servers: left } = await env.client.nlb.listServerGroupServers(TEST_REGION, NLB, { serverIds: [id] });
      return left.length === 0;
    });
  });
});
