/**
 * Fault injection. Rules are evaluated in order for every API call (admin routes are never
 * faulted). All matching `latency` rules add their delay; the first matching non-latency rule
 * decides the outcome. `rate` uses a seeded PRNG so a run is reproducible; `times` limits a rule to
 * its next N hits.
 */
import type { ApiError } from './api-error';
import { apiError } from './api-error';
import type { FaultKind, FaultRule, FaultRuleStatus } from './types';

const KINDS: readonly FaultKind[] = [
  'Throttling',
  'Throttling.User',
  'InternalError',
  'ServiceUnavailable',
  'latency',
  'reset',
  'commitThenDrop',
  'errorCode',
];

export class FaultRuleError extends Error {
  override readonly name = 'FaultRuleError' as const;
}

/** mulberry32: tiny, fast, good enough for test dice. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validateFaultRules(input: unknown): FaultRule[] {
  if (!Array.isArray(input)) throw new FaultRuleError('faults must be an array of rules');
  return input.map((r: unknown, i) => {
    const at = `faults[${i}]`;
    if (typeof r !== 'object' || r === null) throw new FaultRuleError(`${at} must be an object`);
    const rule = r as Record<string, unknown>;
    if (typeof rule.action !== 'string' || rule.action === '')
      throw new FaultRuleError(`${at}.action must be an action name or "*"`);
    if (typeof rule.kind !== 'string' || !KINDS.includes(rule.kind as FaultKind))
      throw new FaultRuleError(`${at}.kind must be one of ${KINDS.join(', ')}`);
    if (rule.kind === 'errorCode' && (typeof rule.code !== 'string' || rule.code === ''))
      throw new FaultRuleError(`${at}.code is required for kind errorCode`);
    if (rule.kind === 'latency' && (typeof rule.latencyMs !== 'number' || rule.latencyMs < 0))
      throw new FaultRuleError(`${at}.latencyMs (>= 0) is required for kind latency`);
    if (rule.rate !== undefined && (typeof rule.rate !== 'number' || rule.rate < 0 || rule.rate > 1))
      throw new FaultRuleError(`${at}.rate must be 0..1`);
    if (
      rule.times !== undefined &&
      (typeof rule.times !== 'number' || !Number.isInteger(rule.times) || rule.times < 1)
    ) {
      throw new FaultRuleError(`${at}.times must be a positive integer`);
    }
    if (
      rule.httpStatus !== undefined &&
      (typeof rule.httpStatus !== 'number' || rule.httpStatus < 100 || rule.httpStatus > 599)
    ) {
      throw new FaultRuleError(`${at}.httpStatus must be an HTTP status`);
    }
    if (
      rule.params !== undefined &&
      (typeof rule.params !== 'object' ||
        rule.params === null ||
        Array.isArray(rule.params) ||
        !Object.values(rule.params).every((v) => typeof v === 'string'))
    )
      throw new FaultRuleError(`${at}.params must be an object of parameter names to string values`);
    return rule as unknown as FaultRule;
  });
}

export interface FaultDecision {
  /** Total delay before answering. */
  latencyMs: number;
  /** Apply the latency after the call took effect (else before). */
  latencyAfterEffect: boolean;
  /** The deciding non-latency rule, if any. */
  rule: FaultRule | undefined;
  /** The kind to log: the deciding rule's, or `latency` when only latency applied. */
  kind: FaultKind | undefined;
}

export class FaultInjector {
  private rules: Array<{ rule: FaultRule; hits: number; remaining: number | undefined }> = [];
  private random: () => number = mulberry32(42);

  set(rules: FaultRule[], seed = 42): void {
    this.rules = rules.map((rule) => ({ rule: { ...rule }, hits: 0, remaining: rule.times }));
    this.random = mulberry32(seed);
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRuleStatus[] {
    return this.rules.map((r, index) => {
      const s: FaultRuleStatus = { ...r.rule, index, hits: r.hits };
      if (r.remaining !== undefined) s.remaining = r.remaining;
      return s;
    });
  }

  decide(action: string, params: Readonly<Record<string, string>> = {}): FaultDecision {
    const d: FaultDecision = { latencyMs: 0, latencyAfterEffect: false, rule: undefined, kind: undefined };
    for (const r of this.rules) {
      if (r.rule.action !== '*' && r.rule.action !== action) continue;
      if (r.rule.params && !Object.entries(r.rule.params).every(([k, v]) => params[k] === v)) continue;
      if (r.remaining !== undefined && r.remaining <= 0) continue;
      const isLatency = r.rule.kind === 'latency';
      if (!isLatency && d.rule) continue;
      if (r.rule.rate !== undefined && this.random() >= r.rule.rate) continue;
      r.hits++;
      if (r.remaining !== undefined) r.remaining--;
      if (isLatency) {
        d.latencyMs += r.rule.latencyMs ?? 0;
        if (r.rule.latencyAfterEffect) d.latencyAfterEffect = true;
        d.kind ??= 'latency';
      } else {
        d.rule = r.rule;
        d.kind = r.rule.kind;
      }
    }
    return d;
  }
}

/** The API error a throttling / server-error / errorCode rule answers with. */
export function faultError(rule: FaultRule): ApiError | undefined {
  let err: ApiError;
  switch (rule.kind) {
    case 'Throttling':
    case 'Throttling.User':
    case 'InternalError':
    case 'ServiceUnavailable':
      err = apiError(rule.kind, rule.message, rule.httpStatus);
      break;
    case 'errorCode':
      err = apiError(rule.code ?? 'InternalError', rule.message, rule.httpStatus);
      break;
    default:
      return undefined;
  }
  if (rule.retryAfterMs !== undefined) err.headers['x-acs-retry-after'] = String(rule.retryAfterMs);
  return err;
}
