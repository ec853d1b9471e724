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
    problems.push('restore: must be a list of restore records (kind clb, vsg, alb or standby)');
  if (!Array.isArray(i.removed)) problems.push('removed: must be a list of { instanceId, why }');
  return problems;
}

function isRestoreRecord(r: unknown): r is RestoreRecord {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  if (x.kind === 'standby') return typeof x.instanceId === 'string';
  const weighted = typeof x.serverId === 'string' && Number.isInteger(x.weight) && (x.weight as number) >= 0;
  if (x.kind === 'clb') return weighted && typeof x.loadBalancerId === 'string';
  if (x.kind === 'vsg') return weighted && typeof x.vServerGroupId === 'string' && typeof x.port === 'number';
  if (x.kind === 'alb') return weighted && typeof x.serverGroupId === 'string' && typeof x.port === 'number';
  return false;
}
