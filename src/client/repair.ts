import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { restoreInstanceId, type RestoreRecord } from '../shared/restore';
import { SCALE_IN_WORKFLOW_TYPE } from '../workflows/definitions';
import {
  REPAIR_WORKFLOW_TYPE,
  mergeRepairResults,
  repairWorkflowIdFor,
  settleSecondsFor,
  type RepairInput,
  type RepairResult,
  type RepairTarget,
} from '../workflows/repair/shape';
import type { repairDrained } from '../workflows/repair';
import { drainedFromHistories, type OpenActivity } from './repair-history';

export { drainedFromHistories, type DrainedRecords, type OpenActivity } from './repair-history';
export type { RepairInput, RepairInstanceReport, RepairResult, RepairTarget } from '../workflows/repair/shape';
export { repairWorkflowIdFor } from '../workflows/repair/shape';

/** The repair cannot go ahead: the run is still active, or a repair of it is already running. */
export class RepairRefusedError extends Error {
  override readonly name = 'RepairRefusedError' as const;
  readonly code = 'RepairRefused' as const;
  constructor(
    readonly workflowId: string,
    reason: string,
  ) {
    super(`cannot repair ${workflowId}: ${reason}`);
  }
}

/** The run (or its history) is not there: never started, or past the namespace's retention. */
export class RepairTargetNotFoundError extends Error {
  override readonly name = 'RepairTargetNotFoundError' as const;
  readonly code = 'RunNotFound' as const;
  constructor(
    readonly workflowId: string,
    runId: string | undefined,
  ) {
    super(
      `No history for ${workflowId}${runId ? ` run ${runId}` : ''}: it never ran, or it is older than the ` +
        "namespace's retention. Restore the weights by hand (CLB/ALB console, or SetBackendServers / " +
        'SetVServerGroupAttribute / UpdateServerGroupServersAttribute).',
    );
  }
}

export interface RepairOptions {
  workflowId: string;
  /** A run of the chain; default the latest run, which must have ended. */
  runId?: string | undefined;
  taskQueue: string;
  /** Told before the repair waits for activities the run left running (see settleSecondsFor). */
  onSettle?: ((seconds: number, open: readonly OpenActivity[]) => void) | undefined;
}

/** How many runs of one continue-as-new chain are read at most (a chain of 10,000 instances has 5). */
const MAX_CHAIN = 1000;

/**
 * Reads the run's history (every run of its continue-as-new chain), works out what it drained and
 * did not remove, and runs the `repairDrained` workflow, which restores and verifies each weight
 * in the worker. Works while the histories are retained.
 */
export async function repairRun(client: Client, opts: RepairOptions): Promise<RepairResult> {
  const target = await endedRun(client, opts.workflowId, opts.runId);
  const histories = await chainHistories(client, target);
  const drained = drainedFromHistories(histories, client.options.loadedDataConverter.payloadConverter);
  const input: RepairInput = {
    regionId: drained.regionId,
    scalingGroupId: drained.scalingGroupId,
    target,
    restore: drained.restore,
    removed: drained.removed,
    settleSeconds: settleSecondsFor(drained.openAtClose, drained.closedAtMs, Date.now()),
  };
  if (input.settleSeconds) opts.onSettle?.(input.settleSeconds, drained.openAtClose);
  const repairId = repairWorkflowIdFor(target);
  const parts = byInstance(drained.restore, INSTANCES_PER_REPAIR);
  if (parts.length <= 1) return startRepair(client, opts.taskQueue, repairId, input);
  const results: RepairResult[] = [];
  for (const [k, restore] of parts.entries()) {
    const part = { ...input, restore, removed: k === 0 ? input.removed : [] };
    results.push(await startRepair(client, opts.taskQueue, `${repairId}/part-${k + 1}`, part));
  }
  return mergeRepairResults(target, results);
}

/** Instances per repairDrained workflow: its input and report stay far below Temporal's 2 MB payload limit. */
const INSTANCES_PER_REPAIR = 1000;

/** The records in groups of at most `max` instances, every record of one instance in the same group. */
function byInstance(records: RestoreRecord[], max: number): RestoreRecord[][] {
  const ids = [...new Set(records.map(restoreInstanceId))];
  const groupOf = new Map(ids.map((id, k) => [id, Math.floor(k / max)]));
  const groups: RestoreRecord[][] = [];
  for (const r of records) (groups[groupOf.get(restoreInstanceId(r)) ?? 0] ??= []).push(r);
  return groups;
}

/** One repairDrained workflow; its ID is deterministic, so a second repair of the same run is refused. */
async function startRepair(client: Client, taskQueue: string, repairId: string, input: RepairInput) {
  const { target } = input;
  try {
    const handle = await client.workflow.start<typeof repairDrained>(REPAIR_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: repairId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Repair ${target.workflowId}: restore what run ${target.runId} left drained`,
    });
    return await handle.result();
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError)
      throw new RepairRefusedError(target.workflowId, `a repair of this run is already running (${repairId})`);
    throw e;
  }
}

/** The run to repair: it must be a scale-in and must have ended (an active run restores on cancel). */
async function endedRun(client: Client, workflowId: string, runId: string | undefined): Promise<RepairTarget> {
  let desc: WorkflowExecutionDescription;
  try {
    desc = await client.workflow.getHandle(workflowId, runId).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new RepairTargetNotFoundError(workflowId, runId);
    throw e;
  }
  if (desc.type !== SCALE_IN_WORKFLOW_TYPE)
    throw new RepairRefusedError(workflowId, `it is a ${desc.type} workflow, not a scale-in run`);
  // A run of the group that is active now may have drained the same instances again: not while it runs.
  const latest = runId ? await client.workflow.getHandle(workflowId).describe() : desc;
  if (latest.status.name === 'RUNNING')
    throw new RepairRefusedError(
      workflowId,
      `run ${latest.runId} is still running; cancel it instead (ess-scale-in cancel ${workflowId}): ` +
        'a cancel restores what it drained. Repair is for runs that ended without restoring ' +
        '(terminated, or failed for good).',
    );
  return { workflowId, runId: desc.runId };
}

type History = temporal.api.history.v1.IHistory;

/** The target run's history and those of the runs it continued from, oldest first. */
async function chainHistories(client: Client, target: RepairTarget): Promise<History[]> {
  const histories: History[] = [];
  for (let runId: string | undefined = target.runId; runId && histories.length < MAX_CHAIN;) {
    let history: History;
    try {
      history = await client.workflow.getHandle(target.workflowId, runId).fetchHistory();
    } catch (e) {
      // An earlier run may be past retention while the last is not: its carry still has the drains.
      if (!isNotFound(e)) throw e;
      if (histories.length) break;
      throw new RepairTargetNotFoundError(target.workflowId, runId);
    }
    histories.unshift(history);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runId = started?.continuedExecutionRunId || undefined;
  }
  return histories;
}

/** fetchHistory hands the raw gRPC error over: NOT_FOUND is code 5. */
function isNotFound(e: unknown): boolean {
  return e instanceof WorkflowNotFoundError || (isGrpcServiceError(e) && e.code === 5);
}
