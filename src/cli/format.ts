import type { BatchProgress, Counts, InstanceReport, Plan, ProgressSnapshot, ScaleInResult } from '../client';
import { INSTANCE_OUTCOMES, hookWaitLine } from '../shared/progress';
import { renderPairs, renderTable } from './table';
import { instancesCount, terminalWidth, wrapWords } from './wrap';

export function countsLine(c: Counts): string {
  const drained = c.drainedNotRestored ? `, still drained ${c.drainedNotRestored}` : '';
  return (
    `removed ${c.removed}, failed ${c.failed}, restored ${c.restored}${drained}, skipped ${c.skipped}, ` +
    `pending ${c.pending} (of ${c.total})`
  );
}

/** Where an instance stays drained and where its traffic came back, for the not-removed table. */
function whereCell(n: InstanceReport): string {
  const drained = (n.drainedOn ?? []).map((d) => `${d.place} (${d.code})`);
  const parts = [
    ...(drained.length ? [`drained on ${drained.join(', ')}`] : []),
    ...(n.restoredOn?.length ? [`restored on ${n.restoredOn.join(', ')}`] : []),
  ];
  return parts.join('; ') || '-';
}

/** One line per outcome shown, from the shared vocabulary. */
function outcomeLegend(outcomes: ReadonlyArray<InstanceReport['outcome']>): string[] {
  return [...new Set(outcomes)].map((o) => `  ${o}: ${INSTANCE_OUTCOMES[o]}`);
}

/** A batch of one names its instance; a larger one gives its count here and lists them all under the row. */
function instancesCell(ids: readonly string[]): string {
  return ids.length === 1 ? (ids[0] ?? '') : String(ids.length);
}

/** Where each batch stands, in the one vocabulary, with its scaling activity's status when ESS reported one. */
export function batchRows(batches: readonly BatchProgress[], result?: ScaleInResult): string[][] {
  const statusOf = new Map<number, string>();
  for (const g of result?.removed ?? []) statusOf.set(g.batch, g.statusCode);
  return batches.map((b) => {
    const activity = statusOf.get(b.index);
    // Our word for the batch, and the scaling activity's own status beside it when ESS reported one.
    const status = b.hookWaits?.length ? hookWaitLine(b.hookWaits) : activity ? `${b.state} (${activity})` : b.state;
    const note = b.errors.length ? ` — ${b.errors[b.errors.length - 1] ?? ''}` : '';
    return [String(b.index), instancesCell(b.instanceIds), b.scalingActivityId ?? '-', `${status}${note}`];
  });
}

/** The batch table; every instance of a batch of several is listed under its row, wrapped to `width`. */
export function batchTable(
  batches: readonly BatchProgress[],
  result?: ScaleInResult,
  width = terminalWidth(),
): string[] {
  const [header = '', ...rows] = renderTable(
    ['batch', 'instances', 'ScalingActivityId', 'status'],
    batchRows(batches, result),
  );
  const indent = ' '.repeat(header.indexOf('instances'));
  const lines = [header];
  batches.forEach((b, i) => {
    lines.push(rows[i] ?? '');
    if (b.instanceIds.length > 1) lines.push(...wrapWords(b.instanceIds, width, indent));
  });
  return lines;
}

export function phaseLabel(p: Pick<ProgressSnapshot, 'phase' | 'paused' | 'awaitingApproval'>): string {
  if (p.awaitingApproval) return 'AwaitingApproval';
  if (p.paused && p.phase === 'Running') return 'Paused';
  return p.phase;
}

export interface ServerView {
  status: string;
  startTime: Date | undefined;
  closeTime: Date | undefined;
  taskQueue: string;
}

export function statusLines(
  workflowId: string,
  p: ProgressSnapshot,
  server: ServerView | undefined,
  width = terminalWidth(),
): string[] {
  const plan = p.plan;
  const { drain: d } = p.input;
  const drain = `${d.strategy}, ${d.timeoutSeconds}s, at most ${d.maxDrainedAhead} ahead`;
  const closed = server?.closeTime ? `, closed ${iso(server.closeTime)}` : '';
  const groupPlan = plan
    ? `, ${plan.group.scalingGroupName || 'unnamed'}: TotalCapacity ${plan.group.totalCapacity} → ` +
      `${plan.capacityAfter}, MinSize ${plan.group.minSize}`
    : '';
  const pairs: Array<[string, string]> = [
    ['Workflow', workflowId],
    ...(server
      ? [
          [
            'Execution',
            `${server.status}, started ${iso(server.startTime)}${closed}, task queue ${server.taskQueue}`,
          ] as [string, string],
        ]
      : []),
    [
      'Phase',
      `${phaseLabel(p)}${p.drainEndedEarly ? ' (drain ended early by an operator)' : ''}` +
        `${p.input.dryRun ? ' [dry run]' : ''}`,
    ],
    ['Group', `${p.input.scalingGroupId} (${p.input.regionId})${groupPlan}`],
    [
      'Settings',
      `batches of ${p.input.batchSize}, remove policy ${p.input.removePolicy}, drain ${drain}, ` +
        `on batch failure ${p.input.onBatchFailure}`,
    ],
    [
      'Batches',
      `${p.counts.batchesDone}/${p.counts.batchesTotal} done` +
        `${p.continuedAsNew ? `, continued as new ${p.continuedAsNew}×` : ''}`,
    ],
    ['Instances', countsLine(p.counts)],
    ['Last error', p.lastError ?? '-'],
  ];
  if (plan?.lifecycleHooks?.length) pairs.push(['Lifecycle hooks', hooksLine(plan)]);
  if (plan?.warnings.length) pairs.push(['Warnings', plan.warnings.join('; ')]);
  const lines = renderPairs(pairs);
  if (plan) lines.push('', ...loadBalancerLines(plan, p.counts.removed));
  if (p.batches.length) lines.push('', ...batchTable(p.batches, undefined, width));
  return lines;
}

/** Each scale-in hook and what the run does about it, then the longest a batch may wait on them. */
export function hooksLine(plan: NonNullable<ProgressSnapshot['plan']>): string {
  const hooks = (plan.lifecycleHooks ?? []).map((h) => {
    const what =
      h.handling === 'wait' ? `waited for, up to ${h.heartbeatTimeoutSeconds} s then ${h.defaultResult}` : h.handling;
    return `${h.lifecycleHookName} (${h.lifecycleHookId}): ${what}`;
  });
  return `${hooks.join('; ')}; longest wait per batch ${plan.hookWaitSecondsPerBatch ?? 0} s`;
}

export interface ResultLinesOptions {
  /** How many distinct reasons to list (those left drained first); the rest are counted. */
  maxReasons?: number;
  /** Where instance lists wrap; the terminal's width by default. */
  width?: number;
  /** What the caller printed just before (e.g. the failure's message): the result's message is not repeated. */
  printed?: string;
}

/**
 * The end of a run. Instances not removed are grouped by outcome, place and reason, each reason said
 * once and its instances listed under it; the stop's own reason, which every instance it left quotes,
 * is said once, in the message.
 */
export function resultLines(r: ScaleInResult, opts: ResultLinesOptions = {}): string[] {
  const { maxReasons = 20, width = terminalWidth() } = opts;
  const lines = opts.printed?.includes(r.message) ? [] : [r.message, ''];
  if (r.outcome === 'dry-run' && r.plan) lines.push(...loadBalancerLines(r.plan), '');
  if (r.plan?.lifecycleHooks?.length) lines.push(`Lifecycle hooks: ${hooksLine(r.plan)}`, '');
  if (r.batches.length) lines.push(...batchTable(r.batches, r, width), '');
  lines.push(countsLine(r.counts));
  if (r.notRemoved.length) {
    const groups = reasonGroups(r.notRemoved);
    const shown = groups.slice(0, maxReasons);
    const said = stopReason(r);
    lines.push('', 'Not removed:', ...shown.flatMap((g) => reasonGroupLines(g, width, said)));
    const rest = groups.slice(maxReasons);
    if (rest.length) {
      const n = rest.reduce((sum, g) => sum + g.instanceIds.length, 0);
      lines.push(`  … and ${rest.length} more reason(s), for ${instancesCount(n)} (use --json for all)`);
    }
    lines.push('', 'Outcomes:', ...outcomeLegend(shown.map((g) => g.outcome)));
  }
  return lines;
}

/**
 * Why an aborted or cancelled run stopped, as its message says it ("Aborted: <why>", "The run was
 * cancelled by alice (reason: …)"): the reasons of the instances it left quote it.
 */
function stopReason(r: ScaleInResult): string[] {
  if (r.outcome !== 'aborted' && r.outcome !== 'cancelled') return [];
  const after = /^\w+: (.+)$/s.exec(r.message)?.[1];
  const lowered = r.message.charAt(0).toLowerCase() + r.message.slice(1);
  return [after, lowered].filter((t): t is string => t !== undefined && t.length >= 20);
}

/** Instances not removed for one reason: same outcome, same places, same why. */
export interface ReasonGroup {
  outcome: InstanceReport['outcome'];
  where: string;
  why: string;
  instanceIds: string[];
}

/** One group per distinct (outcome, where, why), in the order first seen; those left drained first. */
export function reasonGroups(reports: readonly InstanceReport[]): ReasonGroup[] {
  const groups = new Map<string, ReasonGroup>();
  for (const n of reports) {
    const where = whereCell(n);
    const key = JSON.stringify([n.outcome, where, n.why]);
    const g = groups.get(key);
    if (g) g.instanceIds.push(n.instanceId);
    else groups.set(key, { outcome: n.outcome, where, why: n.why, instanceIds: [n.instanceId] });
  }
  const all = [...groups.values()];
  // Those left drained first: they need an operator.
  return [
    ...all.filter((g) => g.outcome === 'drained-not-restored'),
    ...all.filter((g) => g.outcome !== 'drained-not-restored'),
  ];
}

/**
 * `  3 instances restored, restored on CLB lb-1`, then `why: …` once, then the instances wrapped with a
 * hanging indent; a group of one names its instance on the first line. The stop's reason, when the
 * message said it, is not said again.
 */
function reasonGroupLines(g: ReasonGroup, width: number, said: readonly string[]): string[] {
  const [only] = g.instanceIds;
  const head = g.instanceIds.length === 1 && only ? only : instancesCount(g.instanceIds.length);
  const where = g.where === '-' ? '' : `, ${g.where}`;
  // "…: the run stopped: <the message>" reads "…: the run stopped (see above)".
  const quoted = said.find((t) => g.why.includes(t));
  const why = quoted ? g.why.replaceAll(`: ${quoted}`, ' (see above)').replaceAll(quoted, '(see above)') : g.why;
  const lines = [`  ${head} ${g.outcome}${where}`, `    why: ${why}`];
  if (g.instanceIds.length > 1) lines.push(...wrapWords(g.instanceIds, width, '    '));
  return lines;
}

/**
 * What the drain takes traffic from: one row per load balancer or server group, from the run's plan.
 * Instances the run removed are no longer attached (ESS takes them off its load balancers).
 */
export function loadBalancerRows(plan: Plan, removed = 0): string[][] {
  const lbs = plan.loadBalancers;
  const left = plan.instanceCount - removed;
  const all = removed ? `${left} (${removed} removed)` : `all ${plan.instanceCount}`;
  const rows = [
    ...lbs.clbIds.map((id) => ['CLB', id, 'default server group (its listeners)', all]),
    ...lbs.vServerGroups.map((v) => ['CLB', v.loadBalancerId, `vserver group ${v.vServerGroupId}`, all]),
    ...lbs.albServerGroupIds.map((id) => ['ALB', '-', `server group ${id}`, all]),
    ...(lbs.nlbServerGroupIds ?? []).map((id) => ['NLB', '-', `server group ${id}`, all]),
  ];
  if (plan.drainStrategy === 'standby') {
    const already = plan.alreadyStandby.length ? ` (${plan.alreadyStandby.length} already in Standby)` : '';
    rows.push(['standby', '-', '-', `${left - plan.alreadyStandby.length} enter Standby${already}`]);
  }
  return rows;
}

const DRAIN_TITLES: Record<Plan['drainStrategy'], string> = {
  weight: 'Load balancers the run drains (weight 0 before RemoveInstances, given back if not removed):',
  standby: 'Load balancers the run drains (the instances enter Standby before RemoveInstances):',
  none: 'Load balancers of the group (not drained: drain strategy none):',
};

/** The load balancers of the plan and what the drain does on them; `removed`: instances the run removed so far. */
export function loadBalancerLines(plan: Plan, removed = 0): string[] {
  const rows = loadBalancerRows(plan, removed);
  if (!rows.length) return ['Load balancers: none attached to the group, nothing to drain'];
  return [
    DRAIN_TITLES[plan.drainStrategy],
    ...renderTable(['kind', 'ID', 'server group / listener', 'instances attached'], rows).map((l) => `  ${l}`),
    '  (ESS attaches every instance of the group to each; a batch drains its instances where they are backends)',
  ];
}

function iso(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '?';
}
