/**
 * ESS 2014-08-28 lifecycle hook actions: CreateLifecycleHook, DescribeLifecycleHooks,
 * ModifyLifecycleHook, DeleteLifecycleHook, CompleteLifecycleAction,
 * RecordLifecycleActionHeartbeat and DescribeLifecycleActions. Codes and limits follow the
 * reference pages cited in docs/emulator.md; the hook wait itself lives in state/lifecycle-hooks.ts.
 */
import type {
  WireCreateLifecycleHookResponse,
  WireDescribeLifecycleActionsResponse,
  WireDescribeLifecycleHooksResponse,
  WireLifecycleAction,
  WireLifecycleHook,
} from '../aliyun/wire';
import { ApiError, apiError, invalidParameter, missingParameter } from './api-error';
import { checkDenied, type ActionContext, type ActionHandler, type Body } from './context';
import { findGroup, remember, replay } from './ess';
import { page, paging, type Params } from './params';
import type { HookPatch, HookResult, HookState, LifecycleActionState, ReadonlyDeep } from './state';
import {
  HEARTBEAT_DEFAULT_S,
  HEARTBEAT_MAX_S,
  HEARTBEAT_MIN_S,
  HOOK_RESULTS,
  HOOK_STATUSES,
  HOOK_TRANSITIONS,
  MAX_HOOKS_PER_GROUP,
  type HookStatus,
} from './state/lifecycle-hooks';

type Hook = ReadonlyDeep<HookState>;
type Action = ReadonlyDeep<LifecycleActionState>;

/** The one account the emulator serves, as it appears in ARNs. */
const ACCOUNT_ID = '1234567890123456';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/;
const ARN_RE = /^acs:(ess|mns|oos|eventbridge):[a-z0-9-]*:[0-9]*:(queue|topic|oos|template|eventbus)\/[^/\s]+$/;
const METADATA_MAX = 4096;
const ACTION_STATUSES = ['Pending', 'Timeout', 'Completed'];
const ACTIONS_MAX_RESULTS = 50;
const ACTIONS_DEFAULT_RESULTS = 10;

/**
 * The hook operations' error tables spell the parameter error `InvalidParamter`; DescribeLifecycleActions
 * spells it `InvalidParameter`. The shared parameter readers answer the latter, so hook handlers translate.
 */
function documentedSpelling(handler: ActionHandler): ActionHandler {
  return (ctx) => {
    try {
      return handler(ctx);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'InvalidParameter') throw new ApiError('InvalidParamter', 400, e.message);
      throw e;
    }
  };
}

function badValue(name: string): ApiError {
  return invalidParameter(name, `The specified value of parameter "${name}" is not valid.`);
}

function optionalOneOf<T extends string>(p: Params, name: string, allowed: readonly T[]): T | undefined {
  const v = p.get(name);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw badValue(name);
  return v as T | undefined;
}

function heartbeatOf(p: Params, name: string): number | undefined {
  return p.int(name, { min: HEARTBEAT_MIN_S, max: HEARTBEAT_MAX_S });
}

function regionMatches(ctx: ActionContext, groupId: string): boolean {
  const region = ctx.params.get('RegionId');
  return region === undefined || ctx.state.scalingGroups.group(groupId)?.regionId === region;
}

/** Fields both Create and Modify take, checked. */
function hookFields(p: Params): HookPatch {
  const arn = p.get('NotificationArn');
  const metadata = p.get('NotificationMetadata');
  if (metadata !== undefined && metadata.length > METADATA_MAX) throw badValue('NotificationMetadata');
  if (arn !== undefined && !ARN_RE.test(arn)) throw apiError('InvalidNotificationArn');
  return {
    transition: optionalOneOf(p, 'LifecycleTransition', HOOK_TRANSITIONS),
    heartbeatTimeout: heartbeatOf(p, 'HeartbeatTimeout'),
    defaultResult: optionalOneOf(p, 'DefaultResult', HOOK_RESULTS),
    notificationArn: arn,
    notificationMetadata: metadata,
    status: optionalOneOf<HookStatus>(p, 'LifecycleHookStatus', HOOK_STATUSES),
  };
}

export function wireHook(ctx: ActionContext, h: Hook): WireLifecycleHook {
  const region = ctx.state.scalingGroups.group(h.groupId)?.regionId ?? '';
  const w: WireLifecycleHook = {
    ScalingGroupId: h.groupId,
    LifecycleHookId: h.id,
    LifecycleHookName: h.name,
    DefaultResult: h.defaultResult,
    HeartbeatTimeout: h.heartbeatTimeout,
    LifecycleTransition: h.transition,
    // What the API reports for a hook that notifies nothing.
    NotificationArn: h.notificationArn ?? `acs:ess:${region}:${ACCOUNT_ID}:null/null`,
    LifecycleHookStatus: h.status,
  };
  if (h.notificationMetadata !== undefined) w.NotificationMetadata = h.notificationMetadata;
  return w;
}

function wireAction(a: Action): WireLifecycleAction {
  return {
    LifecycleActionToken: a.token,
    LifecycleHookId: a.hookId,
    LifecycleActionStatus: a.status,
    LifecycleActionResult: a.result,
    InstanceIds: { InstanceId: [...a.instanceIds] },
  };
}

// ---------------------------------------------------------------------------------------------
// hooks
// ---------------------------------------------------------------------------------------------

const createLifecycleHook: ActionHandler = (ctx): Body<WireCreateLifecycleHookResponse> => {
  const p = ctx.params;
  p.required('ScalingGroupId');
  p.required('LifecycleTransition');
  const name = p.get('LifecycleHookName');
  if (name !== undefined && !NAME_RE.test(name)) throw badValue('LifecycleHookName');
  const fields = hookFields(p);
  const group = findGroup(ctx);
  checkDenied(ctx);
  const hooks = ctx.state.lifecycleHooks;
  if (name !== undefined && hooks.hookByName(group.id, name)) throw apiError('InvalidLifecycleHookName.Duplicate');
  if (hooks.hooksOf(group.id).length >= MAX_HOOKS_PER_GROUP) throw apiError('QuotaExceeded.LifecycleHook');
  const hook = hooks.create({
    groupId: group.id,
    name: name ?? '',
    transition: fields.transition ?? 'SCALE_IN',
    heartbeatTimeout: fields.heartbeatTimeout ?? HEARTBEAT_DEFAULT_S,
    defaultResult: fields.defaultResult ?? 'CONTINUE',
    notificationArn: fields.notificationArn,
    notificationMetadata: fields.notificationMetadata,
    status: fields.status ?? 'Active',
  });
  return { LifecycleHookId: hook.id };
};

/** `LifecycleHookId.N` wins over the group and name filters. */
function listedHooks(ctx: ActionContext): Hook[] {
  const p = ctx.params;
  const ids = p.list('LifecycleHookId');
  const hooks = ctx.state.lifecycleHooks;
  if (ids.length > 0)
    return ids.flatMap((id) => {
      const h = hooks.hook(id);
      return h && regionMatches(ctx, h.groupId) ? [h] : [];
    });
  const groupId = p.required('ScalingGroupId');
  const name = p.get('LifecycleHookName');
  if (!regionMatches(ctx, groupId)) return [];
  return hooks.hooksOf(groupId).filter((h) => name === undefined || h.name === name);
}

const describeLifecycleHooks: ActionHandler = (ctx): Body<WireDescribeLifecycleHooksResponse> => {
  const { pageNumber, pageSize } = paging(ctx.params, 50, 50);
  const hooks = listedHooks(ctx);
  checkDenied(ctx);
  return {
    TotalCount: hooks.length,
    PageNumber: pageNumber,
    PageSize: pageSize,
    LifecycleHooks: { LifecycleHook: page(hooks, pageNumber, pageSize).map((h) => wireHook(ctx, h)) },
  };
};

/** Modify and Delete name a hook by `LifecycleHookId`, or by `ScalingGroupId` + `LifecycleHookName`. */
function namedHook(ctx: ActionContext): Hook {
  const p = ctx.params;
  const hooks = ctx.state.lifecycleHooks;
  const id = p.get('LifecycleHookId');
  if (id !== undefined) {
    const h = hooks.hook(id);
    if (!h || !regionMatches(ctx, h.groupId)) throw apiError('InvalidLifecycleHookId.NotExist');
    return h;
  }
  const groupId = p.get('ScalingGroupId');
  const name = p.get('LifecycleHookName');
  if (groupId === undefined || name === undefined) throw missingParameter('LifecycleHookId');
  const h = hooks.hookByName(groupId, name);
  if (!h || !regionMatches(ctx, groupId)) throw apiError('InvalidLifecycleHookName.NotExist');
  return h;
}

const modifyLifecycleHook: ActionHandler = (ctx) => {
  const fields = hookFields(ctx.params);
  const hook = namedHook(ctx);
  checkDenied(ctx);
  ctx.state.lifecycleHooks.modify(hook.id, fields);
  return {};
};

const deleteLifecycleHook: ActionHandler = (ctx) => {
  const hook = namedHook(ctx);
  checkDenied(ctx);
  ctx.state.lifecycleHooks.delete(hook.id, ctx.state.now());
  return {};
};

// ---------------------------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------------------------

/** The action's hook must be in the request's region; otherwise it is as unknown as a bad token. */
function checkActionRegion(ctx: ActionContext, hookId: string): void {
  const hook = ctx.state.lifecycleHooks.hook(hookId);
  if (hook && !regionMatches(ctx, hook.groupId)) throw apiError('LifecycleHookIdAndLifecycleActionToken.Invalid');
}

const completeLifecycleAction: ActionHandler = (ctx) => {
  const p = ctx.params;
  const hookId = p.required('LifecycleHookId');
  const token = p.required('LifecycleActionToken');
  const result = optionalOneOf<HookResult>(p, 'LifecycleActionResult', HOOK_RESULTS);
  // A replay answers before the token check: the first call is what ended the action.
  const fingerprint = JSON.stringify({ hookId, token, result });
  if (replay(ctx, fingerprint)) return {};
  checkActionRegion(ctx, hookId);
  checkDenied(ctx);
  ctx.state.lifecycleHooks.complete(hookId, token, result, ctx.state.now());
  remember(ctx, fingerprint, {});
  return {};
};

/** The reference spells this operation's parameters in lowerCamelCase; older clients send PascalCase. */
function eitherCase(p: Params, lower: string): string | undefined {
  return p.get(lower) ?? p.get(lower.charAt(0).toUpperCase() + lower.slice(1));
}

const recordLifecycleActionHeartbeat: ActionHandler = (ctx) => {
  const p = ctx.params;
  const hookId = eitherCase(p, 'lifecycleHookId');
  if (hookId === undefined) throw missingParameter('lifecycleHookId');
  const token = eitherCase(p, 'lifecycleActionToken');
  if (token === undefined) throw missingParameter('lifecycleActionToken');
  const timeoutName = p.get('heartbeatTimeout') === undefined ? 'HeartbeatTimeout' : 'heartbeatTimeout';
  const timeout = heartbeatOf(p, timeoutName) ?? HEARTBEAT_DEFAULT_S;
  checkActionRegion(ctx, hookId);
  checkDenied(ctx);
  ctx.state.lifecycleHooks.heartbeat(hookId, token, timeout, ctx.state.now());
  return {};
};

/** NextToken is opaque to clients: the activity and the offset, base64url-encoded. */
function encodeNextToken(activityId: string, offset: number): string {
  return Buffer.from(`${activityId}:${offset}`).toString('base64url');
}

function decodeNextToken(token: string | undefined, activityId: string): number {
  if (token === undefined) return 0;
  const m = /^(.+):(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m || m[1] !== activityId) throw badValue('NextToken');
  return Number(m[2]);
}

const describeLifecycleActions: ActionHandler = (ctx): Body<WireDescribeLifecycleActionsResponse> => {
  const p = ctx.params;
  const activityId = p.required('ScalingActivityId');
  const status = p.get('LifecycleActionStatus');
  if (status !== undefined && !ACTION_STATUSES.includes(status)) throw badValue('LifecycleActionStatus');
  const max = p.get('MaxResults') === undefined ? ACTIONS_DEFAULT_RESULTS : Number(p.get('MaxResults'));
  if (!Number.isInteger(max) || max < 1 || max > ACTIONS_MAX_RESULTS) throw badValue('MaxResults');
  const activity = ctx.state.activities.list().find((a) => a.id === activityId);
  if (!activity || !regionMatches(ctx, activity.groupId)) throw badValue('ScalingActivityId');
  checkDenied(ctx);
  const offset = decodeNextToken(p.get('NextToken'), activityId);
  const matches = ctx.state.lifecycleHooks
    .actionsOf(activityId)
    .filter((a) => status === undefined || a.status === status);
  const out: Body<WireDescribeLifecycleActionsResponse> = {
    TotalCount: matches.length,
    MaxResults: max,
    LifecycleActions: { LifecycleAction: matches.slice(offset, offset + max).map(wireAction) },
  };
  if (offset + max < matches.length) out.NextToken = encodeNextToken(activityId, offset + max);
  return out;
};

export const LIFECYCLE_HOOK_ACTIONS: Readonly<Record<string, ActionHandler>> = {
  CreateLifecycleHook: documentedSpelling(createLifecycleHook),
  DescribeLifecycleHooks: documentedSpelling(describeLifecycleHooks),
  ModifyLifecycleHook: documentedSpelling(modifyLifecycleHook),
  DeleteLifecycleHook: documentedSpelling(deleteLifecycleHook),
  CompleteLifecycleAction: documentedSpelling(completeLifecycleAction),
  RecordLifecycleActionHeartbeat: documentedSpelling(recordLifecycleActionHeartbeat),
  DescribeLifecycleActions: describeLifecycleActions,
};
