import { AliyunBadResponseError } from './errors';
import type { RpcClient } from './rpc-client';
import type {
  CallOptions,
  CompleteLifecycleActionRequest,
  DescribeScalingInstancesRequest,
  EssApi,
  LifecycleAction,
  LifecycleHook,
  LifecycleHookContext,
  RemoveInstancesRequest,
  RemoveInstancesResult,
  ScalingActivity,
  ScalingGroup,
  ScalingInstance,
  WithRequestId,
} from './types';
import {
  checkCount,
  chunk,
  flattenList,
  requestIdOf,
  toLifecycleAction,
  toLifecycleHook,
  toScalingActivity,
  toScalingGroup,
  toScalingInstance,
  unwrap,
  WireFormatError,
  wireBool,
} from './wire';
import type {
  Indexed,
  Loose,
  WireBool,
  WireCompleteLifecycleActionParams,
  WireDescribeLifecycleActionsParams,
  WireDescribeLifecycleActionsResponse,
  WireDescribeLifecycleHooksParams,
  WireDescribeLifecycleHooksResponse,
  WireLifecycleAction,
  WireLifecycleHook,
  WireScalingActivity,
  WireScalingGroup,
  WireScalingInstance,
  WireDescribeScalingActivitiesParams,
  WireDescribeScalingActivitiesResponse,
  WireDescribeScalingGroupsParams,
  WireDescribeScalingGroupsResponse,
  WireDescribeScalingInstancesParams,
  WireDescribeScalingInstancesResponse,
  WireRemoveInstancesParams,
  WireRemoveInstancesResponse,
  WireStandbyParams,
} from './wire';

/** API limits of 2014-08-28: IDs per list parameter, and the largest page. */
export const ESS_MAX_IDS = 20;
export const ESS_PAGE_SIZE = 50;
/** DescribeLifecycleActions: "MaxResults ... Valid values: 1 to 50". */
export const ESS_LIFECYCLE_ACTIONS_MAX_RESULTS = 50;
/** 100,000 instances at 50 a page; a server that keeps paging past it is broken. */
const MAX_PAGES = 2000;

type Wire<T> = Partial<T>;

/** ESS (Auto Scaling) 2014-08-28 over the RPC client. */
export class EssClient implements EssApi {
  constructor(private readonly rpc: RpcClient) {}

  async describeScalingGroup(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<(ScalingGroup & WithRequestId) | undefined> {
    const params: WireDescribeScalingGroupsParams = {
      RegionId: regionId,
      ...flattenList('ScalingGroupId', [scalingGroupId]),
    };
    return this.rpc.invoke(
      'ess',
      'DescribeScalingGroups',
      params,
      (w: Wire<WireDescribeScalingGroupsResponse>) => {
        // Unknown groups are silently left out of the list rather than reported as errors.
        const found = unwrap<Loose<WireScalingGroup>>(w.ScalingGroups, 'ScalingGroup').find(
          (g) => g.ScalingGroupId === scalingGroupId,
        );
        return found ? { ...toScalingGroup(found), requestId: requestIdOf(w) } : undefined;
      },
      { ...opts, regionId },
    );
  }

  async describeScalingInstances(
    req: DescribeScalingInstancesRequest,
    opts?: CallOptions,
  ): Promise<{ instances: ScalingInstance[]; requestIds: string[] }> {
    // An empty filter must not widen into "every instance of the group".
    if (req.instanceIds?.length === 0) return { instances: [], requestIds: [] };
    const filters = req.instanceIds ? chunk(req.instanceIds, ESS_MAX_IDS) : [undefined];
    const byId = new Map<string, ScalingInstance>();
    const requestIds: string[] = [];
    for (const ids of filters) {
      for (let page = 1; ; page++) {
        if (page > MAX_PAGES)
          throw new AliyunBadResponseError(
            'DescribeScalingInstances',
            200,
            false,
            `still paging after ${MAX_PAGES} pages`,
          );
        const params: WireDescribeScalingInstancesParams = {
          RegionId: req.regionId,
          ScalingGroupId: req.scalingGroupId,
          LifecycleState: req.lifecycleState,
          ScalingActivityId: req.scalingActivityId,
          PageNumber: String(page),
          PageSize: String(ESS_PAGE_SIZE),
          ...(ids ? flattenList('InstanceId', ids) : {}),
        };
        const res = await this.rpc.invoke(
          'ess',
          'DescribeScalingInstances',
          params,
          (w: Wire<WireDescribeScalingInstancesResponse>) => ({
            requestId: requestIdOf(w),
            total: Number(w.TotalCount ?? NaN),
            instances: unwrap<Loose<WireScalingInstance>>(w.ScalingInstances, 'ScalingInstance').map(toScalingInstance),
          }),
          { ...opts, regionId: req.regionId },
        );
        requestIds.push(res.requestId);
        // Pages can shift while instances come and go; keep the first sighting of each.
        for (const i of res.instances) if (!byId.has(i.instanceId)) byId.set(i.instanceId, i);
        const seenSoFar = (page - 1) * ESS_PAGE_SIZE + res.instances.length;
        const more = Number.isFinite(res.total) ? seenSoFar < res.total : res.instances.length === ESS_PAGE_SIZE;
        if (!more || res.instances.length === 0) break;
      }
    }
    return { instances: [...byId.values()], requestIds };
  }

  async describeScalingActivities(
    regionId: string,
    scalingActivityIds: string[],
    opts?: CallOptions,
  ): Promise<{ activities: ScalingActivity[]; requestId: string }> {
    checkCount('scalingActivityIds', scalingActivityIds, 1, ESS_MAX_IDS);
    // At most 20 IDs, so one page of 50 always holds them all.
    return this.activities(
      { RegionId: regionId, PageSize: String(ESS_PAGE_SIZE), ...flattenList('ScalingActivityId', scalingActivityIds) },
      regionId,
      opts,
    );
  }

  async recentScalingActivities(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<{ activities: ScalingActivity[]; requestId: string }> {
    return this.activities(
      { RegionId: regionId, ScalingGroupId: scalingGroupId, PageSize: String(ESS_PAGE_SIZE) },
      regionId,
      opts,
    );
  }

  private activities(
    params: WireDescribeScalingActivitiesParams,
    regionId: string,
    opts?: CallOptions,
  ): Promise<{ activities: ScalingActivity[]; requestId: string }> {
    return this.rpc.invoke(
      'ess',
      'DescribeScalingActivities',
      params,
      (w: Wire<WireDescribeScalingActivitiesResponse>) => ({
        activities: unwrap<Loose<WireScalingActivity>>(w.ScalingActivities, 'ScalingActivity').map(toScalingActivity),
        requestId: requestIdOf(w),
      }),
      { ...opts, regionId },
    );
  }

  async removeInstances(req: RemoveInstancesRequest, opts?: CallOptions): Promise<RemoveInstancesResult> {
    checkCount('instanceIds', req.instanceIds, 1, ESS_MAX_IDS);
    checkClientToken(req.clientToken);
    const params: WireRemoveInstancesParams = {
      RegionId: req.regionId,
      ScalingGroupId: req.scalingGroupId,
      RemovePolicy: req.removePolicy,
      DecreaseDesiredCapacity:
        req.decreaseDesiredCapacity === undefined ? undefined : wireBool(req.decreaseDesiredCapacity),
      IgnoreInvalidInstance: req.ignoreInvalidInstance === undefined ? undefined : wireBool(req.ignoreInvalidInstance),
      ClientToken: req.clientToken,
      ...flattenList('InstanceId', req.instanceIds),
      ...lifecycleHookContextParams(req.lifecycleHookContext),
    };
    return this.rpc.invoke(
      'ess',
      'RemoveInstances',
      params,
      (w: Wire<WireRemoveInstancesResponse>) => {
        const requestId = requestIdOf(w);
        // Without the activity ID the removal cannot be tracked, although it was accepted.
        if (typeof w.ScalingActivityId !== 'string' || w.ScalingActivityId === '')
          throw new WireFormatError(`missing ScalingActivityId (RequestId ${requestId})`);
        return { scalingActivityId: w.ScalingActivityId, requestId };
      },
      { ...opts, regionId: req.regionId },
    );
  }

  async describeLifecycleHooks(
    regionId: string,
    scalingGroupId: string,
    opts?: CallOptions,
  ): Promise<{ hooks: LifecycleHook[]; requestIds: string[] }> {
    const byId = new Map<string, LifecycleHook>();
    const requestIds: string[] = [];
    for (let page = 1; ; page++) {
      if (page > MAX_PAGES)
        throw new AliyunBadResponseError('DescribeLifecycleHooks', 200, false, `still paging after ${MAX_PAGES} pages`);
      const params: WireDescribeLifecycleHooksParams = {
        RegionId: regionId,
        ScalingGroupId: scalingGroupId,
        PageNumber: String(page),
        PageSize: String(ESS_PAGE_SIZE),
      };
      const res = await this.rpc.invoke(
        'ess',
        'DescribeLifecycleHooks',
        params,
        (w: Wire<WireDescribeLifecycleHooksResponse>) => ({
          requestId: requestIdOf(w),
          total: Number(w.TotalCount ?? NaN),
          hooks: unwrap<Loose<WireLifecycleHook>>(w.LifecycleHooks, 'LifecycleHook').map(toLifecycleHook),
        }),
        { ...opts, regionId },
      );
      requestIds.push(res.requestId);
      for (const h of res.hooks) if (!byId.has(h.lifecycleHookId)) byId.set(h.lifecycleHookId, h);
      const seenSoFar = (page - 1) * ESS_PAGE_SIZE + res.hooks.length;
      const more = Number.isFinite(res.total) ? seenSoFar < res.total : res.hooks.length === ESS_PAGE_SIZE;
      if (!more || res.hooks.length === 0) break;
    }
    return { hooks: [...byId.values()], requestIds };
  }

  async describeLifecycleActions(
    regionId: string,
    scalingActivityId: string,
    opts?: CallOptions,
  ): Promise<{ actions: LifecycleAction[]; requestIds: string[] }> {
    const byToken = new Map<string, LifecycleAction>();
    const requestIds: string[] = [];
    const seenTokens = new Set<string>();
    let nextToken: string | undefined;
    for (let page = 1; ; page++) {
      if (page > MAX_PAGES)
        throw new AliyunBadResponseError(
          'DescribeLifecycleActions',
          200,
          false,
          `still paging after ${MAX_PAGES} pages`,
        );
      const params: WireDescribeLifecycleActionsParams = {
        RegionId: regionId,
        ScalingActivityId: scalingActivityId,
        MaxResults: String(ESS_LIFECYCLE_ACTIONS_MAX_RESULTS),
        NextToken: nextToken,
      };
      const res = await this.rpc.invoke(
        'ess',
        'DescribeLifecycleActions',
        params,
        (w: Wire<WireDescribeLifecycleActionsResponse>) => ({
          requestId: requestIdOf(w),
          nextToken: typeof w.NextToken === 'string' && w.NextToken !== '' ? w.NextToken : undefined,
          actions: unwrap<Loose<WireLifecycleAction>>(w.LifecycleActions, 'LifecycleAction').map(toLifecycleAction),
        }),
        { ...opts, regionId },
      );
      requestIds.push(res.requestId);
      for (const a of res.actions) if (!byToken.has(a.lifecycleActionToken)) byToken.set(a.lifecycleActionToken, a);
      // A token handed out twice would page forever.
      if (res.nextToken === undefined || seenTokens.has(res.nextToken)) break;
      seenTokens.add(res.nextToken);
      nextToken = res.nextToken;
    }
    return { actions: [...byToken.values()], requestIds };
  }

  async completeLifecycleAction(req: CompleteLifecycleActionRequest, opts?: CallOptions): Promise<WithRequestId> {
    checkClientToken(req.clientToken);
    const params: WireCompleteLifecycleActionParams = {
      RegionId: req.regionId,
      LifecycleHookId: req.lifecycleHookId,
      LifecycleActionToken: req.lifecycleActionToken,
      LifecycleActionResult: req.lifecycleActionResult,
      ClientToken: req.clientToken,
    };
    return this.rpc.invoke(
      'ess',
      'CompleteLifecycleAction',
      params,
      (w: Wire<{ RequestId: string }>) => ({ requestId: requestIdOf(w) }),
      { ...opts, regionId: req.regionId },
    );
  }

  enterStandby(
    regionId: string,
    scalingGroupId: string,
    instanceIds: string[],
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId> {
    return this.standby('EnterStandby', regionId, scalingGroupId, instanceIds, clientToken, opts);
  }

  exitStandby(
    regionId: string,
    scalingGroupId: string,
    instanceIds: string[],
    clientToken?: string,
    opts?: CallOptions,
  ): Promise<WithRequestId> {
    return this.standby('ExitStandby', regionId, scalingGroupId, instanceIds, clientToken, opts);
  }

  private async standby(
    action: 'EnterStandby' | 'ExitStandby',
    regionId: string,
    scalingGroupId: string,
    instanceIds: string[],
    clientToken: string | undefined,
    opts: CallOptions | undefined,
  ): Promise<WithRequestId> {
    checkCount('instanceIds', instanceIds, 1, ESS_MAX_IDS);
    checkClientToken(clientToken);
    const params: WireStandbyParams = {
      RegionId: regionId,
      ScalingGroupId: scalingGroupId,
      ClientToken: clientToken,
      ...flattenList('InstanceId', instanceIds),
    };
    return this.rpc.invoke('ess', action, params, (w: Wire<{ RequestId: string }>) => ({ requestId: requestIdOf(w) }), {
      ...opts,
      regionId,
    });
  }
}

type WireLifecycleHookContext = {
  'LifecycleHookContext.DisableLifecycleHook'?: WireBool;
} & Indexed<'LifecycleHookContext.IgnoredLifecycleHookIds'>;

/** The 2014 flattening: `LifecycleHookContext.DisableLifecycleHook` and `.IgnoredLifecycleHookIds.N`. */
function lifecycleHookContextParams(ctx: LifecycleHookContext | undefined): WireLifecycleHookContext {
  if (!ctx) return {};
  const out: WireLifecycleHookContext = {};
  // Not limited by the reference; the emulator takes 20 as for the other lists (inferred).
  checkCount('lifecycleHookContext.ignoredLifecycleHookIds', ctx.ignoredLifecycleHookIds ?? [], 0, ESS_MAX_IDS);
  if (ctx.disableLifecycleHook !== undefined)
    out['LifecycleHookContext.DisableLifecycleHook'] = wireBool(ctx.disableLifecycleHook);
  return { ...out, ...flattenList('LifecycleHookContext.IgnoredLifecycleHookIds', ctx.ignoredLifecycleHookIds ?? []) };
}

/** The API's idempotence rule: at most 64 ASCII characters. */
function checkClientToken(token: string | undefined): void {
  if (token === undefined) return;
  if (token.length === 0 || token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
    throw new RangeError(`clientToken must be 1 to 64 printable ASCII characters, got ${token.length} characters`);
  }
}
