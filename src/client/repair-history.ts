import type { PayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { RemoveBatchResponse } from '../activities/types';
import { restoreInstanceId, restoreKey, type RestoreRecord } from '../shared/restore';
import { followedPollOf, localActivityOf } from './history-local-activity';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;

/** What a scale-in chain drained and did not remove, read from its histories. */
export interface DrainedRecords {
  regionId: string;
  scalingGroupId: string;
  /** Original weights (and standby entries) of every instance drained and not removed: first read wins. */
  restore: RestoreRecord[];
  /** Removed, as the poll of its scaling activity reported (or gone before an attempt): never touched. */
  removed: Array<{ instanceId: string; why: string }>;
  /** Every instance a drain was issued for. */
  drainedInstanceIds: string[];
  /**
   * The activities of the last run that were scheduled and never reported back: a terminate does not
   * stop an attempt already running on a worker, which may still change weights after the run closed.
   */
  openAtClose: OpenActivity[];
  /** When the last run closed (its last event), in ms since the epoch; undefined for an empty history. */
  closedAtMs: number | undefined;
}

export interface OpenActivity {
  activityType: string;
  /** The heartbeat timeout it was scheduled with: an attempt learns that its run is gone on its next heartbeat. */
  heartbeatTimeoutMs: number | undefined;
}

interface Scheduled {
  type: string;
  input: unknown;
}

/** The facts of the chain, in history order. */
class ChainFacts {
  regionId = '';
  scalingGroupId = '';
  /** In the order they were recorded: the snapshot taken before a drain comes before anything the drain read. */
  records: RestoreRecord[] = [];
  drained = new Set<string>();
  removedBy = new Map<string, string>();
  /** Of the run read last: scheduled activities without a result, failure or timeout, by scheduled event ID. */
  open = new Map<string, OpenActivity>();
  closedAtMs: number | undefined;
}

/**
 * Reads the histories of a scale-in's continue-as-new chain, oldest run first: the weight
 * snapshots and drain inputs/results/failures give the original weights; RemoveInstances and poll
 * results say what ESS took. Pure: the caller fetches the histories and supplies the payload
 * converter its client uses.
 */
export function drainedFromHistories(histories: readonly History[], converter: PayloadConverter): DrainedRecords {
  const facts = new ChainFacts();
  for (const h of histories) readRun(h.events ?? [], converter, facts);
  const firstRead = new Map<string, RestoreRecord>();
  for (const r of facts.records) if (!firstRead.has(restoreKey(r))) firstRead.set(restoreKey(r), r);
  const restore = [...firstRead.values()].filter((r) => !facts.removedBy.has(restoreInstanceId(r)));
  const removed = [...facts.removedBy].map(([instanceId, why]) => ({ instanceId, why }));
  return {
    regionId: facts.regionId,
    scalingGroupId: facts.scalingGroupId,
    restore,
    removed,
    drainedInstanceIds: [...facts.drained],
    openAtClose: [...facts.open.values()],
    closedAtMs: facts.closedAtMs,
  };
}

function readRun(events: readonly Event[], converter: PayloadConverter, facts: ChainFacts): void {
  const scheduled = new Map<string, Scheduled>();
  facts.open.clear();
  facts.closedAtMs = msOf(events.at(-1)?.eventTime);
  const first = <T>(p: Payloads, i = 0): T | undefined => {
    const payload = p?.payloads?.[i];
    return payload ? converter.fromPayload<T>(payload) : undefined;
  };
  for (const e of events) {
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) readStart(first(started.input), first(started.input, 1), facts);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const input = first(s.input);
      scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '', input });
      facts.open.set(String(e.eventId), {
        activityType: s.activityType?.name ?? '',
        heartbeatTimeoutMs: msOf(s.heartbeatTimeout),
      });
      readScheduled(s.activityType?.name ?? '', input, facts);
    }
    const done = e.activityTaskCompletedEventAttributes;
    const of = (id: unknown) => scheduled.get(String(id));
    if (done) readCompleted(of(done.scheduledEventId), first(done.result), facts);
    const local = localActivityOf(e, converter);
    if (local) readCompleted({ type: local.type, input: undefined }, local.result, facts);
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) readDrainFailure(of(failed.scheduledEventId), failed.failure, first, facts);
    const timedOut = e.activityTaskTimedOutEventAttributes;
    if (timedOut) readDrainFailure(of(timedOut.scheduledEventId), timedOut.failure, first, facts);
    const closed = done ?? failed ?? timedOut ?? e.activityTaskCanceledEventAttributes;
    if (closed) facts.open.delete(String(closed.scheduledEventId));
  }
}

interface StartInput {
  regionId?: string;
  scalingGroupId?: string;
}
interface CarryShape {
  drained?: Array<{ restore?: RestoreRecord[] }>;
  removed?: Array<{ instanceIds?: string[]; scalingActivityId?: string }>;
}

function readStart(input: StartInput | undefined, carry: CarryShape | undefined, facts: ChainFacts): void {
  facts.regionId = input?.regionId ?? facts.regionId;
  facts.scalingGroupId = input?.scalingGroupId ?? facts.scalingGroupId;
  // A continued run starts from its predecessor's carry: the same facts, in case that history is gone.
  for (const d of carry?.drained ?? []) addRecords(facts, d.restore);
  for (const g of carry?.removed ?? [])
    for (const id of g.instanceIds ?? []) noteRemoved(facts, id, g.scalingActivityId);
}

interface DrainInput {
  strategy?: string;
  instanceIds?: string[];
  alreadyStandby?: string[];
  originals?: RestoreRecord[];
}

/** A drain's input already says what it will change: enough when the run ended before its result. */
function readScheduled(type: string, input: unknown, facts: ChainFacts): void {
  if (type !== 'drain') return;
  const d = (input ?? {}) as DrainInput;
  for (const id of d.instanceIds ?? []) facts.drained.add(id);
  addRecords(facts, d.originals);
  if (d.strategy === 'standby') {
    const already = new Set(d.alreadyStandby ?? []);
    for (const id of d.instanceIds ?? []) if (!already.has(id)) facts.records.push({ kind: 'standby', instanceId: id });
  }
}

interface RemoveResult {
  removals?: Array<{ scalingActivityId?: string; instanceIds?: string[] }>;
  gone?: Array<{ instanceId?: string; removedByEarlierAttempt?: boolean }>;
}
interface PollResult {
  scalingActivityId?: string;
  removedInstanceIds?: string[];
  failedInstances?: Array<{ instanceId?: string }>;
}

function readCompleted(s: Scheduled | undefined, result: unknown, facts: ChainFacts): void {
  if (!s) return;
  if (s.type === 'snapshotWeights' || s.type === 'drain')
    addRecords(facts, (result as { restore?: RestoreRecord[] } | undefined)?.restore);
  if (s.type === 'removeBatch') {
    // An accepted removal is not a removal yet: its scaling activity may still fail and roll the
    // instances back (Failed, a ROLLBACK hook). Only the poll's answer, or an instance already gone, says so;
    // until then its weights stay in the restore list, and the repair reads the group before touching it.
    const r = (result ?? {}) as RemoveResult;
    for (const g of r.gone ?? [])
      if (g.removedByEarlierAttempt && g.instanceId) noteRemoved(facts, g.instanceId, undefined);
    const followed = followedPollOf(result as Partial<RemoveBatchResponse> | undefined);
    if (followed) readCompleted({ type: 'pollScalingActivity', input: followed.input }, followed.result, facts);
  }
  if (s.type === 'pollScalingActivity') {
    const r = (result ?? {}) as PollResult;
    for (const id of r.removedInstanceIds ?? []) noteRemoved(facts, id, r.scalingActivityId);
    // Still in the group after its scaling activity ended: not removed, its traffic must come back.
    for (const f of r.failedInstances ?? []) if (f.instanceId) facts.removedBy.delete(f.instanceId);
  }
}

/** A drain that failed part-way (or timed out) carries what it changed in its details or last heartbeat. */
function readDrainFailure(
  s: Scheduled | undefined,
  failure: Failure,
  first: <T>(p: Payloads, i?: number) => T | undefined,
  facts: ChainFacts,
): void {
  if (s?.type !== 'drain') return;
  for (let f: Failure = failure; f; f = f.cause) {
    addRecords(facts, first<{ restore?: RestoreRecord[] }>(f.applicationFailureInfo?.details)?.restore);
    addRecords(facts, first<{ restore?: RestoreRecord[] }>(f.timeoutFailureInfo?.lastHeartbeatDetails)?.restore);
  }
}

function addRecords(facts: ChainFacts, records: RestoreRecord[] | undefined): void {
  if (Array.isArray(records)) facts.records.push(...records);
}

function noteRemoved(facts: ChainFacts, instanceId: string, scalingActivityId: string | undefined): void {
  facts.removedBy.set(
    instanceId,
    `removed by the run${scalingActivityId ? ` (scaling activity ${scalingActivityId})` : ''}: not touched`,
  );
}

/** A protobuf Timestamp or Duration in ms; `seconds` is a Long from the gRPC client, a number or string from JSON. */
function msOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!t) return undefined;
  const s = t.seconds;
  const seconds =
    typeof s === 'object' && s !== null && 'toNumber' in s ? (s as { toNumber(): number }).toNumber() : Number(s ?? 0);
  return seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}
