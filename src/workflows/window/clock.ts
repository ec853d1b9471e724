import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';

export type WindowEnd = 'closed' | 'timer-cancelled';

/** The timer of a window's end, in its own scope so a finished run can cancel it. */
export class WindowClock {
  closed = false;
  readonly end: Promise<WindowEnd>;
  private readonly scope = new CancellationScope();

  constructor(leftMs: number, closesAt: string) {
    this.end = this.scope
      .run(() => sleep(leftMs, { summary: `Window closes at ${closesAt}` }))
      .then(
        () => {
          this.closed = true;
          return 'closed' as const;
        },
        (e: unknown) => {
          if (isCancellation(e)) return 'timer-cancelled' as const;
          throw e;
        },
      );
  }

  cancel(): void {
    this.scope.cancel();
  }
}
