import { ApplicationFailure, log, setCurrentDetails, type WorkflowInfo } from '@temporalio/workflow';
import type { ScaleInResult } from '../../shared/progress';
import {
  SA_TEMPORAL_SCHEDULED_START_TIME,
  localDate,
  zonedIso,
  type NormalizedWindowInput,
  type ScaleInWindowResult,
  type WindowOutcome,
} from '../../shared/window';
import { renderWindowDetails } from './details';

/** A window run's result as it fills in, and the details the Temporal UI shows of it. */
export class WindowReport {
  readonly result: ScaleInWindowResult;
  /** The firing's nominal time: the window is counted from it. */
  readonly scheduledAt: Date;
  private stage = 'Starting';

  constructor(info: WorkflowInfo, input: NormalizedWindowInput) {
    const scheduled = scheduledTime(info);
    this.scheduledAt = scheduled.at;
    this.result = {
      workflowId: info.workflowId,
      outcome: 'completed',
      message: '',
      regionId: input.regionId,
      scalingGroupId: input.scalingGroupId,
      scheduledAt: scheduled.at.toISOString(),
      scheduledAtSource: scheduled.source,
      localDate: localDate(scheduled.at, input.timezone),
      timezone: input.timezone,
      scheduledAtLocal: zonedIso(scheduled.at, input.timezone),
      windowClosesAt: undefined,
      windowClosesAtLocal: undefined,
      selection: undefined,
      childWorkflowId: undefined,
      childRunId: undefined,
      childResult: undefined,
      childFailure: undefined,
      removed: [],
      remaining: [],
    };
  }

  publish(stage?: string): void {
    if (stage) this.stage = stage;
    setCurrentDetails(renderWindowDetails(this.result, this.stage));
  }

  finish(outcome: WindowOutcome, message: string): ScaleInWindowResult {
    this.result.outcome = outcome;
    this.result.message = message;
    this.publish(outcome);
    log.info('window ended', { outcome, message });
    return this.result;
  }

  /** Ends the window as failed: a schedule's pauseOnFailure then holds its next firings. */
  fail(type: string, message: string): never {
    this.finish('failed', message);
    throw ApplicationFailure.create({ type, nonRetryable: true, message, details: [this.result] });
  }

  /** Every pick stays in the group, for one reason. */
  leaveAll(picks: readonly string[], why: string): void {
    this.result.remaining = picks.map((id) => ({ instanceId: id, state: 'InService', why }));
  }

  /** Copies a run's per-instance report into the window's result. */
  takeRunReport(r: ScaleInResult): void {
    this.result.childResult = r;
    this.result.removed = r.removed.flatMap((g) => g.instanceIds);
    this.result.remaining = r.notRemoved.map((n) => ({ instanceId: n.instanceId, state: n.outcome, why: n.why }));
  }
}

/** The firing's nominal time: a schedule sets TemporalScheduledStartTime; a plain start has only its start time. */
export function scheduledTime(info: WorkflowInfo): { at: Date; source: ScaleInWindowResult['scheduledAtSource'] } {
  const typed = info.typedSearchAttributes.get(SA_TEMPORAL_SCHEDULED_START_TIME);
  if (typed instanceof Date && !Number.isNaN(typed.getTime()))
    return { at: typed, source: 'TemporalScheduledStartTime' };
  // A payload without type metadata lands only in the untyped map.
  const raw = (info.searchAttributes as Record<string, unknown[] | undefined> | undefined)
    ?.TemporalScheduledStartTime?.[0];
  if (raw instanceof Date || typeof raw === 'string') {
    const d = new Date(raw);
    if (!Number.isNaN(d.getTime())) return { at: d, source: 'TemporalScheduledStartTime' };
  }
  return { at: info.startTime, source: 'startTime' };
}
