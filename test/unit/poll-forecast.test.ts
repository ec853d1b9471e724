import { describe, expect, it } from 'vitest';
import {
  DENSE_FLOOR_MS,
  ForecastWindow,
  MAX_DENSE_LOOKS,
  initialPace,
  nextPace,
  type PaceState,
} from '../../src/activities/poll-pacing';
import {
  FORECAST_SAMPLES,
  MAX_FORECAST_SAMPLES,
  estimateEnd,
  NOT_SEEN_RUNNING_STEP,
  forecastEnd,
  rememberEnd,
  type EndForecast,
  type ObservedEnd,
} from '../../src/shared/poll-forecast';

const P = { minIntervalMs: 2000, maxIntervalMs: 30_000 };
const end = (estimateMs: number): ObservedEnd => ({ afterMs: estimateMs - 10, byMs: estimateMs + 10, estimateMs });

describe('forecastEnd', () => {
  it('has nothing to say before the first end', () => {
    expect(forecastEnd([])).toBeUndefined();
  });

  it('gives one sample ±20 %, since one end says nothing of the spread', () => {
    expect(forecastEnd([end(60_000)])).toEqual({ earliestMs: 48_000, latestMs: 72_000, expectedMs: 60_000 });
  });

  it('spans the recent ends with 5 % of the median either side', () => {
    expect(forecastEnd([end(58_000), end(61_000), end(63_000)])).toEqual({
      earliestMs: 54_950,
      latestMs: 66_050,
      expectedMs: 61_000,
    });
  });

  it(`reads only the last ${FORECAST_SAMPLES} ends by default, or as many as asked`, () => {
    let kept: ObservedEnd[] = [];
    for (const ms of [500_000, 10_000, 10_000, 10_000, 10_000, 10_000]) kept = rememberEnd(kept, end(ms));
    expect(forecastEnd(kept)).toEqual({ earliestMs: 9500, latestMs: 10_500, expectedMs: 10_000 });
    expect(forecastEnd(kept, 6)).toEqual({ earliestMs: 9500, latestMs: 500_500, expectedMs: 10_000 });
  });

  it('is off with 0 samples (advanced.pollForecastSamples: 0)', () => {
    expect(forecastEnd([end(1000)], 0)).toBeUndefined();
  });

  it(`keeps at most ${MAX_FORECAST_SAMPLES} ends`, () => {
    let kept: ObservedEnd[] = [];
    for (let i = 0; i < 30; i++) kept = rememberEnd(kept, end(1000 + i));
    expect(kept).toHaveLength(MAX_FORECAST_SAMPLES);
    expect(kept[0]?.estimateMs).toBe(1010);
  });
});

describe('estimateEnd', () => {
  const look = (atMs: number, progress: number) => ({ atMs, progress });

  it('projects Progress from the rate between the first and the last InProgress looks', () => {
    // Progress started before the poll did (the call and the hand-off): 20 % at 100 ms, 80 % at 700 ms.
    expect(estimateEnd(look(100, 20), look(700, 80), 2000)).toBe(900);
  });

  it('with one look, projects from the poll start, kept inside the bracket', () => {
    expect(estimateEnd(look(900, 90), look(900, 90), 2000)).toBe(1000);
    expect(estimateEnd(undefined, look(900, 90), 950)).toBe(950);
    expect(estimateEnd(undefined, look(900, 99), 2000)).toBe(909);
  });

  it('takes a step before the first look when the activity was never seen running', () => {
    expect(estimateEnd(undefined, undefined, 1000)).toBe(1000 * (1 - NOT_SEEN_RUNNING_STEP));
  });

  it('takes the middle when Progress said nothing', () => {
    expect(estimateEnd(look(0, 0), look(0, 0), 2000)).toBe(1000);
    expect(estimateEnd(look(1000, 0), look(1000, 0), 3000)).toBe(2000);
  });
});

/**
 * Polls an activity ending at `endMs` (Progress linear, or stuck at 0 when `progressSaysNothing`)
 * with a forecast window; returns the look times.
 */
function simulate(endMs: number, f: EndForecast, progressSaysNothing = false): number[] {
  const progressAt = (t: number) => (progressSaysNothing ? 0 : Math.min(99, Math.floor((t / endMs) * 100)));
  const w = new ForecastWindow(f, P.minIntervalMs);
  let s: PaceState = initialPace(P);
  const looks: number[] = [];
  for (let t = w.firstLookMs; ;) {
    looks.push(t);
    if (t >= endMs) return looks;
    s = nextPace(P, s, progressAt(t), t, 0);
    t += w.next(t, s);
  }
}

describe('ForecastWindow', () => {
  it('near window: looks first in its middle, then where Progress says the end is', () => {
    expect(simulate(1000, { earliestMs: 900, latestMs: 1100 })).toEqual([1000]);
    const looks = simulate(1040, { earliestMs: 900, latestMs: 1100 });
    expect(looks[0]).toBe(1000);
    expect(looks.length).toBe(2);
    expect((looks.at(-1) as number) - 1040).toBeLessThanOrEqual(DENSE_FLOOR_MS);
  });

  it('without Progress, looks half-way, then a third of the window apart (at most the minimum interval)', () => {
    const looks = simulate(60_000, { earliestMs: 54_000, latestMs: 66_000 }, true);
    expect(looks).toEqual([27_000, 54_000, 56_000, 58_000, 60_000]);
  });

  it('with Progress, the look half-way sends the next one to the end it predicts, even before the window', () => {
    // The window (from earlier, longer activities) opens at 54 s; this activity ends at 40 s.
    const looks = simulate(40_000, { earliestMs: 54_000, latestMs: 66_000 });
    expect(looks[0]).toBe(27_000);
    expect(looks.length).toBeLessThanOrEqual(3);
    expect((looks.at(-1) as number) - 40_000).toBeLessThanOrEqual(P.minIntervalMs);
  });

  it(`falls back to the usual pace after ${MAX_DENSE_LOOKS} looks or past the window`, () => {
    // The activity runs far longer than forecast: the poll must not keep looking densely.
    const looks = simulate(100_000, { earliestMs: 1000, latestMs: 1200 }, true);
    const gaps = looks.slice(1).map((t, i) => t - (looks[i] as number));
    expect(gaps.filter((g) => g < P.minIntervalMs).length).toBeLessThanOrEqual(MAX_DENSE_LOOKS);
    expect(looks.length).toBeLessThan(20);
  });

  it.each([
    [54_000, 'early'],
    [60_000, 'in the middle'],
    [66_000, 'late'],
  ])('an activity ending %i ms (%s in the window) is seen within a dense step', (endMs) => {
    const looks = simulate(endMs, { earliestMs: 54_000, latestMs: 66_000 });
    expect((looks.at(-1) as number) - endMs).toBeLessThanOrEqual(P.minIntervalMs);
    expect(looks.length).toBeLessThanOrEqual(MAX_DENSE_LOOKS);
  });
});

describe('forecast over a run of batches', () => {
  it('a window placed late moves earlier until a look sees the activity running; then detection is tight', () => {
    // Identical 700 ms activities; the first batch (no forecast) saw its end only at 1000 ms.
    const endMs = 700;
    let ends: ObservedEnd[] = [{ afterMs: 0, byMs: 1000, estimateMs: 1000 }];
    const late: number[] = [];
    const looksPerActivity: number[] = [];
    for (let batch = 0; batch < 30; batch++) {
      const f = forecastEnd(ends) as EndForecast;
      const looks = simulate(endMs, f);
      const by = looks.at(-1) as number;
      const running = looks.filter((t) => t < endMs).map((t) => ({ atMs: t, progress: Math.floor((t / endMs) * 100) }));
      const estimateMs = estimateEnd(running[0], running.at(-1), by);
      ends = rememberEnd(ends, { afterMs: running.at(-1)?.atMs ?? 0, byMs: by, estimateMs });
      late.push(by - endMs);
      looksPerActivity.push(looks.length);
    }
    // Before, each first look fell where the last one had, 300 ms or more late, batch after batch.
    expect(late[0]).toBeGreaterThanOrEqual(300);
    expect(Math.max(...late.slice(-6))).toBeLessThanOrEqual(DENSE_FLOOR_MS);
    // Mostly one look: a second only when a look finds the activity still running.
    expect(looksPerActivity.slice(-6).reduce((a, b) => a + b, 0) / 6).toBeLessThanOrEqual(1.5);
  });
});
