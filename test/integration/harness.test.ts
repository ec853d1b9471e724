import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnv, timeSkippingEnv, uniqueName, workflowBundle } from '../harness/temporal';
import type { ScaleInActivities } from '../../src/activities';
import { scaleIn } from '../../src/workflows';
import { fakeActivities } from '../harness/fake-activities';

describe('harness: real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs the workflow bundle on the shared dev server and reports a typed failure', async () => {
    const taskQueue = uniqueName('harness');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: fakeActivities().activities,
    });
    const err = await worker.runUntil(
      env.client.workflow
        .execute(scaleIn, {
          taskQueue,
          workflowId: uniqueName('wf'),
          args: [{ regionId: 'cn-hangzhou', scalingGroupId: 'asg-x', instanceIds: ['not-an-id'] } as never],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidInput');
    expect((cause as ApplicationFailure).message).toMatch(
      /scalingGroupId.*instanceIds: malformed instance IDs: not-an-id/s,
    );
    // The dev server, not the Java test server: it serves the Schedules API.
    const schedules = await env.client.workflowService.listSchedules({ namespace: 'default', maximumPageSize: 1 });
    expect(Array.isArray(schedules.schedules)).toBe(true);
  });
});

describe('harness: Java time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a one-hour drain wait in well under a second of real time', async () => {
    const taskQueue = uniqueName('ts');
    const fake = fakeActivities();
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: fake.activities satisfies ScaleInActivities,
    });
    const input = {
      regionId: 'cn-hangzhou',
      scalingGroupId: 'asg-timeskip01',
      instanceIds: fake.instanceIds.slice(0, 3),
      drain: { timeoutSeconds: 3600 },
    };
    const t0 = Date.now();
    const before = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(scaleIn, { taskQueue, workflowId: uniqueName('wf'), args: [input] }),
    );
    const realMs = Date.now() - t0;
    const skippedMs = (await env.currentTimeMs()) - before;
    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(3);
    expect(skippedMs).toBeGreaterThanOrEqual(3600_000);
    expect(realMs).toBeLessThan(5_000);
    expect(fake.calls.map((c) => c.name)).toEqual([
      'preflight',
      'snapshotWeights',
      'drain',
      'removeBatch',
      'pollScalingActivity',
    ]);
    console.log(`[harness] time-skipping: ${Math.round(skippedMs / 1000)} s of workflow time in ${realMs} ms`);
  });
});
