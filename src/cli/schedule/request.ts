import { readFileSync } from 'node:fs';
import type { CalendarSpec } from '@temporalio/client';
import type { ScaleInWindowInput } from '../../shared/window';
import { CliUsageError } from '../io';
import {
  isRecord,
  num,
  readInputObject,
  setGiven,
  setRunSettings,
  setScalingGroup,
  type ScaleInKnobFlags,
} from '../run-input';

/** Raw values of the `schedule create` flags. */
export interface WindowFlags extends ScaleInKnobFlags {
  input?: string;
  scheduleId?: string;
  windowMinutes?: string;
  windowSeconds?: string;
  count?: string;
  targetCapacity?: string;
  selection?: string;
  blackoutDates?: string[];
  timezone?: string;
  cron?: string[];
  calendar?: string[];
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  note?: string;
  paused?: boolean;
  validateOnly?: boolean;
}

export interface WindowRequest {
  window: ScaleInWindowInput;
  cron: string[];
  calendars: CalendarSpec[];
  timezone: string;
}

/**
 * Turns the flags into a window input and a schedule spec, without judging them: validation is
 * validateCreateWindow's job (one set of messages whatever way the input came in).
 */
export function buildWindowRequest(
  f: WindowFlags,
  deps: { stdin?: () => string; given?: (option: string) => boolean } = {},
): WindowRequest {
  const stdin = deps.stdin ?? (() => readFileSync(0, 'utf8'));
  const base = f.input === undefined ? {} : readInputObject(f.input, stdin, ' (the window input)');
  const out: Record<string, unknown> = { ...base };
  setScalingGroup(out, f);
  setWindowShape(out, f);
  const timezone = f.timezone ?? (typeof base.timezone === 'string' ? base.timezone : 'UTC');
  out.timezone = timezone;
  setRunSettings(out, base, f, deps.given ?? (() => true));
  const calendars = (f.calendar ?? []).map(parseCalendar);
  return { window: out as unknown as ScaleInWindowInput, cron: f.cron ?? [], calendars, timezone };
}

/** Length, size, selection and blackout dates: what makes a window more than one run. */
function setWindowShape(out: Record<string, unknown>, f: WindowFlags): void {
  // A length or size flag replaces the input file's own (they are either-or fields).
  replaceEitherOr(out, ['windowMinutes', num(f.windowMinutes)], ['windowSeconds', num(f.windowSeconds)]);
  replaceEitherOr(out, ['count', num(f.count)], ['targetCapacity', num(f.targetCapacity)]);
  setGiven(out, 'selection', f.selection);
  if (f.blackoutDates !== undefined)
    out.blackoutDates = f.blackoutDates.flatMap((v) => v.split(/[\s,]+/)).filter((s) => s !== '');
}

/** When either field of a pair is given as a flag, both of the input's are dropped first. */
function replaceEitherOr(out: Record<string, unknown>, ...pair: Array<[string, unknown]>): void {
  if (pair.some(([, v]) => v !== undefined)) for (const [k] of pair) delete out[k];
  for (const [k, v] of pair) setGiven(out, k, v);
}

function parseCalendar(text: string): CalendarSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`--calendar: not valid JSON (${(e as Error).message}): ${text}`);
  }
  if (!isRecord(parsed))
    throw new CliUsageError(`--calendar: expected a JSON object like {"dayOfWeek":"SATURDAY","hour":2}, got ${text}`);
  return parsed as CalendarSpec;
}
