import {
  BATCH_STATES,
  INSTANCE_OUTCOMES,
  hookWaitLine,
  type InstanceReport,
  type ProgressSnapshot,
} from '../shared/progress';

/** The "current details" markdown shown in the Temporal UI: a header line, a batch table, what stays drained. */
export function renderDetails(s: ProgressSnapshot): string {
  const c = s.counts;
  const drained = c.drainedNotRestored ? ` · still drained ${c.drainedNotRestored}` : '';
  const lines = [
    `**${s.phase}${s.paused ? ' (paused)' : ''}**: ${s.input.scalingGroupId} in ${s.input.regionId}`,
    '',
    `Removed ${c.removed} · failed ${c.failed} · restored ${c.restored}${drained} · skipped ${c.skipped} · ` +
      `pending ${c.pending} of ${c.total}; batch ${c.batchesDone}/${c.batchesTotal}`,
    '',
    '| batch | instances | state | scaling activity | attempts | errors |',
    '|---|---|---|---|---|---|',
  ];
  // The newest 30 batches keep the table readable on big runs; the progress query has them all.
  const shown = s.batches.slice(-30);
  for (const b of shown) {
    const activity = `${b.scalingActivityId ?? ''}${b.adopted ? ' (adopted)' : ''}`;
    const errors = cell(b.errors.join('; '));
    lines.push(`| ${b.index} | ${b.instanceIds.length} | ${b.state} | ${activity} | ${b.attempts ?? ''} | ${errors} |`);
  }
  for (const b of shown) if (b.hookWaits?.length) lines.push('', `Batch ${b.index}: ${hookWaitLine(b.hookWaits)}.`);
  const states = [...new Set(shown.map((b) => b.state))];
  if (states.length) lines.push('', `States: ${states.map((st) => `${st}: ${BATCH_STATES[st]}`).join('; ')}.`);
  lines.push(...stillDrainedTable(s.stillDrained ?? [], c.drainedNotRestored ?? 0));
  if (s.lastError) lines.push('', `Last error: ${s.lastError}`);
  return lines.join('\n');
}

/** Instances this run leaves drained: where, and why; the operator's first thing to fix. */
function stillDrainedTable(reports: readonly InstanceReport[], total: number): string[] {
  if (!reports.length) return [];
  const lines = [
    '',
    `**Still drained** (${INSTANCE_OUTCOMES['drained-not-restored']}):`,
    '',
    '| instance | stays drained on | restored on |',
    '|---|---|---|',
  ];
  for (const r of reports) {
    const on = (r.drainedOn ?? []).map((d) => `${d.place} (${d.code})`).join(', ');
    lines.push(`| ${r.instanceId} | ${cell(on)} | ${cell((r.restoredOn ?? []).join(', '))} |`);
  }
  if (total > reports.length) lines.push('', `… and ${total - reports.length} more (see the result).`);
  return lines;
}

function cell(text: string): string {
  return text.replace(/\|/g, '/').slice(0, 200);
}
