import { AliyunApiError } from '../../../src/aliyun/errors';
import type {
  AlbApi,
  AlbJob,
  AlbServer,
  ClbApi,
  ClbBackendServer,
  CloudClient,
  EssApi,
  NlbApi,
  NlbServer,
  ScalingActivity,
  ScalingGroup,
  ScalingInstance,
} from '../../../src/aliyun/types';

/**
 * A `CloudClient` for unit tests: every call is recorded, and each test scripts the answers (and
 * errors) operation by operation. A call nobody scripted fails loudly, so a test never passes on
 * a call it did not expect.
 */

interface Apis {
  ess: EssApi;
  clb: ClbApi;
  alb: AlbApi;
  nlb: NlbApi;
}

/** `ess.removeInstances`, `clb.setBackendServers`, … */
export type Op = { [P in keyof Apis]: `${P}.${keyof Apis[P] & string}` }[keyof Apis];

type Method<O extends Op> = O extends `${infer P extends keyof Apis}.${infer M}`
  ? M extends keyof Apis[P]
    ? Extract<Apis[P][M], (...args: never[]) => Promise<unknown>>
    : never
  : never;

export type Args<O extends Op> = Parameters<Method<O>>;
export type Result<O extends Op> = Awaited<ReturnType<Method<O>>>;

/** A value to return, an error to throw, or a function of the call's arguments that does either. */
export type Answer<O extends Op> = Result<O> | Error | ((...args: Args<O>) => Result<O> | Promise<Result<O>>);

export interface Call {
  op: Op;
  args: unknown[];
}

export class UnscriptedCallError extends Error {
  override readonly name = 'UnscriptedCallError';
}

export class FakeCloud {
  readonly calls: Call[] = [];
  private readonly queued = new Map<Op, Array<Answer<Op>>>();
  private readonly standing = new Map<Op, Answer<Op>>();

  /** Answers for the next calls of `op`, one per call, in order. */
  script<O extends Op>(op: O, ...answers: Array<Answer<O>>): this {
    this.queued.set(op, [...(this.queued.get(op) ?? []), ...(answers as Array<Answer<Op>>)]);
    return this;
  }

  /** The answer for every call of `op` once the scripted ones are used up. */
  always<O extends Op>(op: O, answer: Answer<O>): this {
    this.standing.set(op, answer as Answer<Op>);
    return this;
  }

  /** The arguments of every call of `op`, in order. */
  argsOf<O extends Op>(op: O): Array<Args<O>> {
    return this.calls.filter((c) => c.op === op).map((c) => c.args as Args<O>);
  }

  /** The operations called, in order. */
  ops(): Op[] {
    return this.calls.map((c) => c.op);
  }

  readonly client: CloudClient = {
    ess: {
      describeScalingGroup: (...a) => this.call('ess.describeScalingGroup', a),
      describeScalingInstances: (...a) => this.call('ess.describeScalingInstances', a),
      describeScalingActivities: (...a) => this.call('ess.describeScalingActivities', a),
      recentScalingActivities: (...a) => this.call('ess.recentScalingActivities', a),
      removeInstances: (...a) => this.call('ess.removeInstances', a),
      enterStandby: (...a) => this.call('ess.enterStandby', a),
      exitStandby: (...a) => this.call('ess.exitStandby', a),
      describeLifecycleHooks: (...a) => this.call('ess.describeLifecycleHooks', a),
      describeLifecycleActions: (...a) => this.call('ess.describeLifecycleActions', a),
      completeLifecycleAction: (...a) => this.call('ess.completeLifecycleAction', a),
    },
    clb: {
      describeLoadBalancerAttribute: (...a) => this.call('clb.describeLoadBalancerAttribute', a),
      setBackendServers: (...a) => this.call('clb.setBackendServers', a),
      describeVServerGroupAttribute: (...a) => this.call('clb.describeVServerGroupAttribute', a),
      setVServerGroupAttribute: (...a) => this.call('clb.setVServerGroupAttribute', a),
      describeHealthStatus: (...a) => this.call('clb.describeHealthStatus', a),
    },
    alb: {
      listServerGroupServers: (...a) => this.call('alb.listServerGroupServers', a),
      updateServerGroupServersAttribute: (...a) => this.call('alb.updateServerGroupServersAttribute', a),
      listAsynJobs: (...a) => this.call('alb.listAsynJobs', a),
    },
    nlb: {
      listServerGroupServers: (...a) => this.call('nlb.listServerGroupServers', a),
      updateServerGroupServersAttribute: (...a) => this.call('nlb.updateServerGroupServersAttribute', a),
      getJobStatus: (...a) => this.call('nlb.getJobStatus', a),
    },
  };

  private async call<O extends Op>(op: O, args: Args<O>): Promise<Result<O>> {
    // A copy: the activities may reuse the arrays they pass.
    this.calls.push({ op, args: structuredCloneArgs(args) });
    const answer = this.nextAnswer(op);
    if (answer instanceof Error) throw answer;
    if (typeof answer === 'function') return answer(...args);
    return answer as Result<O>;
  }

  private nextAnswer<O extends Op>(op: O): Answer<O> {
    const queue = this.queued.get(op);
    if (queue?.length) return queue.shift() as Answer<O>;
    if (this.standing.has(op)) return this.standing.get(op) as Answer<O>;
    throw new UnscriptedCallError(`FakeCloud: no answer scripted for ${op}`);
  }
}

/** Arrays and plain objects copied; the AbortSignal kept as it is, so tests can check which one was passed. */
function structuredCloneArgs(args: readonly unknown[]): unknown[] {
  return args.map((a) => {
    if (Array.isArray(a)) return [...(a as unknown[])];
    if (a && typeof a === 'object' && !(a instanceof AbortSignal)) return { ...a };
    return a;
  });
}

// ---------- builders of cloud answers ----------

export function scalingGroup(
  over: Partial<ScalingGroup & { requestId: string }> = {},
): ScalingGroup & { requestId: string } {
  return {
    requestId: 'req-group',
    scalingGroupId: 'asg-1',
    scalingGroupName: 'web',
    regionId: 'cn-hangzhou',
    lifecycleState: 'Active',
    minSize: 0,
    maxSize: 100,
    desiredCapacity: undefined,
    totalCapacity: 10,
    activeCapacity: 10,
    standbyCapacity: 0,
    protectedCapacity: 0,
    removingCapacity: 0,
    scalingPolicy: 'release',
    activeScalingConfigurationId: 'asc-1',
    removalPolicies: [],
    loadBalancerIds: [],
    vServerGroups: [],
    albServerGroups: [],
    dbInstanceIds: [],
    ...over,
  };
}

export function instance(instanceId: string, over: Partial<ScalingInstance> = {}): ScalingInstance {
  return {
    instanceId,
    scalingGroupId: 'asg-1',
    scalingConfigurationId: 'asc-1',
    scalingActivityId: undefined,
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    creationType: 'AutoCreated',
    creationTime: '2024-05-01T00:00Z',
    entrusted: false,
    zoneId: 'cn-hangzhou-h',
    ...over,
  };
}

/** The answer of describeScalingInstances. */
export function instances(...list: ScalingInstance[]): Result<'ess.describeScalingInstances'> {
  return { instances: list, requestIds: ['req-describe'] };
}

export function activity(scalingActivityId: string, over: Partial<ScalingActivity> = {}): ScalingActivity {
  return {
    scalingActivityId,
    scalingGroupId: 'asg-1',
    statusCode: 'InProgress',
    statusMessage: '',
    progress: 0,
    description: 'Remove instances',
    cause: 'RemoveInstances',
    startTime: '2024-05-01T10:05Z',
    endTime: undefined,
    totalCapacity: undefined,
    errorCode: undefined,
    errorMessage: undefined,
    failedInstanceIds: [],
    ...over,
  };
}

/** An error answer as the client raises it, with a real code and HTTP status. */
export function apiError(
  code: string,
  httpStatus: number,
  opts: { requestId?: string; action?: string; message?: string; recommend?: string } = {},
): AliyunApiError {
  return new AliyunApiError(
    code,
    opts.message ?? `the API said ${code}`,
    httpStatus,
    opts.requestId,
    opts.recommend,
    opts.action ?? 'RemoveInstances',
  );
}

export function loadBalancer(
  loadBalancerId: string,
  backendServers: ClbBackendServer[] = [],
  loadBalancerStatus = 'active',
): Result<'clb.describeLoadBalancerAttribute'> {
  return { requestId: `req-describe-${loadBalancerId}`, loadBalancerId, loadBalancerStatus, backendServers };
}

export function vServerGroup(
  vServerGroupId: string,
  backendServers: ClbBackendServer[] = [],
): Result<'clb.describeVServerGroupAttribute'> {
  return {
    requestId: `req-describe-${vServerGroupId}`,
    vServerGroupId,
    vServerGroupName: vServerGroupId,
    loadBalancerId: undefined,
    backendServers,
  };
}

export function albServer(serverId: string, port: number, weight: number, serverType = 'Ecs'): AlbServer {
  return { serverId, serverType, port, weight, status: 'Available' };
}

export function albJob(id: string, status: AlbJob['status'], over: Partial<AlbJob> = {}): AlbJob {
  return {
    id,
    apiName: 'UpdateServerGroupServersAttribute',
    resourceId: 'sgp-1',
    status,
    errorCode: undefined,
    errorMessage: undefined,
    ...over,
  };
}

export function nlbServer(serverId: string, port: number, weight: number, serverType = 'Ecs'): NlbServer {
  return { serverId, serverType, port, weight, status: 'Available' };
}

/** Backends of the batch's load balancers, by ID. */
export interface LoadBalancerState {
  clb?: Record<string, ClbBackendServer[]>;
  vsg?: Record<string, ClbBackendServer[]>;
  alb?: Record<string, AlbServer[]>;
  nlb?: Record<string, NlbServer[]>;
}

/**
 * A cloud whose load balancers hold `state`: reads answer from it, weight changes are accepted
 * (RequestId `req-set-<id>`), ALB jobs (`job-<server group>`) have succeeded. Tests script other
 * answers on top.
 */
export function loadBalancerCloud(state: LoadBalancerState): FakeCloud {
  return new FakeCloud()
    .always('clb.describeLoadBalancerAttribute', (_r, id) => loadBalancer(id, state.clb?.[id] ?? []))
    .always('clb.describeVServerGroupAttribute', (_r, id) => vServerGroup(id, state.vsg?.[id] ?? []))
    .always('alb.listServerGroupServers', (_r, id, opts) => ({
      requestId: `req-list-${id}`,
      servers: (state.alb?.[id] ?? []).filter((s) => !opts?.serverIds || opts.serverIds.includes(s.serverId)),
    }))
    .always('clb.setBackendServers', (_r, id, servers) => ({ requestId: `req-set-${id}`, backendServers: servers }))
    .always('clb.setVServerGroupAttribute', (_r, id, servers) => ({
      requestId: `req-set-${id}`,
      backendServers: servers,
    }))
    .always('alb.updateServerGroupServersAttribute', (_r, id) => ({ requestId: `req-set-${id}`, jobId: `job-${id}` }))
    .always('alb.listAsynJobs', (_r, ids) => ({
      requestId: 'req-jobs',
      jobs: ids.map((id) => albJob(id, 'Succeeded')),
    }))
    .always('nlb.listServerGroupServers', (_r, id, opts) => ({
      requestId: `req-list-${id}`,
      servers: (state.nlb?.[id] ?? []).filter((s) => !opts?.serverIds || opts.serverIds.includes(s.serverId)),
    }))
    .always('nlb.updateServerGroupServersAttribute', (_r, id) => ({ requestId: `req-set-${id}`, jobId: `job-${id}` }))
    .always('nlb.getJobStatus', () => ({ requestId: 'req-job', status: 'Succeeded' }));
}
