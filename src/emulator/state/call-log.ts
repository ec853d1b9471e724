/** The log of API calls (admin routes are not logged), bounded to the most recent entries. */
import type { CallLogEntry, CallLogFilter } from '../types';

export const CALL_LOG_LIMIT = 50_000;

export class CallLog {
  private entries: CallLogEntry[] = [];
  private seq = 0;

  /** 1, 2, 3... in arrival order; a cleared log keeps counting, a scenario load starts over. */
  nextSeq(): number {
    return ++this.seq;
  }

  append(entry: CallLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > CALL_LOG_LIMIT) this.entries.splice(0, this.entries.length - CALL_LOG_LIMIT);
  }

  list(filter: CallLogFilter = {}): CallLogEntry[] {
    return this.entries.filter(
      (c) =>
        (filter.action === undefined || c.action === filter.action) &&
        (filter.outcome === undefined || c.outcome === filter.outcome) &&
        (filter.sinceSeq === undefined || c.seq > filter.sinceSeq),
    );
  }

  clear(): void {
    this.entries = [];
  }

  /** Empty, and numbering starts at 1 again. */
  reset(): void {
    this.entries = [];
    this.seq = 0;
  }
}
