import { describe, expect, it } from 'vitest';
import {
  AliyunApiError,
  AliyunBadResponseError,
  defaultEndpoint,
  endpointsFromEnv,
  NLB_SERVER_ID_FILTER_MAX,
  NLB_UPDATE_SERVERS_MAX_PER_CALL,
  toScalingGroup,
} from '../../../src/aliyun';
import type { WireNlbListServerGroupServersResponse, WireNlbServer } from '../../../src/aliyun';
import { apiError, indexed, json, setup } from './loopback-server';

const nlbServer = (n: number, over: Partial<WireNlbServer> = {}): WireNlbServer => ({
  ServerId: `i-${n}`,
  ServerType: 'Ecs',
  Port: 80,
  Weight: 100,
  Status: 'Available',
  ServerGroupId: 'sgp-n1',
  ZoneId: 'cn-hangzhou-a',
  ...over,
});

describe('NLB listServerGroupServers', () => {
  it('sends every parameter in the form body, Version 2022-04-30, and follows NextToken', async () => {
    const pages: Record<string, WireNlbListServerGroupServersResponse> = {
      '': { RequestId: 'R1', Servers: [nlbServer(1)], NextToken: 't2', MaxResults: 100, TotalCount: 2 },
      t2: {
        RequestId: 'R2',
        Servers: [nlbServer(2, { Weight: 0, Status: 'Configuring', ServerIp: '10.0.0.2' })],
        MaxResults: 100,
        TotalCount: 2,
      },
    };
    const { server, client } = await setup((req, res) => json(res, 200, pages[req.params.NextToken ?? '']));
    const result = await client.nlb.listServerGroupServers('cn-hangzhou', 'sgp-n1');
    expect(
      server.requests.map((r) => [r.method, r.params.Action, r.params.Version, r.body.ServerGroupId, r.body.RegionId]),
    ).toEqual([
      ['POST', 'ListServerGroupServers', '2022-04-30', 'sgp-n1', 'cn-hangzhou'],
      ['POST', 'ListServerGroupServers', '2022-04-30', 'sgp-n1', 'cn-hangzhou'],
    ]);
    expect(server.requests[0]?.body.MaxResults).toBe('100');
    expect(server.requests[1]?.body.NextToken).toBe('t2');
    expect(server.requests[0]?.query).not.toHaveProperty('ServerGroupId');
    expect(result.requestId).toBe('R1,R2');
    expect(result.servers[1]).toEqual({
      serverId: 'i-2',
      serverType: 'Ecs',
      port: 80,
      weight: 0,
      status: 'Configuring',
      serverIp: '10.0.0.2',
    });
  });

  it(`filters by ServerIds.N in chunks of ${NLB_SERVER_ID_FILTER_MAX}, and sends nothing for none`, async () => {
    const { server, client } = await setup((req, res) => {
      const ids = indexed(req.params, 'ServerIds');
      json(res, 200, {
        RequestId: `R${ids.length}`,
        Servers: ids.map((id) => nlbServer(Number(id.slice(2)))),
        MaxResults: 100,
        TotalCount: ids.length,
      });
    });
    expect(NLB_SERVER_ID_FILTER_MAX).toBe(40);
    const wanted = Array.from({ length: 45 }, (_, i) => `i-${i + 1}`);
    const result = await client.nlb.listServerGroupServers('cn-hangzhou', 'sgp-n1', { serverIds: wanted });
    expect(server.requests.map((r) => indexed(r.params, 'ServerIds').length)).toEqual([40, 5]);
    expect(result.servers).toHaveLength(45);
    expect(await client.nlb.listServerGroupServers('cn-hangzhou', 'sgp-n1', { serverIds: [] })).toEqual({
      requestId: '',
      servers: [],
    });
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a NextToken that repeats', async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', Servers: [], NextToken: 'same', MaxResults: 100, TotalCount: 0 }),
    );
    await expect(client.nlb.listServerGroupServers('cn-hangzhou', 'sgp-n1')).rejects.toBeInstanceOf(
      AliyunBadResponseError,
    );
  });

  it('turns an error answer into AliyunApiError with its code', async () => {
    const { client } = await setup((_req, res) => apiError(res, 404, 'ResourceNotFound.serverGroup', 'not found'));
    const e = await client.nlb.listServerGroupServers('cn-hangzhou', 'sgp-x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AliyunApiError);
    expect((e as AliyunApiError).code).toBe('ResourceNotFound.serverGroup');
  });
});

describe('NLB updateServerGroupServersAttribute', () => {
  it('sends Servers.N.* with the group in the form body and returns the JobId', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R1', ServerGroupId: 'sgp-n1', JobId: 'job-1' }),
    );
    const r = await client.nlb.updateServerGroupServersAttribute(
      'cn-hangzhou',
      'sgp-n1',
      [{ serverId: 'i-1', serverType: 'Ecs', port: 443, weight: 0 }],
      'tok-1',
    );
    expect(r).toEqual({ requestId: 'R1', jobId: 'job-1' });
    expect(server.requests[0]?.body).toMatchObject({
      ServerGroupId: 'sgp-n1',
      RegionId: 'cn-hangzhou',
      ClientToken: 'tok-1',
      'Servers.1.ServerId': 'i-1',
      'Servers.1.ServerType': 'Ecs',
      'Servers.1.Port': '443',
      'Servers.1.Weight': '0',
    });
    expect(server.requests[0]?.params.Version).toBe('2022-04-30');
    expect(server.requests[0]?.signatureValid).toBe(true);
  });

  it(`refuses more than ${NLB_UPDATE_SERVERS_MAX_PER_CALL} servers (and none) before sending`, async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R', JobId: 'j' }));
    const servers = Array.from({ length: NLB_UPDATE_SERVERS_MAX_PER_CALL + 1 }, (_, i) => ({
      serverId: `i-${i}`,
      serverType: 'Ecs',
      port: 80,
      weight: 0,
    }));
    await expect(client.nlb.updateServerGroupServersAttribute('cn-hangzhou', 'sgp-n1', servers)).rejects.toThrow(
      RangeError,
    );
    await expect(client.nlb.updateServerGroupServersAttribute('cn-hangzhou', 'sgp-n1', [])).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
    expect(NLB_UPDATE_SERVERS_MAX_PER_CALL).toBe(40);
  });

  it('an answer without JobId is a bad response', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { RequestId: 'R' }));
    await expect(
      client.nlb.updateServerGroupServersAttribute('cn-hangzhou', 'sgp-n1', [
        { serverId: 'i-1', serverType: 'Ecs', port: 80, weight: 0 },
      ]),
    ).rejects.toBeInstanceOf(AliyunBadResponseError);
  });
});

describe('NLB getJobStatus', () => {
  it('sends JobId in the body and returns Status', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R1', Status: 'Processing' }));
    expect(await client.nlb.getJobStatus('cn-hangzhou', 'job-1')).toEqual({ requestId: 'R1', status: 'Processing' });
    expect(server.requests[0]?.params).toMatchObject({ Action: 'GetJobStatus', Version: '2022-04-30' });
    expect(server.requests[0]?.body.JobId).toBe('job-1');
  });

  it('an answer without Status is a bad response', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { RequestId: 'R1' }));
    await expect(client.nlb.getJobStatus('cn-hangzhou', 'job-1')).rejects.toBeInstanceOf(AliyunBadResponseError);
  });
});

describe('NLB endpoints and ESS ServerGroups', () => {
  it('is regional: nlb.<region>.aliyuncs.com, overridden by NLB_ENDPOINT', () => {
    expect(defaultEndpoint('nlb', 'cn-beijing')).toBe('https://nlb.cn-beijing.aliyuncs.com');
    expect(defaultEndpoint('nlb', 'cn-hangzhou')).toBe('https://nlb.cn-hangzhou.aliyuncs.com');
    expect(endpointsFromEnv({ NLB_ENDPOINT: 'http://127.0.0.1:18080/' })).toEqual({ nlb: 'http://127.0.0.1:18080' });
  });

  it('keeps NLB and other ServerGroups entries of DescribeScalingGroups instead of dropping them', () => {
    const g = toScalingGroup({
      ScalingGroupId: 'asg-1',
      LifecycleState: 'Active',
      MinSize: 0,
      MaxSize: 10,
      TotalCapacity: 2,
      AlbServerGroups: { AlbServerGroup: [{ AlbServerGroupId: 'sgp-a', Port: 80, Weight: 100 }] },
      ServerGroups: {
        ServerGroup: [
          { ServerGroupId: 'sgp-a', Type: 'ALB', Port: 80, Weight: 100 },
          { ServerGroupId: 'sgp-n', Type: 'NLB', Port: 443, Weight: 50 },
          { ServerGroupId: 'sgp-n', Type: 'NLB', Port: 443, Weight: 50 },
          { ServerGroupId: 'sgp-g', Type: 'GWLB', Port: 6081, Weight: 100 },
        ],
      },
    });
    expect(g.albServerGroups).toEqual([{ albServerGroupId: 'sgp-a', port: 80, weight: 100 }]);
    expect(g.nlbServerGroups).toEqual([{ nlbServerGroupId: 'sgp-n', port: 443, weight: 50 }]);
    expect(g.otherServerGroups).toEqual([{ serverGroupId: 'sgp-g', type: 'GWLB', port: 6081, weight: 100 }]);
  });
});
