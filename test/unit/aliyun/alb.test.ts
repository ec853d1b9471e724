import { describe, expect, it } from 'vitest';
import { AliyunBadResponseError } from '../../../src/aliyun';
import type { WireAlbServer, WireListAsynJobsResponse, WireListServerGroupServersResponse } from '../../../src/aliyun';
import { indexed, json, setup } from './loopback-server';

const albServer = (n: number): WireAlbServer => ({
  ServerId: `i-${n}`,
  ServerType: 'Ecs',
  Port: 80,
  Weight: 100,
  Status: 'Available',
  ServerGroupId: 'sgp-1',
});

describe('listServerGroupServers', () => {
  it('follows NextToken with MaxResults 100 and reads the bare Servers array', async () => {
    const pages: Record<string, WireListServerGroupServersResponse> = {
      '': { RequestId: 'R1', Servers: [albServer(1), albServer(2)], NextToken: 't2', MaxResults: 100, TotalCount: 4 },
      t2: { RequestId: 'R2', Servers: [albServer(3)], NextToken: 't3', MaxResults: 100, TotalCount: 4 },
      t3: {
        RequestId: 'R3',
        Servers: [{ ...albServer(4), Weight: 0, Status: 'Configuring', ServerIp: '10.0.0.4' }],
        NextToken: '',
        MaxResults: 100,
        TotalCount: 4,
      },
    };
    const { server, client } = await setup((req, res) => json(res, 200, pages[req.query.NextToken ?? '']));
    const result = await client.alb.listServerGroupServers('cn-hangzhou', 'sgp-1');
    expect(
      server.requests.map((r) => [
        r.query.Action,
        r.query.Version,
        r.query.ServerGroupId,
        r.query.MaxResults,
        r.query.NextToken,
      ]),
    ).toEqual([
      ['ListServerGroupServers', '2020-06-16', 'sgp-1', '100', undefined],
      ['ListServerGroupServers', '2020-06-16', 'sgp-1', '100', 't2'],
      ['ListServerGroupServers', '2020-06-16', 'sgp-1', '100', 't3'],
    ]);
    // ALB is regional by endpoint; it takes no RegionId parameter.
    expect(server.requests[0]?.query).not.toHaveProperty('RegionId');
    expect(result.requestId).toBe('R1,R2,R3');
    expect(result.servers.map((s) => s.serverId)).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
    expect(result.servers[3]).toEqual({
      serverId: 'i-4',
      serverType: 'Ecs',
      port: 80,
      weight: 0,
      status: 'Configuring',
      serverIp: '10.0.0.4',
    });
  });

  it('filters by ServerIds.N in chunks of 20 when server IDs are given, and sends nothing for none', async () => {
    const { server, client } = await setup((req, res) => {
      const ids = Object.entries(req.query)
        .filter(([k]) => k.startsWith('ServerIds.'))
        .map(([, v]) => Number(String(v).slice(2)));
      json(res, 200, {
        RequestId: `R${ids[0]}`,
        Servers: ids.map(albServer),
        NextToken: '',
        MaxResults: 100,
        TotalCount: ids.length,
      });
    });
    const wanted = Array.from({ length: 25 }, (_, i) => `i-${i + 1}`);
    const result = await client.alb.listServerGroupServers('cn-hangzhou', 'sgp-1', { serverIds: wanted });
    expect(server.requests).toHaveLength(2);
    expect(Object.keys(server.requests[0]?.query ?? {}).filter((k) => k.startsWith('ServerIds.'))).toHaveLength(20);
    expect(server.requests[1]?.query['ServerIds.5']).toBe('i-25');
    expect(result.servers.map((s) => s.serverId)).toEqual(wanted);
    expect(result.requestId).toBe('R1,R21');
    expect(await client.alb.listServerGroupServers('cn-hangzhou', 'sgp-1', { serverIds: [] })).toEqual({
      requestId: '',
      servers: [],
    });
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a NextToken that repeats instead of looping forever', async () => {
    const { server, client } = await setup((_req, res) =>
      json(res, 200, { RequestId: 'R', Servers: [albServer(1)], NextToken: 'same', MaxResults: 100, TotalCount: 9 }),
    );
    await expect(client.alb.listServerGroupServers('cn-hangzhou', 'sgp-1')).rejects.toThrow(AliyunBadResponseError);
    expect(server.requests).toHaveLength(2);
  });
});

describe('updateServerGroupServersAttribute', () => {
  it(
    'puts ServerGroupId and ClientToken in the query, Servers.N.* in a signed form body, ' + 'and returns the JobId',
    async () => {
      const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'RU', JobId: 'job-1' }));
      const result = await client.alb.updateServerGroupServersAttribute(
        'cn-hangzhou',
        'sgp-1',
        [
          { serverId: 'i-1', serverType: 'Ecs', port: 80, weight: 0 },
          { serverId: 'i-2', serverType: 'Ecs', port: 8080, weight: 0 },
        ],
        'tok-1',
      );
      expect(result).toEqual({ requestId: 'RU', jobId: 'job-1' });
      const [req] = server.requests;
      expect(req?.signatureValid).toBe(true);
      expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(req?.query).toMatchObject({
        Action: 'UpdateServerGroupServersAttribute',
        ServerGroupId: 'sgp-1',
        ClientToken: 'tok-1',
      });
      expect(req?.body).toEqual({
        'Servers.1.ServerId': 'i-1',
        'Servers.1.ServerType': 'Ecs',
        'Servers.1.Port': '80',
        'Servers.1.Weight': '0',
        'Servers.2.ServerId': 'i-2',
        'Servers.2.ServerType': 'Ecs',
        'Servers.2.Port': '8080',
        'Servers.2.Weight': '0',
      });
    },
  );

  it('treats a 2xx without JobId as an ambiguous bad response', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { RequestId: 'RU' }));
    const e = await client.alb
      .updateServerGroupServersAttribute('cn-hangzhou', 'sgp-1', [
        { serverId: 'i-1', serverType: 'Ecs', port: 80, weight: 0 },
      ])
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AliyunBadResponseError);
    expect(e).toMatchObject({ ambiguous: true });
  });

  it('refuses empty server lists and bad weights locally', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R', JobId: 'j' }));
    await expect(client.alb.updateServerGroupServersAttribute('cn-hangzhou', 'sgp-1', [])).rejects.toThrow(/servers/);
    await expect(
      client.alb.updateServerGroupServersAttribute('cn-hangzhou', 'sgp-1', [
        { serverId: 'i-1', serverType: 'Ecs', port: 80, weight: -1 },
      ]),
    ).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('listAsynJobs', () => {
  it('sends JobIds.N and converts the jobs', async () => {
    const body: WireListAsynJobsResponse = {
      RequestId: 'RJ',
      Jobs: [
        {
          Id: 'job-1',
          ApiName: 'UpdateServerGroupServersAttribute',
          ResourceId: 'sgp-1',
          ResourceType: 'servergroup',
          Status: 'Succeeded',
          CreateTime: 1,
          ModifyTime: 2,
        },
        {
          Id: 'job-2',
          ApiName: 'UpdateServerGroupServersAttribute',
          ResourceId: 'sgp-2',
          Status: 'Failed',
          ErrorCode: 'IncorrectStatus.ServerGroup',
          ErrorMessage: 'busy',
        },
      ],
      TotalCount: 2,
    };
    const { server, client } = await setup((_req, res) => json(res, 200, body));
    const result = await client.alb.listAsynJobs('cn-hangzhou', ['job-1', 'job-2']);
    expect(indexed(server.requests[0]?.query ?? {}, 'JobIds')).toEqual(['job-1', 'job-2']);
    expect(result).toEqual({
      requestId: 'RJ',
      jobs: [
        {
          id: 'job-1',
          apiName: 'UpdateServerGroupServersAttribute',
          resourceId: 'sgp-1',
          status: 'Succeeded',
          errorCode: undefined,
          errorMessage: undefined,
        },
        {
          id: 'job-2',
          apiName: 'UpdateServerGroupServersAttribute',
          resourceId: 'sgp-2',
          status: 'Failed',
          errorCode: 'IncorrectStatus.ServerGroup',
          errorMessage: 'busy',
        },
      ],
    });
  });

  it('refuses an empty job list', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R', Jobs: [] }));
    await expect(client.alb.listAsynJobs('cn-hangzhou', [])).rejects.toThrow(/jobIds/);
    expect(server.requests).toHaveLength(0);
  });
});
