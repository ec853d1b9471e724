import { ApplicationFailure, CancellationScope, condition } from '@temporalio/workflow';
import type { DrainRequest, DrainResponse } from '../../activities';
import { mergeRestore } from '../../shared/restore';
import { describeFailure, restoreRecordsOf } from '../failures';
import type { Batch } from './ledger';
import type { ScaleInRun } from './run';

type Strategy = DrainRequest['strategy'];

/**
 * Drains batches ahead of their removal, as far as `drain.maxDrainedAhead` allows. Drains run one
 * at a time (CLB rejects concurrent changes on one LB) and are not cancelled half-way: a cancel
 * waits for the drain to finish, then restores it.
 */
export class DrainPipeline {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  /** A drain activity (or its weight snapshot) is running: `pause --restore` waits for it to end. */
  busy = false;

  constructor(private readonly run: ScaleInRun) {}

  /** Resolves once every drain issued so far has ended, so its changes are known. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Issues drains for the next batches in order while the drained-ahead limit allows. */
  pump(): void {
    const limit = this.run.input.drain.maxDrainedAhead;
    for (const batch of this.run.ledger.batches) {
      if (batch.drainIssued || batch.done) continue;
      const ahead = this.drainedAhead();
      if (ahead > 0 && ahead + batch.ids.length > limit) break;
      this.issue(batch);
    }
  }

  /**
   * For a batch given its traffic back by `pause --restore`, now due for removal: drained again
   * first, even when the drained-ahead limit is taken by later batches (it is the next to go).
   */
  redrain(batch: Batch): void {
    this.pump();
    if (!batch.drainIssued && !batch.done) this.issue(batch);
  }

  /**
   * `pause --restore`: drains issued but held by the pause (not started) are taken back, so that on
   * resume they are issued again in order, after the batches given back.
   */
  takeBackHeld(): void {
    for (const b of this.run.ledger.batches) {
      if (b.drainIssued && !b.drainDone && !b.done && b.progress.state === 'pending') this.takeBack(b);
    }
  }

  /** Makes the batch's drain (and its wait) void: it will be issued again like a new one. */
  takeBack(batch: Batch): void {
    batch.drainGen++;
    batch.drainIssued = false;
    batch.drainDone = false;
    batch.drainEndedEarly = false;
    batch.ready = undefined;
  }

  /** Ends every drain wait now (the endDrain update). */
  endWaits(): void {
    for (const b of this.run.ledger.batches) if (b.drainIssued && !b.done) b.drainEndedEarly = true;
  }

  private drainedAhead(): number {
    return this.run.ledger.batches.filter((b) => b.drainIssued && !b.done).reduce((n, b) => n + b.ids.length, 0);
  }

  private issue(batch: Batch): void {
    batch.drainIssued = true;
    const strategy = this.run.input.drain.strategy;
    if (this.run.ledger.takeCarriedDrain(batch) || strategy === 'none') {
      batch.drainDone = true;
      batch.ready = Promise.resolve();
      return;
    }
    const gen = batch.drainGen;
    const current = () => batch.drainGen === gen;
    const drained = (this.chain = this.chain.then(async () => {
      // Pause holds every change of traffic: a drain waits here (cancellably) until the run is resumed.
      if (this.run.held && this.run.patches.pauseHoldsDrains()) await condition(() => !this.run.held);
      // Taken back by `pause --restore` meanwhile: issued again on resume.
      if (!current()) return;
      this.busy = true;
      try {
        await CancellationScope.nonCancellable(() => this.drain(batch, strategy));
      } finally {
        this.busy = false;
      }
    }));
    batch.ready = drained.then(() => (current() ? this.waitAfterDrain(batch, current) : undefined));
    // Awaited when the batch's turn comes; marked handled so an abort elsewhere is not an unhandled rejection.
    batch.ready.catch(() => undefined);
    this.chain = drained.catch(() => undefined);
  }

  private async drain(batch: Batch, strategy: Strategy): Promise<void> {
    const { run } = this;
    // Once a drain has failed the run will stop at that batch: draining more would only take
    // traffic away to give it back.
    if (this.failed && run.patches.stopDrainsAfterFailure()) {
      throw ApplicationFailure.create({
        type: 'DrainSkipped',
        nonRetryable: true,
        message: 'not drained: an earlier drain failed',
      });
    }
    batch.progress.state = 'draining';
    const req = this.request(batch, strategy);
    const label = `batch ${batch.progress.index}/${run.ledger.batchesTotal} (${batch.ids.length} instances`;
    // The original weights go into the history before anything changes: a drain attempt's own
    // checkpoint can be lost with its worker after the first weight change.
    if (batch.originals) {
      // Drained before and given back by `pause --restore`: the weights of before the first drain win.
      req.originals = batch.originals;
      batch.restore = req.originals;
    } else if (this.snapshotsWeights(strategy)) {
      const summary = `Read the weights of ${label})`;
      // A weight drain changes what the snapshot read instead of reading the same backends again
      // (its first attempt, while fresh: src/activities/drain.ts). Same commands: the patch only
      // keeps the activities' inputs of older runs as they were.
      const handBackends = strategy === 'weight' && run.patches.drainFromSnapshot();
      const snapReq: DrainRequest = handBackends ? { ...req, handBackends } : req;
      const reads = run.patches.snapshotAsLocalActivity() ? run.acts.localReads : run.acts.reads;
      const snap = await reads.snapshotWeights.executeWithOptions({ summary }, [snapReq]);
      req.originals = snap.restore;
      if (snap.backends) req.snapshot = snap.backends;
      batch.restore = req.originals;
    }
    const summary = `Drain ${label}, ${strategy})`;
    const res: DrainResponse = await run.acts.drains.drain
      .executeWithOptions({ summary }, [req])
      .catch((e: unknown) => this.recordFailure(batch, req, e));
    batch.restore = res.restore;
    batch.drainDone = true;
    batch.givenBack = undefined;
    batch.progress.state = 'drained';
    batch.progress.drainedAt = res.drainedAt;
    batch.progress.requestIds.push(...res.requestIds);
  }

  /** Weight drains; and standby drains, whose ExitStandby gives back the default weight (50), not the original. */
  private snapshotsWeights(strategy: Strategy): boolean {
    const { patches } = this.run;
    if (strategy === 'weight') return patches.snapshotWeightsBeforeDrain();
    return strategy === 'standby' && patches.snapshotWeightsBeforeStandby();
  }

  private request(batch: Batch, strategy: Strategy): DrainRequest {
    const plan = this.run.ledger.plan;
    if (!plan) throw new Error('drains start only after the preflight has made a plan');
    return {
      ...this.run.where,
      strategy,
      instanceIds: batch.ids,
      loadBalancers: plan.loadBalancers,
      alreadyStandby: plan.alreadyStandby,
      batchIndex: batch.progress.index,
    };
  }

  /** A drain that failed part-way says what it changed; restoring must cover that too. */
  private recordFailure(batch: Batch, req: DrainRequest, e: unknown): never {
    batch.restore = mergeRestore(req.originals ?? [], restoreRecordsOf(e));
    batch.progress.state = 'failed';
    this.failed = true;
    batch.progress.errors.push(`drain failed: ${describeFailure(e)}`);
    throw e;
  }

  /** The drain wait; it ends early too when `pause --restore` gives the batch its traffic back. */
  private async waitAfterDrain(batch: Batch, current: () => boolean): Promise<void> {
    const { drain } = this.run.input;
    // A zero-second timer still costs a server round trip (about a second on the dev server).
    if (drain.timeoutSeconds === 0 && this.run.patches.noTimerForZeroDrain()) return;
    const batchOf = `${batch.progress.index}/${this.run.ledger.batchesTotal}`;
    const summary = `Drain wait batch ${batchOf} (${drain.timeoutSeconds}s)`;
    await condition(() => batch.drainEndedEarly || !current(), drain.timeoutSeconds * 1000, { summary });
  }
}
