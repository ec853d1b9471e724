/**
 * Scenario files: the whole initial state of the emulated cloud as one JSON document.
 * `loadScenarioSource` accepts a scenario object, a built-in name (`demo`, `small`) or a path to a
 * JSON file; `validateScenario` checks every field and cross-reference and fails with a message
 * naming the offending path. The format is documented field by field in docs/emulator.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import demo from './scenarios/demo.json';
import small from './scenarios/small.json';
import { generatedInstanceId, INSTANCE_ID_RE } from './ids';
import { apiQuotaProblem } from './quota';
import type { Scenario, ScenarioAttachTo, ScenarioInstance } from './types';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError' as const;
}

export const BUILTIN_SCENARIOS: Readonly<Record<string, Scenario>> = {
  demo: demo as unknown as Scenario,
  small: small as unknown as Scenario,
};

export const DEFAULT_TIMINGS = {
  activityDurationMs: 3000,
  essDrainWaitMs: 500,
  albJobDurationMs: 300,
  activityListingLagMs: 0,
  activityLookupLagMs: 0,
  lifecycleStateLagMs: 0,
  clbChangeWindowMs: 300,
} as const;

export const INSTANCE_LIFECYCLE_STATES = [
  'InService',
  'Pending',
  'Pending:Wait',
  'Protected',
  'Standby',
  'Stopped',
  'Removing',
  'Removing:Wait',
] as const;
const GROUP_STATES = ['Active', 'Inactive', 'Deleting'];
const CREATION_TYPES = ['AutoCreated', 'Attached', 'Managed'];
const SCALING_POLICIES = ['release', 'recycle', 'forcerelease'];
const CLB_STATUSES = ['active', 'inactive', 'locked'];
const HEALTH = ['normal', 'abnormal', 'unavailable'];
const OUTCOMES = ['Warning', 'Failed', 'Rejected'];

/** Resolves a scenario object, a built-in name or a JSON file path, then validates it. */
export function loadScenarioSource(source: Scenario | string | { name: string }): Scenario {
  if (typeof source === 'string') {
    const builtin = BUILTIN_SCENARIOS[source];
    if (builtin) return validateScenario(structuredClone(builtin));
    let text: string;
    try {
      text = readFileSync(resolve(source), 'utf8');
    } catch (e) {
      const builtins = Object.keys(BUILTIN_SCENARIOS).join(', ');
      throw new ScenarioError(
        `scenario "${source}" is neither a built-in (${builtins}) nor a readable file: ${(e as Error).message}`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ScenarioError(`scenario file ${source} is not valid JSON: ${(e as Error).message}`);
    }
    return validateScenario(parsed);
  }
  // `{name}` alone (and nothing else) names a built-in.
  const keys = Object.keys(source);
  if (keys.length === 1 && keys[0] === 'name' && typeof source.name === 'string')
    return loadScenarioSource(source.name);
  return validateScenario(structuredClone(source));
}

// ---------------------------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new ScenarioError(`scenario ${path}: ${msg}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, 'must be an object');
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function str(o: Obj, key: string, path: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined) {
    if (required) fail(`${path}.${key}`, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || v === '') fail(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

function int(o: Obj, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(`${path}.${key}`, `must be an integer ${min}..${max}`);
  return v;
}

function oneOf(o: Obj, key: string, path: string, allowed: readonly string[]): void {
  const v = str(o, key, path, false);
  if (v !== undefined && !allowed.includes(v))
    fail(`${path}.${key}`, `must be one of ${allowed.join(', ')} (got "${v}")`);
}

function strArr(o: Obj, key: string, path: string): string[] {
  const a = arr(o[key], `${path}.${key}`);
  a.forEach((x, i) => {
    if (typeof x !== 'string' || x === '') fail(`${path}.${key}[${i}]`, 'must be a non-empty string');
  });
  return a as string[];
}

function time(o: Obj, key: string, path: string, required: boolean): void {
  const v = str(o, key, path, required);
  if (v !== undefined && Number.isNaN(Date.parse(v))) fail(`${path}.${key}`, `is not an ISO time: "${v}"`);
}

function bool(o: Obj, key: string, path: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`${path}.${key}`, 'must be true or false');
}

function unique(ids: string[], what: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) fail(what, `duplicate ID "${id}"`);
    seen.add(id);
  }
}

function validateAttachTo(v: unknown, path: string, refs: Refs): void {
  if (v === undefined) return;
  const a = obj(v, path);
  for (const id of strArr(a, 'loadBalancerIds', path))
    if (!refs.lbs.has(id)) fail(`${path}.loadBalancerIds`, `unknown load balancer "${id}"`);
  for (const id of strArr(a, 'vServerGroupIds', path))
    if (!refs.vsgs.has(id)) fail(`${path}.vServerGroupIds`, `unknown vserver group "${id}"`);
  for (const id of strArr(a, 'albServerGroupIds', path))
    if (!refs.albs.has(id)) fail(`${path}.albServerGroupIds`, `unknown ALB server group "${id}"`);
  for (const id of strArr(a, 'nlbServerGroupIds', path))
    if (!refs.nlbs.has(id)) fail(`${path}.nlbServerGroupIds`, `unknown NLB server group "${id}"`);
  int(a, 'port', path, 1, 65535);
  int(a, 'weight', path, 0, 100);
}

/** IDs seen so far, for cross-references: sections are checked in dependency order. */
interface Refs {
  lbs: Map<string, Obj>;
  /** vserver group ID -> CLB ID */
  vsgs: Map<string, string>;
  albs: Set<string>;
  nlbs: Set<string>;
  dbs: Set<string>;
  groups: Set<string>;
  hooks: Set<string>;
}

/** `o[key]` must be an integer in range, and is required. */
function requiredInt(o: Obj, key: string, path: string, min: number, max?: number): void {
  if (int(o, key, path, min, max) === undefined) fail(`${path}.${key}`, 'is required');
}

/** Each element of the array at `path` is an object checked by `check` with its own path. */
function eachObject(v: unknown, path: string, check: (o: Obj, itemPath: string) => void): void {
  arr(v, path).forEach((x, i) => {
    const itemPath = `${path}[${i}]`;
    check(obj(x, itemPath), itemPath);
  });
}

function validateTopLevel(s: Obj): void {
  str(s, 'name', '', false);
  if (s.accessKeys !== undefined) {
    const keys = obj(s.accessKeys, '.accessKeys');
    for (const [id, secret] of Object.entries(keys)) {
      if (id === '' || typeof secret !== 'string' || secret === '')
        fail(`.accessKeys.${id}`, 'must map a non-empty ID to a non-empty secret');
    }
  }
  strArr(s, 'regions', '');
  strArr(s, 'deniedActions', '');
  bool(s, 'ignoreClientToken', '');
  oneOf(s, 'exitStandbyWeight', '', ['default', 'scalingConfiguration']);
  const quotaProblem = apiQuotaProblem(s.apiQuota);
  if (quotaProblem) fail(`.apiQuota${quotaProblem[0]}`, quotaProblem[1]);
}

function validateVServerGroup(go: Obj, gp: string, lbId: string, refs: Refs): void {
  const gid = str(go, 'id', gp, true) as string;
  if (refs.vsgs.has(gid)) fail(gp, `duplicate vserver group "${gid}"`);
  refs.vsgs.set(gid, lbId);
  eachObject(go.backendServers, `${gp}.backendServers`, (bo, bp) => {
    str(bo, 'serverId', bp, true);
    requiredInt(bo, 'port', bp, 1, 65535);
    int(bo, 'weight', bp, 0, 100);
  });
}

function validateLoadBalancer(lb: Obj, p: string, refs: Refs): void {
  const id = str(lb, 'id', p, true) as string;
  if (refs.lbs.has(id)) fail(p, `duplicate load balancer "${id}"`);
  refs.lbs.set(id, lb);
  str(lb, 'regionId', p, true);
  oneOf(lb, 'status', p, CLB_STATUSES);
  eachObject(lb.backendServers, `${p}.backendServers`, (bo, bp) => {
    str(bo, 'serverId', bp, true);
    int(bo, 'weight', bp, 0, 100);
  });
  eachObject(lb.vServerGroups, `${p}.vServerGroups`, (go, gp) => validateVServerGroup(go, gp, id, refs));
  eachObject(lb.listeners, `${p}.listeners`, (lo, lp) => {
    requiredInt(lo, 'port', lp, 1, 65535);
    oneOf(lo, 'protocol', lp, ['http', 'https', 'tcp', 'udp']);
    const vsg = str(lo, 'vServerGroupId', lp, false);
    if (vsg !== undefined && refs.vsgs.get(vsg) !== id)
      fail(`${lp}.vServerGroupId`, `"${vsg}" is not a vserver group of ${id}`);
  });
  if (lb.health !== undefined) {
    for (const [sid, h] of Object.entries(obj(lb.health, `${p}.health`))) {
      if (typeof h !== 'string' || !HEALTH.includes(h))
        fail(`${p}.health.${sid}`, `must be one of ${HEALTH.join(', ')}`);
    }
  }
}

function validateAlbServerGroup(g: Obj, p: string, refs: Refs): void {
  const id = str(g, 'id', p, true) as string;
  if (refs.albs.has(id)) fail(p, `duplicate ALB server group "${id}"`);
  refs.albs.add(id);
  str(g, 'regionId', p, true);
  eachObject(g.servers, `${p}.servers`, (bo, bp) => {
    str(bo, 'serverId', bp, true);
    oneOf(bo, 'serverType', bp, ['Ecs', 'Eni', 'Eci', 'Ip', 'Fc']);
    requiredInt(bo, 'port', bp, 0, 65535);
    int(bo, 'weight', bp, 0, 100);
  });
}

function validateNlbServerGroup(g: Obj, p: string, refs: Refs): void {
  const id = str(g, 'id', p, true) as string;
  if (refs.nlbs.has(id) || refs.albs.has(id)) fail(p, `duplicate server group "${id}"`);
  refs.nlbs.add(id);
  str(g, 'regionId', p, true);
  eachObject(g.servers, `${p}.servers`, (bo, bp) => {
    str(bo, 'serverId', bp, true);
    oneOf(bo, 'serverType', bp, ['Ecs', 'Eni', 'Eci', 'Ip']);
    requiredInt(bo, 'port', bp, 1, 65535);
    int(bo, 'weight', bp, 0, 100);
  });
}

/** NLB and other `ServerGroups` entries of a scaling group. */
function validateServerGroupAttachments(g: Obj, p: string, refs: Refs): void {
  eachObject(g.nlbServerGroups, `${p}.nlbServerGroups`, (vo, vp) => {
    const sg = str(vo, 'nlbServerGroupId', vp, true) as string;
    if (!refs.nlbs.has(sg)) fail(vp, `unknown NLB server group "${sg}"`);
    requiredInt(vo, 'port', vp, 1, 65535);
    int(vo, 'weight', vp, 0, 100);
  });
  eachObject(g.otherServerGroups, `${p}.otherServerGroups`, (vo, vp) => {
    str(vo, 'serverGroupId', vp, true);
    str(vo, 'type', vp, true);
    int(vo, 'port', vp, 0, 65535);
    int(vo, 'weight', vp, 0, 100);
  });
}

function validateDbInstance(d: Obj, p: string, refs: Refs): void {
  const id = str(d, 'id', p, true) as string;
  if (refs.dbs.has(id)) fail(p, `duplicate DB instance "${id}"`);
  refs.dbs.add(id);
  str(d, 'status', p, false);
}

/** The group's load balancers, vserver groups, ALB groups and RDS instances must be defined above. */
function validateGroupAttachments(g: Obj, p: string, refs: Refs): void {
  for (const lb of strArr(g, 'loadBalancerIds', p))
    if (!refs.lbs.has(lb)) fail(`${p}.loadBalancerIds`, `unknown load balancer "${lb}"`);
  eachObject(g.vServerGroups, `${p}.vServerGroups`, (vo, vp) => {
    const lb = str(vo, 'loadBalancerId', vp, true) as string;
    const vsg = str(vo, 'vServerGroupId', vp, true) as string;
    if (refs.vsgs.get(vsg) !== lb) fail(vp, `vserver group "${vsg}" is not defined on load balancer "${lb}"`);
    requiredInt(vo, 'port', vp, 1, 65535);
    int(vo, 'weight', vp, 0, 100);
  });
  eachObject(g.albServerGroups, `${p}.albServerGroups`, (vo, vp) => {
    const sg = str(vo, 'albServerGroupId', vp, true) as string;
    if (!refs.albs.has(sg)) fail(vp, `unknown ALB server group "${sg}"`);
    requiredInt(vo, 'port', vp, 0, 65535);
    int(vo, 'weight', vp, 0, 100);
  });
  for (const db of strArr(g, 'dbInstanceIds', p))
    if (!refs.dbs.has(db)) fail(`${p}.dbInstanceIds`, `unknown DB instance "${db}"`);
  validateServerGroupAttachments(g, p, refs);
}

/** CreateLifecycleHook's limits (docs/emulator.md cites them); IDs unique across groups, names within one. */
function validateLifecycleHook(h: Obj, p: string, hookIds: Set<string>, names: Set<string>): void {
  const id = str(h, 'id', p, false);
  if (id !== undefined) {
    if (!/^ash-[a-z0-9]{1,40}$/.test(id))
      fail(`${p}.id`, `"${id}" is not a lifecycle hook ID (ash- + lowercase [a-z0-9])`);
    if (hookIds.has(id)) fail(`${p}.id`, `duplicate lifecycle hook "${id}"`);
    hookIds.add(id);
  }
  const name = str(h, 'name', p, false);
  if (name !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$/.test(name))
      fail(`${p}.name`, 'must be 2..64 of [A-Za-z0-9_.-], starting with a letter or digit');
    if (names.has(name)) fail(`${p}.name`, `duplicate lifecycle hook name "${name}" in the group`);
    names.add(name);
  }
  if (str(h, 'lifecycleTransition', p, true) === undefined) fail(`${p}.lifecycleTransition`, 'is required');
  oneOf(h, 'lifecycleTransition', p, ['SCALE_IN', 'SCALE_OUT']);
  int(h, 'heartbeatTimeout', p, 30, 21_600);
  oneOf(h, 'defaultResult', p, ['CONTINUE', 'ABANDON', 'ROLLBACK']);
  str(h, 'notificationArn', p, false);
  const metadata = str(h, 'notificationMetadata', p, false);
  if (metadata !== undefined && metadata.length > 4096) fail(`${p}.notificationMetadata`, 'is longer than 4096');
  oneOf(h, 'status', p, ['Active', 'InActive']);
}

function validateScalingGroup(g: Obj, p: string, refs: Refs): void {
  const id = str(g, 'id', p, true) as string;
  if (refs.groups.has(id)) fail(p, `duplicate scaling group "${id}"`);
  refs.groups.add(id);
  str(g, 'name', p, false);
  str(g, 'regionId', p, true);
  oneOf(g, 'lifecycleState', p, GROUP_STATES);
  const min = int(g, 'minSize', p, 0) ?? 0;
  const max = int(g, 'maxSize', p, 0);
  if (max !== undefined && max < min) fail(`${p}.maxSize`, 'must be >= minSize');
  int(g, 'desiredCapacity', p, 0);
  oneOf(g, 'scalingPolicy', p, SCALING_POLICIES);
  strArr(g, 'removalPolicies', p);
  int(g, 'defaultCooldown', p, 0);
  str(g, 'activeScalingConfigurationId', p, false);
  time(g, 'creationTime', p, false);
  validateGroupAttachments(g, p, refs);
  const names = new Set<string>();
  eachObject(g.lifecycleHooks, `${p}.lifecycleHooks`, (h, hp) => validateLifecycleHook(h, hp, refs.hooks, names));
}

function validateInstance(inst: Obj, p: string, refs: Refs): void {
  const id = str(inst, 'id', p, true) as string;
  if (!INSTANCE_ID_RE.test(id)) fail(`${p}.id`, `"${id}" is not an ECS instance ID (i- + 20 lowercase [a-z0-9])`);
  const g = str(inst, 'scalingGroupId', p, true) as string;
  if (!refs.groups.has(g)) fail(`${p}.scalingGroupId`, `unknown scaling group "${g}"`);
  oneOf(inst, 'lifecycleState', p, INSTANCE_LIFECYCLE_STATES);
  oneOf(inst, 'creationType', p, CREATION_TYPES);
  oneOf(inst, 'healthStatus', p, ['Healthy', 'Unhealthy']);
  time(inst, 'creationTime', p, false);
  int(inst, 'weight', p, 0, 100);
  bool(inst, 'entrusted', p);
  validateAttachTo(inst.attachTo, `${p}.attachTo`, refs);
}

function validateInstanceGenerator(gen: Obj, p: string, refs: Refs): void {
  const g = str(gen, 'scalingGroupId', p, true) as string;
  if (!refs.groups.has(g)) fail(`${p}.scalingGroupId`, `unknown scaling group "${g}"`);
  requiredInt(gen, 'count', p, 0, 100_000);
  const prefix = str(gen, 'idPrefix', p, false);
  if (prefix !== undefined && !/^[a-z0-9]{1,15}$/.test(prefix))
    fail(`${p}.idPrefix`, 'must be 1..15 lowercase [a-z0-9]');
  int(gen, 'startIndex', p, 0);
  oneOf(gen, 'creationType', p, CREATION_TYPES);
  oneOf(gen, 'lifecycleState', p, INSTANCE_LIFECYCLE_STATES);
  oneOf(gen, 'healthStatus', p, ['Healthy', 'Unhealthy']);
  time(gen, 'startTime', p, true);
  int(gen, 'intervalMinutes', p, 0);
  strArr(gen, 'scalingConfigurationIds', p);
  strArr(gen, 'zoneIds', p);
  int(gen, 'weight', p, 0, 100);
  bool(gen, 'entrusted', p);
  validateAttachTo(gen.attachTo, `${p}.attachTo`, refs);
}

function validateTimings(s: Obj): void {
  if (s.timings === undefined) return;
  const t = obj(s.timings, '.timings');
  int(t, 'activityDurationMs', '.timings', 0);
  int(t, 'activityDurationSpreadMs', '.timings', 0);
  if (typeof t.activityDurationSpreadMs === 'number' && t.activityDurationSpreadMs > Number(t.activityDurationMs ?? 0))
    fail('.timings.activityDurationSpreadMs', 'must not exceed activityDurationMs (a duration cannot be negative)');
  int(t, 'essDrainWaitMs', '.timings', 0);
  int(t, 'albJobDurationMs', '.timings', 0);
  int(t, 'nlbJobDurationMs', '.timings', 0);
  int(t, 'activityListingLagMs', '.timings', 0);
  int(t, 'activityLookupLagMs', '.timings', 0);
  int(t, 'lifecycleStateLagMs', '.timings', 0);
  int(t, 'clbChangeWindowMs', '.timings', 0);
}

function validateOutcomeRule(r: Obj, p: string): void {
  if (r.match !== undefined) strArr(obj(r.match, `${p}.match`), 'instanceIds', `${p}.match`);
  if (str(r, 'status', p, true) === undefined) fail(`${p}.status`, 'is required');
  oneOf(r, 'status', p, OUTCOMES);
  strArr(r, 'failInstanceIds', p);
  str(r, 'errorCode', p, false);
  str(r, 'errorMessage', p, false);
  int(r, 'times', p, 1);
}

/** Checks the whole document; returns it typed. Throws ScenarioError naming the bad path. */
export function validateScenario(input: unknown): Scenario {
  const s = obj(input, '(root)');
  validateTopLevel(s);
  const refs: Refs = {
    lbs: new Map(),
    vsgs: new Map(),
    albs: new Set(),
    nlbs: new Set(),
    dbs: new Set(),
    groups: new Set(),
    hooks: new Set(),
  };
  eachObject(s.loadBalancers, '.loadBalancers', (lb, p) => validateLoadBalancer(lb, p, refs));
  eachObject(s.albServerGroups, '.albServerGroups', (g, p) => validateAlbServerGroup(g, p, refs));
  eachObject(s.nlbServerGroups, '.nlbServerGroups', (g, p) => validateNlbServerGroup(g, p, refs));
  eachObject(s.dbInstances, '.dbInstances', (d, p) => validateDbInstance(d, p, refs));
  eachObject(s.scalingGroups, '.scalingGroups', (g, p) => validateScalingGroup(g, p, refs));
  eachObject(s.instances, '.instances', (inst, p) => validateInstance(inst, p, refs));
  eachObject(s.instanceGenerators, '.instanceGenerators', (gen, p) => validateInstanceGenerator(gen, p, refs));
  validateTimings(s);
  eachObject(s.activityOutcomes, '.activityOutcomes', validateOutcomeRule);
  const scenario = s as Scenario;
  // Instance IDs must be unique across explicit and generated instances.
  unique(
    expandInstances(scenario).map((x) => x.id),
    '.instances/.instanceGenerators',
  );
  return scenario;
}

// ---------------------------------------------------------------------------------------------
// expansion
// ---------------------------------------------------------------------------------------------

/** Explicit instances plus the generated ones, in scenario order (generators after explicit ones). */
export function expandInstances(s: Scenario): ScenarioInstance[] {
  const out: ScenarioInstance[] = [...(s.instances ?? [])];
  (s.instanceGenerators ?? []).forEach((gen, gi) => {
    const group = s.scalingGroups?.find((g) => g.id === gen.scalingGroupId);
    const region = group?.regionId ?? 'cn-hangzhou';
    const prefix = gen.idPrefix ?? `bp1g${gi.toString(36)}`;
    const start = Date.parse(gen.startTime);
    const interval = (gen.intervalMinutes ?? 1) * 60_000;
    const configs = gen.scalingConfigurationIds?.length
      ? gen.scalingConfigurationIds
      : [`asc-${gen.scalingGroupId.replace(/^asg-/, '')}`];
    const zones = gen.zoneIds?.length ? gen.zoneIds : [`${region}-h`];
    const first = gen.startIndex ?? 1;
    for (let i = 0; i < gen.count; i++) {
      const attachTo: ScenarioAttachTo | undefined = gen.attachTo ? { ...gen.attachTo } : undefined;
      const inst: ScenarioInstance = {
        id: generatedInstanceId(prefix, first + i),
        scalingGroupId: gen.scalingGroupId,
        creationTime: new Date(start + i * interval).toISOString(),
        scalingConfigurationId: configs[i % configs.length] as string,
        zoneId: zones[i % zones.length] as string,
      };
      if (gen.lifecycleState !== undefined) inst.lifecycleState = gen.lifecycleState;
      if (gen.creationType !== undefined) inst.creationType = gen.creationType;
      if (gen.healthStatus !== undefined) inst.healthStatus = gen.healthStatus;
      if (gen.weight !== undefined) inst.weight = gen.weight;
      if (gen.entrusted !== undefined) inst.entrusted = gen.entrusted;
      if (attachTo) inst.attachTo = attachTo;
      out.push(inst);
    }
  });
  return out;
}
