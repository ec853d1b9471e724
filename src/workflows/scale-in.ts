import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ScaleInActivities, DrainRequest, DrainResponse, PollResponse } from '../activities';
import { NON_RETRYABLE_TYPES } from '../shared/error-policy';
import { mergeRestore, restoreInstanceId, type RestoreRecord } from '../shared/restore';
import { InvalidInputError, chunk, validateInput, type NormalizedInput, type ScaleInInput } from '../shared/input';
import type {
  BatchProgress,
  Counts,
  InstanceReport,
  Outcome,
  Phase,
  Plan,
  ProgressSnapshot,
  RemovedGroup,
  ScaleInResult,
} from '../shared/progress';
import {
  SA_INSTANCES_FAILED,
  SA_INSTANCES_REMOVED,
  SA_INSTANCES_TOTAL,
  SA_PHASE,
  SA_REGION_ID,
  SA_SCALING_GROUP_ID,
} from '../shared/search-attributes';
import {
  approveUpdate,
  endDrainUpdate,
  pauseUpdate,
  progressQuery,
  resultQuery,
  resumeUpdate,
  type ControlArgs,
  type ControlState,
} from './definitions';
import { renderDetails } from './details';

/** What a run hands to the next one on continue-as-new: compact, no raw API responses. */
export interface ScaleInCarry {
  /** Stable across the whole chain: ClientTokens derive from it. */
  runKey: string;
  batchOffset: number;
  totalInstances: number;
  plan: Plan;
  removed: RemovedGroup[];
  notRemoved: InstanceReport[];
  recentBatches: BatchProgress[];
  /** Batches drained (and waited for) by the previous run, not yet removed. */
  drained: Array<{ instanceIds: string[]; restore: RestoreRecord[]; drainedAt: string }>;
  paused: boolean;
  continuedAsNew: number;
}

const RECENT_BATCHES_KEPT = 50;

/** What the result query reports while, or after, a run is in a phase. */
const OUTCOME_BY_PHASE: Partial<Record<Phase, Outcome>> = {
  Completed: 'completed',
  DryRun: 'dry-run',
  Cancelled: 'cancelled',
  Failed: 'aborted',
};

interface Slot {
  progress: BatchProgress;
  ids: string[];
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
}

export async function scaleIn(rawInput: ScaleInInput, carry?: ScaleInCarry): Promise<ScaleInResult> {
  const info = workflowInfo();
  let input: NormalizedInput;
  try {
    input = validateInput(rawInput);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      throw ApplicationFailure.create({
        type: 'InvalidInput',
        message: e.message,
        nonRetryable: true,
        details: [e.problems],
      });
    }
    throw e;
  }

  const adv = input.advanced;
  const retry = {
    initialInterval: adv.retryInitialIntervalMs,
    maximumInterval: adv.retryMaxIntervalMs,
    backoffCoefficient: 2,
    nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
  };
  // Every activity heartbeats (src/activities/heartbeat.ts), so a killed worker costs one heartbeat
  // timeout, not the activity's whole start-to-close timeout.
  const heartbeatTimeout = adv.heartbeatTimeoutSeconds * 1000;
  const acts = proxyActivities<ScaleInActivities>({
    startToCloseTimeout: '2m',
    heartbeatTimeout,
    retry: { ...retry, maximumAttempts: 30 },
  });
  // Bounded per error code by the activity itself (see error-policy.ts); this is only a backstop.
  const removeActs = proxyActivities<ScaleInActivities>({
    startToCloseTimeout: '2m',
    heartbeatTimeout,
    retry: { ...retry, maximumAttempts: 500 },
  });
  const longActs = proxyActivities<ScaleInActivities>({
    startToCloseTimeout: '6h',
    heartbeatTimeout,
    retry: { ...retry, maximumAttempts: 100 },
  });

  // ---------- state ----------
  const runKey = carry?.runKey ?? info.runId;
  const batchOffset = carry?.batchOffset ?? 0;
  const totalInstances = carry?.totalInstances ?? input.instanceIds.length;
  let plan: Plan | undefined = carry?.plan;
  let phase: Phase = carry ? 'Running' : 'Preflight';
  let paused = carry?.paused ?? false;
  let approved = !input.requireApproval || carry !== undefined;
  let lastError: string | undefined;
  /** The cloud error code (or ScalingActivity<Status>) behind the last batch failure: the run's failure type. */
  let lastErrorCode: string | undefined;
  const removed: RemovedGroup[] = [...(carry?.removed ?? [])];
  const notRemoved = new Map<string, InstanceReport>((carry?.notRemoved ?? []).map((r) => [r.instanceId, r]));
  const recentBatches: BatchProgress[] = [...(carry?.recentBatches ?? [])];
  const carriedDrained = new Map<string, { restore: RestoreRecord[]; drainedAt: string }>();
  for (const d of carry?.drained ?? [])
    for (const id of d.instanceIds)
      carriedDrained.set(id, { restore: d.restore.filter((r) => restoreInstanceId(r) === id), drainedAt: d.drainedAt });

  const slots: Slot[] = chunk(input.instanceIds, input.batchSize).map((ids, i) => ({
    progress: { index: batchOffset + i + 1, instanceIds: ids, state: 'pending', requestIds: [], errors: [] },
    ids,
    restore: [],
    drainIssued: false,
    drainDone: false,
    drainEndedEarly: false,
    ready: undefined,
    sentToRemoval: new Set(),
    done: false,
  }));
  const batchesTotal = batchOffset + slots.length;

  const counts = (): Counts => {
    const c: Counts = { total: totalInstances, removed: 0, failed: 0, skipped: 0, restored: 0, pending: 0 };
    for (const g of removed) c.removed += g.instanceIds.length;
    for (const r of notRemoved.values()) {
      if (r.outcome === 'failed') c.failed++;
      else if (r.outcome === 'skipped') c.skipped++;
      else if (r.outcome === 'restored') c.restored++;
    }
    c.pending = c.total - c.removed - c.failed - c.skipped - c.restored;
    return c;
  };
  const allBatches = (): BatchProgress[] => [...recentBatches, ...slots.map((s) => s.progress)];
  const snapshot = (): ProgressSnapshot => ({
    workflowId: info.workflowId,
    phase,
    paused,
    awaitingApproval: phase === 'AwaitingApproval',
    drainEndedEarly: slots.some((s) => s.drainEndedEarly),
    input: {
      regionId: input.regionId,
      scalingGroupId: input.scalingGroupId,
      batchSize: input.batchSize,
      removePolicy: input.removePolicy,
      onBatchFailure: input.onBatchFailure,
      drain: input.drain,
      dryRun: input.dryRun,
    },
    plan,
    counts: { ...counts(), batchesDone: batchOffset + slots.filter((s) => s.done).length, batchesTotal },
    batches: allBatches(),
    continuedAsNew: carry?.continuedAsNew ?? 0,
    lastError,
  });
  const control = (): ControlState => ({ phase, paused, awaitingApproval: phase === 'AwaitingApproval' });
  const publish = () => {
    const c = counts();
    upsertSearchAttributes([
      { key: SA_PHASE, value: paused && phase === 'Running' ? 'Paused' : phase },
      { key: SA_INSTANCES_REMOVED, value: c.removed },
      { key: SA_INSTANCES_FAILED, value: c.failed },
    ]);
    setCurrentDetails(renderDetails(snapshot()));
  };
  const setPhase = (p: Phase) => {
    phase = p;
    publish();
  };

  // ---------- handlers ----------
  setHandler(progressQuery, snapshot);
  setHandler(
    pauseUpdate,
    (args) => {
      paused = true;
      log.info('paused', { by: args.by, note: args.note });
      publish();
      return control();
    },
    {
      validator: (_args: ControlArgs) => {
        if (isTerminal(phase)) throw new Error(`the run is already ${phase}`);
      },
    },
  );
  setHandler(
    resumeUpdate,
    (args) => {
      paused = false;
      log.info('resumed', { by: args.by, note: args.note });
      publish();
      return control();
    },
    {
      validator: (_args: ControlArgs) => {
        if (isTerminal(phase)) throw new Error(`the run is already ${phase}`);
      },
    },
  );
  setHandler(
    approveUpdate,
    (args) => {
      approved = true;
      log.info('approved', { by: args.by, note: args.note });
      return control();
    },
    {
      validator: (_args: ControlArgs) => {
        if (!input.requireApproval) throw new Error('this run was not started with requireApproval');
        if (isTerminal(phase)) throw new Error(`the run is already ${phase}`);
      },
    },
  );
  setHandler(
    endDrainUpdate,
    (args) => {
      for (const s of slots) if (s.drainIssued && !s.done) s.drainEndedEarly = true;
      log.info('drain ended early by operator', { by: args.by, note: args.note });
      return control();
    },
    {
      validator: (_args: ControlArgs) => {
        if (input.drain.strategy === 'none') throw new Error('this run does not drain');
      },
    },
  );

  upsertSearchAttributes([
    { key: SA_SCALING_GROUP_ID, value: input.scalingGroupId },
    { key: SA_REGION_ID, value: input.regionId },
    { key: SA_INSTANCES_TOTAL, value: totalInstances },
  ]);
  publish();

  const result = (outcome: Outcome, message: string): ScaleInResult => ({
    workflowId: info.workflowId,
    outcome,
    message,
    plan,
    counts: counts(),
    removed,
    notRemoved: [...notRemoved.values()],
    batches: allBatches(),
  });

  setHandler(resultQuery, () => result(OUTCOME_BY_PHASE[phase] ?? 'in-progress', `Phase ${phase}`));

  // ---------- preflight, dry run, approval ----------
  if (!carry)
    try {
      const pre = await acts.preflight.executeWithOptions(
        {
          startToCloseTimeout: '5m',
          heartbeatTimeout,
          retry: { ...retry, maximumAttempts: 30 },
          summary: `Preflight: ${input.instanceIds.length} instance(s) in ${input.scalingGroupId}`,
        },
        [{ input, retryDelayCapMs: adv.retryMaxIntervalMs }],
      );
      plan = pre.plan;
      if (pre.problems.length) {
        lastError = pre.problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
        for (const p of pre.problems)
          for (const id of p.instanceIds ?? [])
            notRemoved.set(id, { instanceId: id, outcome: 'skipped', why: `preflight: ${p.problem}` });
        setPhase('Failed');
        await condition(allHandlersFinished);
        throw ApplicationFailure.create({
          type: 'PreflightFailed',
          nonRetryable: true,
          message: `Preflight failed, nothing was changed: ${pre.problems.map((p) => `${p.field}: ${p.problem} (fix: ${p.fix})`).join('; ')}`,
          details: [pre.problems],
        });
      }
      if (input.dryRun) {
        for (const id of input.instanceIds)
          notRemoved.set(id, { instanceId: id, outcome: 'skipped', why: 'dry run: nothing was changed' });
        setPhase('DryRun');
        await condition(allHandlersFinished);
        return result(
          'dry-run',
          `Dry run: ${plan.batchCount} batch(es) of up to ${plan.batchSize}; TotalCapacity ${plan.group.totalCapacity} → ${plan.capacityAfter} (MinSize ${plan.group.minSize}).`,
        );
      }
      if (!approved) {
        setPhase('AwaitingApproval');
        await condition(() => approved);
      }
    } catch (err) {
      // Cancelled before anything changed (during the preflight or while awaiting approval).
      if (isCancellation(err) && patched('report-cancel-before-running')) {
        for (const id of input.instanceIds)
          notRemoved.set(id, {
            instanceId: id,
            outcome: 'skipped',
            why: `the run was cancelled during ${phase}, before any change`,
          });
        setPhase('Cancelled');
      }
      throw err;
    }
  setPhase('Running');
  const thePlan: Plan = plan as Plan;

  // ---------- drain ahead ----------
  let drainChain: Promise<void> = Promise.resolve();
  let drainFailed = false;
  const drainTimeoutMs = input.drain.timeoutSeconds * 1000;
  const drainedAheadCount = () => slots.filter((s) => s.drainIssued && !s.done).reduce((n, s) => n + s.ids.length, 0);

  const issueDrain = (slot: Slot) => {
    slot.drainIssued = true;
    const fromCarry = slot.ids.every((id) => carriedDrained.has(id));
    if (fromCarry) {
      // Drained and waited for by the previous run.
      slot.restore = slot.ids.flatMap((id) => carriedDrained.get(id)?.restore ?? []);
      slot.progress.drainedAt = carriedDrained.get(slot.ids[0] ?? '')?.drainedAt;
      slot.progress.state = 'drained';
      slot.drainDone = true;
      slot.ready = Promise.resolve();
      return;
    }
    if (input.drain.strategy === 'none') {
      slot.drainDone = true;
      slot.ready = Promise.resolve();
      return;
    }
    const strategy = input.drain.strategy;
    // Drains run one at a time (CLB rejects concurrent changes on one LB) and are not cancelled
    // half-way: a cancel waits for the drain to finish, then restores it.
    const drained = (drainChain = drainChain.then(() =>
      CancellationScope.nonCancellable(async () => {
        // Once a drain has failed the run will stop at that batch: draining more would only take
        // traffic away to give it back.
        if (drainFailed && patched('stop-drains-after-failure'))
          throw ApplicationFailure.create({
            type: 'DrainSkipped',
            nonRetryable: true,
            message: 'not drained: an earlier drain failed',
          });
        slot.progress.state = 'draining';
        const req: DrainRequest = {
          retryDelayCapMs: adv.retryMaxIntervalMs,
          regionId: input.regionId,
          scalingGroupId: input.scalingGroupId,
          strategy,
          instanceIds: slot.ids,
          loadBalancers: thePlan.loadBalancers,
          alreadyStandby: thePlan.alreadyStandby,
          batchIndex: slot.progress.index,
        };
        // The original weights go into the history before anything changes: a drain attempt's own
        // checkpoint can be lost with its worker after the first weight change.
        if (strategy === 'weight' && patched('snapshot-weights-before-drain')) {
          req.originals = (
            await acts.snapshotWeights.executeWithOptions(
              {
                startToCloseTimeout: '5m',
                heartbeatTimeout,
                retry: { ...retry, maximumAttempts: 30 },
                summary: `Read the weights of batch ${slot.progress.index}/${batchesTotal} (${slot.ids.length} instances)`,
              },
              [req],
            )
          ).restore;
          slot.restore = req.originals;
        }
        const res: DrainResponse = await longActs.drain
          .executeWithOptions(
            {
              startToCloseTimeout: '10m',
              heartbeatTimeout,
              retry: { ...retry, maximumAttempts: 30 },
              summary: `Drain batch ${slot.progress.index}/${batchesTotal} (${slot.ids.length} instances, ${strategy})`,
            },
            [req],
          )
          .catch((e: unknown) => {
            // A drain that failed part-way says what it changed; restoring must cover that too.
            slot.restore = mergeRestore(req.originals ?? [], restoreRecordsOf(e));
            slot.progress.state = 'failed';
            drainFailed = true;
            slot.progress.errors.push(`drain failed: ${describeFailure(e)}`);
            throw e;
          });
        slot.restore = res.restore;
        slot.drainDone = true;
        slot.progress.state = 'drained';
        slot.progress.drainedAt = res.drainedAt;
        slot.progress.requestIds.push(...res.requestIds);
      }),
    ));
    slot.ready = drained.then(async () => {
      // A zero-second timer still costs a server round trip (about a second on the dev server).
      if (drainTimeoutMs === 0 && patched('no-timer-for-zero-drain')) return;
      await condition(() => slot.drainEndedEarly, drainTimeoutMs, {
        summary: `Drain wait batch ${slot.progress.index}/${batchesTotal} (${input.drain.timeoutSeconds}s)`,
      });
    });
    // Awaited when the batch's turn comes; marked handled so an abort elsewhere is not an unhandled rejection.
    slot.ready.catch(() => undefined);
    drainChain = drained.catch(() => undefined);
  };
  const pumpDrains = () => {
    for (const slot of slots) {
      if (slot.drainIssued || slot.done) continue;
      if (drainedAheadCount() > 0 && drainedAheadCount() + slot.ids.length > input.drain.maxDrainedAhead) break;
      issueDrain(slot);
    }
  };

  // ---------- restore ----------
  const restoreUnremoved = async (why: string): Promise<void> => {
    // Let any in-flight drain finish so its weights are known, then put back what was not removed.
    await drainChain;
    const records: RestoreRecord[] = [];
    const ids: string[] = [];
    for (const s of slots) {
      if (s.done && s.progress.state !== 'failed' && s.progress.state !== 'warning') continue;
      const keep = s.restore.filter(
        (r) => !s.sentToRemoval.has(restoreInstanceId(r)) || notRemoved.get(restoreInstanceId(r))?.outcome === 'failed',
      );
      records.push(...keep);
      for (const id of s.ids) {
        if (s.sentToRemoval.has(id) && notRemoved.get(id)?.outcome !== 'failed') continue;
        if (removed.some((g) => g.instanceIds.includes(id))) continue;
        ids.push(id);
      }
    }
    if (records.length) {
      setPhase('Restoring');
      const res = await acts.undrain.executeWithOptions(
        {
          startToCloseTimeout: '10m',
          heartbeatTimeout,
          retry: { ...retry, maximumAttempts: 50 },
          summary: `Restore traffic to ${new Set(records.map(restoreInstanceId)).size} drained instance(s)`,
        },
        [
          {
            retryDelayCapMs: adv.retryMaxIntervalMs,
            regionId: input.regionId,
            scalingGroupId: input.scalingGroupId,
            restore: records,
          },
        ],
      );
      for (const id of res.restoredInstanceIds) {
        const prior = notRemoved.get(id);
        notRemoved.set(id, {
          instanceId: id,
          outcome: prior?.outcome === 'failed' ? 'failed' : 'restored',
          why: `${prior?.outcome === 'failed' ? `${prior.why}; ` : ''}drained then restored: ${why}`,
          batch: prior?.batch,
        });
      }
    }
    for (const id of ids) {
      if (!notRemoved.has(id)) notRemoved.set(id, { instanceId: id, outcome: 'skipped', why: `not removed: ${why}` });
    }
    // Instances whose removal was accepted but not yet confirmed.
    for (const s of slots) {
      for (const id of s.sentToRemoval) {
        if (!notRemoved.has(id) && !removed.some((g) => g.instanceIds.includes(id))) {
          notRemoved.set(id, {
            instanceId: id,
            outcome: 'pending',
            why: `RemoveInstances was accepted (scaling activity ${s.progress.scalingActivityId ?? '?'}) before the run stopped (${why}); ESS finishes it`,
            scalingActivityId: s.progress.scalingActivityId,
            batch: s.progress.index,
          });
        }
      }
    }
  };

  /** The newest scaling activities this run accounts for: a retried removeBatch must not take one for its own lost call. */
  const knownActivityIds = (): string[] => {
    const ids = [
      ...removed.map((g) => g.scalingActivityId),
      ...[...notRemoved.values()].map((r) => r.scalingActivityId),
    ];
    return [...new Set(ids.filter((id): id is string => typeof id === 'string' && id.startsWith('asa-')))].slice(-20);
  };

  // ---------- one batch ----------
  const runBatch = async (slot: Slot): Promise<boolean> => {
    const p = slot.progress;
    const label = `batch ${p.index}/${batchesTotal} (${slot.ids.length} instances)`;
    let ok = true;
    p.state = 'removing';
    publish();
    let removal;
    try {
      // Not cancelled half-way: once sent, the outcome must be known.
      removal = await CancellationScope.nonCancellable(() =>
        removeActs.removeBatch.executeWithOptions(
          {
            startToCloseTimeout: '2m',
            heartbeatTimeout,
            retry: { ...retry, maximumAttempts: 500 },
            summary: `RemoveInstances ${label}`,
          },
          [
            {
              retryDelayCapMs: adv.retryMaxIntervalMs,
              regionId: input.regionId,
              scalingGroupId: input.scalingGroupId,
              instanceIds: slot.ids,
              removePolicy: input.removePolicy,
              decreaseDesiredCapacity: input.decreaseDesiredCapacity,
              idempotencyKey: `${runKey}/${p.index}`,
              knownScalingActivityIds: knownActivityIds(),
            },
          ],
        ),
      );
    } catch (e) {
      const why = describeFailure(e);
      p.errors.push(why);
      p.state = 'failed';
      lastError = `${label}: ${why}`;
      lastErrorCode = failureType(e);
      for (const id of slot.ids)
        notRemoved.set(id, {
          instanceId: id,
          outcome: 'failed',
          why: `RemoveInstances failed: ${why}`,
          batch: p.index,
        });
      publish();
      return false;
    }
    p.attempts = removal.attempt;
    p.removeStartedAt = removal.startedAt;
    p.requestIds.push(...removal.requestIds);
    for (const g of removal.gone) {
      slot.sentToRemoval.add(g.instanceId);
      if (g.removedByEarlierAttempt)
        removed.push({
          batch: p.index,
          scalingActivityId: '(unknown: response lost)',
          statusCode: 'Gone',
          instanceIds: [g.instanceId],
          why: g.why,
        });
      else notRemoved.set(g.instanceId, { instanceId: g.instanceId, outcome: 'skipped', why: g.why, batch: p.index });
    }
    for (const r of removal.removals) for (const id of r.instanceIds) slot.sentToRemoval.add(id);
    p.scalingActivityId = removal.removals.map((r) => r.scalingActivityId).join(',') || undefined;
    p.adopted = removal.removals.some((r) => r.adopted) || undefined;
    p.state = 'polling';
    publish();

    for (const r of removal.removals) {
      let polled: PollResponse;
      try {
        const poll = () =>
          longActs.pollScalingActivity.executeWithOptions(
            {
              startToCloseTimeout: '6h',
              heartbeatTimeout,
              retry: { ...retry, maximumAttempts: 100 },
              summary: `Poll scaling activity ${r.scalingActivityId} (${label})`,
            },
            [
              {
                retryDelayCapMs: adv.retryMaxIntervalMs,
                regionId: input.regionId,
                scalingGroupId: input.scalingGroupId,
                scalingActivityId: r.scalingActivityId,
                instanceIds: r.instanceIds,
                minIntervalMs: adv.pollMinIntervalMs,
                maxIntervalMs: adv.pollMaxIntervalMs,
              },
            ],
          );
        // ESS finishes an accepted removal whatever we do: a cancel waits for its end, so the
        // result says what was removed instead of "pending".
        polled = patched('follow-accepted-removals-on-cancel')
          ? await CancellationScope.nonCancellable(poll)
          : await poll();
      } catch (e) {
        if (isCancellation(e)) throw e;
        const why = describeFailure(e);
        p.errors.push(why);
        lastError = `${label}: ${why}`;
        for (const id of r.instanceIds)
          notRemoved.set(id, {
            instanceId: id,
            outcome: 'pending',
            why: `removal accepted by scaling activity ${r.scalingActivityId}, but its end could not be observed: ${why}`,
            scalingActivityId: r.scalingActivityId,
            batch: p.index,
          });
        ok = false;
        continue;
      }
      if (polled.removedInstanceIds.length) {
        removed.push({
          batch: p.index,
          scalingActivityId: r.scalingActivityId,
          statusCode: polled.statusCode,
          instanceIds: polled.removedInstanceIds,
          why: `removed by scaling activity ${r.scalingActivityId} (${polled.statusCode})${r.adopted ? ', adopted after an ambiguous earlier attempt' : ''}`,
        });
      }
      for (const f of polled.failedInstances)
        notRemoved.set(f.instanceId, {
          instanceId: f.instanceId,
          outcome: 'failed',
          why: f.why,
          scalingActivityId: r.scalingActivityId,
          batch: p.index,
        });
      if (polled.failedInstances.length) {
        ok = false;
        p.errors.push(
          `scaling activity ${r.scalingActivityId} ended ${polled.statusCode}: ${polled.failedInstances.length} instance(s) not removed`,
        );
        lastError = `${label}: scaling activity ${r.scalingActivityId} ended ${polled.statusCode}${polled.statusMessage ? `: ${polled.statusMessage}` : ''}`;
        lastErrorCode = `ScalingActivity${polled.statusCode}`;
      }
      p.endedAt = polled.endedAt;
    }
    p.state = ok
      ? 'succeeded'
      : removal.removals.length && removed.some((g) => g.batch === p.index)
        ? 'warning'
        : 'failed';
    return ok;
  };

  // ---------- main loop ----------
  let batchesThisRun = 0;
  try {
    for (const slot of slots) {
      pumpDrains();
      await condition(() => !paused);
      await slot.ready;
      await condition(() => !paused);
      const ok = await runBatch(slot);
      if (!ok) {
        // The instances of this batch that stayed in the group are still drained: give them back.
        const failedIds = new Set(slot.ids.filter((id) => notRemoved.get(id)?.outcome === 'failed'));
        const back = slot.restore.filter((r) => failedIds.has(restoreInstanceId(r)));
        if (back.length) {
          const res = await CancellationScope.nonCancellable(() =>
            acts.undrain.executeWithOptions(
              {
                startToCloseTimeout: '10m',
                heartbeatTimeout,
                retry: { ...retry, maximumAttempts: 50 },
                summary: `Restore traffic to ${failedIds.size} instance(s) of failed batch ${slot.progress.index}`,
              },
              [
                {
                  retryDelayCapMs: adv.retryMaxIntervalMs,
                  regionId: input.regionId,
                  scalingGroupId: input.scalingGroupId,
                  restore: back,
                },
              ],
            ),
          );
          for (const id of res.restoredInstanceIds) {
            const prior = notRemoved.get(id);
            if (prior) prior.why = `${prior.why}; its traffic was restored`;
          }
          // Restored once is enough: a later abort must not restore (and report) them again.
          // Versioned: runs recorded before this change restored them twice (test/fixtures/histories).
          if (patched('restore-failed-batch-once'))
            slot.restore = slot.restore.filter((r) => !failedIds.has(restoreInstanceId(r)));
        }
        if (input.onBatchFailure === 'abort') {
          slot.done = true;
          throw ApplicationFailure.create({
            type: lastErrorCode ?? 'BatchFailed',
            nonRetryable: true,
            message: `Batch ${slot.progress.index} failed (${lastError ?? 'see progress'}); aborting because onBatchFailure is "abort"`,
          });
        }
      }
      slot.done = true;
      batchesThisRun++;
      publish();

      const remaining = slots.filter((s) => !s.done);
      if (remaining.length && (batchesThisRun >= adv.maxBatchesPerRun || workflowInfo().continueAsNewSuggested)) {
        // Hand over only drained batches whose wait is over, so the next run need not wait again.
        for (const s of remaining) if (s.drainIssued) await s.ready;
        await condition(allHandlersFinished);
        const next: ScaleInCarry = {
          runKey,
          batchOffset: batchOffset + slots.length - remaining.length,
          totalInstances,
          plan: thePlan,
          removed,
          notRemoved: [...notRemoved.values()],
          recentBatches: allBatches()
            .filter((b) => slots.find((s) => s.progress === b)?.done !== false)
            .slice(-RECENT_BATCHES_KEPT),
          drained: remaining
            .filter((s) => s.drainDone)
            .map((s) => ({ instanceIds: s.ids, restore: s.restore, drainedAt: s.progress.drainedAt ?? '' })),
          paused,
          continuedAsNew: (carry?.continuedAsNew ?? 0) + 1,
        };
        const nextInput: ScaleInInput = {
          ...rawInput,
          instanceIds: remaining.flatMap((s) => s.ids),
          requireApproval: false,
          dryRun: false,
        };
        log.info('continuing as new', { batchesDone: next.batchOffset, remaining: nextInput.instanceIds.length });
        return await continueAsNew<typeof scaleIn>(nextInput, next);
      }
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    const cancelled = isCancellation(err);
    const why = cancelled ? 'the run was cancelled' : `the run stopped: ${describeFailure(err)}`;
    await CancellationScope.nonCancellable(() => restoreUnremoved(why));
    setPhase(cancelled ? 'Cancelled' : 'Failed');
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (cancelled) throw err;
    const res = result('aborted', `Aborted: ${describeFailure(err)}`);
    throw ApplicationFailure.create({
      type: failureType(err) ?? (err instanceof ApplicationFailure && err.type ? err.type : 'ScaleInFailed'),
      nonRetryable: true,
      message: `${res.message}. Removed ${res.counts.removed}, failed ${res.counts.failed}, restored ${res.counts.restored}, skipped ${res.counts.skipped} of ${res.counts.total}.`,
      details: [res],
    });
  }

  const c = counts();
  setPhase('Completed');
  await condition(allHandlersFinished);
  const outcome: Outcome = c.failed || c.pending ? 'completed-with-failures' : 'completed';
  return result(
    outcome,
    `${outcome === 'completed' ? 'Completed' : 'Completed with failures'}: removed ${c.removed}, failed ${c.failed}, restored ${c.restored}, skipped ${c.skipped} of ${c.total} instance(s) in ${batchesTotal} batch(es).`,
  );
}

function restoreRecordsOf(e: unknown): RestoreRecord[] {
  let cur: unknown = e;
  while (cur instanceof ActivityFailure && cur.cause) cur = cur.cause;
  const detail =
    cur instanceof ApplicationFailure ? (cur.details?.[0] as { restore?: RestoreRecord[] } | undefined) : undefined;
  return Array.isArray(detail?.restore) ? detail.restore : [];
}

function isTerminal(p: Phase): boolean {
  return p === 'Completed' || p === 'Failed' || p === 'Cancelled' || p === 'DryRun';
}

function failureType(e: unknown): string | undefined {
  let cur: unknown = e;
  while (cur instanceof ActivityFailure && cur.cause) cur = cur.cause;
  return cur instanceof ApplicationFailure ? (cur.type ?? undefined) : undefined;
}

/** One line naming the cloud error code, for progress and results. */
function describeFailure(e: unknown): string {
  let cur: unknown = e;
  while (cur instanceof ActivityFailure && cur.cause) cur = cur.cause;
  if (cur instanceof ApplicationFailure) return `${cur.type ?? 'Error'}: ${cur.message}`;
  if (cur instanceof Error) return `${cur.name}: ${cur.message}`;
  return String(cur);
}
