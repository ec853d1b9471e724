import type { ScaleInWindowResult } from '../../shared/window';

/** The "current details" markdown of a window run, shown in the Temporal UI. */
export function renderWindowDetails(r: ScaleInWindowResult, stage: string): string {
  const s = r.selection;
  const lines = [
    `**Window: ${stage}**: ${r.scalingGroupId} in ${r.regionId}`,
    '',
    `Scheduled ${r.scheduledAt} (${r.localDate} in ${r.timezone}); closes ${r.windowClosesAt ?? '-'}`,
  ];
  if (r.message) lines.push('', r.message);
  if (s) {
    lines.push(
      '',
      `Selection **${s.policy}**: asked for ${s.requested}, at most ${s.maxRemovable} may go ` +
        `(TotalCapacity ${s.group.totalCapacity}, MinSize ${s.group.minSize}), ` +
        `picked ${s.picks.length}${s.capped ? ` (${s.capped})` : ''}`,
    );
    const ex = Object.entries(s.excluded)
      .map(([k, n]) => `${k}: ${n}`)
      .join(' · ');
    if (ex) lines.push('', `Not picked: ${ex}`);
    if (s.configurationBasis) lines.push('', `Configuration order: ${s.configurationBasis}`);
    lines.push('', '| # | instance | why |', '|---|---|---|');
    for (const p of s.picks.slice(0, 30)) lines.push(`| ${p.rank} | ${p.instanceId} | ${p.why.replace(/\|/g, '/')} |`);
    if (s.picks.length > 30) lines.push(`| … | ${s.picks.length - 30} more | |`);
  }
  if (r.childWorkflowId) lines.push('', `Scale-in run: ${r.childWorkflowId}`);
  if (r.remaining.length) {
    const shown = r.remaining
      .slice(0, 30)
      .map((x) => `${x.instanceId} (${x.state})`)
      .join(', ');
    lines.push(
      '',
      `Remaining in the group: ${shown}${r.remaining.length > 30 ? ` and ${r.remaining.length - 30} more` : ''}`,
    );
  }
  return lines.join('\n');
}
