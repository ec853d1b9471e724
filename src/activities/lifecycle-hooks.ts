import { AliyunApiError } from '../aliyun/errors';
import type { CallOptions, CloudClient, LifecycleAction, LifecycleHook } from '../aliyun/types';
import type { NormalizedInput } from '../shared/input';
import type { CompletedHookAction, HookWait, PlannedHook, PreflightProblem } from '../shared/progress';

/** What CompleteLifecycleAction answers for a token whose action has already ended (or never existed). */
export const ENDED_ACTION_CODE = 'LifecycleHookIdAndLifecycleActionToken.Invalid';

/** Input from before lifecycle hooks existed carries no `lifecycleHooks`: it waits. */
export function hookOptionsOf(input: NormalizedInput): NormalizedInput['lifecycleHooks'] {
  return input.lifecycleHooks ?? { mode: 'wait', hookIds: [], all: false };
}

export interface HookPlan {
  hooks: PlannedHook[];
  hookWaitSecondsPerBatch: number;
  warnings: string[];
  problems: PreflightProblem[];
}

/**
 * The group's active scale-in hooks and what the run will do about each. A hook the request names
 * that is not one of them is a problem: completing or bypassing the wrong hook is not a typo to go on with.
 */
export async function planHooks(
  cloud: CloudClient,
  input: NormalizedInput,
  signal: AbortSignal | undefined,
): Promise<HookPlan> {
  const opts = hookOptionsOf(input);
  let listed: LifecycleHook[];
  try {
    listed = (await cloud.ess.describeLifecycleHooks(input.regionId, input.scalingGroupId, { signal })).hooks;
  } catch (e) {
    if (!(e instanceof AliyunApiError) || !isPermissionError(e)) throw e;
    return unreadable(opts.mode, e);
  }
  const scaleIn = listed.filter((h) => h.lifecycleTransition === 'SCALE_IN' && h.lifecycleHookStatus !== 'InActive');
  const hooks = scaleIn.map((h) => planned(h, opts));
  const problems: PreflightProblem[] = [];
  const known = new Set(scaleIn.map((h) => h.lifecycleHookId));
  const unknown = opts.hookIds.filter((id) => !known.has(id));
  const isNot = unknown.length > 1 ? 'are not active scale-in hooks' : 'is not an active scale-in hook';
  if (unknown.length)
    problems.push({
      field: 'lifecycleHooks.hookIds',
      problem:
        `${unknown.join(', ')} ${isNot} ` +
        `of ${input.scalingGroupId} (its scale-in hooks: ${[...known].join(', ') || 'none'})`,
      fix: 'name hooks from DescribeLifecycleHooks (a dry run lists them), or leave lifecycleHooks out to wait',
    });
  const waited = hooks.filter((h) => h.handling === 'wait');
  return {
    hooks,
    hookWaitSecondsPerBatch: Math.max(0, ...waited.map((h) => h.heartbeatTimeoutSeconds)),
    warnings: hooks.map(hookLine),
    problems,
  };
}

function isPermissionError(e: AliyunApiError): boolean {
  return e.code.startsWith('Forbidden') || e.code === 'NoPermission';
}

/** Without DescribeLifecycleHooks a run can still wait (it sees hooks as they hold a batch), not complete or skip. */
function unreadable(mode: string, e: AliyunApiError): HookPlan {
  const why = `the lifecycle hooks of the group could not be read (${e.code})`;
  if (mode === 'wait')
    return {
      hooks: [],
      hookWaitSecondsPerBatch: 0,
      warnings: [`${why}: a batch held by a hook is shown when it happens (grant ess:DescribeLifecycleHooks)`],
      problems: [],
    };
  return {
    hooks: [],
    hookWaitSecondsPerBatch: 0,
    warnings: [],
    problems: [
      {
        field: 'lifecycleHooks',
        problem: `${why}, so the hooks to ${mode} cannot be checked`,
        fix: "grant the worker's RAM identity ess:DescribeLifecycleHooks (docs/ram-policy.json)",
      },
    ],
  };
}

function planned(h: LifecycleHook, opts: NormalizedInput['lifecycleHooks']): PlannedHook {
  const named = opts.hookIds.includes(h.lifecycleHookId);
  const handling =
    opts.mode === 'skip' && (opts.all || named) ? 'skip' : opts.mode === 'complete' && named ? 'complete' : 'wait';
  return {
    lifecycleHookId: h.lifecycleHookId,
    lifecycleHookName: h.lifecycleHookName,
    heartbeatTimeoutSeconds: h.heartbeatTimeout,
    defaultResult: String(h.defaultResult),
    notificationArn: h.notificationArn || undefined,
    handling,
  };
}

function hookLine(h: PlannedHook): string {
  const target = h.notificationArn ? `, notifies ${h.notificationArn}` : '';
  const name = `scale-in lifecycle hook ${h.lifecycleHookName} (${h.lifecycleHookId}${target})`;
  if (h.handling === 'skip') return `${name}: bypassed by this run's RemoveInstances (LifecycleHookContext)`;
  if (h.handling === 'complete')
    return `${name}: completed with CONTINUE by this run as soon as a batch of its own waits on it`;
  const rollback = h.defaultResult === 'ROLLBACK' ? '; on timeout the instances stay in the group' : '';
  return (
    `${name}: each batch waits for it in Removing:Wait, up to ${h.heartbeatTimeoutSeconds} s ` +
    `(then ${h.defaultResult}${rollback})`
  );
}

/** What a poll found about the hooks holding one scaling activity, and what it completed. */
export interface HookCheck {
  waitingOn: HookWait[];
  completed: CompletedHookAction[];
}

/**
 * The pending lifecycle actions of the run's own scaling activity: those of hooks the run completes
 * get CONTINUE (an action that ended meanwhile is harmless), the others are reported as waits.
 * `firstSeen` keeps when each token was first seen, for the timeout estimate.
 */
export async function checkHooks(
  cloud: CloudClient,
  where: { regionId: string; scalingActivityId: string },
  hooks: readonly PlannedHook[],
  firstSeen: Map<string, number>,
  opts: CallOptions,
): Promise<HookCheck> {
  const { actions } = await cloud.ess.describeLifecycleActions(where.regionId, where.scalingActivityId, opts);
  const pending = actions.filter((a) => a.lifecycleActionStatus === 'Pending');
  const byId = new Map(hooks.map((h) => [h.lifecycleHookId, h]));
  const completed: CompletedHookAction[] = [];
  const waitingOn: HookWait[] = [];
  for (const a of pending) {
    const hook = byId.get(a.lifecycleHookId);
    if (hook?.handling === 'complete') completed.push(await complete(cloud, where, a, opts));
    else waitingOn.push(waitOf(a, hook, firstSeen));
  }
  return { waitingOn, completed };
}

async function complete(
  cloud: CloudClient,
  where: { regionId: string; scalingActivityId: string },
  a: LifecycleAction,
  opts: CallOptions,
): Promise<CompletedHookAction> {
  const done = {
    scalingActivityId: where.scalingActivityId,
    lifecycleHookId: a.lifecycleHookId,
    lifecycleActionToken: a.lifecycleActionToken,
    result: 'CONTINUE' as const,
  };
  try {
    const r = await cloud.ess.completeLifecycleAction(
      {
        regionId: where.regionId,
        lifecycleHookId: a.lifecycleHookId,
        lifecycleActionToken: a.lifecycleActionToken,
        lifecycleActionResult: 'CONTINUE',
      },
      opts,
    );
    return { ...done, requestId: r.requestId };
  } catch (e) {
    // Ended meanwhile (its timeout, another actor, or this run's earlier attempt whose answer was lost).
    if (e instanceof AliyunApiError && e.code === ENDED_ACTION_CODE)
      return { ...done, requestId: undefined, note: `already ended (${e.code})` };
    throw e;
  }
}

function waitOf(a: LifecycleAction, hook: PlannedHook | undefined, firstSeen: Map<string, number>): HookWait {
  const seen = firstSeen.get(a.lifecycleActionToken) ?? Date.now();
  firstSeen.set(a.lifecycleActionToken, seen);
  const timeoutS = hook?.heartbeatTimeoutSeconds ?? 600;
  return {
    lifecycleHookId: a.lifecycleHookId,
    lifecycleHookName: hook?.lifecycleHookName ?? '',
    lifecycleActionToken: a.lifecycleActionToken,
    defaultResult: hook?.defaultResult ?? 'unknown',
    timesOutBy: new Date(seen + timeoutS * 1000).toISOString(),
  };
}

/**
 * Why an instance a hook kept is still in the group: the hook and its result, from the activity's
 * ended actions (ROLLBACK is the result that keeps instances).
 */
export async function hookVerdict(
  cloud: CloudClient,
  where: { regionId: string; scalingActivityId: string },
  hooks: readonly PlannedHook[],
  opts: CallOptions,
): Promise<string | undefined> {
  const { actions } = await cloud.ess.describeLifecycleActions(where.regionId, where.scalingActivityId, opts);
  const rolledBack = actions.filter((a) => a.lifecycleActionResult === 'ROLLBACK');
  if (!rolledBack.length) return undefined;
  const names = new Map(hooks.map((h) => [h.lifecycleHookId, h.lifecycleHookName]));
  return rolledBack
    .map((a) => {
      const name = names.get(a.lifecycleHookId);
      const how =
        a.lifecycleActionStatus === 'Timeout' ? 'timed out with its default result ROLLBACK' : 'ended ROLLBACK';
      const hook = name ? `${name} (${a.lifecycleHookId})` : a.lifecycleHookId;
      return `lifecycle hook ${hook} ${how}: ESS kept the instance`;
    })
    .join('; ');
}

/** While hooks hold the batch: no faster than a twentieth of the shortest hook timeout, within the input's bounds. */
export function hookPaceMs(waits: readonly HookWait[], hooks: readonly PlannedHook[], maxIntervalMs: number): number {
  const timeouts = waits.map(
    (w) => hooks.find((h) => h.lifecycleHookId === w.lifecycleHookId)?.heartbeatTimeoutSeconds ?? 600,
  );
  return Math.min(maxIntervalMs, (Math.min(...timeouts) * 1000) / 20);
}
