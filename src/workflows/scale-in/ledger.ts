import type { AcceptedRemoval, NotRestored, PollResponse, RemoveBatchResponse } from '../../activities';
import { chunk, type NormalizedInput } from '../../shared/input';
import type {
  BatchProgress,
  Counts,
  InstanceReport,
  Outcome,
  Plan,
  RemovedGroup,
  ScaleInResult,
} from '../../shared/progress';
import { restoreInstanceId, type RestoreRecord } from '../../shared/restore';
import type { ScaleInCarry } from './carry';

/** How many finished batches a continue-as-new carries for the progress view. */
const RECENT_BATCHES_KEPT = 50;
/** How many known scaling activities a retried removeBatch is told about. */
const KNOWN_ACTIVITIES_PASSED = 20;

/** One batch of this run: its progress (shown to users) and the bookkeeping behind it. */
export interface Batch {
  progress: BatchProgress;
  ids: string[];
  /** The original weights (or standby state) of what its drain changed. */
  restore: RestoreRecord[];
  drainIssued: boolean;
  drainDone: boolean;
  /** Set by the endDrain update. */
  drainEndedEarly: boolean;
  /** Resolves when drained and the drain wait is over. */
  ready: Promise<void> | undefined;
  /** Instance IDs accepted by RemoveInstances: never restored, never sent again. */
  sentToRemoval: Set<string>;
  done: boolean;
  /** Bumped when `pause --restore` takes back a drain issued before: that drain (and its wait) is void. */
  drainGen: number;
  /** Given its traffic back by `pause --restore` (not drained since): by whom, and where it came back. */
  givenBack?: { by: string | undefined; restoredOn: Map<string, string[]> } | undefined;
  /** The weights before this run's first drain of the batch: a drain after a give-back keeps them. */
  originals?: RestoreRecord[] | undefined;
}

/**
 * Everything a run knows about its instances: removed, not removed (and why), the batches, and
 * what a continue-as-new hands over. Plain data and rules, no Temporal calls, so it is unit-tested.
 */
export class Ledger {
  readonly runKey: string;
  readonly batchOffset: number;
  readonly totalInstances: number;
  readonly continuedAsNew: number;
  plan: Plan | undefined;
  readonly removed: RemovedGroup[];
  readonly notRemoved: Map<string, InstanceReport>;
  readonly batches: Batch[];
  lastError: string | undefined;
  /** The cloud error code (or ScalingActivity<Status>) behind the last batch failure: the run's failure type. */
  lastErrorCode: string | undefined;
  private readonly recentBatches: BatchProgress[];
  private readonly carriedDrained = new Map<string, { restore: RestoreRecord[]; drainedAt: string }>();

  constructor(input: NormalizedInput, runId: string, carry?: ScaleInCarry) {
    this.runKey = carry?.runKey ?? runId;
    this.batchOffset = carry?.batchOffset ?? 0;
    this.totalInstances = carry?.totalInstances ?? input.instanceIds.length;
    this.continuedAsNew = carry?.continuedAsNew ?? 0;
    this.plan = carry?.plan;
    this.removed = [...(carry?.removed ?? [])];
    this.notRemoved = new Map((carry?.notRemoved ?? []).map((r) => [r.instanceId, r]));
    this.recentBatches = [...(carry?.recentBatches ?? [])];
    for (const d of carry?.drained ?? []) {
      for (const id of d.instanceIds) {
        this.carriedDrained.set(id, {
          restore: d.restore.filter((r) => restoreInstanceId(r) === id),
          drainedAt: d.drainedAt,
        });
      }
    }
    this.batches = chunk(input.instanceIds, input.batchSize).map((ids, i) => newBatch(this.batchOffset + i + 1, ids));
  }

  get batchesTotal(): number {
    return this.batchOffset + this.batches.length;
  }

  get batchesDone(): number {
    return this.batchOffset + this.batches.filter((b) => b.done).length;
  }

  counts(): Counts {
    const c = { total: this.totalInstances, removed: 0, failed: 0, skipped: 0, restored: 0, drainedNotRestored: 0 };
    for (const g of this.removed) c.removed += g.instanceIds.length;
    for (const r of this.notRemoved.values()) {
      if (r.outcome === 'failed') c.failed++;
      else if (r.outcome === 'skipped') c.skipped++;
      else if (r.outcome === 'restored') c.restored++;
      else if (r.outcome === 'drained-not-restored') c.drainedNotRestored++;
    }
    const pending = c.total - c.removed - c.failed - c.skipped - c.restored - c.drainedNotRestored;
    return { ...c, pending };
  }

  /** Finished batches of earlier runs (the newest kept), then this run's. */
  allBatches(): BatchProgress[] {
    return [...this.recentBatches, ...this.batches.map((b) => b.progress)];
  }

  result(workflowId: string, outcome: Outcome, message: string): ScaleInResult {
    return {
      workflowId,
      outcome,
      message,
      plan: this.plan,
      counts: this.counts(),
      removed: this.removed,
      notRemoved: [...this.notRemoved.values()],
      batches: this.allBatches(),
    };
  }

  /**
   * The newest scaling activities this run accounts for: a retried removeBatch must not take one for its
   * own lost call.
   */
  knownActivityIds(): string[] {
    const ids = [
      ...this.removed.map((g) => g.scalingActivityId),
      ...[...this.notRemoved.values()].map((r) => r.scalingActivityId),
    ];
    const real = ids.filter((id): id is string => typeof id === 'string' && id.startsWith('asa-'));
    return [...new Set(real)].slice(-KNOWN_ACTIVITIES_PASSED);
  }

  /** Drained (and waited for) by the previous run when every instance of the batch was. */
  takeCarriedDrain(batch: Batch): boolean {
    if (!batch.ids.every((id) => this.carriedDrained.has(id))) return false;
    batch.restore = batch.ids.flatMap((id) => this.carriedDrained.get(id)?.restore ?? []);
    batch.progress.drainedAt = this.carriedDrained.get(batch.ids[0] ?? '')?.drainedAt;
    batch.progress.state = 'drained';
    // Taken once: after a `pause --restore` the batch is drained again for real.
    for (const id of batch.ids) this.carriedDrained.delete(id);
    return true;
  }

  skip(ids: readonly string[], why: string): void {
    for (const id of ids) this.notRemoved.set(id, { instanceId: id, outcome: 'skipped', why });
  }

  isRemoved(id: string): boolean {
    return this.removed.some((g) => g.instanceIds.includes(id));
  }

  isFailed(id: string): boolean {
    return this.notRemoved.get(id)?.outcome === 'failed';
  }

  recordRemoveFailed(batch: Batch, label: string, why: string, code: string | undefined): void {
    const p = batch.progress;
    p.errors.push(why);
    p.state = 'failed';
    this.lastError = `${label}: ${why}`;
    this.lastErrorCode = code;
    for (const id of batch.ids) {
      this.notRemoved.set(id, {
        instanceId: id,
        outcome: 'failed',
        why: `RemoveInstances failed: ${why}`,
        batch: p.index,
      });
    }
  }

  recordRemovalAccepted(batch: Batch, removal: RemoveBatchResponse): void {
    const p = batch.progress;
    p.attempts = removal.attempt;
    p.removeStartedAt = removal.startedAt;
    p.requestIds.push(...removal.requestIds);
    for (const g of removal.gone) {
      batch.sentToRemoval.add(g.instanceId);
      if (g.removedByEarlierAttempt) {
        this.removed.push({
          batch: p.index,
          scalingActivityId: '(unknown: response lost)',
          statusCode: 'Gone',
          instanceIds: [g.instanceId],
          why: g.why,
        });
      } else {
        this.notRemoved.set(g.instanceId, { instanceId: g.instanceId, outcome: 'skipped', why: g.why, batch: p.index });
      }
    }
    for (const r of removal.removals) for (const id of r.instanceIds) batch.sentToRemoval.add(id);
    p.scalingActivityId = removal.removals.map((r) => r.scalingActivityId).join(',') || undefined;
    p.adopted = removal.removals.some((r) => r.adopted) || undefined;
    p.state = 'polling';
  }

  /** Lifecycle hooks hold the batch's instances (or the run completed some of their actions). */
  recordHookWait(batch: Batch, hw: NonNullable<PollResponse['hookWait']>): void {
    const p = batch.progress;
    const seen = new Set((p.hookActions ?? []).map((a) => a.lifecycleActionToken));
    const fresh = hw.completed.filter((a) => !seen.has(a.lifecycleActionToken));
    if (fresh.length) p.hookActions = [...(p.hookActions ?? []), ...fresh];
    p.hookWaits = hw.waitingOn.length ? hw.waitingOn : undefined;
    if (hw.waitingOn.length) p.state = 'waiting-on-hook';
  }

  recordPollFailed(batch: Batch, label: string, r: AcceptedRemoval, why: string): void {
    batch.progress.errors.push(why);
    this.lastError = `${label}: ${why}`;
    for (const id of r.instanceIds) {
      this.notRemoved.set(id, {
        instanceId: id,
        outcome: 'pending',
        why: `removal accepted by scaling activity ${r.scalingActivityId}, but its end could not be observed: ${why}`,
        scalingActivityId: r.scalingActivityId,
        batch: batch.progress.index,
      });
    }
  }

  /** Records a scaling activity's end; false when some of its instances were not removed. */
  recordPolled(batch: Batch, label: string, r: AcceptedRemoval, polled: PollResponse): boolean {
    const p = batch.progress;
    p.hookWaits = undefined;
    if (p.state === 'waiting-on-hook') p.state = 'polling';
    const id = r.scalingActivityId;
    if (polled.removedInstanceIds.length) {
      const adopted = r.adopted ? ', adopted after an ambiguous earlier attempt' : '';
      this.removed.push({
        batch: p.index,
        scalingActivityId: id,
        statusCode: polled.statusCode,
        instanceIds: polled.removedInstanceIds,
        why: `removed by scaling activity ${id} (${polled.statusCode})${adopted}`,
      });
    }
    for (const f of polled.failedInstances) {
      this.notRemoved.set(f.instanceId, {
        instanceId: f.instanceId,
        outcome: 'failed',
        why: f.why,
        scalingActivityId: id,
        batch: p.index,
      });
    }
    p.endedAt = polled.endedAt;
    if (!polled.failedInstances.length) return true;
    p.errors.push(
      `scaling activity ${id} ended ${polled.statusCode}: ${polled.failedInstances.length} instance(s) not removed`,
    );
    const message = polled.statusMessage ? `: ${polled.statusMessage}` : '';
    this.lastError = `${label}: scaling activity ${id} ended ${polled.statusCode}${message}`;
    this.lastErrorCode = `ScalingActivity${polled.statusCode}`;
    return false;
  }

  /** A batch with failures is `warning` when some of its instances were removed, else `failed`. */
  settleBatchState(batch: Batch, ok: boolean, removal: RemoveBatchResponse): void {
    const p = batch.progress;
    if (ok) p.state = 'succeeded';
    else if (removal.removals.length && this.removed.some((g) => g.batch === p.index)) p.state = 'warning';
    else p.state = 'failed';
  }

  /** The instances of a batch whose removal failed: still in the group, still drained. */
  failedIdsOf(batch: Batch): Set<string> {
    return new Set(batch.ids.filter((id) => this.isFailed(id)));
  }

  noteTrafficRestored(ids: readonly string[]): void {
    for (const id of ids) {
      const prior = this.notRemoved.get(id);
      if (prior) prior.why = `${prior.why}; its traffic was restored`;
    }
  }

  /**
   * After a restore of instances that already have a report (a failed removal, or left the group):
   * where their traffic came back, and where it stays drained (outcome `drained-not-restored`).
   */
  noteRestore(r: RestoreOutcome): void {
    for (const id of r.restoredIds) {
      const prior = this.notRemoved.get(id);
      if (!prior) continue;
      const on = r.restoredOn.get(id) ?? [];
      prior.why = `${prior.why}; its traffic was restored${on.length ? ` on ${on.join(', ')}` : ''}`;
      prior.restoredOn = on;
    }
    for (const n of r.notRestored) {
      const prior = this.notRemoved.get(n.instanceId);
      if (!prior) continue;
      this.notRemoved.set(n.instanceId, { ...prior, ...stillDrained(n, prior.why) });
    }
    for (const id of r.goneIds) {
      const prior = this.notRemoved.get(id);
      if (prior) prior.why = `${prior.why}; no longer behind its load balancers, nothing to restore`;
    }
  }

  /** Instances that stay drained, for the progress view and the UI. */
  stillDrained(): InstanceReport[] {
    return [...this.notRemoved.values()].filter((r) => r.outcome === 'drained-not-restored');
  }

  /** Instances of the batch that left the group on their own (not removed by this run): reported skipped. */
  leftGroupIds(batch: Batch): string[] {
    return batch.ids.filter((id) => batch.sentToRemoval.has(id) && this.notRemoved.get(id)?.outcome === 'skipped');
  }

  /** The 1-based index of the batch an instance belongs to in this run, if any. */
  batchOf(id: string): number | undefined {
    return this.batches.find((b) => b.ids.includes(id))?.progress.index;
  }

  /** What the next run of a continue-as-new needs; only batches not yet done go on. */
  carry(remaining: readonly Batch[], paused: boolean): ScaleInCarry {
    if (!this.plan) throw new Error('a run continues as new only after its preflight');
    return {
      runKey: this.runKey,
      batchOffset: this.batchOffset + this.batches.length - remaining.length,
      totalInstances: this.totalInstances,
      plan: this.plan,
      removed: this.removed,
      notRemoved: [...this.notRemoved.values()],
      recentBatches: this.allBatches()
        .filter((b) => this.batches.find((s) => s.progress === b)?.done !== false)
        .slice(-RECENT_BATCHES_KEPT),
      drained: remaining
        .filter((b) => b.drainDone)
        .map((b) => ({ instanceIds: b.ids, restore: b.restore, drainedAt: b.progress.drainedAt ?? '' })),
      paused,
      continuedAsNew: this.continuedAsNew + 1,
    };
  }
}

/** "removed 3, failed 1, restored 0, skipped 2 of 6": the counts as results and failures say them. */
export function tally(c: Counts): string {
  const drained = c.drainedNotRestored ? `, still drained ${c.drainedNotRestored}` : '';
  const restored = `restored ${c.restored}${drained}`;
  return `removed ${c.removed}, failed ${c.failed}, ${restored}, skipped ${c.skipped} of ${c.total}`;
}

/** What a restore (the undrain activity, or its failure) did, per instance, as the ledger records it. */
export interface RestoreOutcome {
  restoredIds: string[];
  /** Where each restored instance was given back (and read back). */
  restoredOn: Map<string, string[]>;
  notRestored: NotRestored[];
  /** Not behind any of its load balancers any more: nothing to restore. */
  goneIds: string[];
}

/** The report fields of an instance that stays drained, `before` being what was known of it. */
export function stillDrained(
  n: NotRestored,
  before: string,
): Pick<InstanceReport, 'outcome' | 'why' | 'drainedOn' | 'restoredOn'> {
  const where = n.drainedOn.map((d) => `${d.place} (${d.code})`).join(', ');
  const back = n.restoredOn.length ? `; restored on ${n.restoredOn.join(', ')}` : '';
  return {
    outcome: 'drained-not-restored',
    why: `${before}; its traffic could not be restored: it stays drained on ${where}${back}`,
    drainedOn: n.drainedOn,
    restoredOn: n.restoredOn,
  };
}

function newBatch(index: number, ids: string[]): Batch {
  return {
    progress: { index, instanceIds: ids, state: 'pending', requestIds: [], errors: [] },
    ids,
    restore: [],
    drainIssued: false,
    drainDone: false,
    drainEndedEarly: false,
    ready: undefined,
    sentToRemoval: new Set(),
    done: false,
    drainGen: 0,
  };
}
