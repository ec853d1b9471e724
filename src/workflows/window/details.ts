import type { ScaleInWindowResult } from '../../shared/window';
import { DETAILS_TRAILER, text } from '../details';

/** Picks and remaining instances listed; the result has them all. */
const LISTED = 10;
const REASON_MAX = 240;

/**
 * The "current details" markdown of a window run, shown in the Temporal UI: the same rules as the scale-in
 * run's (see ../details.ts): summary rows first, short lines, no digit/digit, bounded lists, a blank last
 * paragraph for the UI's iframe to cut.
 */
export function renderWindowDetails(r: ScaleInWindowResult, stage: string): string {
  const lines = [
    `**Window: ${text(stage)}**: ${text(r.scalingGroupId)} in ${text(r.regionId)}`,
    '',
    `- Scheduled: ${text(r.scheduledAt)} (${text(r.localDate)} in ${text(r.timezone)})`,
    `- Closes: ${text(r.windowClosesAt ?? '-')}`,
  ];
  const s = r.selection;
  if (s) lines.push(`- Picked: ${s.picks.length} of ${s.requested} asked (at most ${s.maxRemovable} may go)`);
  if (s || r.removed.length || r.remaining.length) {
    lines.push(`- Removed: ${r.removed.length}`, `- Not removed: ${r.remaining.length}`);
  }
  if (r.childWorkflowId) lines.push(`- Scale-in run: ${text(r.childWorkflowId)}`);
  if (r.message) lines.push('', text(r.message, 400));
  lines.push(...notRemovedLines(r), ...selectionLines(r), '', DETAILS_TRAILER);
  return lines.join('\n');
}

/** The picked instances still in the group, each with why (failed ones first), at most LISTED. */
function notRemovedLines(r: ScaleInWindowResult): string[] {
  if (!r.remaining.length) return [];
  const ordered = [
    ...r.remaining.filter((x) => x.state === 'failed'),
    ...r.remaining.filter((x) => x.state !== 'failed'),
  ];
  const lines = ['', `**Not removed** (${r.remaining.length}):`, ''];
  for (const x of ordered.slice(0, LISTED)) {
    lines.push(`- ${text(x.instanceId)} (${text(x.state)}): ${text(x.why, REASON_MAX)}`);
  }
  if (r.remaining.length > LISTED)
    lines.push(`- … and ${r.remaining.length - LISTED} more (the result lists them all)`);
  return lines;
}

/** How the instances were picked, then the picks, at most LISTED. */
function selectionLines(r: ScaleInWindowResult): string[] {
  const s = r.selection;
  if (!s) return [];
  const lines = [
    '',
    `Selection **${text(s.policy)}**: TotalCapacity ${s.group.totalCapacity}, MinSize ${s.group.minSize}` +
      `${s.capped ? `; ${text(s.capped)}` : ''}`,
  ];
  const ex = Object.entries(s.excluded)
    .map(([k, n]) => `${text(k)}: ${n}`)
    .join(' · ');
  if (ex) lines.push('', `Not picked: ${ex}`);
  if (s.configurationBasis) lines.push('', `Configuration order: ${text(s.configurationBasis)}`);
  if (!s.picks.length) return lines;
  lines.push('');
  for (const p of s.picks.slice(0, LISTED)) lines.push(`${p.rank}. ${text(p.instanceId)}: ${text(p.why)}`);
  if (s.picks.length > LISTED)
    lines.push('', `… and ${s.picks.length - LISTED} more picks (the result lists them all)`);
  return lines;
}
