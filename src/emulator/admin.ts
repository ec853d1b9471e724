/**
 * Admin API under the reserved prefix `/__emulator/` (JSON, unsigned). It drives scenarios, faults
 * and state patches for tests and demos, and never returns a secret. Every patch is checked as a
 * whole before the state changes: a rejected patch changes nothing.
 */
import type { ServerResponse } from 'node:http';

import { ApiError } from './api-error';
import { FaultRuleError, validateFaultRules } from './faults';
import { ScenarioError, validateScenario } from './scenario';
import type { EmulatorState, GroupPatch, HookResult, InstancePatch, SettingsPatch } from './state';
import type { CallLogFilter, FaultRule, Scenario } from './types';

export const ADMIN_PREFIX = '/__emulator';

export interface AdminDeps {
  state: EmulatorState;
  loadScenario(source: Scenario | string | { name: string }): void;
  reset(): void;
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One admin request, parsed as far as every route needs. */
interface AdminRequest {
  deps: AdminDeps;
  state: EmulatorState;
  url: URL;
  body: string;
}

/** Answers 200 with the returned JSON body; throws AdminError (or a validation error) otherwise. */
type AdminRoute = (r: AdminRequest) => unknown;

type JsonObject = Record<string, unknown>;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new AdminError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
}

function asObject(v: unknown, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new AdminError(400, `${what} must be a JSON object`);
  return v as JsonObject;
}

function optInt(o: JsonObject, key: string, min = 0): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new AdminError(400, `${key} must be an integer >= ${min}`);
  return v;
}

function optStr(o: JsonObject, key: string, allowed?: readonly string[]): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || (allowed && !allowed.includes(v))) {
    throw new AdminError(400, `${key} must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------

function loadScenario({ deps, state, body }: AdminRequest): unknown {
  deps.loadScenario(asObject(parseJson(body), 'scenario') as Scenario);
  return {
    ok: true,
    scenario: state.scenarioName,
    instances: state.scalingGroups.instanceCount(),
    groups: state.scalingGroups.groupCount(),
  };
}

function setFaults({ state, body }: AdminRequest): unknown {
  const parsed = parseJson(body);
  let rules: FaultRule[];
  let seed: number | undefined;
  if (Array.isArray(parsed)) rules = validateFaultRules(parsed);
  else {
    const o = asObject(parsed, 'faults');
    rules = validateFaultRules(o.rules);
    seed = optInt(o, 'seed');
  }
  state.faults.set(rules, seed);
  return state.faults.list();
}

function callLogFilter(url: URL): CallLogFilter {
  const filter: CallLogFilter = {};
  const action = url.searchParams.get('action');
  const outcome = url.searchParams.get('outcome');
  const since = url.searchParams.get('since');
  if (action) filter.action = action;
  if (outcome) filter.outcome = outcome;
  if (since) {
    if (!/^\d+$/.test(since)) throw new AdminError(400, 'since must be a call sequence number');
    filter.sinceSeq = Number(since);
  }
  return filter;
}

function settingsPatch(o: JsonObject): SettingsPatch {
  const patch: SettingsPatch = {};
  if (o.deniedActions !== undefined) {
    if (!Array.isArray(o.deniedActions) || !o.deniedActions.every((x) => typeof x === 'string'))
      throw new AdminError(400, 'deniedActions must be an array of action names');
    patch.deniedActions = o.deniedActions as string[];
  }
  if (o.ignoreClientToken !== undefined) {
    if (typeof o.ignoreClientToken !== 'boolean') throw new AdminError(400, 'ignoreClientToken must be a boolean');
    patch.ignoreClientToken = o.ignoreClientToken;
  }
  if (o.activityOutcomes !== undefined || o.timings !== undefined) {
    // Reuse the scenario validator for these two sections.
    const checked = validateScenario({ activityOutcomes: o.activityOutcomes, timings: o.timings });
    if (o.activityOutcomes !== undefined) patch.activityOutcomes = checked.activityOutcomes ?? [];
    if (o.timings !== undefined) patch.timings = checked.timings ?? {};
  }
  return patch;
}

function updateSettings({ state, body }: AdminRequest): unknown {
  state.settings.update(settingsPatch(asObject(parseJson(body), 'settings')));
  return state.settings.view();
}

const ROUTES: Readonly<Record<string, AdminRoute>> = {
  'GET /': ({ state }) => ({ ok: true, scenario: state.scenarioName }),
  'GET /health': ({ state }) => ({ ok: true, scenario: state.scenarioName }),
  'POST /scenario': loadScenario,
  'POST /reset': ({ deps, state }) => {
    deps.reset();
    return { ok: true, scenario: state.scenarioName };
  },
  'GET /faults': ({ state }) => state.faults.list(),
  'PUT /faults': setFaults,
  'DELETE /faults': ({ state }) => {
    state.faults.clear();
    return [];
  },
  'GET /calls': ({ state, url }) => state.callLog(callLogFilter(url)),
  'DELETE /calls': ({ state }) => {
    state.clearCalls();
    return [];
  },
  'GET /state': ({ state }) => state.snapshot(),
  'POST /settings': updateSettings,
};

// ---------------------------------------------------------------------------------------------
// patches: POST /__emulator/<kind>/<id>
// ---------------------------------------------------------------------------------------------

/** Fields of the wrong type are ignored, as they always were; only the two states are checked. */
function instancePatch(patch: JsonObject): InstancePatch {
  optStr(patch, 'lifecycleState');
  optStr(patch, 'healthStatus', ['Healthy', 'Unhealthy']);
  const out: InstancePatch = {};
  if (typeof patch.lifecycleState === 'string') out.lifecycleState = patch.lifecycleState;
  if (typeof patch.healthStatus === 'string') out.healthStatus = patch.healthStatus;
  if (typeof patch.creationType === 'string') out.creationType = patch.creationType;
  if (typeof patch.entrusted === 'boolean') out.entrusted = patch.entrusted;
  if (typeof patch.weight === 'number') out.weight = patch.weight;
  if (typeof patch.scalingGroupId === 'string') out.scalingGroupId = patch.scalingGroupId;
  return out;
}

function patchInstance(state: EmulatorState, id: string, patch: JsonObject): unknown {
  if (!state.scalingGroups.instance(id)) throw new AdminError(404, `no instance ${id}`);
  state.scalingGroups.patchInstance(id, instancePatch(patch));
  return state.scalingGroups.instanceSnapshot(id);
}

function groupPatch(patch: JsonObject): GroupPatch {
  return {
    lifecycleState: optStr(patch, 'lifecycleState', ['Active', 'Inactive', 'Deleting']),
    scalingPolicy: optStr(patch, 'scalingPolicy', ['release', 'recycle', 'forcerelease']),
    minSize: optInt(patch, 'minSize'),
    maxSize: optInt(patch, 'maxSize'),
    desiredCapacity: patch.desiredCapacity === null ? null : optInt(patch, 'desiredCapacity'),
  };
}

type StartActivity = { durationMs: number; status: 'Successful' | 'Warning' | 'Failed' };

function startActivityOf(patch: JsonObject): StartActivity | undefined {
  if (patch.startActivity === undefined) return undefined;
  const sa = asObject(patch.startActivity, 'startActivity');
  const durationMs = optInt(sa, 'durationMs') ?? 2000;
  const status = (optStr(sa, 'status', ['Successful', 'Warning', 'Failed']) ?? 'Successful') as StartActivity['status'];
  return { durationMs, status };
}

function patchGroup(state: EmulatorState, id: string, patch: JsonObject): unknown {
  const group = state.scalingGroups.group(id);
  if (!group) throw new AdminError(404, `no scaling group ${id}`);
  const fields = groupPatch(patch);
  const start = startActivityOf(patch);
  if (start && state.activities.inProgress(id))
    throw new AdminError(409, `scaling group ${id} already has an activity in progress`);
  state.scalingGroups.patchGroup(id, fields);
  const startedActivityId = start ? state.activities.startInjected(id, start.durationMs, start.status).id : undefined;
  return { ...state.scalingGroups.groupSnapshot(group), ...(startedActivityId ? { startedActivityId } : {}) };
}

const HEALTH_STATES = ['normal', 'abnormal', 'unavailable'];

function healthPatch(v: unknown): Map<string, string | null> {
  const health = new Map<string, string | null>();
  for (const [serverId, h] of Object.entries(asObject(v, 'health'))) {
    if (h !== null && !(typeof h === 'string' && HEALTH_STATES.includes(h)))
      throw new AdminError(400, `health.${serverId} must be normal, abnormal, unavailable or null`);
    health.set(serverId, h);
  }
  return health;
}

function patchLoadBalancer(state: EmulatorState, id: string, patch: JsonObject): unknown {
  if (!state.clb.loadBalancer(id)) throw new AdminError(404, `no load balancer ${id}`);
  const status = optStr(patch, 'status', ['active', 'inactive', 'locked']);
  const health = patch.health === undefined ? undefined : healthPatch(patch.health);
  if (status !== undefined) state.clb.setStatus(id, status);
  if (health) state.clb.setHealth(id, health);
  return state.clb.snapshotOne(id);
}

function patchDbInstance(state: EmulatorState, id: string, patch: JsonObject): unknown {
  if (!state.rds.dbInstance(id)) throw new AdminError(404, `no DB instance ${id}`);
  const status = optStr(patch, 'status');
  if (status !== undefined) state.rds.setStatus(id, status);
  const db = state.rds.dbInstance(id);
  return { dbInstanceId: id, status: db?.status };
}

/** Completes a Pending lifecycle action as "another actor" would with CompleteLifecycleAction. */
function completeLifecycleAction(state: EmulatorState, token: string, body: JsonObject): unknown {
  const action = state.lifecycleHooks.action(token);
  if (!action) throw new AdminError(404, `no lifecycle action ${token}`);
  const result = optStr(body, 'result', ['CONTINUE', 'ABANDON', 'ROLLBACK']) as HookResult | undefined;
  if (action.status !== 'Pending') throw new AdminError(409, `lifecycle action ${token} is ${action.status}`);
  state.lifecycleHooks.complete(action.hookId, token, result, state.now());
  return state.lifecycleHooks.actionSnapshots().find((a) => a.lifecycleActionToken === token);
}

const PATCHES: Readonly<Record<string, (state: EmulatorState, id: string, patch: JsonObject) => unknown>> = {
  instances: patchInstance,
  groups: patchGroup,
  loadbalancers: patchLoadBalancer,
  dbinstances: patchDbInstance,
  lifecycleactions: completeLifecycleAction,
};

// ---------------------------------------------------------------------------------------------
// dispatch
// ---------------------------------------------------------------------------------------------

function route(method: string, r: AdminRequest): unknown {
  const path = r.url.pathname.slice(ADMIN_PREFIX.length).replace(/\/+$/, '') || '/';
  const fixed = Object.hasOwn(ROUTES, `${method} ${path}`) ? ROUTES[`${method} ${path}`] : undefined;
  if (fixed) return fixed(r);
  const idMatch = /^\/(instances|groups|loadbalancers|dbinstances|lifecycleactions)\/([^/]+)$/.exec(path);
  const patch = idMatch && method === 'POST' ? PATCHES[idMatch[1] as string] : undefined;
  if (idMatch && patch) {
    const id = decodeURIComponent(idMatch[2] as string);
    return patch(r.state, id, asObject(parseJson(r.body), 'patch'));
  }
  throw new AdminError(404, `no admin route ${method} ${r.url.pathname}`);
}

function sendFailure(res: ServerResponse, e: unknown): void {
  if (e instanceof AdminError) send(res, e.status, { error: e.message });
  else if (e instanceof ScenarioError || e instanceof FaultRuleError) send(res, 400, { error: e.message });
  else if (e instanceof ApiError) send(res, e.httpStatus === 404 ? 404 : 400, { error: e.message, code: e.code });
  else send(res, 500, { error: (e as Error).message });
}

/** Handles one admin request; `body` is the raw request body. */
export function handleAdmin(deps: AdminDeps, method: string, url: URL, body: string, res: ServerResponse): void {
  try {
    deps.state.advance();
    send(res, 200, route(method, { deps, state: deps.state, url, body }));
  } catch (e) {
    sendFailure(res, e);
  }
}
