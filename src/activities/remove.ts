import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { AliyunApiError } from '../aliyun/errors';
import type { CloudClient, LifecycleHookContext, ScalingActivity, ScalingInstance } from '../aliyun/types';
import { judgeBusyGroup, type BusyGroup } from './busy-group';
import type { Heartbeat } from './heartbeat';
import type { AcceptedRemoval, RemoveBatchRequest, RemoveBatchResponse } from './types';

/**
 * ClientToken: same batch and instance set → same token; a changed set gets a new one, so the API
 * never sees a mismatch.
 */
export function clientTokenFor(idempotencyKey: string, instanceIds: string[]): string {
  const h = createHash('sha256')
    .update(`${idempotencyKey}|${[...instanceIds].sort().join(',')}`)
    .digest('hex');
  return `esi-${h.slice(0, 40)}`;
}

/**
 * A removal of this batch an attempt knows of: the instance set of a call (its ClientToken follows
 * from it), with the scaling activity once the call was accepted or the instances were found
 * `Removing` under one. Without an activity, the call went out and its answer is unknown.
 */
export interface KnownRemoval {
  ids: string[];
  activity?: string;
}

/**
 * The checkpoint of a removeBatch attempt: the attempt that wrote it and every removal of the batch
 * it knew of (those of the checkpoint it resumed from, then its own). It is only a hint: a
 * heartbeat may be held back by the SDK's throttling and die with the worker, so a retry never
 * concludes from it that nothing was sent. `sent` and `accepted` are the shape written before
 * exactly-once-by-construction; a retry of such an attempt still reads `accepted`.
 */
export interface RemoveCheckpoint {
  attempt?: number;
  removals?: KnownRemoval[];
  /**
   * Attempts that found the group busy with an activity lifecycle hooks hold (busy-group.ts): they do
   * not count against ScalingActivityInProgress's bound. A lost checkpoint makes the bound come sooner, never later.
   */
  hookHeldAttempts?: number;
  sent?: boolean;
  accepted?: string[];
}

/** ESS reports activity times to the minute: look one minute further back than the first attempt. */
const MINUTE = 60_000;

/** Rounds of check-then-send before giving up on a membership that keeps changing. */
const MAX_ROUNDS = 5;

/** Attempts after which a membership that keeps changing fails the batch (as InvalidInstanceId.NotFound did). */
export const MEMBERSHIP_MAX_ATTEMPTS = 10;

/**
 * Instances kept leaving the group between our check and our call, round after round. A condition
 * of our own, not an answer of the API: its type is `MembershipChanged`, never a cloud error code.
 * Retryable until the attempt bound.
 */
export class MembershipChangedError extends ApplicationFailure {
  static readonly code = 'MembershipChanged';
  readonly code = MembershipChangedError.code;

  constructor(
    readonly instanceIds: string[],
    attempt: number,
  ) {
    const exhausted = attempt >= MEMBERSHIP_MAX_ATTEMPTS;
    super(
      `instances kept leaving the scaling group while RemoveInstances was sent for them: ${instanceIds.join(', ')}` +
        (exhausted ? `. Gave up after ${attempt} attempts.` : '; retried'),
      MembershipChangedError.code,
      exhausted,
      [{ code: MembershipChangedError.code, instanceIds }],
    );
  }
}

/** One attempt of removeBatch: what it was given, what it resumed from, and what it has found so far. */
interface Attempt {
  cloud: CloudClient;
  req: RemoveBatchRequest;
  hb: Heartbeat;
  signal: AbortSignal;
  attempt: number;
  /** When the first attempt was scheduled: an earlier attempt's scaling activity started after it. */
  scheduledMs: number;
  /** Any attempt after the first: an earlier one may have been accepted, whatever its checkpoint says. */
  possiblySent: boolean;
  resumed: RemoveCheckpoint | undefined;
  /** Removals of this batch known so far (the checkpoint's, then this attempt's), checkpointed. */
  known: KnownRemoval[];
  /** Instances no longer in the group; each is credited to an activity of this run only when one is found. */
  vanished: string[];
  /** Instances found `Removing` under a scaling activity. */
  removing: Set<string>;
  /** The group's recent activities that may be an earlier attempt's, listed once per attempt. */
  candidates?: ScalingActivity[];
  /** Whether this attempt already waited for an earlier attempt's call to become visible (`visibilityWaitMs`). */
  settled: boolean;
  startedMs: number;
  startedAt: string;
  requestIds: string[];
  removals: AcceptedRemoval[];
  hookHeldAttempts: number;
}

function startAttempt(cloud: CloudClient, req: RemoveBatchRequest, hb: Heartbeat): Attempt {
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const resumed = hb.resumedFrom as RemoveCheckpoint | undefined;
  return {
    cloud,
    req,
    hb,
    signal: ctx.cancellationSignal,
    attempt,
    scheduledMs: ctx.info.scheduledTimestampMs,
    possiblySent: attempt > 1,
    resumed,
    known: (resumed?.removals ?? []).map((k) => ({ ...k, ids: [...k.ids] })),
    vanished: [],
    removing: new Set(),
    settled: false,
    startedMs: Date.now(),
    startedAt: new Date().toISOString(),
    requestIds: [],
    removals: [],
    hookHeldAttempts: resumed?.hookHeldAttempts ?? 0,
  };
}

export async function runRemoveBatch(
  cloud: CloudClient,
  req: RemoveBatchRequest,
  hb: Heartbeat,
): Promise<RemoveBatchResponse> {
  const run = startAttempt(cloud, req, hb);
  try {
    return await removeAll(run);
  } catch (e) {
    if (!(e instanceof AliyunApiError) || e.code !== 'ScalingActivityInProgress') throw e;
    const verdict = await judgeBusyGroup(cloud, busyGroupOf(run), e);
    if (verdict.heldByHooks) run.hookHeldAttempts++;
    checkpoint(run);
    throw verdict.failure;
  }
}

function busyGroupOf(run: Attempt): BusyGroup {
  const { req } = run;
  return {
    regionId: req.regionId,
    scalingGroupId: req.scalingGroupId,
    counted: run.attempt - run.hookHeldAttempts,
    retryDelayCapMs: req.retryDelayCapMs,
    signal: run.signal,
  };
}

/**
 * Rounds of check-then-send, at most MAX_ROUNDS. A first attempt's round 0 sends the whole batch without
 * reading the group first (sendFirst); every other round reads, adopts and sends what is left.
 */
async function removeAll(run: Attempt): Promise<RemoveBatchResponse> {
  let remaining = [...run.req.instanceIds];
  for (let round = 0; round < MAX_ROUNDS && remaining.length; round++) {
    if (round === 0 && !run.possiblySent) {
      remaining = await sendFirst(run, remaining);
      continue;
    }
    remaining = await stillToSend(run, remaining);
    // Before anything is sent again, whatever an earlier attempt may have had accepted is found and adopted.
    if (round === 0 && run.possiblySent) remaining = await adoptEarlierCalls(run, remaining);
    if (!remaining.length) break;
    remaining = await sendRemoval(run, remaining);
  }
  // The membership kept changing under us; let the retry policy try again later.
  if (remaining.length) throw new MembershipChangedError(remaining, run.attempt);
  const { removals, attempt, startedAt, requestIds } = run;
  return { removals, gone: goneEntries(run), attempt, startedAt, requestIds };
}

function checkpoint(run: Attempt): void {
  // A copy: the SDK may convert the details after this attempt has changed them.
  const removals = run.known.map((k) => ({ ...k, ids: [...k.ids] }));
  const held = run.hookHeldAttempts ? { hookHeldAttempts: run.hookHeldAttempts } : {};
  run.hb.beat({ attempt: run.attempt, removals, ...held } satisfies RemoveCheckpoint);
}

/**
 * Reads the group and sorts `ids`: gone ones are set aside (credited later only if an activity of
 * this run is found for them), those already `Removing` are adopted (one removal per scaling
 * activity), the rest are returned, to be sent.
 */
async function stillToSend(run: Attempt, ids: string[]): Promise<string[]> {
  const { req, signal } = run;
  const { instances } = await run.cloud.ess.describeScalingInstances(
    { regionId: req.regionId, scalingGroupId: req.scalingGroupId, instanceIds: ids },
    { signal },
  );
  const present = new Map<string, ScalingInstance>(instances.map((i) => [i.instanceId, i]));
  const toSend: string[] = [];
  for (const id of ids) {
    const inst = present.get(id);
    if (!inst) run.vanished.push(id);
    else if (inst.lifecycleState.startsWith('Removing') && inst.scalingActivityId) {
      run.removing.add(id);
      adopt(run, inst.scalingActivityId, [id]);
    } else toSend.push(id);
  }
  return toSend;
}

/** The instances of `ids` no removal of this attempt covers yet. */
function uncovered(run: Attempt, ids: readonly string[]): string[] {
  const covered = new Set(run.removals.flatMap((r) => r.instanceIds));
  return ids.filter((id) => !covered.has(id));
}

/** Adds `ids` to the adopted removal of `scalingActivityId` (one removal per activity). */
function adopt(run: Attempt, scalingActivityId: string, ids: readonly string[]): void {
  const fresh = uncovered(run, ids);
  if (!fresh.length) return;
  const existing = run.removals.find((r) => r.scalingActivityId === scalingActivityId);
  if (existing) existing.instanceIds.push(...fresh);
  else run.removals.push({ scalingActivityId, instanceIds: fresh, adopted: true, requestId: undefined });
}

/** Vanished instances no removal of this run covers: they left the group, and nothing says we removed them. */
function goneEntries(run: Attempt): RemoveBatchResponse['gone'] {
  const why = run.possiblySent
    ? 'left the scaling group, and no scaling activity of this run was found that removed it'
    : 'left the scaling group before this run removed it';
  return uncovered(run, run.vanished).map((instanceId) => ({ instanceId, why }));
}

/**
 * A retry: an earlier attempt may have been accepted even if no checkpoint says so (the
 * checkpoint may have died with the worker). Before sending, it adopts, in this order, what
 * proves an earlier call: a removal the checkpoint records with its activity, for the instances
 * of that removal; a recent activity of ours that lists some of `toSend` among its failed
 * instances; the answer to the same call made again with the same ClientToken. What it adopts is
 * checkpointed. Returns what is still to send.
 */
async function adoptEarlierCalls(run: Attempt, toSend: string[]): Promise<string[]> {
  const ours = new Set([...toSend, ...run.vanished]);
  await adoptWhatShows(run, toSend, ours);
  // Nothing shows an earlier call for some of them yet: the listing and the instances' states may lag
  // behind it, and with ClientToken ignored the repeated call below would be judged afresh. Look again
  // once it would show.
  if (uncovered(run, [...ours]).length && (await settle(run))) {
    const rest = uncovered(run, toSend);
    toSend = rest.length ? await stillToSend(run, rest) : [];
    run.candidates = undefined;
    await adoptWhatShows(run, toSend, ours);
  }
  if (uncovered(run, [...ours]).length) await replayEarlierCalls(run, uncovered(run, toSend), ours);
  for (const r of run.removals)
    if (!run.known.some((k) => k.activity === r.scalingActivityId && setKey(k.ids) === setKey(r.instanceIds)))
      run.known.push({ ids: [...r.instanceIds], activity: r.scalingActivityId });
  if (run.removals.length) checkpoint(run);
  return uncovered(run, toSend);
}

/**
 * Waits until `visibilityWaitMs` after this attempt started, once per attempt: an earlier
 * attempt's call went out before this attempt started, so by then its activity is listed and its
 * instances show `Removing` (if the lag is no longer than that). False when there is nothing to wait for.
 */
async function settle(run: Attempt): Promise<boolean> {
  if (run.settled) return false;
  run.settled = true;
  const waitMs = run.startedMs + (run.req.visibilityWaitMs ?? 0) - Date.now();
  if (waitMs <= 0) return false;
  await Context.current().sleep(waitMs);
  return true;
}

/** What the checkpoint, the recent activities and the instances' states show of earlier calls, adopted. */
async function adoptWhatShows(run: Attempt, toSend: string[], ours: Set<string>): Promise<void> {
  for (const k of run.known)
    if (k.activity)
      adopt(
        run,
        k.activity,
        k.ids.filter((id) => ours.has(id)),
      );
  // A checkpoint of the older shape names the activity but not its instances: it covers those still to send.
  const legacy = run.resumed?.accepted?.[0];
  if (legacy) adopt(run, legacy, toSend);
  if (uncovered(run, toSend).length) await adoptLostActivities(run, uncovered(run, toSend));
  if (uncovered(run, run.vanished).length) await adoptRemovingActivities(run, uncovered(run, run.vanished));
}

/**
 * The group's recent scaling activities that may be an earlier attempt's: those this run already
 * knows (its other batches, another run's adopted ones) and those that started before the first
 * attempt was scheduled are left out. ESS gives times to the minute, so the window opens one
 * minute early. Listed once per attempt.
 */
async function candidateActivities(run: Attempt): Promise<ScalingActivity[]> {
  if (run.candidates) return run.candidates;
  const { req, signal } = run;
  const { activities } = await run.cloud.ess.recentScalingActivities(req.regionId, req.scalingGroupId, { signal });
  const known = new Set(req.knownScalingActivityIds ?? []);
  const notBefore = Math.floor(run.scheduledMs / MINUTE) * MINUTE - MINUTE;
  run.candidates = activities.filter((a) => !known.has(a.scalingActivityId) && Date.parse(a.startTime) >= notBefore);
  return run.candidates;
}

/**
 * Adopts the scaling activities an earlier attempt's lost calls created, found after they ended.
 * Only an activity that names some of these instances among its failed ones counts: one that
 * removed them all leaves nothing to send, one still running shows them `Removing`, and a recent
 * activity of another run or actor must not be taken for ours.
 */
async function adoptLostActivities(run: Attempt, toSend: string[]): Promise<void> {
  for (const a of await candidateActivities(run)) {
    const failed = new Set(a.failedInstanceIds);
    adopt(
      run,
      a.scalingActivityId,
      toSend.filter((id) => failed.has(id)),
    );
  }
}

/**
 * Credits instances that left the group to the activity that removed them, when one is found: a
 * candidate activity that lists them as released (`DestroyedInstances`) or stopped
 * (`StoppedInstances`), and names no instance outside this batch (every call of this batch sends
 * a subset of it, so an activity that names another instance is another actor's). An instance no
 * such activity lists is not credited: another actor may have detached or removed it.
 */
async function adoptRemovingActivities(run: Attempt, vanished: string[]): Promise<void> {
  const batch = new Set(run.req.instanceIds);
  for (const a of await candidateActivities(run)) {
    const removed = new Set([...(a.destroyedInstanceIds ?? []), ...(a.stoppedInstanceIds ?? [])]);
    if (![...removed, ...a.failedInstanceIds].every((id) => batch.has(id))) continue;
    adopt(
      run,
      a.scalingActivityId,
      vanished.filter((id) => removed.has(id)),
    );
  }
}

/**
 * DescribeScalingActivities may not list a just-accepted activity for a while, and a vanished
 * instance names no activity at all. So the calls an earlier attempt may have made are made
 * again, with the same instance set and so the same ClientToken: ESS answers a repeated
 * ClientToken with the ScalingActivityId of the call that first used it, without doing anything
 * (docs/emulator.md, RemoveInstances step 3), which both finds our activity and proves which
 * instances it was given. If the token was never accepted, the call is judged afresh: with an
 * instance gone or already Removing it is refused (4xx) and nothing happens; with all of them
 * present it is a call this attempt would make anyway. A new token is never used for instances an
 * earlier call may have covered before these calls are made. The candidates are the calls the
 * checkpoint records without an answer, and the whole batch, which is what a first call sends
 * unless instances had already left.
 */
async function replayEarlierCalls(run: Attempt, toSend: string[], ours: Set<string>): Promise<void> {
  const seen = new Set<string>([setKey(toSend)]);
  // A set the API could accept afresh must hold only what this attempt sends anyway (never an
  // instance an activity already covers that is InService again, a failed one); a set with an
  // instance gone or Removing is always refused unless it is a replay.
  const sentAnyway = new Set(toSend);
  const refusedAfresh = (id: string) => run.vanished.includes(id) || run.removing.has(id);
  const safe = (ids: string[]) => ids.some(refusedAfresh) || ids.every((id) => sentAnyway.has(id));
  const candidates = [...run.known.filter((k) => !k.activity).map((k) => k.ids), run.req.instanceIds];
  for (const ids of candidates) {
    const key = setKey(ids);
    if (seen.has(key) || !safe(ids)) continue;
    if (!uncovered(run, ids).some((id) => ours.has(id))) continue;
    seen.add(key);
    const activityId = await replay(run, ids);
    if (activityId)
      adopt(
        run,
        activityId,
        ids.filter((id) => ours.has(id)),
      );
  }
}

function setKey(ids: readonly string[]): string {
  return [...ids].sort().join(',');
}

/**
 * The refusals that say this instance set cannot be a new call: the token was never accepted, and
 * nothing happened now. Any other answer (throttling, an activity in progress, a 5xx, a timeout)
 * says nothing about the token, so the attempt fails and is retried before it concludes anything.
 */
const NOT_A_REPLAY = new Set(['InvalidInstanceId.NotFound', 'IncorrectInstanceStatus']);

/** The same call again: its activity if ESS remembers the token, undefined if the call is refused as new. */
async function replay(run: Attempt, ids: string[]): Promise<string | undefined> {
  try {
    return await call(run, ids);
  } catch (e) {
    if (e instanceof AliyunApiError && NOT_A_REPLAY.has(e.code)) {
      if (e.requestId) run.requestIds.push(e.requestId);
      return undefined;
    }
    throw e;
  }
}

/** One RemoveInstances call, checkpointed before it goes out and again once it is accepted. */
async function call(run: Attempt, ids: string[]): Promise<string> {
  const { req, signal } = run;
  const record: KnownRemoval = { ids: [...ids] };
  run.known.push(record);
  checkpoint(run);
  const res = await run.cloud.ess.removeInstances(
    {
      regionId: req.regionId,
      scalingGroupId: req.scalingGroupId,
      instanceIds: ids,
      removePolicy: req.removePolicy,
      decreaseDesiredCapacity: req.decreaseDesiredCapacity,
      clientToken: clientTokenFor(req.idempotencyKey, ids),
      lifecycleHookContext: hookContextOf(req.skipHooks),
    },
    { signal },
  );
  run.requestIds.push(res.requestId);
  record.activity = res.scalingActivityId;
  checkpoint(run);
  return res.scalingActivityId;
}

/** After a read: only an instance that left the group between the read and the call makes it read again. */
const LEFT_MEANWHILE: ReadonlySet<string> = new Set(['InvalidInstanceId.NotFound']);

/**
 * Sends `toSend`. Returns what is left to send: nothing once accepted, all of `toSend` when the call
 * is refused with one of `readAgainOn` (by default: some instance left the group meanwhile).
 */
async function sendRemoval(run: Attempt, toSend: string[], readAgainOn = LEFT_MEANWHILE): Promise<string[]> {
  try {
    const scalingActivityId = await call(run, toSend);
    const requestId = run.requestIds[run.requestIds.length - 1];
    run.removals.push({ scalingActivityId, instanceIds: toSend, adopted: false, requestId });
    return [];
  } catch (e) {
    // Refused, nothing done: check the group again, then send the rest.
    if (e instanceof AliyunApiError && readAgainOn.has(e.code)) {
      if (e.requestId) run.requestIds.push(e.requestId);
      return toSend;
    }
    throw e;
  }
}

/**
 * A first attempt's round 0: the whole batch, under its own ClientToken, without reading the group
 * first. Nothing of this batch can have been sent before, and ESS refuses the whole call, doing
 * nothing, when an instance is not in the group (`InvalidInstanceId.NotFound`) or not in a state it
 * can remove (`IncorrectInstanceStatus`; docs/emulator.md, RemoveInstances step 8). On exactly those
 * refusals the next round reads the group (stillToSend): the gone are set aside, those `Removing`
 * adopted, the rest sent. Any other error is thrown, as after a read.
 */
function sendFirst(run: Attempt, batch: string[]): Promise<string[]> {
  return sendRemoval(run, batch, REFUSED_AS_A_WHOLE);
}

/** The refusals of a whole call that leave the group as it was and say "read the group": see sendFirst. */
const REFUSED_AS_A_WHOLE: ReadonlySet<string> = new Set(['InvalidInstanceId.NotFound', 'IncorrectInstanceStatus']);

/** LifecycleHookContext for RemoveInstances: none unless the run bypasses hooks (input lifecycleHooks mode `skip`). */
export function hookContextOf(skip: RemoveBatchRequest['skipHooks']): LifecycleHookContext | undefined {
  if (skip?.all) return { disableLifecycleHook: true };
  if (skip?.hookIds.length) return { ignoredLifecycleHookIds: [...skip.hookIds] };
  return undefined;
}
