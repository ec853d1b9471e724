import type { RpcClient } from './rpc-client';
import type {
  CallOptions,
  ClbApi,
  ClbBackendServer,
  ClbHealth,
  ClbLoadBalancer,
  ClbVServerGroup,
  WithRequestId,
} from './types';
import {
  chunk,
  clbBackendServersParam,
  joinRequestIds,
  requestIdOf,
  toClbBackendServer,
  toClbHealth,
  unwrap,
} from './wire';
import type {
  Loose,
  WireDescribeHealthStatusResponse,
  WireDescribeLoadBalancerAttributeResponse,
  WireDescribeVServerGroupAttributeResponse,
  WireHealthBackendServer,
  WireLoadBalancerParams,
  WireSetBackendServersParams,
  WireSetBackendServersResponse,
  WireSetVServerGroupAttributeParams,
  WireSetVServerGroupAttributeResponse,
  WireVServerGroupBackendServer,
  WireVServerGroupParams,
} from './wire';

/** Entries per `BackendServers` parameter. */
export const CLB_MAX_BACKENDS = 20;

type Wire<T> = Partial<T>;

function backends(wrapper: unknown): ClbBackendServer[] {
  return unwrap<Loose<WireVServerGroupBackendServer>>(wrapper, 'BackendServer').map(toClbBackendServer);
}

/** Classic Load Balancer (SLB) 2014-05-15 over the RPC client. */
export class ClbClient implements ClbApi {
  constructor(private readonly rpc: RpcClient) {}

  describeLoadBalancerAttribute(
    regionId: string,
    loadBalancerId: string,
    opts?: CallOptions,
  ): Promise<ClbLoadBalancer> {
    const params: WireLoadBalancerParams = { RegionId: regionId, LoadBalancerId: loadBalancerId };
    return this.rpc.invoke(
      'slb',
      'DescribeLoadBalancerAttribute',
      params,
      (w: Wire<WireDescribeLoadBalancerAttributeResponse>) => ({
        requestId: requestIdOf(w),
        loadBalancerId: w.LoadBalancerId ?? loadBalancerId,
        loadBalancerStatus: w.LoadBalancerStatus ?? '',
        backendServers: backends(w.BackendServers),
      }),
      { ...opts, regionId },
    );
  }

  async setBackendServers(
    regionId: string,
    loadBalancerId: string,
    servers: ClbBackendServer[],
    opts?: CallOptions,
  ): Promise<WithRequestId & { backendServers: ClbBackendServer[] }> {
    if (servers.length === 0) throw new RangeError('servers must have at least 1 item');
    const requestIds: string[] = [];
    const result: ClbBackendServer[] = [];
    for (const part of chunk(servers, CLB_MAX_BACKENDS)) {
      // The default server group has no per-backend port.
      const params: WireSetBackendServersParams = {
        RegionId: regionId,
        LoadBalancerId: loadBalancerId,
        BackendServers: clbBackendServersParam(part, false),
      };
      const res = await this.rpc.invoke(
        'slb',
        'SetBackendServers',
        params,
        (w: Wire<WireSetBackendServersResponse>) => ({
          requestId: requestIdOf(w),
          backendServers: backends(w.BackendServers),
        }),
        { ...opts, regionId },
      );
      requestIds.push(res.requestId);
      result.push(...res.backendServers);
    }
    return { requestId: joinRequestIds(requestIds), backendServers: result };
  }

  describeVServerGroupAttribute(
    regionId: string,
    vServerGroupId: string,
    opts?: CallOptions,
  ): Promise<ClbVServerGroup> {
    const params: WireVServerGroupParams = { RegionId: regionId, VServerGroupId: vServerGroupId };
    return this.rpc.invoke(
      'slb',
      'DescribeVServerGroupAttribute',
      params,
      (w: Wire<WireDescribeVServerGroupAttributeResponse>) => ({
        requestId: requestIdOf(w),
        vServerGroupId: w.VServerGroupId ?? vServerGroupId,
        vServerGroupName: w.VServerGroupName ?? '',
        loadBalancerId: w.LoadBalancerId || undefined,
        backendServers: backends(w.BackendServers),
      }),
      { ...opts, regionId },
    );
  }

  async setVServerGroupAttribute(
    regionId: string,
    vServerGroupId: string,
    servers: ClbBackendServer[],
    opts?: CallOptions,
  ): Promise<WithRequestId & { backendServers: ClbBackendServer[] }> {
    if (servers.length === 0) throw new RangeError('servers must have at least 1 item');
    const requestIds: string[] = [];
    const result: ClbBackendServer[] = [];
    for (const part of chunk(servers, CLB_MAX_BACKENDS)) {
      const params: WireSetVServerGroupAttributeParams = {
        RegionId: regionId,
        VServerGroupId: vServerGroupId,
        BackendServers: clbBackendServersParam(part, true),
      };
      const res = await this.rpc.invoke(
        'slb',
        'SetVServerGroupAttribute',
        params,
        (w: Wire<WireSetVServerGroupAttributeResponse>) => ({
          requestId: requestIdOf(w),
          backendServers: backends(w.BackendServers),
        }),
        { ...opts, regionId },
      );
      requestIds.push(res.requestId);
      result.push(...res.backendServers);
    }
    return { requestId: joinRequestIds(requestIds), backendServers: result };
  }

  describeHealthStatus(
    regionId: string,
    loadBalancerId: string,
    opts?: CallOptions,
  ): Promise<WithRequestId & { servers: ClbHealth[] }> {
    const params: WireLoadBalancerParams = { RegionId: regionId, LoadBalancerId: loadBalancerId };
    return this.rpc.invoke(
      'slb',
      'DescribeHealthStatus',
      params,
      (w: Wire<WireDescribeHealthStatusResponse>) => ({
        requestId: requestIdOf(w),
        servers: unwrap<Loose<WireHealthBackendServer>>(w.BackendServers, 'BackendServer').map(toClbHealth),
      }),
      { ...opts, regionId },
    );
  }
}
