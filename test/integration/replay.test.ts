import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../harness/temporal';

/**
 * Committed histories of real runs (scripts/record-histories.ts) must replay on the current
 * workflow code. A failure here means a change would break runs in flight: guard it with patched().
 */
// One folder per workflow code version that recorded them: every version must keep replaying.
const dir = path.join(__dirname, '../fixtures/histories');
const versions = readdirSync(dir).sort();
const files = versions.flatMap((v) =>
  readdirSync(path.join(dir, v))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${v}/${f}`),
);

describe('replay of committed histories', () => {
  it('has fixtures for the main paths, in every recorded version', () => {
    expect(versions.length).toBeGreaterThanOrEqual(2);
    for (const v of versions) {
      expect(files.filter((f) => f.startsWith(`${v}/`)).map((f) => f.slice(v.length + 1))).toEqual(
        expect.arrayContaining([
          'happy-path.json',
          'cancelled.json',
          'continue-as-new-final-run.json',
          'batch-warning-abort.json',
          'preflight-failed.json',
          'dry-run.json',
        ]),
      );
    }
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;
      await expect(
        Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, file),
      ).resolves.toBeUndefined();
    });
  }

  it('detects a history that the code would not produce (the check can fail)', async () => {
    const history = JSON.parse(readFileSync(path.join(dir, versions.at(-1) ?? 'v1', 'happy-path.json'), 'utf8')) as {
      events: Array<Record<string, { activityType?: { name: string } }>>;
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    const attrs = scheduled?.activityTaskScheduledEventAttributes;
    expect(attrs?.activityType?.name).toBe('preflight');
    if (attrs?.activityType) attrs.activityType.name = 'somethingElse';
    await expect(Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, 'tampered')).rejects.toThrow(
      /[Nn]ondeterminism|DeterminismViolation|activity type/,
    );
  });
});
