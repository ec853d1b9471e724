import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { ScaleInResult } from '../shared/progress';
import { SCALE_IN_WORKFLOW_TYPE } from '../workflows/definitions';
import { auditFromHistories, type AuditError, type InstanceAudit } from './audit-history';
import { RunNotFoundError } from './index';

export { auditFromHistories } from './audit-history';
export type { AuditError, DrainChange, HistoryAudit, InstanceAudit } from './audit-history';

/** `show` of a workflow that is not a scale-in run (e.g. a repair or a window). */
export class NotAScaleInRunError extends Error {
  override readonly name = 'NotAScaleInRunError' as const;
  readonly code = 'NotAScaleInRun' as const;
  constructor(
    readonly workflowId: string,
    type: string,
  ) {
    super(`${workflowId} is a ${type} workflow, not a scale-in run: nothing to audit`);
  }
}

/**
 * The audit trail of one run, read from its history: `ok`…`closeTime` and `outcome`, `result` or
 * `error` as every run's JSON has them (docs/run.schema.json), then the chain and each instance.
 */
export interface RunAudit {
  ok: boolean;
  workflowId: string;
  runId: string;
  startTime: string;
  closeTime: string | null;
  /** The workflow execution status of the chain's last run (RUNNING while in flight). */
  status: string;
  outcome: string;
  result: ScaleInResult | null;
  error?: AuditError;
  regionId: string;
  scalingGroupId: string;
  /** The runs of its continue-as-new chain, oldest first (the run asked for among them). */
  runIds: string[];
  instances: InstanceAudit[];
}

type History = temporal.api.history.v1.IHistory;

/** How many runs of one continue-as-new chain are read at most. */
const MAX_CHAIN = 1000;

/**
 * Reads the run (the latest of the workflow ID, or `runId`) and the runs of its continue-as-new
 * chain before and after it, finished or running, and returns its audit trail. Works while the
 * histories are retained; a missing run is RunNotFoundError.
 */
export async function auditRun(client: Client, workflowId: string, runId?: string): Promise<RunAudit> {
  const desc = await client.workflow
    .getHandle(workflowId, runId)
    .describe()
    .catch((e: unknown) => {
      throw e instanceof WorkflowNotFoundError ? new RunNotFoundError(workflowId, runId) : e;
    });
  if (desc.type !== SCALE_IN_WORKFLOW_TYPE) throw new NotAScaleInRunError(workflowId, desc.type);
  const chain = await chainAround(client, workflowId, desc.runId);
  const audit = auditFromHistories(
    chain.map((c) => c.history),
    client.options.loadedDataConverter.payloadConverter,
  );
  const last = chain.at(-1)?.runId ?? desc.runId;
  const lastDesc = last === desc.runId ? desc : await client.workflow.getHandle(workflowId, last).describe();
  const closed = audit.closed;
  const result = closed?.result ?? null;
  const outcome = result?.outcome ?? outcomeOfStatus(closed?.status);
  return {
    ok: outcome === 'completed' || outcome === 'dry-run',
    workflowId,
    runId: desc.runId,
    startTime: desc.startTime.toISOString(),
    closeTime: lastDesc.closeTime?.toISOString() ?? null,
    status: lastDesc.status.name,
    outcome,
    result,
    ...(closed?.error ? { error: closed.error } : {}),
    regionId: audit.regionId,
    scalingGroupId: audit.scalingGroupId,
    runIds: chain.map((c) => c.runId),
    instances: audit.instances,
  };
}

function outcomeOfStatus(status: string | undefined): string {
  switch (status) {
    case undefined:
      return 'in-progress';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed-out';
    default:
      return 'failed';
  }
}

/** The run's history and those of its chain: the runs it continued from, then those that continued it. */
async function chainAround(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<Array<{ runId: string; history: History }>> {
  const fetch = (id: string) => client.workflow.getHandle(workflowId, id).fetchHistory();
  const own = { runId, history: await fetch(runId) };
  const chain = [own];
  for (let h = own.history; chain.length < MAX_CHAIN;) {
    const prev = h.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!prev) break;
    // An earlier run past retention: the audit starts where the histories do.
    const history = await fetch(prev).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (!history) break;
    chain.unshift({ runId: prev, history });
    h = history;
  }
  for (let h = own.history; chain.length < MAX_CHAIN;) {
    const next = h.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) break;
    const history = await fetch(next);
    chain.push({ runId: next, history });
    h = history;
  }
  return chain;
}

/** fetchHistory hands the raw gRPC error over: NOT_FOUND is code 5. */
function isNotFound(e: unknown): boolean {
  return e instanceof WorkflowNotFoundError || (isGrpcServiceError(e) && e.code === 5);
}
