/**
 * CLB (SLB) 2014-05-15: DescribeLoadBalancerAttribute, SetBackendServers,
 * DescribeVServerGroupAttribute, SetVServerGroupAttribute, DescribeHealthStatus.
 */
import type {
  WireDescribeHealthStatusResponse,
  WireDescribeLoadBalancerAttributeResponse,
  WireDescribeVServerGroupAttributeResponse,
  WireHealthBackendServer,
  WireSetBackendServersResponse,
  WireSetVServerGroupAttributeResponse,
  WireVServerGroupBackendServer,
} from '../aliyun/wire';
import { apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import type { ClbState, ReadonlyDeep, VsgBackend, VsgState, WeightUpdate } from './state';
import type { ClbChange } from './state/clb';

type Clb = ReadonlyDeep<ClbState>;
type Vsg = ReadonlyDeep<VsgState>;

const MAX_BACKENDS = 20;

function findLb(ctx: ActionContext): Clb {
  const id = ctx.params.required('LoadBalancerId');
  const lb = ctx.state.clb.loadBalancer(id);
  const region = ctx.params.get('RegionId');
  if (!lb || (region !== undefined && lb.regionId !== region)) {
    throw apiError('InvalidLoadBalancerId.NotFound', `The specified LoadBalancerId does not exist: ${id}.`);
  }
  return lb;
}

function findVsg(ctx: ActionContext): Vsg {
  ctx.params.required('RegionId');
  const id = ctx.params.required('VServerGroupId');
  const vsg = ctx.state.clb.vServerGroup(id);
  const region = ctx.params.get('RegionId');
  const lb = vsg ? ctx.state.clb.loadBalancer(vsg.loadBalancerId) : undefined;
  // Terraform and the SDKs match this message with code InvalidParameter.
  if (!vsg || !lb || lb.regionId !== region)
    throw apiError('InvalidParameter', 'The specified VServerGroupId does not exist.');
  return vsg;
}

/**
 * A change of a load balancer still in progress (ESS's deregistration, `timings.clbChangeWindowMs`)
 * refuses the next one, with the codes and messages of the CLB error code reference.
 */
function checkNotConfiguring(change: ClbChange): void {
  if (change === 'vServerGroup')
    throw apiError(
      'VServerGroupProcessing',
      'A previous configuration of the VServer group is pending; please try again later.',
      400,
    );
  if (change === 'loadBalancer')
    throw apiError('ServiceIsConfiguring', 'A previous configuration is pending; please try again later.', 400);
}

function ipOf(ctx: ActionContext, serverId: string): string | undefined {
  return ctx.state.scalingGroups.instance(serverId)?.privateIp;
}

interface BackendParam {
  serverId: string;
  weight: number | undefined;
  type: string;
  port: number | undefined;
}

/** The raw `BackendServers` JSON: double-quoted, or single-quoted as the product docs print it. */
function backendServersArray(raw: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    try {
      parsed = JSON.parse(raw.replace(/'/g, '"'));
    } catch {
      throw invalidParameter('BackendServers', 'The specified parameter "BackendServers" is not valid JSON.');
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw invalidParameter('BackendServers');
  if (parsed.length > MAX_BACKENDS) {
    throw invalidParameter(
      'BackendServers',
      `The specified parameter "BackendServers" is not valid: at most ${MAX_BACKENDS} backend servers per call.`,
    );
  }
  return parsed;
}

/** A number, or a string of digits; NaN otherwise. */
function numeric(v: unknown): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
}

function weightOf(o: Record<string, unknown>): number | undefined {
  if (o.Weight === undefined || o.Weight === '') return undefined;
  const w = numeric(o.Weight);
  if (!Number.isInteger(w) || w < 0 || w > 100)
    throw invalidParameter(
      'Weight',
      `The specified parameter "Weight" is not valid: ${JSON.stringify(o.Weight)} (0..100).`,
    );
  return w;
}

function portOf(o: Record<string, unknown>): number | undefined {
  if (o.Port === undefined || o.Port === '') return undefined;
  const n = numeric(o.Port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalidParameter('Port');
  return n;
}

function backendParam(e: unknown, needPort: boolean): BackendParam {
  if (typeof e !== 'object' || e === null) throw invalidParameter('BackendServers');
  const o = e as Record<string, unknown>;
  const serverId = o.ServerId;
  if (typeof serverId !== 'string' || serverId === '') throw missingParameter('BackendServers.ServerId');
  const weight = weightOf(o);
  const port = portOf(o);
  if (needPort && port === undefined) throw missingParameter('BackendServers.Port');
  const type = typeof o.Type === 'string' && o.Type !== '' ? o.Type : 'ecs';
  if (!['ecs', 'eni', 'eci'].includes(type)) throw invalidParameter('Type');
  return { serverId, weight, type, port };
}

/**
 * The `BackendServers` JSON-string parameter: an array of at most 20 `{ServerId, Weight, Type, Port}`
 * with values as strings or numbers. Single-quoted JSON, as the product docs print it, is accepted too.
 */
function parseBackendServers(raw: string, needPort: boolean): BackendParam[] {
  return backendServersArray(raw).map((e) => backendParam(e, needPort));
}

function backendNotFound(unknown: WeightUpdate): Error {
  const port = unknown.port === undefined ? '' : ` (port ${unknown.port})`;
  return invalidParameter(
    'BackendServers',
    `The specified backend server "${unknown.serverId}"${port} does not exist in the server group.`,
  );
}

function vsgServers(ctx: ActionContext, backends: Iterable<Readonly<VsgBackend>>): WireVServerGroupBackendServer[] {
  return [...backends].map((b) => {
    const w: WireVServerGroupBackendServer = {
      ServerId: b.serverId,
      Port: b.port,
      Weight: b.weight,
      Type: b.type,
      Description: '',
    };
    const ip = ipOf(ctx, b.serverId);
    if (ip) w.ServerIp = ip;
    return w;
  });
}

const describeLoadBalancerAttribute: ActionHandler = (ctx): Body<WireDescribeLoadBalancerAttributeResponse> => {
  const lb = findLb(ctx);
  checkDenied(ctx);
  return {
    LoadBalancerId: lb.id,
    LoadBalancerName: lb.name,
    LoadBalancerStatus: lb.status,
    RegionId: lb.regionId,
    Address: lb.address,
    AddressType: 'intranet',
    NetworkType: 'vpc',
    ListenerPorts: { ListenerPort: lb.listeners.map((l) => l.port) },
    BackendServers: {
      BackendServer: [...lb.backends.values()].map((b) => {
        const ip = ipOf(ctx, b.serverId);
        return {
          ServerId: b.serverId,
          Weight: b.weight,
          Type: b.type,
          Description: '',
          ...(ip ? { ServerIp: ip } : {}),
        };
      }),
    },
  };
};

const setBackendServers: ActionHandler = (ctx): Body<WireSetBackendServersResponse> => {
  const lb = findLb(ctx);
  checkDenied(ctx);
  const entries = parseBackendServers(ctx.params.required('BackendServers'), false);
  checkNotConfiguring(ctx.state.clb.lbChangeAt(lb.id, ctx.state.now()));
  const change = ctx.state.clb.setServerWeights(
    lb.id,
    entries.map((e) => ({ serverId: e.serverId, weight: e.weight })),
  );
  if (!change.ok) throw backendNotFound(change.unknown);
  const out = change.after.map((b) => ({
    ServerId: b.serverId,
    Weight: String(b.weight),
    Type: b.type,
    Description: '',
  }));
  return { LoadBalancerId: lb.id, BackendServers: { BackendServer: out } };
};

const describeVServerGroupAttribute: ActionHandler = (ctx): Body<WireDescribeVServerGroupAttributeResponse> => {
  const vsg = findVsg(ctx);
  checkDenied(ctx);
  return {
    VServerGroupId: vsg.id,
    VServerGroupName: vsg.name,
    LoadBalancerId: vsg.loadBalancerId,
    BackendServers: { BackendServer: vsgServers(ctx, vsg.backends.values()) },
  };
};

const setVServerGroupAttribute: ActionHandler = (ctx): Body<WireSetVServerGroupAttributeResponse> => {
  const vsg = findVsg(ctx);
  checkDenied(ctx);
  const raw = ctx.params.get('BackendServers');
  const updates = raw === undefined ? undefined : parseBackendServers(raw, true);
  checkNotConfiguring(ctx.state.clb.vsgChangeAt(vsg.id, ctx.state.now()));
  const change = ctx.state.clb.setVServerGroupAttribute(vsg.id, {
    updates: updates?.map((e) => ({ serverId: e.serverId, port: e.port, weight: e.weight })),
    name: ctx.params.get('VServerGroupName'),
  });
  if (!change.ok) throw backendNotFound(change.unknown);
  return {
    VServerGroupId: vsg.id,
    VServerGroupName: vsg.name,
    BackendServers: { BackendServer: vsgServers(ctx, change.after) },
  };
};

const describeHealthStatus: ActionHandler = (ctx): Body<WireDescribeHealthStatusResponse> => {
  const lb = findLb(ctx);
  checkDenied(ctx);
  const listenerPort = ctx.params.int('ListenerPort', { min: 1, max: 65535 });
  const protocol = ctx.params.get('ListenerProtocol');
  const out: WireHealthBackendServer[] = [];
  for (const l of lb.listeners) {
    if (listenerPort !== undefined && l.port !== listenerPort) continue;
    if (protocol !== undefined && l.protocol !== protocol) continue;
    const vsg = l.vServerGroupId ? lb.vServerGroups.get(l.vServerGroupId) : undefined;
    const backends = vsg ? [...vsg.backends.values()] : [...lb.backends.values()].map((b) => ({ ...b, port: l.port }));
    for (const b of backends) {
      out.push({
        ServerId: b.serverId,
        ServerIp: ipOf(ctx, b.serverId) ?? '',
        Port: b.port,
        ListenerPort: l.port,
        Protocol: l.protocol,
        ServerHealthStatus: lb.status === 'active' ? (lb.health.get(b.serverId) ?? 'normal') : 'unavailable',
      });
    }
  }
  return { BackendServers: { BackendServer: out } };
};

export const CLB_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  DescribeLoadBalancerAttribute: describeLoadBalancerAttribute,
  SetBackendServers: setBackendServers,
  DescribeVServerGroupAttribute: describeVServerGroupAttribute,
  SetVServerGroupAttribute: setVServerGroupAttribute,
  DescribeHealthStatus: describeHealthStatus,
};
