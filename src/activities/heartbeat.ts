import { Context } from '@temporalio/activity';

/**
 * An activity's heartbeat: the latest checkpoint, re-sent every third of the heartbeat timeout
 * while the activity waits on a slow call. Temporal learns that a worker died only when heartbeats
 * stop, so every activity carries a short heartbeat timeout; without the keep-alive, one slow API
 * call would be mistaken for a dead worker. Re-sending the *latest* details matters: a heartbeat
 * replaces the checkpoint a retry resumes from.
 */
export class Heartbeat {
  private details: unknown;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: Context = Context.current()) {
    // A retry starts from the earlier attempt's checkpoint and must keep it until it has a newer one.
    this.details = ctx.info.heartbeatDetails;
  }

  /** Records a new checkpoint (or, without one, just says "alive"). */
  beat(details?: unknown): void {
    if (details !== undefined) this.details = details;
    this.ctx.heartbeat(this.details);
  }

  /** The checkpoint this attempt last recorded (or resumed from). */
  get latest(): unknown {
    return this.details;
  }

  /** The checkpoint of the earlier attempt, if this is a retry. */
  get resumedFrom(): unknown {
    return this.ctx.info.heartbeatDetails;
  }

  start(): this {
    const timeoutMs = this.ctx.info.heartbeatTimeoutMs;
    if (timeoutMs && !this.timer) {
      this.timer = setInterval(() => this.ctx.heartbeat(this.details), Math.max(100, Math.floor(timeoutMs / 3)));
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Runs `fn` with a keep-alive heartbeat that stops when it settles. */
export async function withHeartbeat<T>(fn: (hb: Heartbeat) => Promise<T>): Promise<T> {
  const hb = new Heartbeat().start();
  try {
    return await fn(hb);
  } finally {
    hb.stop();
  }
}
