import type { PayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type {
  DrainRequest,
  DrainResponse,
  PollRequest,
  PollResponse,
  RemoveBatchRequest,
  RemoveBatchResponse,
  UndrainRequest,
  UndrainResponse,
} from '../activities/types';
import type { ScaleInInput } from '../shared/input';
import { isScaleInResult, restorePlace, type DrainedPlace, type ScaleInResult } from '../shared/progress';
import { restoreInstanceId, restoreKey, type RestoreRecord } from '../shared/restore';
import { followedPollOf, localActivityOf } from './history-local-activity';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;

/** A failure as the history recorded it: the cloud error code (or ours) and its message. */
export interface AuditError {
  code: string;
  message: string;
}

/** One backend of one instance as its drain changed it: weight before → after (standby: InService → Standby). */
export interface DrainChange {
  place: string;
  before: number | string;
  after: number | string;
}

export interface InstanceAudit {
  instanceId: string;
  /** 1-based across continue-as-new; null when the run never reached the instance. */
  batch: number | null;
  drain: {
    strategy: string;
    drainedAt: string | null;
    changes: DrainChange[];
    requestIds: string[];
    error: AuditError | null;
  } | null;
  /** The RemoveInstances call (removeBatch activity) that covered the instance. */
  removal: {
    requestIds: string[];
    scalingActivityId: string | null;
    /** Found already Removing under an earlier attempt's scaling activity. */
    adopted: boolean;
    attempts: number | null;
    /** The failure of the attempt before the last (a retry's reason), when there was one. */
    lastRetryError: AuditError | null;
    error: AuditError | null;
  } | null;
  /** The scaling activity's end, as the last poll of it reported. */
  scalingActivity: {
    scalingActivityId: string;
    statusCode: string;
    statusMessage: string;
    endedAt: string | null;
    error: AuditError | null;
  } | null;
  /** Traffic given back after a stop (undrain). */
  restore: { restoredOn: string[]; drainedOn: DrainedPlace[]; requestIds: string[]; error: AuditError | null } | null;
  /** The shared vocabulary (INSTANCE_OUTCOMES); from the run's result when it has one, else from the history. */
  outcome: string;
  why: string;
  error: AuditError | null;
}

/** What a run's histories (its continue-as-new chain) say happened; `closed` is the last run's end. */
export interface HistoryAudit {
  regionId: string;
  scalingGroupId: string;
  instances: InstanceAudit[];
  /** How the chain's last run closed; undefined while it runs. */
  closed:
    { status: string; at: string | null; result: ScaleInResult | undefined; error: AuditError | undefined } | undefined;
}

const NOT_REACHED = 'not reached by the run';

interface Scheduled {
  type: string;
  input: unknown;
  attempt: number | null;
  lastFailure: AuditError | null;
}

/**
 * Reads a scale-in chain's histories, oldest run first: per instance its batch, drain (weights
 * before/after from snapshotWeights and the drains), RemoveInstances (RequestIds, scaling activity,
 * attempts), the scaling activity's end, any restore, and its outcome (the run's result when it
 * has one). Pure: the caller fetches the histories and supplies its payload converter.
 */
export function auditFromHistories(histories: readonly History[], converter: PayloadConverter): HistoryAudit {
  const a = new Auditor(converter);
  for (const h of histories) a.readRun(h.events ?? []);
  return a.finish();
}

class Auditor {
  regionId = '';
  scalingGroupId = '';
  private readonly order: string[] = [];
  private readonly byId = new Map<string, InstanceAudit>();
  /** Weights before any change, per backend: the first read wins (a read after a drain says 0). */
  private readonly originals = new Map<string, RestoreRecord>();
  private closed: HistoryAudit['closed'];

  constructor(private readonly converter: PayloadConverter) {}

  private first<T>(p: Payloads, i = 0): T | undefined {
    const payload = p?.payloads?.[i];
    return payload ? this.converter.fromPayload<T>(payload) : undefined;
  }

  private inst(id: string): InstanceAudit {
    let a = this.byId.get(id);
    if (!a) {
      a = {
        instanceId: id,
        batch: null,
        drain: null,
        removal: null,
        scalingActivity: null,
        restore: null,
        outcome: 'pending',
        why: NOT_REACHED,
        error: null,
      };
      this.byId.set(id, a);
      this.order.push(id);
    }
    return a;
  }

  readRun(events: readonly Event[]): void {
    const scheduled = new Map<string, Scheduled>();
    this.closed = undefined;
    for (const e of events) {
      const started = e.workflowExecutionStartedEventAttributes;
      if (started) this.readStart(this.first<ScaleInInput>(started.input));
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        const one: Scheduled = {
          type: s.activityType?.name ?? '',
          input: this.first(s.input),
          attempt: null,
          lastFailure: null,
        };
        scheduled.set(String(e.eventId), one);
        this.readScheduled(one.type, one.input);
      }
      const st = e.activityTaskStartedEventAttributes;
      const sch = st ? scheduled.get(String(st.scheduledEventId)) : undefined;
      if (st && sch) {
        sch.attempt = Number(st.attempt ?? 1);
        sch.lastFailure = st.lastFailure ? errorOf(st.lastFailure) : null;
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) this.readCompleted(scheduled.get(String(done.scheduledEventId)), this.first(done.result));
      const local = localActivityOf(e, this.converter);
      if (local)
        this.readCompleted({ type: local.type, input: undefined, attempt: null, lastFailure: null }, local.result);
      const failed = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (failed) this.readFailed(scheduled.get(String(failed.scheduledEventId)), failed.failure);
      this.readClose(e);
    }
  }

  private readStart(input: ScaleInInput | undefined): void {
    this.regionId = input?.regionId ?? this.regionId;
    this.scalingGroupId = input?.scalingGroupId ?? this.scalingGroupId;
    for (const id of Array.isArray(input?.instanceIds) ? input.instanceIds : []) this.inst(String(id));
  }

  private readScheduled(type: string, input: unknown): void {
    if (type === 'drain') {
      const d = (input ?? {}) as Partial<DrainRequest>;
      for (const r of d.originals ?? []) this.noteOriginal(r);
      for (const id of d.instanceIds ?? []) {
        const a = this.inst(id);
        a.batch = d.batchIndex ?? a.batch;
        a.drain = { strategy: d.strategy ?? '?', drainedAt: null, changes: [], requestIds: [], error: null };
      }
    }
    if (type === 'removeBatch') {
      const r = (input ?? {}) as Partial<RemoveBatchRequest>;
      const batch = Number(/\/(\d+)$/.exec(r.idempotencyKey ?? '')?.[1] ?? NaN);
      for (const id of r.instanceIds ?? []) {
        const a = this.inst(id);
        if (Number.isInteger(batch)) a.batch = batch;
        a.removal = {
          requestIds: [],
          scalingActivityId: null,
          adopted: false,
          attempts: null,
          lastRetryError: null,
          error: null,
        };
      }
    }
  }

  private noteOriginal(r: RestoreRecord): void {
    if (!this.originals.has(restoreKey(r))) this.originals.set(restoreKey(r), r);
  }

  private readCompleted(s: Scheduled | undefined, result: unknown): void {
    if (!s) return;
    if (s.type === 'snapshotWeights') for (const r of restoreOf(result)) this.noteOriginal(r);
    if (s.type === 'drain') this.readDrained(s, (result ?? {}) as Partial<DrainResponse>);
    if (s.type === 'removeBatch') this.readRemoved(s, (result ?? {}) as Partial<RemoveBatchResponse>);
    const followed = s.type === 'removeBatch' ? followedPollOf(result as Partial<RemoveBatchResponse>) : undefined;
    if (followed) {
      const poll: Scheduled = { type: 'pollScalingActivity', input: followed.input, attempt: null, lastFailure: null };
      this.readPolled(followed.result as Partial<PollResponse>, null, poll);
    }
    if (s.type === 'pollScalingActivity') this.readPolled((result ?? {}) as Partial<PollResponse>, null, s);
    if (s.type === 'undrain') this.readUndrained(s, (result ?? {}) as Partial<UndrainResponse>, null);
  }

  private readDrained(s: Scheduled, r: Partial<DrainResponse>): void {
    for (const rec of r.restore ?? []) this.noteOriginal(rec);
    for (const id of (s.input as Partial<DrainRequest> | undefined)?.instanceIds ?? []) {
      const d = this.inst(id).drain;
      if (!d) continue;
      d.drainedAt = r.drainedAt ?? null;
      d.requestIds = [...(r.requestIds ?? [])];
    }
  }

  private readRemoved(s: Scheduled, r: Partial<RemoveBatchResponse>): void {
    const all = [...(r.requestIds ?? [])];
    for (const id of (s.input as Partial<RemoveBatchRequest> | undefined)?.instanceIds ?? []) {
      const m = this.inst(id).removal;
      if (!m) continue;
      m.attempts = s.attempt ?? r.attempt ?? null;
      m.lastRetryError = s.lastFailure;
      m.requestIds = all;
    }
    for (const acc of r.removals ?? [])
      for (const id of acc.instanceIds) {
        const m = this.inst(id).removal;
        if (!m) continue;
        m.scalingActivityId = acc.scalingActivityId;
        m.adopted = acc.adopted;
        m.requestIds = unique([...(acc.requestId ? [acc.requestId] : []), ...all]);
      }
    for (const g of r.gone ?? []) {
      const a = this.inst(g.instanceId);
      [a.outcome, a.why] = g.removedByEarlierAttempt ? ['removed', g.why] : ['skipped', g.why];
    }
  }

  private readPolled(r: Partial<PollResponse>, error: AuditError | null, s: Scheduled): void {
    const req = (s.input ?? {}) as Partial<PollRequest>;
    const activityId = r.scalingActivityId ?? req.scalingActivityId ?? '?';
    const removed = new Set(r.removedInstanceIds ?? []);
    const failed = new Map((r.failedInstances ?? []).map((f) => [f.instanceId, f.why]));
    for (const id of req.instanceIds ?? []) {
      const a = this.inst(id);
      const statusCode = r.statusCode ?? (error ? 'unknown (poll failed)' : '?');
      a.scalingActivity = {
        scalingActivityId: activityId,
        statusCode,
        statusMessage: r.statusMessage ?? '',
        endedAt: r.endedAt ?? null,
        error,
      };
      if (removed.has(id))
        [a.outcome, a.why] = ['removed', `removed by scaling activity ${activityId} (${statusCode})`];
      const why = failed.get(id);
      if (why !== undefined) [a.outcome, a.why, a.error] = ['failed', why, { code: statusCode, message: why }];
      if (error) [a.why, a.error] = [`following scaling activity ${activityId} failed: ${error.message}`, error];
    }
  }

  private readUndrained(s: Scheduled, r: Partial<UndrainResponse>, error: AuditError | null): void {
    const records = (s.input as Partial<UndrainRequest> | undefined)?.restore ?? [];
    const restored = new Set(r.restoredInstanceIds ?? []);
    const left = new Map((r.notRestored ?? []).map((n) => [n.instanceId, n]));
    for (const id of unique(records.map(restoreInstanceId))) {
      const a = this.inst(id);
      const n = left.get(id);
      const places = records.filter((x) => restoreInstanceId(x) === id).map(restorePlace);
      a.restore = {
        restoredOn: n ? n.restoredOn : restored.has(id) ? places : [],
        drainedOn: n?.drainedOn ?? [],
        requestIds: [...(r.requestIds ?? [])],
        error,
      };
      if (restored.has(id)) [a.outcome, a.why] = ['restored', 'drained, not removed: its traffic was given back'];
      if (n || error) [a.outcome, a.why] = ['drained-not-restored', error?.message ?? 'some traffic not given back'];
    }
  }

  private readFailed(s: Scheduled | undefined, failure: Failure): void {
    if (!s) return;
    const error = errorOf(failure);
    const ids = (s.input as { instanceIds?: string[] } | undefined)?.instanceIds ?? [];
    if (s.type === 'drain')
      for (const id of ids) {
        const d = this.inst(id).drain;
        if (d) d.error = error;
        for (let f: Failure = failure; f; f = f.cause) {
          for (const r of restoreOf(this.first(f.applicationFailureInfo?.details))) this.noteOriginal(r);
          for (const r of restoreOf(this.first(f.timeoutFailureInfo?.lastHeartbeatDetails))) this.noteOriginal(r);
        }
      }
    if (s.type === 'removeBatch')
      for (const id of ids) {
        const a = this.inst(id);
        if (a.removal)
          [a.removal.error, a.removal.attempts, a.removal.lastRetryError] = [error, s.attempt, s.lastFailure];
        [a.outcome, a.why, a.error] = ['failed', `RemoveInstances failed: ${error.code}: ${error.message}`, error];
      }
    if (s.type === 'pollScalingActivity') this.readPolled({}, error, s);
    if (s.type === 'undrain') this.readUndrained(s, {}, error);
  }

  private readClose(e: Event): void {
    const at = isoOf(e.eventTime);
    const done = e.workflowExecutionCompletedEventAttributes;
    if (done) {
      const r = this.first(done.result);
      this.closed = { status: 'COMPLETED', at, result: isScaleInResult(r) ? r : undefined, error: undefined };
    }
    const failed = e.workflowExecutionFailedEventAttributes;
    if (failed) {
      const r = this.first(failed.failure?.applicationFailureInfo?.details);
      const result = isScaleInResult(r) ? r : undefined;
      this.closed = { status: 'FAILED', at, result, error: errorOf(failed.failure) };
    }
    if (e.workflowExecutionCanceledEventAttributes)
      this.closed = { status: 'CANCELLED', at, result: undefined, error: { code: 'CancelledFailure', message: '' } };
    const terminated = e.workflowExecutionTerminatedEventAttributes;
    if (terminated) {
      const message = `terminated${terminated.reason ? `: ${terminated.reason}` : ''}`;
      this.closed = { status: 'TERMINATED', at, result: undefined, error: { code: 'TerminatedFailure', message } };
    }
    if (e.workflowExecutionTimedOutEventAttributes)
      this.closed = { status: 'TIMED_OUT', at, result: undefined, error: { code: 'TimeoutFailure', message: '' } };
  }

  finish(): HistoryAudit {
    const result = this.closed?.result;
    if (result) this.applyResult(result);
    const open = !this.closed;
    for (const a of this.byId.values()) {
      if (a.drain && a.drain.strategy !== 'none') a.drain.changes = this.changesOf(a.instanceId, a.drain.strategy);
      if (!result && a.outcome === 'pending' && a.why === NOT_REACHED)
        a.why = open ? 'not reached yet (the run is in progress)' : 'the run ended before it reached this instance';
    }
    const instances = this.order.map((id) => this.byId.get(id)).filter((a): a is InstanceAudit => !!a);
    return { regionId: this.regionId, scalingGroupId: this.scalingGroupId, instances, closed: this.closed };
  }

  /** The run's own account wins: it is what the workflow decided, with why. */
  private applyResult(result: ScaleInResult): void {
    for (const g of result.removed)
      for (const id of g.instanceIds) {
        const a = this.inst(id);
        [a.outcome, a.why, a.batch, a.error] = ['removed', g.why, g.batch, null];
      }
    for (const n of result.notRemoved) {
      const a = this.inst(n.instanceId);
      [a.outcome, a.why, a.batch] = [n.outcome, n.why, n.batch ?? a.batch];
      if (n.outcome === 'failed' && !a.error)
        a.error = { code: a.scalingActivity?.statusCode ?? 'Failed', message: n.why };
    }
  }

  private changesOf(instanceId: string, strategy: string): DrainChange[] {
    const mine = [...this.originals.values()].filter((r) => restoreInstanceId(r) === instanceId);
    if (strategy === 'standby') return [{ place: 'standby', before: 'InService', after: 'Standby' }];
    return mine
      .filter((r) => r.kind !== 'standby')
      .map((r) => ({ place: restorePlace(r), before: 'weight' in r ? r.weight : '?', after: 0 }));
  }
}

function restoreOf(v: unknown): RestoreRecord[] {
  const r = (v as { restore?: unknown } | undefined)?.restore;
  return Array.isArray(r) ? (r as RestoreRecord[]) : [];
}

function errorOf(f: Failure): AuditError {
  return {
    code: f?.applicationFailureInfo?.type || (f?.timeoutFailureInfo ? 'Timeout' : 'Failure'),
    message: f?.message ?? '',
  };
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** A protobuf Timestamp as ISO; `seconds` is a Long from the gRPC client. */
function isoOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!t) return null;
  const s = t.seconds;
  const seconds =
    typeof s === 'object' && s !== null && 'toNumber' in s ? (s as { toNumber(): number }).toNumber() : Number(s ?? 0);
  return new Date(seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}
