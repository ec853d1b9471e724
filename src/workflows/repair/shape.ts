import type { RepairOutcome, RepairPlace } from '../../activities/verify';
import type { RestoreRecord } from '../../shared/restore';

/**
 * The repair workflow's input and result, and the plain functions both sides share. No
 * @temporalio/workflow import: the client and the CLI load this file too.
 */
export const REPAIR_WORKFLOW_TYPE = 'repairDrained';

export interface RepairTarget {
  /** The scale-in's workflow ID, e.g. `ess-scale-in/cn-hangzhou/asg-…`. */
  workflowId: string;
  /** The run that left instances drained (the last run of its continue-as-new chain). */
  runId: string;
}

export interface RepairInput {
  regionId: string;
  scalingGroupId: string;
  target: RepairTarget;
  /** The original weights (and standby entries) of what the run drained and did not remove. */
  restore: RestoreRecord[];
  /** Instances whose removal ESS accepted: reported as gone, never touched. */
  removed: Array<{ instanceId: string; why: string }>;
  /**
   * How long to wait before touching anything, for attempts of the run's activities that may still be
   * running on a worker (see settleSecondsFor). Absent in repairs started before it existed: no wait.
   */
  settleSeconds?: number;
}

/** The cloud client's default request timeout (src/aliyun/rpc-client.ts): a call is answered or abandoned by then. */
const REQUEST_TIMEOUT_S = 10;
/** Clock skew between the client and the Temporal server, and the worker's own scheduling. */
const SETTLE_MARGIN_S = 5;
export const MAX_SETTLE_SECONDS = 3600;

/**
 * How long a repair waits before it restores anything. A terminate closes the run but does not stop
 * an activity attempt already running on a worker: it learns the run is gone from its next heartbeat
 * (sent within its heartbeat timeout) and is cancelled, but a call it sent before may still take
 * effect. Restoring before then could be undone by a drain that lands after the repair. Zero when
 * nothing was running at the close, or when the close is long enough ago.
 */
export function settleSecondsFor(
  open: ReadonlyArray<{ heartbeatTimeoutMs: number | undefined }>,
  closedAtMs: number | undefined,
  nowMs: number,
): number {
  if (!open.length || closedAtMs === undefined) return 0;
  const heartbeatS = Math.max(...open.map((a) => (a.heartbeatTimeoutMs ?? MAX_SETTLE_SECONDS * 1000) / 1000));
  const quietS = 2 * heartbeatS + REQUEST_TIMEOUT_S + SETTLE_MARGIN_S;
  const leftS = (closedAtMs + quietS * 1000 - nowMs) / 1000;
  return Math.min(MAX_SETTLE_SECONDS, Math.max(0, Math.ceil(leftS)));
}

export interface RepairInstanceReport {
  instanceId: string;
  outcome: RepairOutcome;
  /** One line per place (load balancer backend or standby), or why the instance was not touched. */
  why: string[];
}

export interface RepairResult {
  target: RepairTarget;
  /** `incomplete` when an instance failed: it may still be drained, see its lines. */
  outcome: 'repaired' | 'incomplete';
  message: string;
  counts: Record<RepairOutcome, number>;
  instances: RepairInstanceReport[];
}

/** One repair per target run at a time: the ID is the run's, so a second start conflicts. */
export function repairWorkflowIdFor(target: RepairTarget): string {
  return `ess-scale-in-repair/${target.workflowId}/${target.runId}`;
}

const WORST_FIRST: readonly RepairOutcome[] = ['failed', 'restored', 'already-fine', 'gone'];

/** Per instance, the worst of its places: failed over restored over already fine over gone. */
export function summarizeRepair(input: RepairInput, places: readonly RepairPlace[]): RepairResult {
  const byInstance = new Map<string, RepairPlace[]>();
  for (const p of places) byInstance.set(p.instanceId, [...(byInstance.get(p.instanceId) ?? []), p]);
  const instances: RepairInstanceReport[] = [...byInstance].map(([instanceId, ps]) => ({
    instanceId,
    outcome: WORST_FIRST.find((o) => ps.some((p) => p.outcome === o)) ?? 'gone',
    why: ps.map((p) => `${p.place}: ${p.outcome}, ${p.why}`),
  }));
  for (const r of input.removed)
    if (!byInstance.has(r.instanceId)) instances.push({ instanceId: r.instanceId, outcome: 'gone', why: [r.why] });
  return resultOf(input.target, instances);
}

/** A repair split into parts (one workflow per part), reported as one. */
export function mergeRepairResults(target: RepairTarget, parts: readonly RepairResult[]): RepairResult {
  return resultOf(
    target,
    parts.flatMap((p) => p.instances),
  );
}

function resultOf(target: RepairTarget, instances: RepairInstanceReport[]): RepairResult {
  instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const counts: Record<RepairOutcome, number> = { restored: 0, 'already-fine': 0, gone: 0, failed: 0 };
  for (const i of instances) counts[i.outcome]++;
  const outcome = counts.failed ? 'incomplete' : 'repaired';
  const message =
    `Repair of ${target.workflowId} (run ${target.runId}): restored ${counts.restored}, ` +
    `already fine ${counts['already-fine']}, gone ${counts.gone}, failed ${counts.failed} instance(s)`;
  return { target, outcome, message, counts, instances };
}

/** Plain checks of a repair input (it may come from any client); each problem names its field. */
export function repairInputProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return ['(input): must be an object'];
  const i = input as Partial<Record<keyof RepairInput, unknown>>;
  const problems: string[] = [];
  for (const f of ['regionId', 'scalingGroupId'] as const)
    if (typeof i[f] !== 'string' || !i[f]) problems.push(`${f}: must be a non-empty string`);
  const t = i.target as Partial<RepairTarget> | undefined;
  if (typeof t?.workflowId !== 'string' || typeof t.runId !== 'string')
    problems.push('target: must hold the workflowId and runId of the scale-in run');
  if (!Array.isArray(i.restore) || !i.restore.every(isRestoreRecord))
    problems.push('restore: must be a list of restore records (kind clb, vsg, alb, nlb or standby)');
  if (!Array.isArray(i.removed)) problems.push('removed: must be a list of { instanceId, why }');
  const settle = i.settleSeconds;
  if (
    settle !== undefined &&
    !(Number.isInteger(settle) && (settle as number) >= 0 && (settle as number) <= MAX_SETTLE_SECONDS)
  )
    problems.push(`settleSeconds: must be a whole number of seconds from 0 to ${MAX_SETTLE_SECONDS}, or absent`);
  return problems;
}

function isRestoreRecord(r: unknown): r is RestoreRecord {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  if (x.kind === 'standby') return typeof x.instanceId === 'string';
  const weighted = typeof x.serverId === 'string' && Number.isInteger(x.weight) && (x.weight as number) >= 0;
  if (x.kind === 'clb') return weighted && typeof x.loadBalancerId === 'string';
  if (x.kind === 'vsg') return weighted && typeof x.vServerGroupId === 'string' && typeof x.port === 'number';
  if (x.kind === 'alb' || x.kind === 'nlb')
    return weighted && typeof x.serverGroupId === 'string' && typeof x.port === 'number';
  return false;
}
