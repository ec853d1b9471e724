import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { connectionOptions, temporalConfigFromEnv, type TemporalConfig } from '../config';
import { validateInput, workflowIdFor, type ScaleInInput } from '../shared/input';
import { isScaleInResult, type ProgressSnapshot, type ScaleInResult } from '../shared/progress';
import {
  ALL_SEARCH_ATTRIBUTES,
  SA_INSTANCES_TOTAL,
  SA_PHASE,
  SA_REGION_ID,
  SA_SCALING_GROUP_ID,
} from '../shared/search-attributes';
import { isMissingSearchAttribute, missingSearchAttributes, SearchAttributesMissingError } from './namespace';
import {
  approveUpdate,
  endDrainUpdate,
  noteCancelUpdate,
  pauseUpdate,
  progressQuery,
  resultQuery,
  resumeUpdate,
  SCALE_IN_WORKFLOW_TYPE,
  type CancelArgs,
  type ControlArgs,
  type ControlState,
  type PauseArgs,
} from '../workflows/definitions';
import type { scaleIn } from '../workflows/scale-in';
import { withFollowedRemovals } from './followed-removals';

/** About 15 s of asking for a cancelled run's result while its worker comes back. */
const RESULT_QUERY_ATTEMPTS = 7;

export { InvalidInputError, validateInput, workflowIdFor } from '../shared/input';
export type { ScaleInInput } from '../shared/input';
export type * from '../shared/progress';
export type { CancelArgs, ControlArgs, ControlState, PauseArgs } from '../workflows/definitions';

/** A run is already active for this scaling group: one run per group at a time. */
/** The Temporal frontend did not answer within the connect timeout: nothing was asked of it. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError' as const;
  readonly code = 'TemporalUnreachable' as const;
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`cannot reach Temporal at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class RunAlreadyActiveError extends Error {
  override readonly name = 'RunAlreadyActiveError' as const;
  readonly code = 'RunAlreadyActive' as const;
  constructor(
    readonly workflowId: string,
    readonly runId: string | undefined,
    readonly activeRequestId: string | undefined,
  ) {
    super(
      `A scale-in is already running for this scaling group: workflow ${workflowId}` +
        `${runId ? ` (run ${runId})` : ''}. Wait for it (ess-scale-in watch ${workflowId}), or cancel it first.`,
    );
  }
}

/** The run ended without completing; `result` holds what was done, when the workflow reported it. */
export class ScaleInFailedError extends Error {
  override readonly name = 'ScaleInFailedError' as const;
  constructor(
    readonly code: string,
    message: string,
    readonly workflowId: string,
    readonly result: ScaleInResult | undefined,
    readonly details: unknown,
  ) {
    super(message);
  }
}

/** The workflow refused a control request (e.g. approve on a run that needs no approval). */
export class ControlRejectedError extends Error {
  override readonly name = 'ControlRejectedError' as const;
  readonly code = 'ControlRejected' as const;
  constructor(
    readonly workflowId: string,
    reason: string,
  ) {
    super(`${workflowId} refused the request: ${reason}`);
  }
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError' as const;
  readonly code = 'RunNotFound' as const;
  /** `runId`: the run asked for (`--run-id`), when one was; absent means "the latest run". */
  constructor(
    readonly workflowId: string,
    readonly runId?: string,
  ) {
    super(
      runId
        ? `No run ${runId} of scale-in ${workflowId} (--run-id): check the run ID; ` +
            `the runs of this workflow are listed by: ess-scale-in list --query "WorkflowId='${workflowId}'"`
        : `No scale-in run ${workflowId}. ` +
            'List runs with: ess-scale-in list (or filter EssScalingGroupId in the Temporal UI).',
    );
  }
}

export interface ScaleInClientOptions {
  temporal?: TemporalConfig;
  /** Reuse an existing client (e.g. a test environment's). */
  client?: Client;
  /** How long to wait for the frontend to answer (default the SDK's, 10 s; the CLI uses 3 s). */
  connectTimeoutMs?: number;
}

export interface StartOptions {
  /** Override the task queue of the config. */
  taskQueue?: string;
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  /** True when a run with the same requestId was already active and is returned instead. */
  existing: boolean;
}

/**
 * What services use to drive scale-ins: start (idempotent per requestId), progress, result,
 * pause/resume/approve/endDrain/cancel. Inputs are validated here, before anything is started.
 */
export class ScaleInClient {
  private constructor(
    readonly client: Client,
    readonly config: TemporalConfig,
    private readonly ownsConnection: Connection | undefined,
  ) {}

  static async connect(opts: ScaleInClientOptions = {}): Promise<ScaleInClient> {
    const config = opts.temporal ?? temporalConfigFromEnv();
    if (opts.client) return new ScaleInClient(opts.client, config, undefined);
    let connection: Connection;
    try {
      connection = await Connection.connect({
        ...connectionOptions(config),
        ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeout: opts.connectTimeoutMs }),
      });
    } catch (e) {
      throw new TemporalUnreachableError(config.address, e);
    }
    return new ScaleInClient(new Client({ connection, namespace: config.namespace }), config, connection);
  }

  async close(): Promise<void> {
    await this.ownsConnection?.close();
  }

  async start(input: ScaleInInput, opts: StartOptions = {}): Promise<StartedRun> {
    const normalized = validateInput(input);
    const workflowId = workflowIdFor(normalized.regionId, normalized.scalingGroupId);
    try {
      const handle = await this.client.workflow.start<typeof scaleIn>(SCALE_IN_WORKFLOW_TYPE, {
        taskQueue: opts.taskQueue ?? this.config.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: { requestId: normalized.requestId ?? null, reason: normalized.reason ?? null },
        typedSearchAttributes: [
          { key: SA_SCALING_GROUP_ID, value: normalized.scalingGroupId },
          { key: SA_REGION_ID, value: normalized.regionId },
          { key: SA_PHASE, value: 'Preflight' },
          { key: SA_INSTANCES_TOTAL, value: normalized.instanceIds.length },
        ],
        staticSummary:
          `Scale in ${normalized.scalingGroupId} (${normalized.regionId}): ` +
          `remove ${normalized.instanceIds.length} instance(s)${normalized.dryRun ? ' [dry run]' : ''}`,
        staticDetails: staticDetails(normalized),
      });
      return { workflowId, runId: handle.firstExecutionRunId, existing: false };
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        const desc = await this.client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        const activeRequestId = (desc?.memo as { requestId?: string } | undefined)?.requestId ?? undefined;
        if (normalized.requestId && activeRequestId === normalized.requestId && desc) {
          return { workflowId, runId: desc.runId, existing: true };
        }
        throw new RunAlreadyActiveError(workflowId, desc?.runId, activeRequestId);
      }
      throw await this.explainedStartFailure(e);
    }
  }

  /** A start the server refused for lack of the project's search attributes names them and the fix. */
  private async explainedStartFailure(e: unknown): Promise<unknown> {
    const detail = isMissingSearchAttribute(e);
    if (!detail) return e;
    const namespace = this.client.options.namespace;
    const missing = await missingSearchAttributes(this.client.connection, namespace).catch(() =>
      ALL_SEARCH_ATTRIBUTES.map((a) => ({ name: a.name, type: a.type })),
    );
    return new SearchAttributesMissingError(namespace, missing, detail);
  }

  /** The latest run of the workflow ID, or the given run (`runId`). */
  handle(workflowId: string, runId?: string): WorkflowHandle<typeof scaleIn> {
    return this.client.workflow.getHandle<typeof scaleIn>(workflowId, runId);
  }

  /**
   * The run's progress query, with what a running removeBatch's heartbeat says of its accepted call
   * (followed-removals.ts): the workflow learns of it only when the activity ends.
   */
  async progress(workflowId: string, runId?: string): Promise<ProgressSnapshot> {
    return this.wrap(
      workflowId,
      async () => {
        const handle = this.handle(workflowId, runId);
        const snapshot = await handle.query(progressQuery);
        if (!snapshot.batches.some((b) => b.state === 'removing')) return snapshot;
        const desc = await handle.describe().catch(() => undefined);
        return withFollowedRemovals(snapshot, desc, this.client.options.loadedDataConverter.payloadConverter);
      },
      runId,
    );
  }

  /**
   * Waits for the end (of `runId`, or the latest run, following continue-as-new). Resolves with the
   * result of a completed run; throws ScaleInFailedError otherwise.
   */
  async result(workflowId: string, runId?: string): Promise<ScaleInResult> {
    try {
      return await this.handle(workflowId, runId).result();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId, runId);
      if (e instanceof WorkflowFailedError) {
        const cause = e.cause;
        if (cause instanceof ApplicationFailure) {
          const detail = cause.details?.[0];
          const result = isScaleInResult(detail) ? detail : undefined;
          throw new ScaleInFailedError(cause.type ?? 'Failed', cause.message, workflowId, result, cause.details);
        }
        // A cancelled run ends without details; its result query still has what was done.
        const result = cause instanceof CancelledFailure ? await this.cancelledResult(workflowId, runId) : undefined;
        throw new ScaleInFailedError(
          cause?.name ?? 'Failed',
          cause?.message ?? e.message,
          workflowId,
          result,
          undefined,
        );
      }
      throw e;
    }
  }

  /**
   * A closed run's result query needs a worker to replay its history: a worker that is restarting
   * or busy must not turn the report of a cancelled run into "no result", so it is asked again.
   */
  private async cancelledResult(workflowId: string, runId?: string): Promise<ScaleInResult | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.handle(workflowId, runId).query(resultQuery);
        return isScaleInResult(result) ? result : undefined;
      } catch (e) {
        if (attempt >= RESULT_QUERY_ATTEMPTS || e instanceof WorkflowNotFoundError) return undefined;
        await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** (attempt - 1), 4000)));
      }
    }
  }

  /** `runId` (optional, last): a given run of the workflow instead of the latest; the same for each control. */
  /** With `restore: true`, drained batches not yet removed get their traffic back (the update returns after). */
  pause(workflowId: string, args: PauseArgs = {}, runId?: string): Promise<ControlState> {
    const update = () => this.handle(workflowId, runId).executeUpdate(pauseUpdate, { args: [args] });
    return this.wrap(workflowId, update, runId);
  }
  resume(workflowId: string, args: ControlArgs = {}, runId?: string): Promise<ControlState> {
    const update = () => this.handle(workflowId, runId).executeUpdate(resumeUpdate, { args: [args] });
    return this.wrap(workflowId, update, runId);
  }
  approve(workflowId: string, args: ControlArgs = {}, runId?: string): Promise<ControlState> {
    const update = () => this.handle(workflowId, runId).executeUpdate(approveUpdate, { args: [args] });
    return this.wrap(workflowId, update, runId);
  }
  endDrain(workflowId: string, args: ControlArgs = {}, runId?: string): Promise<ControlState> {
    const update = () => this.handle(workflowId, runId).executeUpdate(endDrainUpdate, { args: [args] });
    return this.wrap(workflowId, update, runId);
  }
  /** Cancels the run (the latest, or `runId`): no new batch starts, drained instances get their traffic back. */
  async cancel(workflowId: string, runId?: string, note?: CancelArgs): Promise<void> {
    // The server accepts a cancel of a closed run silently; say that it ended instead.
    const describe = async () => (await this.handle(workflowId, runId).describe()).status.name;
    const status = await this.wrap(workflowId, describe, runId);
    if (status !== 'RUNNING') throw new ControlRejectedError(workflowId, `the run already ended (${status})`);
    // A Temporal cancel carries no reason: who and why reach the run first, through an update.
    if (note?.by || note?.reason) await this.noteCancel(workflowId, note, runId);
    await this.wrap(workflowId, () => this.handle(workflowId, runId).cancel(), runId);
  }

  /** Runs of workers from before `cancel --reason` know no noteCancel update: they are cancelled all the same. */
  private async noteCancel(workflowId: string, note: CancelArgs, runId?: string): Promise<void> {
    const update = () => this.handle(workflowId, runId).executeUpdate(noteCancelUpdate, { args: [note] });
    try {
      await this.wrap(workflowId, update, runId);
    } catch (e) {
      if (!(e instanceof ControlRejectedError && /no registered handler|unknown update/i.test(e.message))) throw e;
    }
  }

  private async wrap<T>(workflowId: string, fn: () => Promise<T>, runId?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        // Updates to a closed run also answer "not found": tell the two apart.
        const status = await this.handle(workflowId, runId)
          .describe()
          .then(
            (d) => d.status.name,
            () => undefined,
          );
        if (status) throw new ControlRejectedError(workflowId, `the run already ended (${status})`);
        throw new RunNotFoundError(workflowId, runId);
      }
      if (e instanceof WorkflowUpdateFailedError)
        throw new ControlRejectedError(workflowId, e.cause?.message ?? e.message);
      throw e;
    }
  }
}

function staticDetails(n: ReturnType<typeof validateInput>): string {
  return [
    `| field | value |`,
    `|---|---|`,
    `| scaling group | ${n.scalingGroupId} (${n.regionId}) |`,
    `| instances | ${n.instanceIds.length} in batches of ${n.batchSize} |`,
    `| remove policy | ${n.removePolicy}, decrease desired capacity: ${n.decreaseDesiredCapacity} |`,
    `| drain | ${n.drain.strategy}, ${n.drain.timeoutSeconds}s, at most ${n.drain.maxDrainedAhead} ahead |`,
    `| on batch failure | ${n.onBatchFailure} |`,
    `| dry run / approval | ${n.dryRun} / ${n.requireApproval} |`,
    ...(n.reason ? [`| reason | ${n.reason.replace(/\|/g, '/')} |`] : []),
    ...(n.requestId ? [`| request ID | ${n.requestId} |`] : []),
  ].join('\n');
}
export * from './schedules';
export {
  InvalidWindowInputError,
  validateWindowInput,
  windowIdFor,
  SELECTION_POLICIES,
  WINDOW_WORKFLOW_TYPE,
} from '../shared/window';
export type {
  ScaleInWindowInput,
  ScaleInWindowResult,
  SelectionPolicy,
  WindowOutcome,
  WindowSelection,
} from '../shared/window';
export * from './repair';
export * from './namespace';
