import {
  BATCH_STATES,
  INSTANCE_OUTCOMES,
  hookWaitLine,
  type BatchProgress,
  type BatchState,
  type InstanceReport,
  type ProgressSnapshot,
} from '../shared/progress';

/**
 * The "current details" the Temporal UI shows of a run (User Metadata → Current Details). The UI renders
 * this markdown on its server (`/render?content=…`: "2/3" becomes <sup>2</sup>⁄<sub>3</sub>, quotes turn
 * curly, raw HTML passes, `&nbsp;` is escaped) into an iframe whose height it sets once to the body's
 * scrollHeight + 2 px, which leaves out the margins: the last ~30 px are always cut (UI 2.42.1). So:
 * the summary first, every line short, no digit/digit anywhere ("batch 2 of 3"), every list bounded, and
 * a blank last paragraph to be cut instead of content. Changing this text is no workflow command:
 * setCurrentDetails only sets the value the built-in metadata query returns.
 */

/** How many failed instances the details list (with their reasons); the result has them all. */
export const FAILED_SHOWN = 10;
/** How many still-drained instances the details list; the progress query has up to STILL_DRAINED_SHOWN. */
export const STILL_DRAINED_LISTED = 10;
/** Batches in flight listed (the drain of the next batch overlaps the removal of the current one). */
const ACTIVE_SHOWN = 3;
/** A reason longer than this keeps its start and its end (where the cloud's code and message are). */
const REASON_MAX = 400;
/** The blank last paragraph (a no-break space: the UI's renderer escapes `&nbsp;`) cut instead of content. */
export const DETAILS_TRAILER = '\u00a0';

const ACTIVE_STATES: ReadonlySet<BatchState> = new Set([
  'draining',
  'drained',
  'removing',
  'polling',
  'waiting-on-hook',
]);

/**
 * The run's current details: summary, batches in flight and the last finished one, failed instances with
 * their reasons, what stays drained, the last error. `notRemoved` is the ledger's per-instance report
 * (only its `failed` entries are listed); without it, no failed list.
 */
export function renderDetails(s: ProgressSnapshot, notRemoved: Iterable<InstanceReport> = []): string {
  const total = s.counts.batchesTotal;
  const lines = [...summaryLines(s), ...batchLines(s.batches, total)];
  lines.push(...failedLines(notRemoved, total));
  lines.push(...stillDrainedTable(s.stillDrained ?? [], s.counts.drainedNotRestored ?? 0));
  if (s.lastError) lines.push('', `Last error: ${text(s.lastError, REASON_MAX)}`);
  lines.push('', DETAILS_TRAILER);
  return lines.join('\n');
}

/** The header and one row per count: what an operator reads first. */
function summaryLines(s: ProgressSnapshot): string[] {
  const c = s.counts;
  const notRemoved = c.failed + c.restored + (c.drainedNotRestored ?? 0) + c.skipped;
  const drained = c.drainedNotRestored ? ` · still drained ${c.drainedNotRestored}` : '';
  return [
    `**${s.phase}${s.paused ? ' (paused)' : ''}**: ${text(s.input.scalingGroupId)} in ${text(s.input.regionId)}`,
    '',
    `- Removed: ${c.removed} of ${c.total}`,
    `- Not removed: ${notRemoved} (failed ${c.failed} · restored ${c.restored}${drained} · skipped ${c.skipped})`,
    `- Remaining: ${c.pending}`,
    `- Batches finished: ${c.batchesDone} of ${c.batchesTotal}`,
  ];
}

/** The batches in flight and the last finished one (rows of the summary), then the meaning of their states. */
function batchLines(batches: readonly BatchProgress[], total: number): string[] {
  const active = batches.filter((b) => ACTIVE_STATES.has(b.state));
  const done = (b: BatchProgress) => b.state !== 'pending' && b.state !== 'skipped' && !ACTIVE_STATES.has(b.state);
  const finished = [...batches].reverse().find(done);
  const lines: string[] = [];
  for (const b of active.slice(0, ACTIVE_SHOWN)) lines.push(`- Active: ${batchLine(b, total)}`);
  if (active.length > ACTIVE_SHOWN) lines.push(`- … and ${active.length - ACTIVE_SHOWN} more active`);
  if (finished) lines.push(`- Last finished: ${batchLine(finished, total)}`);
  if (!lines.length) return [];
  const shown = [...active.slice(0, ACTIVE_SHOWN), ...(finished ? [finished] : [])];
  const states = [...new Set(shown.map((b) => b.state))];
  return [...lines, '', `States: ${states.map((st) => `${st}: ${BATCH_STATES[st]}`).join('; ')}.`];
}

function batchLine(b: BatchProgress, total: number): string {
  const parts = [`batch ${b.index} of ${total} (${b.instanceIds.length} instances): ${b.state}`];
  if (b.scalingActivityId) parts.push(`${text(b.scalingActivityId)}${b.adopted ? ' (adopted)' : ''}`);
  if (b.attempts && b.attempts > 1) parts.push(`${b.attempts} attempts`);
  if (b.hookWaits?.length) parts.push(text(hookWaitLine(b.hookWaits), REASON_MAX));
  const error = b.errors[b.errors.length - 1];
  if (error) parts.push(text(error, REASON_MAX));
  return parts.join('; ');
}

/** The failed instances, each with its reason (the cloud's code and message are in it), at most FAILED_SHOWN. */
function failedLines(notRemoved: Iterable<InstanceReport>, total: number): string[] {
  const failed: InstanceReport[] = [];
  let count = 0;
  for (const r of notRemoved) {
    if (r.outcome !== 'failed') continue;
    count++;
    if (failed.length < FAILED_SHOWN) failed.push(r);
  }
  if (!count) return [];
  const lines = ['', `**Failed** (${count}: ${INSTANCE_OUTCOMES.failed}):`, ''];
  for (const r of failed) {
    const batch = r.batch === undefined ? '' : ` (batch ${r.batch} of ${total})`;
    lines.push(`- ${text(r.instanceId)}${batch}: ${text(r.why, REASON_MAX)}`);
  }
  if (count > failed.length) lines.push(`- … and ${count - failed.length} more (the run's result lists them all)`);
  return lines;
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
  const listed = reports.slice(0, STILL_DRAINED_LISTED);
  for (const r of listed) {
    const on = (r.drainedOn ?? []).map((d) => `${d.place} (${d.code})`).join(', ');
    lines.push(`| ${text(r.instanceId)} | ${text(on)} | ${text((r.restoredOn ?? []).join(', '))} |`);
  }
  if (total > listed.length) lines.push('', `… and ${total - listed.length} more (see the result).`);
  return lines;
}

/**
 * Free text made safe for the UI's markdown, on one line: "batch 2/3" reads "batch 2 of 3" and any other
 * digit/digit gets spaces (no fraction glyph), markdown and HTML characters are escaped, and a text longer
 * than `max` keeps its start and its end.
 */
export function text(s: string, max = 200): string {
  const flat = s
    .replace(/\s+/g, ' ')
    .replace(/\bbatch (\d+)\/(\d+)/gi, 'batch $1 of $2')
    .replace(/(?<=\d)\/(?=\d)/g, ' / ');
  const head = Math.floor(max / 3);
  const short = flat.length > max ? `${flat.slice(0, head)} … ${flat.slice(flat.length - (max - head))}` : flat;
  return short.replace(/[\\`*_[\]<>|~]/g, '\\$&');
}
