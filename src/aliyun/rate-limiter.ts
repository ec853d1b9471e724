/**
 * A process-wide pace for Alibaba Cloud API calls, per product and action. Alibaba Cloud meters
 * OpenAPI calls per account and per operation ("N calls per W seconds", Quota Center > API Rate
 * Limits) and answers `Throttling.User` past the quota; every run of a worker shares that budget.
 * The limiter makes callers wait instead of sending a call the quota would refuse.
 *
 * Each (product, action) has its own token bucket of one token refilled at N/W per second: calls
 * leave evenly spaced, at least W/N apart in real time, so any window of W seconds (aligned or not
 * with the server's) holds at most N of them. A caller that waits is queued first in, first out;
 * its abort signal takes it out of the queue (an activity's cancellation ends the wait, it never
 * sends the call).
 */
import { AliyunAbortedError } from './errors';
import { API_VERSIONS, type Product } from './wire';

/** A bad rate specification; the message names the entry and the expected form. */
export class ApiRateSpecError extends Error {
  override readonly name = 'ApiRateSpecError' as const;
  readonly code = 'InvalidApiRate' as const;
}

/** `calls` per `windowSeconds` for one product and action, or every action of a product (`*`), or everything. */
export interface ApiRateRule {
  product: Product | '*';
  action: string;
  calls: number;
  windowSeconds: number;
}

const PRODUCTS = Object.keys(API_VERSIONS) as Product[];
const ACTION_RE = /^[A-Z][A-Za-z0-9]{1,63}$/;
const VALUE_RE = /^(\d+)(?:\/(\d+(?:\.\d+)?)s?)?$/;
const FORM =
  '"<product>:<Action>=<calls>[/<seconds>s]" entries separated by commas, e.g. "ess:RemoveInstances=10,ess:*=50"';

/**
 * Parses `ess:RemoveInstances=10,ess:*=50,slb:*=200/60s,*=100`: calls per second, or calls per
 * window of seconds (`200/60s`, as Quota Center writes "200/60 s"). Keys are `product:Action`,
 * `product:*` (each action of the product not named on its own) or `*` (each action of any
 * product not otherwise named). Products: ess, slb, alb, nlb. An empty string is no rule.
 */
export function parseApiRates(spec: string): ApiRateRule[] {
  const rules: ApiRateRule[] = [];
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ApiRateSpecError(`"${entry}" has no "=": expected ${FORM}`);
    const key = entry.slice(0, eq).trim();
    const rule = { ...parseKey(key), ...parseValue(key, entry.slice(eq + 1).trim()) };
    const id = `${rule.product}:${rule.action}`;
    if (seen.has(id)) throw new ApiRateSpecError(`"${key}" is given twice`);
    seen.add(id);
    rules.push(rule);
  }
  return rules;
}

function parseKey(key: string): Pick<ApiRateRule, 'product' | 'action'> {
  if (key === '*' || key === '*:*') return { product: '*', action: '*' };
  const [product, action, extra] = key.split(':');
  if (extra !== undefined || product === undefined || action === undefined)
    throw new ApiRateSpecError(`"${key}" is not <product>:<Action>, <product>:* or *`);
  if (!(PRODUCTS as string[]).includes(product))
    throw new ApiRateSpecError(`"${key}": unknown product "${product}" (one of ${PRODUCTS.join(', ')})`);
  if (action !== '*' && !ACTION_RE.test(action))
    throw new ApiRateSpecError(`"${key}": "${action}" is not an API action name such as RemoveInstances`);
  return { product: product as Product, action };
}

function parseValue(key: string, value: string): Pick<ApiRateRule, 'calls' | 'windowSeconds'> {
  const m = VALUE_RE.exec(value);
  const calls = Number(m?.[1]);
  const windowSeconds = m?.[2] === undefined ? 1 : Number(m[2]);
  if (!m || !(calls >= 1) || !(windowSeconds > 0) || windowSeconds > 86_400 || calls / windowSeconds > 100_000)
    throw new ApiRateSpecError(
      `"${key}=${value}": expected a whole number of calls >= 1 per second, or per window such as 200/60s`,
    );
  return { calls, windowSeconds };
}

/** Time and timers for the limiter; tests pass a fake one. */
export interface LimiterClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_CLOCK: LimiterClock = {
  now: () => performance.now(),
  // Not unref'd: a CLI waiting on the limiter and nothing else must not exit.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Waiter {
  since: number;
  resolve: (waitedMs: number) => void;
  detach: () => void;
}

/** One token, refilled at one per `intervalMs`; waiters served in order, each as soon as the token is back. */
class Bucket {
  private tokens = 1;
  private updatedAt: number;
  private readonly queue: Waiter[] = [];
  private timer: unknown;

  constructor(
    readonly rule: ApiRateRule,
    private readonly intervalMs: number,
    private readonly clock: LimiterClock,
  ) {
    this.updatedAt = clock.now();
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with the time waited (0: the call may go at once); rejects with AliyunAbortedError on abort. */
  take(action: string, signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted) return Promise.reject(new AliyunAbortedError(action, { cause: signal.reason }));
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve(0);
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { since: this.clock.now(), resolve, detach: () => undefined };
      if (signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new AliyunAbortedError(action, { cause: signal.reason }));
          this.rearm();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(waiter);
      this.arm();
    });
  }

  private refill(): void {
    const now = this.clock.now();
    // Capped at one token: after a stall (a late timer, a busy event loop) calls still leave spaced.
    this.tokens = Math.min(1, this.tokens + (now - this.updatedAt) / this.intervalMs);
    this.updatedAt = now;
  }

  private pump(): void {
    this.timer = undefined;
    this.refill();
    // A hair of tolerance: a timer set for the refill instant must find the token whole.
    while (this.queue.length > 0 && this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1);
      const w = this.queue.shift() as Waiter;
      w.detach();
      w.resolve(this.clock.now() - w.since);
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const ms = Math.max(0, Math.ceil((1 - this.tokens) * this.intervalMs));
    this.timer = this.clock.setTimeout(() => this.pump(), ms);
  }

  private rearm(): void {
    if (this.queue.length > 0 || this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The rule for a product and action: its own, else its product's `*`, else the global `*`. */
function ruleFor(rules: readonly ApiRateRule[], product: Product, action: string): ApiRateRule | undefined {
  return (
    rules.find((r) => r.product === product && r.action === action) ??
    rules.find((r) => r.product === product && r.action === '*') ??
    rules.find((r) => r.product === '*')
  );
}

export class ApiRateLimiter {
  private readonly buckets = new Map<string, Bucket | null>();
  readonly rules: readonly ApiRateRule[];

  constructor(
    rules: readonly ApiRateRule[] | string,
    private readonly clock: LimiterClock = REAL_CLOCK,
  ) {
    this.rules = typeof rules === 'string' ? parseApiRates(rules) : [...rules];
  }

  /** The rule pacing this action (undefined: unpaced). */
  ruleFor(product: Product, action: string): ApiRateRule | undefined {
    return ruleFor(this.rules, product, action);
  }

  /**
   * Waits until the action may be called. Resolves with the time waited in ms (0 when it may go
   * at once, also for unpaced actions); rejects with AliyunAbortedError when `signal` aborts first.
   */
  acquire(product: Product, action: string, signal?: AbortSignal): Promise<number> {
    const bucket = this.bucketFor(product, action);
    if (!bucket) {
      if (signal?.aborted) return Promise.reject(new AliyunAbortedError(action, { cause: signal.reason }));
      return Promise.resolve(0);
    }
    return bucket.take(action, signal);
  }

  /** Callers waiting now, per `product:Action` (for diagnostics). */
  waiting(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, b] of this.buckets) if (b && b.waiting > 0) out[key] = b.waiting;
    return out;
  }

  private bucketFor(product: Product, action: string): Bucket | undefined {
    const key = `${product}:${action}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      const rule = ruleFor(this.rules, product, action);
      bucket = rule ? new Bucket(rule, (rule.windowSeconds * 1000) / rule.calls, this.clock) : null;
      this.buckets.set(key, bucket);
    }
    return bucket ?? undefined;
  }
}

const processLimiters = new Map<string, ApiRateLimiter>();

/**
 * The one limiter of this process for a specification: every cloud client created with the same
 * rules shares its buckets, so the process as a whole keeps the pace. Undefined for no rules.
 */
export function processApiRateLimiter(rules: readonly ApiRateRule[]): ApiRateLimiter | undefined {
  if (rules.length === 0) return undefined;
  const key = JSON.stringify(rules);
  let limiter = processLimiters.get(key);
  if (!limiter) {
    limiter = new ApiRateLimiter(rules);
    processLimiters.set(key, limiter);
  }
  return limiter;
}
