import { describe, expect, it } from 'vitest';
import type { BatchProgress, InstanceReport, ProgressSnapshot } from '../../src/shared/progress';
import type { ScaleInWindowResult } from '../../src/shared/window';
import { DETAILS_TRAILER, FAILED_SHOWN, renderDetails, text } from '../../src/workflows/details';
import { renderWindowDetails } from '../../src/workflows/window/details';

/**
 * The Temporal UI's current details (src/workflows/details.ts): the UI's markdown renderer turns "2/3"
 * into a fraction glyph and its frame cuts the last ~30 px, so: summary rows first, no digit/digit,
 * bounded lists, a blank last paragraph.
 */

function batch(index: number, state: BatchProgress['state'], extra: Partial<BatchProgress> = {}): BatchProgress {
  const instanceIds = [`i-${2 * index - 1}`, `i-${2 * index}`];
  return { index, instanceIds, state, requestIds: [], errors: [], ...extra };
}

function snapshot(over: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  return {
    workflowId: 'ess-scale-in/cn-hangzhou/asg-1',
    phase: 'Running',
    paused: false,
    awaitingApproval: false,
    drainEndedEarly: false,
    input: { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' },
    plan: undefined,
    counts: {
      total: 6,
      removed: 1,
      failed: 1,
      skipped: 0,
      restored: 0,
      drainedNotRestored: 0,
      pending: 4,
      batchesDone: 1,
      batchesTotal: 3,
    },
    batches: [
      batch(1, 'warning', {
        scalingActivityId: 'asa-1',
        errors: ['scaling activity asa-1 ended Warning: 1 instance(s) not removed'],
      }),
      batch(2, 'polling', { scalingActivityId: 'asa-2' }),
      batch(3, 'pending'),
    ],
    continuedAsNew: 0,
    lastError: 'batch 1/3 (2 instances): scaling activity asa-1 ended Warning',
    ...over,
  } as ProgressSnapshot;
}

function failedReport(id: string, n = 1): InstanceReport {
  return {
    instanceId: id,
    outcome: 'failed',
    batch: n,
    scalingActivityId: 'asa-1',
    why:
      'scaling activity asa-1 ended Warning; the instance is still in the group as InService, listed among its ' +
      'failed instances (IncorrectInstanceStatus: The current status of the instance does not support this operation.)',
  };
}

describe('renderDetails', () => {
  it('starts with the summary rows: phase, removed, not removed, remaining, batches "2 of 3"', () => {
    const md = renderDetails(snapshot({ paused: true }));
    expect(md.split('\n').slice(0, 9)).toEqual([
      '**Running (paused)**: asg-1 in cn-hangzhou',
      '',
      '- Removed: 1 of 6',
      '- Not removed: 1 (failed 1 · restored 0 · skipped 0)',
      '- Remaining: 4',
      '- Batches finished: 1 of 3',
      '- Active: batch 2 of 3 (2 instances): polling; asa-2',
      '- Last finished: batch 1 of 3 (2 instances): warning; asa-1; ' +
        'scaling activity asa-1 ended Warning: 1 instance(s) not removed',
      '',
    ]);
  });

  it('the last finished batch is the last one the run worked on, not a skipped one', () => {
    const md = renderDetails(
      snapshot({ phase: 'Cancelled', batches: [batch(1, 'succeeded'), batch(2, 'restored'), batch(3, 'skipped')] }),
    );
    expect(md).toContain('- Last finished: batch 2 of 3 (2 instances): restored\n');
    expect(md).not.toContain('Active:');
  });

  it('never writes digit/digit (the UI renders it as a fraction glyph): "batch 1/3" reads "batch 1 of 3"', () => {
    const md = renderDetails(snapshot(), [failedReport('i-2')]);
    expect(md).not.toMatch(/\d\/\d/);
    expect(md).toContain('Last error: batch 1 of 3 (2 instances): scaling activity asa-1 ended Warning');
    expect(text('a 1/2/3 b')).toBe('a 1 / 2 / 3 b');
  });

  it('lists failed instances with their batch and reason (the cloud code and message), at most FAILED_SHOWN', () => {
    const reports = [
      { instanceId: 'i-0', outcome: 'restored' as const, why: 'drained then restored' },
      ...Array.from({ length: FAILED_SHOWN + 3 }, (_, i) => failedReport(`i-f${i}`)),
    ];
    const md = renderDetails(snapshot(), reports);
    expect(md).toContain(`**Failed** (${FAILED_SHOWN + 3}: `);
    expect(md).toContain(
      '- i-f0 (batch 1 of 3): scaling activity asa-1 ended Warning; the instance is still in the group as ' +
        'InService, listed among its failed instances (IncorrectInstanceStatus: The current status of the ' +
        'instance does not support this operation.)',
    );
    expect(md).toContain(`- i-f${FAILED_SHOWN - 1} (batch 1 of 3)`);
    expect(md).not.toContain(`- i-f${FAILED_SHOWN} `);
    expect(md).toContain("- … and 3 more (the run's result lists them all)");
    expect(md).not.toContain('i-0');
  });

  it('keeps the start and the end of a long reason: the cloud code and message are at the end', () => {
    const long = { ...failedReport('i-2'), why: `${'x'.repeat(1000)} (Throttling.User: Request was denied.)` };
    const line = renderDetails(snapshot(), [long])
      .split('\n')
      .find((l) => l.startsWith('- i-2 '));
    expect(line).toMatch(/^- i-2 \(batch 1 of 3\): x+ … x+ \(Throttling.User: Request was denied.\)$/);
    expect(line?.length).toBeLessThan(450);
  });

  it('escapes markdown and HTML in texts from the cloud, and keeps each on one line', () => {
    const odd = { ...failedReport('i-2'), why: 'a <b>bold</b> | *star* _under_ `tick`\nnext line' };
    const md = renderDetails(snapshot(), [odd]);
    expect(md).toContain('- i-2 (batch 1 of 3): a \\<b\\>bold\\</b\\> \\| \\*star\\* \\_under\\_ \\`tick\\` next line');
  });

  it('ends with a blank paragraph, which the UI frame cuts instead of content', () => {
    const md = renderDetails(snapshot());
    expect(md.endsWith(`\n\n${DETAILS_TRAILER}`)).toBe(true);
    expect(DETAILS_TRAILER.trim()).toBe('');
    expect(DETAILS_TRAILER).not.toBe('');
  });

  it('stays bounded on a big run: batches in flight, failed and still-drained lists are capped', () => {
    const batches = Array.from({ length: 200 }, (_, i) => batch(i + 1, i < 190 ? 'succeeded' : 'draining'));
    const stillDrained = Array.from({ length: 50 }, (_, i) => ({
      instanceId: `i-d${i}`,
      outcome: 'drained-not-restored' as const,
      why: 'stays drained',
      drainedOn: [{ place: 'CLB lb-1', code: 'Forbidden.Unauthorized', message: 'denied' }],
    }));
    const failed = Array.from({ length: 500 }, (_, i) => failedReport(`i-f${i}`, 100));
    const s = snapshot({ batches, stillDrained });
    s.counts = { ...s.counts, total: 10_000, drainedNotRestored: 400, batchesTotal: 200, batchesDone: 190 };
    const md = renderDetails(s, failed);
    expect(md.length).toBeLessThan(12_000);
    expect(md.match(/^- Active: /gm)).toHaveLength(3);
    expect(md).toContain('- … and 7 more active');
    expect(md).toContain('- Last finished: batch 190 of 200 (2 instances): succeeded');
    expect(md).toContain('… and 390 more (see the result).');
    expect(md).toContain("- … and 490 more (the run's result lists them all)");
  });
});

describe('renderWindowDetails', () => {
  const result = {
    workflowId: 'w',
    outcome: 'completed',
    message: 'Picked 12/15 in batch 1/2',
    regionId: 'cn-hangzhou',
    scalingGroupId: 'asg-1',
    scheduledAt: '2026-12-05T18:00:00.000Z',
    scheduledAtSource: 'startTime',
    localDate: '2026-12-06',
    timezone: 'Asia/Shanghai',
    windowClosesAt: '2026-12-05T20:00:00.000Z',
    selection: {
      policy: 'oldest',
      group: { scalingGroupId: 'asg-1', totalCapacity: 20, minSize: 2, maxSize: 40, desiredCapacity: undefined },
      requested: 15,
      maxRemovable: 18,
      capped: undefined,
      picks: Array.from({ length: 15 }, (_, i) => ({ rank: i + 1, instanceId: `i-p${i}`, why: 'oldest' })),
      excluded: { Protected: 1 },
      configurationBasis: undefined,
      requestIds: [],
    },
    childWorkflowId: 'ess-scale-in/cn-hangzhou/asg-1',
    childResult: undefined,
    childFailure: undefined,
    removed: ['i-p0', 'i-p1'],
    remaining: [
      { instanceId: 'i-p2', state: 'skipped', why: 'left the group' },
      { instanceId: 'i-p3', state: 'failed', why: 'RemoveInstances failed: IncorrectInstanceStatus: busy' },
    ],
  } as unknown as ScaleInWindowResult;

  it('summary rows first, failed instances first with reasons, bounded picks, no digit/digit', () => {
    const md = renderWindowDetails(result, 'Running');
    const lines = md.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      '**Window: Running**: asg-1 in cn-hangzhou',
      '',
      '- Scheduled: 2026-12-05T18:00:00.000Z (2026-12-06 in Asia/Shanghai)',
      '- Closes: 2026-12-05T20:00:00.000Z',
      '- Picked: 15 of 15 asked (at most 18 may go)',
      '- Removed: 2',
      '- Not removed: 2',
      '- Scale-in run: ess-scale-in/cn-hangzhou/asg-1',
    ]);
    expect(md).not.toMatch(/\d\/\d/);
    expect(md).toContain('Picked 12 / 15 in batch 1 of 2');
    expect(md.indexOf('- i-p3 (failed): RemoveInstances failed: IncorrectInstanceStatus: busy')).toBeLessThan(
      md.indexOf('- i-p2 (skipped): left the group'),
    );
    expect(md).toContain('10. i-p9: oldest');
    expect(md).not.toContain('i-p10:');
    expect(md).toContain('… and 5 more picks');
    expect(md.endsWith(`\n\n${DETAILS_TRAILER}`)).toBe(true);
  });
});
