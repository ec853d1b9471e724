import { describe, expect, it } from 'vitest';
import {
  ApiRateLimiter,
  ApiRateSpecError,
  parseApiRates,
  processApiRateLimiter,
  type LimiterClock,
} from '../../src/aliyun/rate-limiter';
import { AliyunAbortedError } from '../../src/aliyun/errors';
import { createCloudClient, RpcClient, staticCredentials, type RpcCallEvent } from '../../src/aliyun';
import { AK_ID, AK_SECRET, json, startLoopback } from './aliyun/loopback-server';
import { apiRateRulesFromEnv, ConfigError } from '../../src/config';
import { METRICS, ScaleInMetrics } from '../../src/observability/metrics';
import type { MetricMeter, MetricTags } from '@temporalio/common';

/** Manual time: timers run only when the test advances the clock, in due order. */
class FakeClock implements LimiterClock {
  private t = 1_000;
  private seq = 0;
  private timers: Array<{ id: number; due: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, due: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time on without running any timer, as a blocked event loop does; the next `advance` runs them late. */
  jump(ms: number): void {
    this.t += ms;
  }

  /** Advances to `t + ms`, running every timer due on the way (and what they schedule), then settles promises. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const next = [...this.timers].sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next || next.due > end) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** The most grants in any window of `windowMs` (sliding, so every alignment of a server's windows is covered). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('ApiRateLimiter', () => {
  it('keeps a burst of 100 concurrent callers of one action under its quota, in order, all served', async () => {
    const clock = new FakeClock();
    const limiter = new ApiRateLimiter('ess:RemoveInstances=10', clock);
    const granted: Array<{ caller: number; at: number; waited: number }> = [];
    const calls = Array.from({ length: 100 }, (_, caller) =>
      limiter.acquire('ess', 'RemoveInstances').then((waited) => granted.push({ caller, at: clock.now(), waited })),
    );
    await clock.advance(0);
    expect(granted).toHaveLength(1);
    expect(granted[0]?.waited).toBe(0);
    await clock.advance(20_000);
    await Promise.all(calls);
    expect(granted).toHaveLength(100);
    // 10 per second: never more than 10 in any 1 s window, however it is aligned.
    expect(
      maxInAnyWindow(
        granted.map((g) => g.at),
        1_000,
      ),
    ).toBeLessThanOrEqual(10);
    // First come, first served, and the waits are reported.
    expect(granted.map((g) => g.caller)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(granted[99]?.waited).toBeGreaterThan(9_000);
    expect(clock.pending).toBe(0);
  });

  it('keeps a windowed quota (200/60s) and gives each action its own budget', async () => {
    const clock = new FakeClock();
    const limiter = new ApiRateLimiter('ess:*=200/60s,slb:SetBackendServers=5', clock);
    const at: Record<string, number[]> = { poll: [], groups: [], clb: [] };
    const all = [
      ...Array.from({ length: 100 }, () =>
        limiter.acquire('ess', 'DescribeScalingActivities').then(() => at.poll?.push(clock.now())),
      ),
      ...Array.from({ length: 100 }, () =>
        limiter.acquire('ess', 'DescribeScalingGroups').then(() => at.groups?.push(clock.now())),
      ),
      ...Array.from({ length: 100 }, () =>
        limiter.acquire('slb', 'SetBackendServers').then(() => at.clb?.push(clock.now())),
      ),
    ];
    await clock.advance(60_000);
    await Promise.all(all);
    expect(maxInAnyWindow(at.poll ?? [], 60_000)).toBeLessThanOrEqual(200);
    expect(maxInAnyWindow(at.poll ?? [], 1_000)).toBeLessThanOrEqual(4);
    // Two ESS actions under `ess:*` do not share one budget: both finish within the same 30 s.
    expect(Math.max(...(at.poll ?? []), ...(at.groups ?? [])) - 1_000).toBeLessThanOrEqual(30_000);
    expect(maxInAnyWindow(at.clb ?? [], 1_000)).toBeLessThanOrEqual(5);
    // An action no rule names is not paced.
    expect(await limiter.acquire('alb', 'ListServerGroupServers')).toBe(0);
  });

  it('spaces calls after a stall instead of releasing the backlog at once', async () => {
    const clock = new FakeClock();
    const limiter = new ApiRateLimiter('*=4', clock);
    const times: number[] = [];
    const all = Array.from({ length: 12 }, () =>
      limiter.acquire('nlb', 'GetJobStatus').then(() => times.push(clock.now())),
    );
    // One long jump, as when the event loop was blocked: the queued callers still leave 250 ms apart.
    await clock.advance(0);
    clock.jump(2_000);
    await clock.advance(3_000);
    await Promise.all(all);
    expect(times).toHaveLength(12);
    expect(maxInAnyWindow(times, 1_000)).toBeLessThanOrEqual(4);
  });

  it('stops waiting when the caller aborts, without sending and without holding up the others', async () => {
    const clock = new FakeClock();
    const limiter = new ApiRateLimiter('ess:RemoveInstances=1', clock);
    expect(await limiter.acquire('ess', 'RemoveInstances')).toBe(0);
    const cancel = new AbortController();
    const aborted = limiter.acquire('ess', 'RemoveInstances', cancel.signal);
    const next: number[] = [];
    const after = limiter.acquire('ess', 'RemoveInstances').then(() => next.push(clock.now()));
    await clock.advance(100);
    cancel.abort(new Error('activity cancelled'));
    await expect(aborted).rejects.toBeInstanceOf(AliyunAbortedError);
    await expect(aborted).rejects.toMatchObject({ code: 'Aborted', action: 'RemoveInstances' });
    expect(limiter.waiting()).toEqual({ 'ess:RemoveInstances': 1 });
    await clock.advance(900);
    await after;
    // The aborted caller's place went to the next one: served one interval after the first call.
    expect(next).toEqual([2_000]);
    // An already aborted signal is refused at once.
    await expect(limiter.acquire('ess', 'RemoveInstances', AbortSignal.abort())).rejects.toBeInstanceOf(
      AliyunAbortedError,
    );
    expect(clock.pending).toBe(0);
  });

  it('shares one limiter per process for the same rules', () => {
    const rules = parseApiRates('ess:*=50');
    expect(processApiRateLimiter(rules)).toBe(processApiRateLimiter(parseApiRates('ess:*=50')));
    expect(processApiRateLimiter([])).toBeUndefined();
  });
});

describe('parseApiRates / ESS_SCALE_IN_API_RATE', () => {
  it('reads per-second and windowed rates, product defaults and the global default', () => {
    expect(parseApiRates(' ess:RemoveInstances=10, ess:*=50 ,slb:*=200/60s,*=100,')).toEqual([
      { product: 'ess', action: 'RemoveInstances', calls: 10, windowSeconds: 1 },
      { product: 'ess', action: '*', calls: 50, windowSeconds: 1 },
      { product: 'slb', action: '*', calls: 200, windowSeconds: 60 },
      { product: '*', action: '*', calls: 100, windowSeconds: 1 },
    ]);
    const limiter = new ApiRateLimiter('ess:RemoveInstances=10,ess:*=50,*=100');
    expect(limiter.ruleFor('ess', 'RemoveInstances')?.calls).toBe(10);
    expect(limiter.ruleFor('ess', 'DescribeScalingActivities')?.calls).toBe(50);
    expect(limiter.ruleFor('alb', 'ListAsynJobs')?.calls).toBe(100);
    expect(apiRateRulesFromEnv({})).toEqual([]);
    expect(apiRateRulesFromEnv({ ESS_SCALE_IN_API_RATE: '  ' })).toEqual([]);
  });

  it.each([
    ['ess:RemoveInstances', /has no "="/],
    ['ecs:DescribeInstances=5', /unknown product "ecs"/],
    ['ess:removeInstances=5', /is not an API action name/],
    ['ess=5', /is not <product>:<Action>/],
    ['ess:*=0', /whole number of calls >= 1/],
    ['ess:*=fast', /whole number of calls >= 1/],
    ['ess:*=5/0s', /whole number of calls >= 1/],
    ['ess:*=5,ess:*=6', /is given twice/],
  ])('refuses %j and says what is expected', (spec, message) => {
    expect(() => parseApiRates(spec)).toThrow(ApiRateSpecError);
    expect(() => parseApiRates(spec)).toThrow(message);
    let caught: unknown;
    try {
      apiRateRulesFromEnv({ ESS_SCALE_IN_API_RATE: spec });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ variable: 'ESS_SCALE_IN_API_RATE', code: 'InvalidConfig' });
  });
});

describe('limiter and throttling metrics', () => {
  /** A meter that keeps what was recorded, by metric name. */
  function recordingMeter(): { meter: MetricMeter; seen: Array<{ name: string; value: number; tags: MetricTags }> } {
    const seen: Array<{ name: string; value: number; tags: MetricTags }> = [];
    const metric = (name: string) => ({
      name,
      add: (value: number, tags: MetricTags = {}) => seen.push({ name, value, tags }),
      record: (value: number, tags: MetricTags = {}) => seen.push({ name, value, tags }),
      set: (value: number, tags: MetricTags = {}) => seen.push({ name, value, tags }),
      withTags: () => metric(name),
    });
    const meter = {
      createCounter: (name: string) => metric(name),
      createHistogram: (name: string) => metric(name),
      createGauge: (name: string) => metric(name),
      withTags: () => meter,
    } as unknown as MetricMeter;
    return { meter, seen };
  }

  it('counts throttled calls by code and the calls that waited, with their wait in seconds', () => {
    const { meter, seen } = recordingMeter();
    const metrics = new ScaleInMetrics(meter);
    const base = {
      product: 'ess' as const,
      action: 'RemoveInstances',
      requestId: 'r',
      httpStatus: 400,
      durationMs: 12,
    };
    metrics.apiCall({ ...base, outcome: 'Throttling.User', rateLimitWaitMs: 0 });
    metrics.apiCall({ ...base, httpStatus: 200, outcome: 'ok', rateLimitWaitMs: 250 });
    metrics.apiCall({ ...base, httpStatus: 200, outcome: 'ok' });
    const of = (name: string) => seen.filter((x) => x.name === name);
    expect(of(METRICS.apiThrottled.name)).toEqual([
      {
        name: METRICS.apiThrottled.name,
        value: 1,
        tags: { product: 'ess', action: 'RemoveInstances', code: 'Throttling.User' },
      },
    ]);
    expect(of(METRICS.apiRateLimitWaits.name).map((x) => x.value)).toEqual([1]);
    expect(of(METRICS.apiRateLimitWait.name).map((x) => x.value)).toEqual([0.25]);
  });
});

describe('RpcClient with a limiter', () => {
  it('waits for the limiter before sending, reports the wait apart, sends nothing for an aborted wait', async () => {
    let received = 0;
    const server = await startLoopback((_req, res) => {
      received++;
      json(res, 200, { RequestId: `REQ-${received}` });
    });
    const clock = new FakeClock();
    const events: RpcCallEvent[] = [];
    const rpc = new RpcClient({
      credentials: staticCredentials(AK_ID, AK_SECRET),
      endpoint: () => server.origin,
      keepAliveTimeoutMs: 10,
      onCall: (e) => events.push(e),
      rateLimiter: new ApiRateLimiter('ess:RemoveInstances=1', clock),
    });
    try {
      const opts = { regionId: 'cn-hangzhou' };
      await rpc.call('ess', 'RemoveInstances', {}, opts);
      // The second call is held by the limiter: nothing reaches the server until the clock moves on.
      const second = rpc.call('ess', 'RemoveInstances', {}, opts);
      const cancel = new AbortController();
      const third = rpc.call('ess', 'RemoveInstances', {}, { ...opts, signal: cancel.signal });
      await clock.advance(500);
      expect(received).toBe(1);
      cancel.abort();
      await expect(third).rejects.toBeInstanceOf(AliyunAbortedError);
      await clock.advance(500);
      await second;
      expect(received).toBe(2);
      expect(events.map((e) => e.outcome)).toEqual(['ok', 'Aborted', 'ok']);
      expect(events[0]?.rateLimitWaitMs).toBe(0);
      expect(events[1]?.httpStatus).toBeUndefined();
      expect(events[2]?.rateLimitWaitMs).toBe(1_000);
    } finally {
      await rpc.close();
      await server.close();
    }
  });
});

describe('createCloudClient and ESS_SCALE_IN_API_RATE', () => {
  it('paces the client with the process-wide limiter the variable describes', async () => {
    let received = 0;
    const server = await startLoopback((_req, res) => {
      received++;
      json(res, 200, { RequestId: `REQ-${received}`, ScalingGroups: { ScalingGroup: [] }, TotalCount: 0 });
    });
    const saved = process.env.ESS_SCALE_IN_API_RATE;
    process.env.ESS_SCALE_IN_API_RATE = 'ess:DescribeScalingGroups=1/3600s';
    const events: RpcCallEvent[] = [];
    const cloud = createCloudClient({
      credentials: staticCredentials(AK_ID, AK_SECRET),
      endpoints: { ess: server.origin },
      onCall: (e) => events.push(e),
    });
    try {
      expect(await cloud.ess.describeScalingGroup('cn-hangzhou', 'asg-1')).toBeUndefined();
      // One call an hour: the next one waits, and its cancellation ends the wait without sending it.
      const held = cloud.ess.describeScalingGroup('cn-hangzhou', 'asg-1', { signal: AbortSignal.timeout(50) });
      await expect(held).rejects.toBeInstanceOf(AliyunAbortedError);
      expect(received).toBe(1);
      expect(events.map((e) => e.rateLimitWaitMs !== undefined)).toEqual([true, true]);
    } finally {
      if (saved === undefined) delete process.env.ESS_SCALE_IN_API_RATE;
      else process.env.ESS_SCALE_IN_API_RATE = saved;
      await cloud.close();
      await server.close();
    }
  });
});
