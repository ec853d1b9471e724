import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  startChild,
  type ChildWorkflowHandle,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { ScaleInInput } from '../../shared/input';
import type { ScaleInResult } from '../../shared/progress';
import { SA_INSTANCES_TOTAL, SA_REGION_ID, SA_SCALING_GROUP_ID } from '../../shared/search-attributes';
import type { NormalizedWindowInput } from '../../shared/window';
import { SCALE_IN_WORKFLOW_TYPE } from '../definitions';
import type { scaleIn } from '../scale-in';

export type ChildEnd = { ok: true; value: ScaleInResult } | { ok: false; error: unknown };

export interface ChildFailure {
  type: string;
  message: string;
  details: unknown[];
  cancelled: boolean;
}

/** The window's scale-in run, started in a scope whose cancel cancels the child. */
export interface ChildRun {
  id: string;
  scope: CancellationScope;
  handle: ChildWorkflowHandle<typeof scaleIn>;
}

/** The child's input: the window's knobs, its picks, and a reason naming the window. */
export function childInput(info: WorkflowInfo, input: NormalizedWindowInput, picks: string[]): ScaleInInput {
  const { target } = input;
  const amount = target.kind === 'count' ? `count ${target.count}` : `targetCapacity ${target.targetCapacity}`;
  return {
    ...input.passthrough,
    regionId: input.regionId,
    scalingGroupId: input.scalingGroupId,
    instanceIds: picks,
    reason: input.passthrough.reason ?? `scheduled window ${info.workflowId}: ${input.selection}, ${amount}`,
  };
}

/** Starts the run under the group's one-run-per-group workflow ID (`id`, from workflowIdFor). */
export async function startChildRun(
  id: string,
  info: WorkflowInfo,
  input: NormalizedWindowInput,
  picks: string[],
): Promise<ChildRun> {
  // Cancelling this scope cancels the child, and its result then waits for the child's cleanup.
  const scope = new CancellationScope();
  const handle = await scope.run(() =>
    startChild<typeof scaleIn>(SCALE_IN_WORKFLOW_TYPE, {
      workflowId: id,
      args: [childInput(info, input, picks)],
      parentClosePolicy: 'REQUEST_CANCEL',
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      typedSearchAttributes: [
        { key: SA_SCALING_GROUP_ID, value: input.scalingGroupId },
        { key: SA_REGION_ID, value: input.regionId },
        { key: SA_INSTANCES_TOTAL, value: picks.length },
      ],
      staticSummary:
        `Scale in ${input.scalingGroupId} (${input.regionId}): ` +
        `remove ${picks.length} instance(s), scheduled window ${info.workflowId}`,
    }),
  );
  return { id, scope, handle };
}

export function endOf(child: ChildRun): Promise<ChildEnd> {
  return child.handle.result().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export function childFailureOf(e: unknown): ChildFailure {
  const cause = e instanceof ChildWorkflowFailure ? e.cause : e;
  if (cause instanceof CancelledFailure)
    return { type: 'CancelledFailure', message: cause.message || 'cancelled', details: [], cancelled: true };
  if (cause instanceof ApplicationFailure)
    return {
      type: cause.type ?? 'ApplicationFailure',
      message: cause.message,
      details: cause.details ? [...cause.details] : [],
      cancelled: false,
    };
  if (cause instanceof Error) return { type: cause.name, message: cause.message, details: [], cancelled: false };
  return { type: 'ChildFailed', message: String(cause), details: [], cancelled: false };
}
