import type { BatchState, ProgressSnapshot } from '../client';
import { hookWaitLine } from '../shared/progress';
import { phaseLabel } from './format';
import type { Io } from './io';

const WIDTH = 24;
const DONE_STATES: ReadonlySet<BatchState> = new Set(['succeeded', 'warning', 'failed', 'skipped']);

export function renderBar(done: number, total: number, width = WIDTH): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export function progressText(p: ProgressSnapshot): string {
  const total = p.counts.batchesTotal || p.plan?.batchCount || 0;
  const c = p.counts;
  const active = p.batches.find((b) => !DONE_STATES.has(b.state) && b.state !== 'pending');
  const doing = active?.hookWaits?.length ? hookWaitLine(active.hookWaits) : active?.state;
  const where = active ? ` (batch ${active.index} ${doing})` : '';
  return (
    `${renderBar(c.batchesDone, total)} ${c.batchesDone}/${total} batches | removed ${c.removed}/${c.total} | ` +
    `failed ${c.failed} | ${phaseLabel(p)}${where}`
  );
}

/**
 * On a terminal the bar redraws in place once a second; in a pipe (CI logs, tests) a line is
 * printed only when something other than the clock changed, so logs stay short.
 */
export class ProgressBar {
  private last = '';
  private drawn = false;
  private readonly t0 = Date.now();

  constructor(private readonly io: Io) {}

  update(p: ProgressSnapshot): void {
    this.show(progressText(p));
  }

  /** Something to say instead of progress (no worker yet, a query that timed out). */
  note(text: string): void {
    this.show(text);
  }

  private show(text: string): void {
    const elapsed = `${Math.round((Date.now() - this.t0) / 1000)}s`;
    if (this.io.interactive) {
      this.io.rewrite(`${text}  ${elapsed}`);
      this.drawn = true;
    } else if (text !== this.last) {
      this.io.err(`${text}  ${elapsed}`);
    }
    this.last = text;
  }

  /** Leaves the last state on screen and moves to a fresh line. */
  stop(): void {
    if (this.drawn) this.io.err('');
    this.drawn = false;
  }
}
