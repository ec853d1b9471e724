import type { Info } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { vi } from 'vitest';
import { Heartbeat } from '../../../src/activities/heartbeat';

export interface LogLine {
  level: LogLevel;
  message: string;
  meta: LogMetadata | undefined;
}

/** Keeps the lines instead of printing them (the SDK logs every failed activity at WARN). */
export function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void => {
      lines.push({ level, message, meta });
    };
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

/**
 * The SDK's `MockActivityEnvironment`, with what the tests look at: every heartbeat's details, the
 * length of every `Context.sleep` (which returns at once, so backoffs cost no time, but still
 * rejects once the activity is cancelled, as the real one does) and the log lines.
 */
export function activityEnv(info: Partial<Info> = {}, interceptors: ActivityInterceptorsFactory[] = []) {
  const logs: LogLine[] = [];
  const env = new MockActivityEnvironment(info, { logger: recordingLogger(logs), interceptors });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const sleeps: number[] = [];
  const ctx = env.context;
  vi.spyOn(ctx, 'sleep').mockImplementation(async (ms) => {
    sleeps.push(Number(ms));
    if (ctx.cancellationSignal.aborted) await ctx.cancelled;
  });
  return {
    env,
    heartbeats,
    sleeps,
    logs,
    signal: ctx.cancellationSignal,
    /** Runs an activity body in the activity's context with a heartbeat of that context. */
    run: <T>(fn: (hb: Heartbeat) => Promise<T>): Promise<T> => env.run(() => fn(new Heartbeat(ctx))),
  };
}

/** The rejection of `p`, which must reject. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, got a result');
}
