import { describe, expect, it } from 'vitest';
import { initialPace, nextPace, type PaceState } from '../../src/activities/poll-pacing';

const P = { minIntervalMs: 2000, maxIntervalMs: 30_000 };

/**
 * Polls an activity whose Progress grows linearly over `durationMs`, from `startAtMs` on, as pacing
 * dictates; returns the poll times.
 */
function simulate(durationMs: number, startAtMs: number): number[] {
  const progressAt = (t: number) => (t >= durationMs ? 100 : Math.floor((t / durationMs) * 100));
  let s: PaceState = initialPace(P);
  const polls: number[] = [];
  for (let t = startAtMs; ; t += s.intervalMs) {
    polls.push(t);
    if (progressAt(t) >= 100) return polls;
    s = nextPace(P, s, progressAt(t), t);
  }
}

// Progress is a whole percentage: near the end the estimate can be off by one step (1 % of the duration).
const lateness = (durationMs: number) => Math.max(P.minIntervalMs, durationMs / 100);

describe('poll pacing', () => {
  it('backs off by half again while Progress does not move, up to the maximum', () => {
    let s = initialPace(P);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = nextPace(P, s, 0, i * 1000);
      waits.push(s.intervalMs);
    }
    expect(waits).toEqual([3000, 4500, 6750, 10125, 15188, 22782, 30000, 30000]);
  });

  it('waits half the estimated time left, within the bounds', () => {
    let s = nextPace(P, initialPace(P), 0, 0);
    s = nextPace(P, s, 10, 10_000); // 10 % in 10 s: 90 s left, half of it capped
    expect(s.intervalMs).toBe(30_000);
    s = nextPace(P, s, 70, 70_000); // 30 s left
    expect(s.intervalMs).toBe(15_000);
    s = nextPace(P, s, 99, 99_000); // 1 s left
    expect(s.intervalMs).toBe(2000);
  });

  it('a 300 s activity: under 20 polls, the end noticed within a Progress step', () => {
    const polls = simulate(300_000, 0);
    expect(polls.length).toBeLessThan(20);
    expect((polls.at(-1) as number) - 300_000).toBeLessThanOrEqual(lateness(300_000));
  });

  it('a poll resumed half-way (after a worker crash) takes the rate it sees, not the Progress made before it', () => {
    // Counting all of Progress since this attempt began would see 50 % done in no time and poll at the minimum.
    const resumed = simulate(300_000, 150_000);
    expect(resumed.length).toBeLessThan(15);
    expect((resumed.at(-1) as number) - 300_000).toBeLessThanOrEqual(lateness(300_000));
  });

  it('a fresh poll of a short activity: a rate from the first observation, so the next poll is at the minimum', () => {
    // 3 % done 30 ms after the poll began with the activity: about 1 s left.
    expect(nextPace(P, initialPace(P), 3, 1030, 1000).intervalMs).toBe(2000);
    // The same observation on a retry says nothing yet about the rate: back off.
    expect(nextPace(P, initialPace(P), 3, 1030).intervalMs).toBe(3000);
  });

  it('a Progress that jumps in coarse steps still converges on the end', () => {
    let s = nextPace(P, initialPace(P), 0, 0);
    s = nextPace(P, s, 0, 3000);
    s = nextPace(P, s, 50, 7500); // 50 % in 7.5 s: 7.5 s left
    expect(s.intervalMs).toBe(3750);
    s = nextPace(P, s, 50, 11_250); // still 50 %: the rate so far says 11.25 s left
    expect(s.intervalMs).toBe(5625);
  });
});
