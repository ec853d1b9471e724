import { describe, expect, it } from 'vitest';
import type {
  ClbBackendServer,
  WireClbBackendServerParam,
  WireDescribeHealthStatusResponse,
  WireDescribeLoadBalancerAttributeResponse,
  WireDescribeVServerGroupAttributeResponse,
  WireSetBackendServersResponse,
  WireSetVServerGroupAttributeResponse,
} from '../../../src/aliyun';
import { json, setup } from './loopback-server';

function backendsOf(query: Record<string, string>): WireClbBackendServerParam[] {
  return JSON.parse(query.BackendServers ?? '[]') as WireClbBackendServerParam[];
}

const servers = (n: number, port?: number): ClbBackendServer[] =>
  Array.from({ length: n }, (_, i) => ({ serverId: `i-${i}`, weight: 0, type: 'ecs', port }));

describe('setBackendServers', () => {
  it('sends BackendServers as a JSON string of at most 20 entries, splitting longer lists', async () => {
    const { server, client } = await setup((req, res) => {
      const body: WireSetBackendServersResponse = {
        RequestId: `R${server.requests.length}`,
        LoadBalancerId: req.query.LoadBalancerId ?? '',
        BackendServers: {
          BackendServer: backendsOf(req.query).map((b) => ({ ServerId: b.ServerId, Weight: b.Weight, Type: b.Type })),
        },
      };
      json(res, 200, body);
    });
    const result = await client.clb.setBackendServers('cn-hangzhou', 'lb-1', servers(45, 80));
    expect(server.requests.map((r) => backendsOf(r.query).length)).toEqual([20, 20, 5]);
    expect(
      server.requests.every(
        (r) =>
          r.query.Action === 'SetBackendServers' &&
          r.query.LoadBalancerId === 'lb-1' &&
          r.query.RegionId === 'cn-hangzhou',
      ),
    ).toBe(true);
    // The default server group has no per-backend port, even when the caller knows one.
    expect(backendsOf(server.requests[0]?.query ?? {})[0]).toEqual({ ServerId: 'i-0', Weight: '0', Type: 'ecs' });
    expect(result.backendServers).toHaveLength(45);
    expect(result.backendServers[44]).toEqual({ serverId: 'i-44', weight: 0, type: 'ecs', port: undefined });
    expect(result.requestId).toBe('R1,R2,R3');
  });

  it('refuses out-of-range weights and empty lists without sending', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R' }));
    await expect(
      client.clb.setBackendServers('cn-hangzhou', 'lb-1', [{ serverId: 'i-1', weight: 101, type: 'ecs' }]),
    ).rejects.toThrow(/weight/);
    await expect(
      client.clb.setBackendServers('cn-hangzhou', 'lb-1', [{ serverId: 'i-1', weight: 1.5, type: 'ecs' }]),
    ).rejects.toThrow(RangeError);
    await expect(client.clb.setBackendServers('cn-hangzhou', 'lb-1', [])).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('setVServerGroupAttribute', () => {
  it('includes Port for vserver group backends and converts the answer', async () => {
    const { server, client } = await setup((req, res) => {
      const body: WireSetVServerGroupAttributeResponse = {
        RequestId: 'RV',
        VServerGroupId: 'rsp-1',
        VServerGroupName: 'web',
        BackendServers: {
          BackendServer: backendsOf(req.query).map((b) => ({
            ServerId: b.ServerId,
            Port: Number(b.Port),
            Weight: Number(b.Weight),
            Type: b.Type,
          })),
        },
      };
      json(res, 200, body);
    });
    const result = await client.clb.setVServerGroupAttribute('cn-hangzhou', 'rsp-1', [
      { serverId: 'i-1', weight: 0, type: 'ecs', port: 8080 },
    ]);
    expect(server.requests[0]?.query).toMatchObject({ Action: 'SetVServerGroupAttribute', VServerGroupId: 'rsp-1' });
    expect(backendsOf(server.requests[0]?.query ?? {})).toEqual([
      { ServerId: 'i-1', Weight: '0', Type: 'ecs', Port: '8080' },
    ]);
    expect(result).toEqual({
      requestId: 'RV',
      backendServers: [{ serverId: 'i-1', weight: 0, type: 'ecs', port: 8080 }],
    });
  });

  it('requires a port for every vserver group backend', async () => {
    const { server, client } = await setup((_req, res) => json(res, 200, { RequestId: 'R' }));
    await expect(client.clb.setVServerGroupAttribute('cn-hangzhou', 'rsp-1', servers(1))).rejects.toThrow(/port/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('describe calls', () => {
  it('describeLoadBalancerAttribute converts status and backends', async () => {
    const body: WireDescribeLoadBalancerAttributeResponse = {
      RequestId: 'RL',
      LoadBalancerId: 'lb-1',
      LoadBalancerStatus: 'active',
      BackendServers: { BackendServer: [{ ServerId: 'i-1', Weight: 100, Type: 'ecs', ServerIp: '10.0.0.1' }] },
    };
    const { server, client } = await setup((_req, res) => json(res, 200, body));
    await expect(client.clb.describeLoadBalancerAttribute('cn-hangzhou', 'lb-1')).resolves.toEqual({
      requestId: 'RL',
      loadBalancerId: 'lb-1',
      loadBalancerStatus: 'active',
      backendServers: [{ serverId: 'i-1', weight: 100, type: 'ecs', port: undefined }],
    });
    expect(server.requests[0]?.query).toMatchObject({
      Action: 'DescribeLoadBalancerAttribute',
      Version: '2014-05-15',
      LoadBalancerId: 'lb-1',
    });
  });

  it('describeVServerGroupAttribute converts the group', async () => {
    const body: WireDescribeVServerGroupAttributeResponse = {
      RequestId: 'RG',
      VServerGroupId: 'rsp-1',
      VServerGroupName: 'web',
      LoadBalancerId: 'lb-1',
      BackendServers: { BackendServer: [{ ServerId: 'i-1', Port: 80, Weight: 50, Type: 'ecs' }] },
    };
    const { client } = await setup((_req, res) => json(res, 200, body));
    await expect(client.clb.describeVServerGroupAttribute('cn-hangzhou', 'rsp-1')).resolves.toEqual({
      requestId: 'RG',
      vServerGroupId: 'rsp-1',
      vServerGroupName: 'web',
      loadBalancerId: 'lb-1',
      backendServers: [{ serverId: 'i-1', weight: 50, type: 'ecs', port: 80 }],
    });
  });

  it('describeHealthStatus converts each backend health entry', async () => {
    const body: WireDescribeHealthStatusResponse = {
      RequestId: 'RH',
      BackendServers: {
        BackendServer: [
          {
            ServerId: 'i-1',
            ServerIp: '10.0.0.1',
            Port: 80,
            ListenerPort: 443,
            Protocol: 'https',
            ServerHealthStatus: 'abnormal',
          },
        ],
      },
    };
    const { client } = await setup((_req, res) => json(res, 200, body));
    await expect(client.clb.describeHealthStatus('cn-hangzhou', 'lb-1')).resolves.toEqual({
      requestId: 'RH',
      servers: [{ serverId: 'i-1', port: 80, listenerPort: 443, serverHealthStatus: 'abnormal' }],
    });
  });
});
