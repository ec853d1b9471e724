/**
 * The account's API quota (scenario `apiQuota`, docs/emulator.md "Account API quota"): calls per
 * product and action, counted over every access key (the emulator is one account), in fixed
 * windows; a call past the quota answers 400 `Throttling.User` and has no effect. Off unless the
 * scenario turns it on. Windows are real time (never scaled by `timeScale`) and start when the
 * scenario loads.
 */
import type { ApiQuotaLimit, ScenarioApiQuota } from './types';

/**
 * The limits when a scenario sets `apiQuota: true` (or lists only some actions). Not from the
 * reference: no ESS, CLB, ALB or NLB per-action number is public (they are in each account's
 * Quota Center); see docs/emulator.md.
 */
export const DEFAULT_API_QUOTA: Readonly<Record<string, ApiQuotaLimit>> = {
  '*': { calls: 20, windowSeconds: 1 },
  'ess:RemoveInstances': { calls: 10, windowSeconds: 1 },
  'ess:EnterStandby': { calls: 10, windowSeconds: 1 },
  'ess:ExitStandby': { calls: 10, windowSeconds: 1 },
};

const PRODUCTS = ['ess', 'slb', 'alb', 'nlb'];
const KEY_RE = /^(\*|(ess|slb|alb|nlb):(\*|[A-Z][A-Za-z0-9]{1,63}))$/;

/** The first problem of an `apiQuota` value as `[path suffix, message]`, or undefined when it is valid. */
export function apiQuotaProblem(v: unknown): [string, string] | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return ['', 'must be true, false or {"limits": {"ess:RemoveInstances": 10, ...}}'];
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'limits') return [`.${k}`, 'is not a field of apiQuota (only "limits")'];
  if (o.limits === undefined) return undefined;
  if (typeof o.limits !== 'object' || o.limits === null || Array.isArray(o.limits))
    return ['.limits', 'must be an object of "product:Action" (or "product:*", "*") to a limit'];
  for (const [key, limit] of Object.entries(o.limits as Record<string, unknown>)) {
    if (!KEY_RE.test(key))
      return [`.limits.${key}`, `is not "<product>:<Action>", "<product>:*" or "*" (products: ${PRODUCTS.join(', ')})`];
    const problem = limitProblem(limit);
    if (problem) return [`.limits.${key}${problem[0]}`, problem[1]];
  }
  return undefined;
}

function limitProblem(limit: unknown): [string, string] | undefined {
  if (typeof limit === 'number') return wholeCalls(limit) ? undefined : ['', 'must be a whole number of calls >= 1'];
  if (typeof limit !== 'object' || limit === null || Array.isArray(limit))
    return ['', 'must be calls per second (a number) or {"calls": N, "windowSeconds": W}'];
  const l = limit as Record<string, unknown>;
  for (const k of Object.keys(l))
    if (k !== 'calls' && k !== 'windowSeconds') return [`.${k}`, 'is not a field (only calls, windowSeconds)'];
  if (!wholeCalls(l.calls)) return ['.calls', 'is required, a whole number of calls >= 1'];
  const w = l.windowSeconds;
  if (w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 86_400))
    return ['.windowSeconds', 'must be a whole number of seconds 1..86400'];
  return undefined;
}

function wholeCalls(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000;
}

/** The limits in force for a (validated) scenario value; undefined when the quota is off. */
export function effectiveQuota(q: ScenarioApiQuota | undefined): Record<string, ApiQuotaLimit> | undefined {
  if (q === undefined || q === false) return undefined;
  const out: Record<string, ApiQuotaLimit> = { ...DEFAULT_API_QUOTA };
  if (q === true) return out;
  for (const [key, limit] of Object.entries(q.limits ?? {}))
    out[key] = typeof limit === 'number' ? { calls: limit, windowSeconds: 1 } : { windowSeconds: 1, ...limit };
  return out;
}

interface Window {
  index: number;
  count: number;
}

export class ApiQuota {
  private limits: Record<string, ApiQuotaLimit> | undefined;
  private loadedAt = 0;
  private readonly windows = new Map<string, Window>();
  private refused = 0;

  constructor(private readonly clock: () => number) {}

  /** Replaces the limits and forgets every count (on a scenario load or reset). */
  load(q: ScenarioApiQuota | undefined): void {
    this.limits = effectiveQuota(q);
    this.loadedAt = this.clock();
    this.windows.clear();
    this.refused = 0;
  }

  get enabled(): boolean {
    return this.limits !== undefined;
  }

  /** The limit of an action: its own, else its product's `*`, else `*`. */
  limitOf(product: string, action: string): ApiQuotaLimit | undefined {
    const l = this.limits;
    return l?.[`${product}:${action}`] ?? l?.[`${product}:*`] ?? l?.['*'];
  }

  /** Counts the call if it fits its window; false (nothing counted) when it is past the quota. */
  admit(product: string, action: string): boolean {
    const limit = this.limitOf(product, action);
    if (!limit) return true;
    const key = `${product}:${action}`;
    const index = Math.floor((this.clock() - this.loadedAt) / (limit.windowSeconds * 1000));
    let w = this.windows.get(key);
    if (!w || w.index !== index) {
      w = { index, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= limit.calls) {
      this.refused++;
      return false;
    }
    w.count++;
    return true;
  }

  /** Calls refused since the scenario loaded. */
  get refusedCalls(): number {
    return this.refused;
  }
}
