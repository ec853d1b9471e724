/**
 * The emulator's time. Time-driven work (activity phases, ALB jobs) is kept as due times by the
 * stores that own it; `advance()` runs everything that is due, in due-time order. It runs before
 * every request and from one unref'd timer, so a Describe right after a due time always sees the
 * finished state even if the timer is late.
 */

/** One piece of due work: `run` gets the due time, not the (later) time it actually runs. */
export interface DueEvent {
  due: number;
  run: (at: number) => void;
}

/** A store with time-driven work: reports its earliest pending event. */
export interface EventSource {
  nextEvent(): DueEvent | undefined;
}

export class Scheduler {
  private readonly sources: EventSource[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private disposed = false;

  constructor(
    readonly timeScale: number,
    private readonly clock: () => number,
  ) {}

  now(): number {
    return this.clock();
  }

  /** Durations from the scenario, multiplied by timeScale. */
  scaled(ms: number): number {
    return Math.max(0, Math.round(ms * this.timeScale));
  }

  /** Sources are asked in this order; on equal due times the earlier source runs first. */
  addSource(source: EventSource): void {
    this.sources.push(source);
  }

  /** Runs everything due by `now`, in due-time order, then re-arms the timer. */
  advance(now = this.now()): void {
    for (;;) {
      const ev = this.nextEvent();
      if (!ev || ev.due > now) break;
      ev.run(ev.due);
    }
    this.schedule();
  }

  /** Arms the timer for the earliest due event; stores call it after adding work. */
  schedule(): void {
    if (this.disposed) return;
    const ev = this.nextEvent();
    if (!ev) {
      this.stop();
      return;
    }
    if (this.timer && this.timerDue <= ev.due) return;
    this.stop();
    this.timerDue = ev.due;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, ev.due - this.now()));
    this.timer.unref();
  }

  /** Drops the pending timer (the work it was for is gone, e.g. on a scenario load). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** Stops the timer for good (on close). */
  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    this.advance();
  }

  private nextEvent(): DueEvent | undefined {
    let best: DueEvent | undefined;
    for (const source of this.sources) {
      const ev = source.nextEvent();
      if (ev && (!best || ev.due < best.due)) best = ev;
    }
    return best;
  }
}
