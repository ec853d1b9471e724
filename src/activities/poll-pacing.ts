import type { EndForecast } from '../shared/poll-forecast';

/**
 * When to look at a scaling activity again: half the estimated time left, between the bounds, so
 * the polls come at the minimum interval close to the end; while `Progress` does not move, half
 * as long again each time. The rate comes from this attempt's own first observation, so a poll
 * resumed half-way through a long activity (after a worker crash) or adopting a running one
 * paces itself like a fresh one, instead of taking the Progress made before it began as its own.
 */
export interface PollPacing {
  minIntervalMs: number;
  maxIntervalMs: number;
}

export interface PaceState {
  /** This attempt's first observation. */
  first: { progress: number; atMs: number } | undefined;
  intervalMs: number;
  /** What Progress says is left, when it says anything. */
  remainingMs?: number;
}

export function initialPace(p: PollPacing): PaceState {
  return { first: undefined, intervalMs: p.minIntervalMs };
}

/**
 * The next wait after observing `progress` (0–99) at `atMs`. `freshSinceMs`: when this poll began,
 * if it began with the activity (not a retry): its first observation then already has a rate.
 */
export function nextPace(
  p: PollPacing,
  s: PaceState,
  progress: number,
  atMs: number,
  freshSinceMs?: number,
): PaceState {
  const first = s.first ?? { progress, atMs };
  const moved = progress - first.progress;
  let estimateMs: number | undefined;
  if (moved > 0 && atMs > first.atMs) estimateMs = ((100 - progress) * (atMs - first.atMs)) / moved;
  else if (!s.first && freshSinceMs !== undefined && progress > 0 && atMs > freshSinceMs)
    estimateMs = ((100 - progress) * (atMs - freshSinceMs)) / progress;
  const intervalMs = estimateMs !== undefined ? clamp(estimateMs / 2, p) : clamp(s.intervalMs * 1.5, p);
  return { first, intervalMs, ...(estimateMs !== undefined ? { remainingMs: estimateMs } : {}) };
}

/** No two looks inside a forecast window closer than this. */
export const DENSE_FLOOR_MS = 100;
/** At most this many looks inside a forecast window; then the Progress pacing above takes over. */
export const MAX_DENSE_LOOKS = 8;
const LOOK_AFTER_MS = 20;

/** How far past the expected end (a fraction of it) a short activity's first look falls. */
export const FIRST_LOOK_AFTER_EXPECTED = 0.05;

/**
 * Pacing with a window where the workflow expects the end (src/shared/poll-forecast.ts). One look
 * half-way to a distant window (a short activity gets none: it would cost more than it saves): its
 * Progress says whether this activity runs early, and if so the next look goes where Progress puts
 * the end instead of waiting for the window. Inside the window: look when Progress says the
 * activity ends, never more than a third of the window (nor the minimum interval) apart, at most
 * MAX_DENSE_LOOKS times; past the window, the usual pace.
 */
export class ForecastWindow {
  private looks = 0;

  constructor(
    private readonly window: EndForecast,
    private readonly minIntervalMs: number,
  ) {}

  /**
   * The first look: half-way to the window when that is a minimum interval away or more. Else (a
   * short activity, where one look more costs more than it saves) a little after the median of the
   * recent ends, which finds the activity ended most of the time, and otherwise knows from Progress
   * when it ends. Looking in the window's middle found it running half the time (1.6 looks per
   * activity); the median's side lets an estimate taken a step before a late look pull the next look
   * earlier once most recent looks were late (poll-forecast.ts, estimateEnd).
   */
  get firstLookMs(): number {
    const halfway = Math.round(this.window.earliestMs / 2);
    if (halfway >= this.minIntervalMs) return halfway;
    const { expectedMs, earliestMs, latestMs } = this.window;
    if (expectedMs === undefined) return Math.round((earliestMs + latestMs) / 2);
    return Math.round(expectedMs * (1 + FIRST_LOOK_AFTER_EXPECTED));
  }

  /** The wait after a look `sinceStartMs` into the poll, given the usual pace. */
  next(sinceStartMs: number, pace: PaceState): number {
    if (this.looks >= MAX_DENSE_LOOKS || sinceStartMs > this.window.latestMs) return pace.intervalMs;
    this.looks++;
    if (sinceStartMs < this.window.earliestMs) {
      const untilWindow = this.window.earliestMs - sinceStartMs;
      const untilEnd = pace.remainingMs !== undefined ? pace.remainingMs + LOOK_AFTER_MS : untilWindow;
      return Math.round(Math.max(DENSE_FLOOR_MS, Math.min(untilWindow, untilEnd)));
    }
    const width = this.window.latestMs - this.window.earliestMs;
    const step = Math.max(DENSE_FLOOR_MS, Math.min(this.minIntervalMs, width / 3));
    // Just after the end Progress predicts: a look a moment early costs one more look.
    const wanted = pace.remainingMs !== undefined ? pace.remainingMs + LOOK_AFTER_MS : step;
    return Math.round(Math.max(DENSE_FLOOR_MS, Math.min(step, wanted)));
  }
}

function clamp(v: number, p: PollPacing): number {
  return Math.round(Math.min(p.maxIntervalMs, Math.max(p.minIntervalMs, v)));
}
