/**
 * Predictive polling. Batches of one run remove similar instances, so their scaling activities
 * take similar, not identical, times. Each poll reports where it saw its activity end; the workflow
 * keeps the last few and hands the next poll a window in which the end is expected, so the poll
 * sleeps until the window and looks densely only inside it. Pure: the workflow and the activity
 * both use it.
 */

/**
 * Where one activity's end fell, in ms since its poll's first look: after the last answer that
 * still said InProgress (`afterMs`) and by the first that said it ended (`byMs`). `estimateMs` is
 * the poll's best guess inside that bracket (Progress projected, else the middle).
 */
export interface ObservedEnd {
  afterMs: number;
  byMs: number;
  estimateMs: number;
}

/** The window, in ms since the poll's start, in which the next activity is expected to end. */
export interface EndForecast {
  earliestMs: number;
  latestMs: number;
  /** The median of the recent estimates: where a short activity's one look aims (absent in older inputs). */
  expectedMs?: number;
}

/** How many recent ends a forecast reads by default (advanced.pollForecastSamples): old batches say less. */
export const FORECAST_SAMPLES = 5;
/** The most a run keeps (the input's limit for pollForecastSamples). */
export const MAX_FORECAST_SAMPLES = 20;

/** One sample says nothing of the spread: assume this much either side of it. */
const SINGLE_SAMPLE_SPREAD = 0.2;
/** However alike the samples, keep this much room either side (clock and latency jitter). */
const MIN_MARGIN = 0.05;

/** The window the last `samples` ends predict; undefined with no sample yet, or with `samples` 0 (off). */
export function forecastEnd(observed: readonly ObservedEnd[], samples = FORECAST_SAMPLES): EndForecast | undefined {
  if (samples <= 0) return undefined;
  const recent = observed.slice(-samples).map((o) => o.estimateMs);
  if (!recent.length) return undefined;
  recent.sort((a, b) => a - b);
  const min = recent[0] as number;
  const max = recent[recent.length - 1] as number;
  const median = recent[Math.floor(recent.length / 2)] as number;
  const margin = median * (recent.length === 1 ? SINGLE_SAMPLE_SPREAD : MIN_MARGIN);
  return {
    earliestMs: Math.max(0, Math.round(min - margin)),
    latestMs: Math.round(max + margin),
    expectedMs: Math.round(median),
  };
}

/** Keeps the last MAX_FORECAST_SAMPLES ends; returns a new array (workflow state stays easy to reason about). */
export function rememberEnd(observed: readonly ObservedEnd[], end: ObservedEnd): ObservedEnd[] {
  return [...observed, end].slice(-MAX_FORECAST_SAMPLES);
}

/** How much earlier than the look that found it ended an end never seen running is assumed. */
export const NOT_SEEN_RUNNING_STEP = 0.1;

/** An InProgress answer: when (ms since the poll's start) and its Progress. */
export interface RunningLook {
  atMs: number;
  progress: number;
}

/**
 * The estimate inside the bracket (last InProgress look, first final look]: Progress projected
 * linearly, from the rate between the first and the last InProgress looks when Progress moved
 * between them, else from the poll's start; kept inside the bracket; the bracket's middle when
 * Progress said nothing. Never seen running (`last` undefined): the end came before the first look,
 * which the forecast placed late. The look itself would be a fixed point (the next first look, in
 * the middle of a window of such looks, falls at the same time, and is late by the same amount
 * every batch), so the estimate is a step earlier than the look, and the next windows move earlier
 * until a look sees the activity running and Progress says where it ends.
 */
export function estimateEnd(first: RunningLook | undefined, last: RunningLook | undefined, byMs: number): number {
  if (!last) return Math.round(byMs * (1 - NOT_SEEN_RUNNING_STEP));
  let projected: number | undefined;
  if (first && last.progress > first.progress && last.atMs > first.atMs)
    projected = last.atMs + ((100 - last.progress) * (last.atMs - first.atMs)) / (last.progress - first.progress);
  else if (last.progress > 0 && last.atMs > 0) projected = (last.atMs * 100) / last.progress;
  const raw = projected ?? (last.atMs + byMs) / 2;
  return Math.round(Math.min(byMs, Math.max(last.atMs, raw)));
}
