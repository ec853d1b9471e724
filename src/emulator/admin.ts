/**
 * Admin API under the reserved prefix `/__emulator/` (JSON, unsigned). It drives scenarios, faults
 * and state patches for tests and demos, and never returns a secret.
 */
import type { ServerResponse } from 'node:http';

import { ApiError } from './api-error';
import { FaultRuleError, validateFaultRules } from './faults';
import { ScenarioError, validateScenario } from './scenario';
import type { EmulatorState } from './state';
import type { ActivityOutcomeRule, CallLogFilter, FaultRule, Scenario } from './types';

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

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new AdminError(400, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function optInt(o: Record<string, unknown>, key: string, min = 0): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new AdminError(400, `${key} must be an integer >= ${min}`);
  return v;
}

function optStr(o: Record<string, unknown>, key: string, allowed?: readonly string[]): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || (allowed && !allowed.includes(v))) {
    throw new AdminError(400, `${key} must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}`);
  }
  return v;
}

/** Handles one admin request; `path` is the URL path, `body` the raw request body. */
export function handleAdmin(deps: AdminDeps, method: string, url: URL, body: string, res: ServerResponse): void {
  const { state } = deps;
  try {
    state.advance();
    const path = url.pathname.slice(ADMIN_PREFIX.length).replace(/\/+$/, '') || '/';
    const route = `${method} ${path}`;
    const idMatch = /^\/(instances|groups|loadbalancers|dbinstances)\/([^/]+)$/.exec(path);

    if (route === 'GET /health' || route === 'GET /') {
      send(res, 200, { ok: true, scenario: state.scenarioName });
      return;
    }
    if (route === 'POST /scenario') {
      const parsed = parseJson(body);
      deps.loadScenario(asObject(parsed, 'scenario') as Scenario);
      send(res, 200, {
        ok: true,
        scenario: state.scenarioName,
        instances: state.instances.size,
        groups: state.groups.size,
      });
      return;
    }
    if (route === 'POST /reset') {
      deps.reset();
      send(res, 200, { ok: true, scenario: state.scenarioName });
      return;
    }
    if (route === 'GET /faults') {
      send(res, 200, state.faults.list());
      return;
    }
    if (route === 'PUT /faults') {
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
      send(res, 200, state.faults.list());
      return;
    }
    if (route === 'DELETE /faults') {
      state.faults.clear();
      send(res, 200, []);
      return;
    }
    if (route === 'GET /calls') {
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
      send(res, 200, state.callLog(filter));
      return;
    }
    if (route === 'DELETE /calls') {
      state.clearCalls();
      send(res, 200, []);
      return;
    }
    if (route === 'GET /state') {
      send(res, 200, state.snapshot());
      return;
    }
    if (route === 'POST /settings') {
      const o = asObject(parseJson(body), 'settings');
      if (o.deniedActions !== undefined) {
        if (!Array.isArray(o.deniedActions) || !o.deniedActions.every((x) => typeof x === 'string'))
          throw new AdminError(400, 'deniedActions must be an array of action names');
        state.deniedActions = new Set(o.deniedActions as string[]);
      }
      if (o.ignoreClientToken !== undefined) {
        if (typeof o.ignoreClientToken !== 'boolean') throw new AdminError(400, 'ignoreClientToken must be a boolean');
        state.ignoreClientToken = o.ignoreClientToken;
      }
      if (o.activityOutcomes !== undefined || o.timings !== undefined) {
        // Reuse the scenario validator for these two sections.
        const checked = validateScenario({ activityOutcomes: o.activityOutcomes, timings: o.timings });
        if (o.activityOutcomes !== undefined) {
          state.outcomeRules = (checked.activityOutcomes ?? []).map((r: ActivityOutcomeRule) => ({
            ...r,
            remaining: r.times,
          }));
        }
        if (o.timings !== undefined) state.timings = { ...state.timings, ...(checked.timings ?? {}) };
      }
      send(res, 200, {
        deniedActions: [...state.deniedActions],
        ignoreClientToken: state.ignoreClientToken,
        activityOutcomes: state.outcomeRules,
        timings: state.timings,
      });
      return;
    }
    if (idMatch && method === 'POST') {
      const kind = idMatch[1] as string;
      const id = decodeURIComponent(idMatch[2] as string);
      const patch = asObject(parseJson(body), 'patch');
      send(res, 200, patchResource(state, kind, id, patch));
      return;
    }
    throw new AdminError(404, `no admin route ${method} ${url.pathname}`);
  } catch (e) {
    if (e instanceof AdminError) send(res, e.status, { error: e.message });
    else if (e instanceof ScenarioError || e instanceof FaultRuleError) send(res, 400, { error: e.message });
    else if (e instanceof ApiError) send(res, e.httpStatus === 404 ? 404 : 400, { error: e.message, code: e.code });
    else send(res, 500, { error: (e as Error).message });
  }
}

function patchResource(state: EmulatorState, kind: string, id: string, patch: Record<string, unknown>): unknown {
  switch (kind) {
    case 'instances': {
      if (!state.instances.has(id)) throw new AdminError(404, `no instance ${id}`);
      optStr(patch, 'lifecycleState');
      optStr(patch, 'healthStatus', ['Healthy', 'Unhealthy']);
      const inst = state.patchInstance(id, patch);
      return state.snapshot().instances.find((i) => i.instanceId === inst.id);
    }
    case 'groups': {
      const g = state.groups.get(id);
      if (!g) throw new AdminError(404, `no scaling group ${id}`);
      const lifecycle = optStr(patch, 'lifecycleState', ['Active', 'Inactive', 'Deleting']);
      const policy = optStr(patch, 'scalingPolicy', ['release', 'recycle', 'forcerelease']);
      const min = optInt(patch, 'minSize');
      const max = optInt(patch, 'maxSize');
      const desired = patch.desiredCapacity === null ? null : optInt(patch, 'desiredCapacity');
      if (lifecycle !== undefined) g.lifecycleState = lifecycle;
      if (policy !== undefined) g.scalingPolicy = policy;
      if (min !== undefined) g.minSize = min;
      if (max !== undefined) g.maxSize = max;
      if (desired === null) g.desiredCapacity = undefined;
      else if (desired !== undefined) g.desiredCapacity = desired;
      let startedActivityId: string | undefined;
      if (patch.startActivity !== undefined) {
        const sa = asObject(patch.startActivity, 'startActivity');
        const durationMs = optInt(sa, 'durationMs') ?? 2000;
        const status = (optStr(sa, 'status', ['Successful', 'Warning', 'Failed']) ?? 'Successful') as
          'Successful' | 'Warning' | 'Failed';
        if (state.inProgressActivity(g.id))
          throw new AdminError(409, `scaling group ${id} already has an activity in progress`);
        startedActivityId = state.startInjectedActivity(g.id, durationMs, status).id;
      }
      return { ...state.groupSnapshot(g), ...(startedActivityId ? { startedActivityId } : {}) };
    }
    case 'loadbalancers': {
      const lb = state.loadBalancers.get(id);
      if (!lb) throw new AdminError(404, `no load balancer ${id}`);
      const status = optStr(patch, 'status', ['active', 'inactive', 'locked']);
      if (status !== undefined) lb.status = status;
      if (patch.health !== undefined) {
        for (const [serverId, h] of Object.entries(asObject(patch.health, 'health'))) {
          if (h === null) lb.health.delete(serverId);
          else if (typeof h === 'string' && ['normal', 'abnormal', 'unavailable'].includes(h))
            lb.health.set(serverId, h);
          else throw new AdminError(400, `health.${serverId} must be normal, abnormal, unavailable or null`);
        }
      }
      return state.snapshot().loadBalancers.find((l) => l.loadBalancerId === id);
    }
    case 'dbinstances': {
      const db = state.dbInstances.get(id);
      if (!db) throw new AdminError(404, `no DB instance ${id}`);
      const status = optStr(patch, 'status');
      if (status !== undefined) db.status = status;
      return { dbInstanceId: db.id, status: db.status };
    }
    default:
      throw new AdminError(404, `cannot patch ${kind}`);
  }
}
