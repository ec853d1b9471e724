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
  return { first, intervalMs };
}

function clamp(v: number, p: PollPacing): number {
  return Math.round(Math.min(p.maxIntervalMs, Math.max(p.minIntervalMs, v)));
}
