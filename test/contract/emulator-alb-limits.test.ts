import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALB_UPDATE_SERVERS_MAX_PER_CALL } from '../../src/aliyun/alb';
import { TEST_ALB, TEST_KEY, rawCall, testInstanceId } from '../../src/emulator/testing';
import { startContractEnv, stopContractEnv, type ContractEnv } from './harness';

/** Per-call limits of the ALB server-group API (docs/emulator.md, "ALB"), on a group with more servers than that. */
let env: ContractEnv;

beforeAll(async () => {
  env = await startContractEnv({ count: 45 });
});

afterAll(async () => {
  await stopContractEnv(env);
});

beforeEach(async () => {
  await env.admin.reset();
});

/** `Servers.N.*` for instances 1..n at weight 0, as the form body of one call. */
function serversParams(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i++) {
    out[`Servers.${i}.ServerId`] = testInstanceId(i);
    out[`Servers.${i}.ServerType`] = 'Ecs';
    out[`Servers.${i}.Port`] = '8080';
    out[`Servers.${i}.Weight`] = '0';
  }
  return out;
}

const update = (n: number) =>
  rawCall(
    env.emu.url,
    {
      Action: 'UpdateServerGroupServersAttribute',
      Version: '2020-06-16',
      ServerGroupId: TEST_ALB,
      ...serversParams(n),
    },
    TEST_KEY,
  );

describe('ALB UpdateServerGroupServersAttribute: at most 40 servers per call', () => {
  it('the client and the emulator agree on the limit', () => {
    expect(ALB_UPDATE_SERVERS_MAX_PER_CALL).toBe(40);
  });

  it('accepts 40 servers in one call and starts one job', async () => {
    const r = await update(40);
    expect(r.status).toBe(200);
    expect(typeof r.json.JobId).toBe('string');
    expect((await env.admin.state()).jobs).toHaveLength(1);
  });

  it('refuses 41 servers with 400 InvalidParameter naming Servers, and starts no job', async () => {
    const r = await update(41);
    expect(r.status).toBe(400);
    expect(r.json.Code).toBe('InvalidParameter');
    expect(r.json.Message).toMatch(/"Servers".*at most 40 servers/);
    expect((await env.admin.state()).jobs).toHaveLength(0);
  });

  it('the client refuses 41 servers locally and sends nothing', async () => {
    const servers = Array.from({ length: 41 }, (_, i) => ({
      serverId: testInstanceId(i + 1),
      serverType: 'Ecs' as const,
      port: 8080,
      weight: 0,
    }));
    const before = env.emu.state.callLog().length;
    await expect(env.client.alb.updateServerGroupServersAttribute('cn-hangzhou', TEST_ALB, servers)).rejects.toThrow(
      /servers must have 1 to 40 items, got 41/,
    );
    expect(env.emu.state.callLog()).toHaveLength(before);
    const ok = await env.client.alb.updateServerGroupServersAttribute('cn-hangzhou', TEST_ALB, servers.slice(0, 40));
    expect(ok.jobId).toBeTruthy();
  });
});
