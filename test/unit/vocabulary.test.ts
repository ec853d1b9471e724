import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultLines } from '../../src/cli/format';
import {
  BATCH_STATES,
  INSTANCE_OUTCOMES,
  RUN_OUTCOMES,
  type ProgressSnapshot,
  type ScaleInResult,
} from '../../src/shared/progress';
import { renderDetails } from '../../src/workflows/details';

/** The one vocabulary of src/shared/progress.ts, and the CLI and the UI that print it. */

const schema = JSON.parse(readFileSync(path.join(__dirname, '../../schema/scale-in-result.schema.json'), 'utf8')) as {
  properties: {
    outcome: { enum: string[] };
    notRemoved: { items: { properties: { outcome: { enum: string[] } } } };
    batches: { items: { properties: { state: { enum: string[] } } } };
  };
};

const stillDrained = {
  instanceId: 'i-1',
  outcome: 'drained-not-restored' as const,
  why: 'drained, not removed: the run was cancelled; its traffic could not be restored',
  drainedOn: [{ place: 'CLB lb-1', code: 'Forbidden.Unauthorized', message: 'denied' }],
  restoredOn: ['vserver group rsp-1', 'ALB server group sgp-1'],
};

describe('the vocabulary', () => {
  it('is the one the published result schema lists, each word with a one-line meaning', () => {
    expect(Object.keys(INSTANCE_OUTCOMES).sort()).toEqual(
      [...schema.properties.notRemoved.items.properties.outcome.enum].sort(),
    );
    expect(Object.keys(RUN_OUTCOMES).sort()).toEqual([...schema.properties.outcome.enum].sort());
    expect(Object.keys(BATCH_STATES).sort()).toEqual([...schema.properties.batches.items.properties.state.enum].sort());
    for (const meaning of [...Object.values(INSTANCE_OUTCOMES), ...Object.values(BATCH_STATES)]) {
      expect(meaning).toMatch(/^[a-zA-Z].{10,}$/);
      expect(meaning).not.toContain('\n');
    }
  });

  it('the CLI lists what stays drained first, where, and prints the legend of the outcomes shown', () => {
    const result: ScaleInResult = {
      workflowId: 'w',
      outcome: 'cancelled',
      message: 'Cancelled',
      plan: undefined,
      counts: { total: 2, removed: 0, failed: 0, skipped: 0, restored: 1, drainedNotRestored: 1, pending: 0 },
      removed: [],
      notRemoved: [{ instanceId: 'i-2', outcome: 'restored', why: 'drained then restored' }, stillDrained],
      batches: [],
    };
    const lines = resultLines(result);
    const rows = lines.filter((l) => l.includes('i-1') || l.includes('i-2'));
    expect(rows[0]).toContain('i-1');
    expect(rows[0]).toContain(
      'drained on CLB lb-1 (Forbidden.Unauthorized); restored on vserver group rsp-1, ALB server group sgp-1',
    );
    expect(lines).toContain('removed 0, failed 0, restored 1, still drained 1, skipped 0, pending 0 (of 2)');
    expect(lines).toContain(`  drained-not-restored: ${INSTANCE_OUTCOMES['drained-not-restored']}`);
    expect(lines).toContain(`  restored: ${INSTANCE_OUTCOMES.restored}`);
    expect(lines.filter((l) => l.startsWith('  skipped:'))).toEqual([]);
  });

  it('the UI details name each instance left drained, and the batch states shown', () => {
    const snapshot = {
      workflowId: 'w',
      phase: 'Cancelled',
      paused: false,
      awaitingApproval: false,
      drainEndedEarly: false,
      input: { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' },
      plan: undefined,
      counts: {
        total: 1,
        removed: 0,
        failed: 0,
        skipped: 0,
        restored: 0,
        drainedNotRestored: 1,
        pending: 0,
        batchesDone: 0,
        batchesTotal: 1,
      },
      batches: [{ index: 1, instanceIds: ['i-1'], state: 'drained', requestIds: [], errors: [] }],
      continuedAsNew: 0,
      lastError: undefined,
      stillDrained: [stillDrained],
    } as unknown as ProgressSnapshot;
    const md = renderDetails(snapshot);
    expect(md).toContain('restored 0 · still drained 1 · skipped 0');
    expect(md).toContain(`States: drained: ${BATCH_STATES.drained}.`);
    expect(md).toContain('| i-1 | CLB lb-1 (Forbidden.Unauthorized) | vserver group rsp-1, ALB server group sgp-1 |');
  });
});
