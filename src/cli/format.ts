import type { BatchProgress, Counts, InstanceReport, ProgressSnapshot, ScaleInResult } from '../client';
import { INSTANCE_OUTCOMES, hookWaitLine } from '../shared/progress';
import { renderPairs, renderTable } from './table';

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
function outcomeLegend(reports: readonly InstanceReport[]): string[] {
  const shown = [...new Set(reports.map((n) => n.outcome))];
  return shown.map((o) => `  ${o}: ${INSTANCE_OUTCOMES[o]}`);
}

/** `i-a … i-z (15)`: enough to recognise a batch without flooding the terminal. */
function instancesCell(ids: readonly string[]): string {
  if (ids.length === 0) return '0';
  if (ids.length === 1) return ids[0] ?? '';
  return `${ids.length}: ${ids[0] ?? ''} … ${ids[ids.length - 1] ?? ''}`;
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

export function batchTable(batches: readonly BatchProgress[], result?: ScaleInResult): string[] {
  return renderTable(['batch', 'instances', 'ScalingActivityId', 'status'], batchRows(batches, result));
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

export function statusLines(workflowId: string, p: ProgressSnapshot, server: ServerView | undefined): string[] {
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
  if (p.batches.length) lines.push('', ...batchTable(p.batches));
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

export function resultLines(r: ScaleInResult, maxNotRemoved = 20): string[] {
  const lines = [r.message, ''];
  if (r.plan?.lifecycleHooks?.length) lines.push(`Lifecycle hooks: ${hooksLine(r.plan)}`, '');
  if (r.batches.length) lines.push(...batchTable(r.batches, r), '');
  lines.push(countsLine(r.counts));
  if (r.notRemoved.length) {
    // Those left drained first: they need an operator.
    const ordered = [
      ...r.notRemoved.filter((n) => n.outcome === 'drained-not-restored'),
      ...r.notRemoved.filter((n) => n.outcome !== 'drained-not-restored'),
    ].slice(0, maxNotRemoved);
    lines.push('', 'Not removed:');
    lines.push(
      ...renderTable(
        ['instance', 'outcome', 'where', 'why'],
        ordered.map((n) => [n.instanceId, n.outcome, whereCell(n), n.why]),
      ).map((l) => `  ${l}`),
    );
    if (r.notRemoved.length > maxNotRemoved)
      lines.push(`  … and ${r.notRemoved.length - maxNotRemoved} more (use --json for all)`);
    lines.push('', 'Outcomes:', ...outcomeLegend(ordered));
  }
  return lines;
}

function iso(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '?';
}
