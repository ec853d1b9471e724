import type { ProgressSnapshot } from '../shared/progress';

/** The "current details" markdown shown in the Temporal UI: a header line and a batch table. */
export function renderDetails(s: ProgressSnapshot): string {
  const c = s.counts;
  const lines = [
    `**${s.phase}${s.paused ? ' (paused)' : ''}**: ${s.input.scalingGroupId} in ${s.input.regionId}`,
    '',
    `Removed ${c.removed} · failed ${c.failed} · restored ${c.restored} · skipped ${c.skipped} · ` +
      `pending ${c.pending} of ${c.total}; batch ${c.batchesDone}/${c.batchesTotal}`,
    '',
    '| batch | instances | state | scaling activity | attempts | errors |',
    '|---|---|---|---|---|---|',
  ];
  // The newest 30 batches keep the table readable on big runs; the progress query has them all.
  for (const b of s.batches.slice(-30)) {
    const activity = `${b.scalingActivityId ?? ''}${b.adopted ? ' (adopted)' : ''}`;
    const errors = b.errors
      .map((e) => e.replace(/\|/g, '/'))
      .join('; ')
      .slice(0, 200);
    lines.push(`| ${b.index} | ${b.instanceIds.length} | ${b.state} | ${activity} | ${b.attempts ?? ''} | ${errors} |`);
  }
  if (s.lastError) lines.push('', `Last error: ${s.lastError}`);
  return lines.join('\n');
}
