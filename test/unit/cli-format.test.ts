import { describe, expect, it } from 'vitest';
import { batchTable, resultLines, statusLines } from '../../src/cli/format';
import { DEFAULT_WIDTH, terminalWidth, wrapWords } from '../../src/cli/wrap';
import type { InstanceReport, Plan, ProgressSnapshot, ScaleInResult } from '../../src/shared/progress';

/** Realistic IDs: 22 characters, as ECS gives them. */
const ids = Array.from({ length: 12 }, (_, i) => `i-bp1a2b3c4d5e6f7g${String(i).padStart(4, '0')}`);

const plan: Plan = {
  group: {
    scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
    scalingGroupName: 'web',
    lifecycleState: 'Active',
    minSize: 1,
    maxSize: 50,
    totalCapacity: 30,
    desiredCapacity: 30,
    scalingPolicy: 'release',
  },
  instanceCount: 12,
  batchCount: 2,
  batchSize: 6,
  capacityAfter: 18,
  drainStrategy: 'weight',
  drainTimeoutSeconds: 60,
  loadBalancers: {
    clbIds: ['lb-bp1clb00000000000001'],
    vServerGroups: [{ loadBalancerId: 'lb-bp1clb00000000000001', vServerGroupId: 'rsp-bp1vsg0001' }],
    albServerGroupIds: ['sgp-bp1alb000000000001'],
    nlbServerGroupIds: ['sgp-bp1nlb000000000001'],
  },
  alreadyStandby: [],
  warnings: [],
};

/** What the workflow reports for an abort after batch 1 failed: the stop's reason is quoted by every instance. */
const STOP =
  'ScalingActivityFailed: Batch 1 failed (scaling activity asa-1 ended Failed: Boom); ' +
  'aborting because onBatchFailure is "abort"';
const aborted: ScaleInResult = {
  workflowId: 'ess-scale-in/cn-hangzhou/asg-bp1dk4nm0o5ldvzcpe2v',
  outcome: 'aborted',
  message: `Aborted: ${STOP}`,
  plan,
  counts: { total: 12, removed: 0, failed: 6, skipped: 0, restored: 6, drainedNotRestored: 0, pending: 0 },
  removed: [],
  notRemoved: [
    ...ids.slice(0, 6).map((id): InstanceReport => ({
      instanceId: id,
      outcome: 'failed',
      why: 'scaling activity asa-1 ended Failed (Boom); its traffic was restored',
      batch: 1,
      scalingActivityId: 'asa-1',
    })),
    ...ids.slice(6).map((id): InstanceReport => ({
      instanceId: id,
      outcome: 'restored',
      why: `drained then restored: the run stopped: ${STOP}`,
      batch: 2,
      restoredOn: ['CLB lb-bp1clb00000000000001', 'ALB server group sgp-bp1alb000000000001'],
    })),
  ],
  batches: [
    {
      index: 1,
      instanceIds: ids.slice(0, 6),
      state: 'failed',
      scalingActivityId: 'asa-1',
      requestIds: [],
      errors: ['scaling activity asa-1 ended Failed: 6 instance(s) not removed'],
    },
    { index: 2, instanceIds: ids.slice(6), state: 'restored', requestIds: [], errors: [] },
  ],
};

const count = (text: string, part: string) => text.split(part).length - 1;

function snapshot(over: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  return {
    workflowId: aborted.workflowId,
    phase: 'Running',
    paused: false,
    awaitingApproval: false,
    drainEndedEarly: false,
    input: {
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-bp1dk4nm0o5ldvzcpe2v',
      batchSize: 6,
      removePolicy: 'release',
      onBatchFailure: 'abort',
      drain: { strategy: 'weight', timeoutSeconds: 60, maxDrainedAhead: 1 },
      dryRun: false,
    },
    plan,
    counts: { ...aborted.counts, batchesDone: 1, batchesTotal: 2 },
    batches: aborted.batches,
    continuedAsNew: 0,
    lastError: undefined,
    ...over,
  } as ProgressSnapshot;
}

describe('wrapWords and terminalWidth', () => {
  it('fills lines up to the width, each with the hanging indent, never cutting a word', () => {
    const lines = wrapWords(ids, 60, '    ');
    expect(lines.join(' ').split(/\s+/).filter(Boolean)).toEqual(ids);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(60);
      expect(l).toMatch(/^ {4}i-/);
    }
    expect(lines).toHaveLength(6); // two 22-character IDs a line at width 60
    expect(wrapWords(['i-a-very-long-instance-id'], 10, '  ')).toEqual(['  i-a-very-long-instance-id']);
    expect(wrapWords([], 80, '  ')).toEqual([]);
  });

  it('uses the terminal width, and 100 columns when stdout is not a terminal', () => {
    expect(terminalWidth({ columns: undefined })).toBe(DEFAULT_WIDTH);
    expect(DEFAULT_WIDTH).toBe(100);
    expect(terminalWidth({ columns: 132 })).toBe(132);
  });
});

describe('the human result (start --wait, watch, result)', () => {
  it('lists every instance of a batch under its row, wrapped to the width with a hanging indent', () => {
    const lines = batchTable(aborted.batches, aborted, 60);
    expect(lines[0]).toMatch(/^batch +instances +ScalingActivityId +status$/);
    const indent = ' '.repeat((lines[0] ?? '').indexOf('instances'));
    expect(lines[1]).toMatch(/^1 +6 +asa-1 +failed — scaling activity asa-1 ended Failed/);
    const idLines = lines.filter((l) => l.includes('i-bp1'));
    expect(idLines.join(' ').split(/\s+/).filter(Boolean)).toEqual(ids);
    for (const l of idLines) {
      expect(l.startsWith(`${indent}i-bp1`)).toBe(true);
      expect(l.length).toBeLessThanOrEqual(60);
    }
    // At the default width (not a terminal) too: every ID of the batch, not its first and last.
    const text = resultLines(aborted).join('\n');
    const table = text.slice(text.indexOf('batch  instances'), text.indexOf('\nremoved 0'));
    for (const id of ids) expect(table).toContain(id);
  });

  it('says each reason once, with the instances it applies to listed under it', () => {
    const lines = resultLines(aborted, { width: 80 });
    const text = lines.join('\n');
    const notRemoved = text.slice(text.indexOf('Not removed:'), text.indexOf('\nOutcomes:'));
    expect(count(notRemoved, 'ended Failed (Boom); its traffic was restored')).toBe(1);
    expect(notRemoved).toMatch(/^ {2}6 instances failed$/m);
    expect(notRemoved).toMatch(
      /^ {2}6 instances restored, restored on CLB lb-bp1clb00000000000001, ALB server group sgp-bp1alb000000000001$/m,
    );
    for (const id of ids) expect(count(notRemoved, id)).toBe(1);
    for (const l of lines.filter((x) => x.includes('i-bp1'))) expect(l.length).toBeLessThanOrEqual(80);
  });

  it("says the abort's reason once: in the message, not again for each instance it left", () => {
    const text = resultLines(aborted).join('\n');
    expect(count(text, 'aborting because onBatchFailure is "abort"')).toBe(1);
    expect(text).toContain('    why: drained then restored: the run stopped (see above)');
    // The failure's message, printed just before by the caller, is not repeated either.
    const after = resultLines(aborted, { printed: `${aborted.message}. Removed 0, failed 6 of 12.` }).join('\n');
    expect(count(after, 'aborting because onBatchFailure')).toBe(0);
    expect(after).toContain('(see above)');
  });

  it("a cancel's reason (who and why) is said once too", () => {
    const why = 'the run was cancelled by alice (reason: maintenance over)';
    const cancelled: ScaleInResult = {
      ...aborted,
      outcome: 'cancelled',
      message: 'The run was cancelled by alice (reason: maintenance over)',
      notRemoved: ids.map((id) => ({ instanceId: id, outcome: 'restored', why: `drained then restored: ${why}` })),
    };
    const text = resultLines(cancelled).join('\n');
    expect(count(text, 'maintenance over')).toBe(1);
    expect(text).toMatch(/^ {2}12 instances restored\n {4}why: drained then restored \(see above\)$/m);
  });

  it('lists the most needed reasons first, and counts those left out', () => {
    const many: ScaleInResult = {
      ...aborted,
      notRemoved: [
        ...ids.map((id, i) => ({ instanceId: id, outcome: 'skipped' as const, why: `left the group (${i})` })),
        {
          instanceId: 'i-drained',
          outcome: 'drained-not-restored',
          why: 'its traffic could not be restored',
          drainedOn: [{ place: 'CLB lb-1', code: 'Forbidden.Unauthorized', message: 'no' }],
        },
      ],
    };
    const lines = resultLines(many, { maxReasons: 3 });
    const first = lines.indexOf('Not removed:') + 1;
    expect(lines[first]).toBe('  i-drained drained-not-restored, drained on CLB lb-1 (Forbidden.Unauthorized)');
    expect(lines).toContain('  … and 10 more reason(s), for 10 instances (use --json for all)');
  });

  it('a dry run lists the load balancers the run would drain', () => {
    const dry: ScaleInResult = {
      ...aborted,
      outcome: 'dry-run',
      message: 'Dry run: 2 batch(es) of up to 6; TotalCapacity 30 → 18 (MinSize 1).',
      notRemoved: ids.map((id) => ({ instanceId: id, outcome: 'skipped', why: 'dry run: nothing was changed' })),
      batches: aborted.batches.map((b) => ({ ...b, state: 'pending', errors: [], scalingActivityId: undefined })),
    };
    const lines = resultLines(dry);
    expect(lines).toContain(
      'Load balancers the run drains (weight 0 before RemoveInstances, given back if not removed):',
    );
    expect(lines.join('\n')).toMatch(
      /^ {2}CLB +lb-bp1clb00000000000001 +default server group \(its listeners\) +all 12$/m,
    );
    expect(lines.join('\n')).toMatch(/^ {2}NLB +- +server group sgp-bp1nlb000000000001 +all 12$/m);
    expect(count(lines.join('\n'), 'dry run: nothing was changed')).toBe(1);
  });
});

describe('the human status', () => {
  it('lists each load balancer the run drains: kind, ID, server group, instances', () => {
    const text = statusLines(aborted.workflowId, snapshot(), undefined, 100).join('\n');
    expect(text).toMatch(/^ {2}kind +ID +server group \/ listener +instances attached$/m);
    expect(text).toMatch(/^ {2}CLB +lb-bp1clb00000000000001 +default server group \(its listeners\) +all 12$/m);
    expect(text).toMatch(/^ {2}CLB +lb-bp1clb00000000000001 +vserver group rsp-bp1vsg0001 +all 12$/m);
    expect(text).toMatch(/^ {2}ALB +- +server group sgp-bp1alb000000000001 +all 12$/m);
    expect(text).toMatch(/^ {2}NLB +- +server group sgp-bp1nlb000000000001 +all 12$/m);
    for (const id of ids) expect(text).toContain(id);
  });

  it('a standby drain says the instances enter Standby; none says nothing is drained', () => {
    const standby = { ...plan, drainStrategy: 'standby' as const, alreadyStandby: [ids[0] ?? ''] };
    const text = statusLines(aborted.workflowId, snapshot({ plan: standby }), undefined).join('\n');
    expect(text).toContain('Load balancers the run drains (the instances enter Standby before RemoveInstances):');
    expect(text).toMatch(/^ {2}standby +- +- +11 enter Standby \(1 already in Standby\)$/m);
    const none = { ...plan, drainStrategy: 'none' as const };
    expect(statusLines(aborted.workflowId, snapshot({ plan: none }), undefined).join('\n')).toContain(
      'Load balancers of the group (not drained: drain strategy none):',
    );
    const bare = { ...plan, loadBalancers: { clbIds: [], vServerGroups: [], albServerGroupIds: [] } };
    expect(statusLines(aborted.workflowId, snapshot({ plan: bare }), undefined)).toContain(
      'Load balancers: none attached to the group, nothing to drain',
    );
  });

  it('instances the run removed are no longer counted as attached', () => {
    const counts = {
      ...aborted.counts,
      removed: 6,
      failed: 0,
      restored: 0,
      pending: 6,
      batchesDone: 1,
      batchesTotal: 2,
    };
    const text = statusLines(aborted.workflowId, snapshot({ counts }), undefined).join('\n');
    expect(text).toMatch(/^ {2}ALB +- +server group sgp-bp1alb000000000001 +6 \(6 removed\)$/m);
  });

  it('before the preflight (no plan yet) lists no load balancers', () => {
    const text = statusLines(aborted.workflowId, snapshot({ plan: undefined, phase: 'Preflight' }), undefined);
    expect(text.join('\n')).not.toContain('Load balancers');
  });
});
