import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { waitFor } from '../../src/emulator/testing';
import { runWithWorkerKilledMidPoll, startStack, type Stack } from '../harness/stack';
import { defaultPayloadConverter } from '@temporalio/common';
import { localActivityOf } from '../../src/client/history-local-activity';

describe('exactly-once removal when responses are lost', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('commit-then-drop with ClientToken ignored: the accepted activity is adopted, never sent twice', async () => {
    // The endpoint ignores ClientToken (as older API versions do); only reconciliation can save us.
    await stack.admin.settings({ ignoreClientToken: true, timings: { activityDurationMs: 3000 } });
    const ids = (await stack.instanceIds()).slice(0, 10);
    await stack.admin.setFaults([{ action: 'RemoveInstances', kind: 'commitThenDrop', times: 2 }]);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 5, drain: { timeoutSeconds: 0 } }));
    const result = await stack.client.result(workflowId);

    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(10);
    const removes = await stack.admin.calls({ action: 'RemoveInstances' });
    // Each batch reached the API exactly once, and each call created exactly one activity.
    expect(removes).toHaveLength(2);
    expect(removes.every((c) => c.createdActivityId && c.delivered === false)).toBe(true);
    expect(result.batches.map((b) => b.adopted)).toEqual([true, true]);
    expect(result.batches.map((b) => b.scalingActivityId)).toEqual(removes.map((c) => c.createdActivityId));
    const state = await stack.admin.state();
    expect(
      state.activities.filter((a) => a.scalingGroupId === stack.group && a.kind === 'RemoveInstances'),
    ).toHaveLength(2);
  });

  it('commit-then-drop after which the activity already finished: counted as removed, not sent again', async () => {
    await stack.admin.clearFaults();
    await stack.admin.settings({ ignoreClientToken: true, timings: { activityDurationMs: 50, essDrainWaitMs: 10 } });
    const ids = (await stack.instanceIds()).slice(0, 3);
    const since = (await stack.admin.calls()).at(-1)?.seq ?? 0;
    await stack.admin.setFaults([{ action: 'RemoveInstances', kind: 'commitThenDrop', times: 1 }]);
    // A retry backoff longer than the activity: by the retry, the instances are gone.
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        drain: { timeoutSeconds: 0 },
        advanced: {
          retryInitialIntervalMs: 1500,
          retryMaxIntervalMs: 1500,
          pollMinIntervalMs: 50,
          pollMaxIntervalMs: 200,
          heartbeatTimeoutSeconds: 5,
        },
      }),
    );
    const result = await stack.client.result(workflowId);
    expect(result.counts.removed).toBe(3);
    expect(await stack.admin.calls({ action: 'RemoveInstances', sinceSeq: since })).toHaveLength(1);
    expect(result.removed[0]?.why).toMatch(
      /^removed by scaling activity asa-\S+ \(Successful\), adopted after an ambiguous earlier attempt$/,
    );
  });
});

describe('a flaky API everywhere', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('completes with every call at risk of throttling, 503s, lost responses; removes each instance once', async () => {
    const ids = (await stack.instanceIds()).slice(0, 12);
    await stack.admin.settings({ ignoreClientToken: true });
    // Seeded, so the run is repeatable: about a third of all calls fail one way or another.
    await stack.admin.setFaults(
      [
        { action: '*', kind: 'Throttling', rate: 0.15 },
        { action: '*', kind: 'ServiceUnavailable', rate: 0.1 },
        { action: 'RemoveInstances', kind: 'commitThenDrop', rate: 0.3 },
        { action: 'DescribeScalingActivities', kind: 'reset', rate: 0.2 },
      ],
      7,
    );
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 4, drain: { timeoutSeconds: 0 } }));
    const result = await stack.client.result(workflowId);
    await stack.admin.clearFaults();

    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ total: 12, removed: 12, failed: 0 });
    const calls = await stack.admin.calls();
    expect(calls.filter((c) => c.fault).length).toBeGreaterThan(5);
    // Each batch created exactly one scaling activity, however many RemoveInstances calls it took.
    const created = calls
      .filter((c) => c.action === 'RemoveInstances' && c.createdActivityId)
      .map((c) => c.createdActivityId);
    expect(created).toHaveLength(3);
    const state = await stack.admin.state();
    expect(
      state.activities
        .filter((a) => a.scalingGroupId === stack.group && a.kind === 'RemoveInstances')
        .flatMap((a) => a.instanceIds)
        .sort(),
    ).toEqual(ids);
    expect(await stack.weights(ids)).toEqual({ clb: [], vsg: [], alb: [] }); // deregistered by ESS
  });
});

describe('continue-as-new', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('carries compact state across runs and finishes with one result for the whole request', async () => {
    const ids = (await stack.instanceIds()).slice(0, 25);
    const { workflowId, runId } = await stack.client.start(
      stack.input(ids, {
        batchSize: 5,
        drain: { timeoutSeconds: 1 },
        advanced: { ...stack.input([]).advanced, maxBatchesPerRun: 2 },
      }),
    );
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ total: 25, removed: 25 });
    expect(result.removed.flatMap((g) => g.instanceIds).sort()).toEqual(ids);
    expect(result.batches.map((b) => b.index)).toEqual([1, 2, 3, 4, 5]);
    const desc = await stack.client.handle(workflowId).describe();
    expect(desc.runId).not.toBe(runId); // the final run is a continuation
    const progress = await stack.client.progress(workflowId);
    expect(progress.continuedAsNew).toBe(2);
    // Each batch's ClientToken is distinct: no token reuse across runs.
    const tokens = (await stack.admin.calls({ action: 'RemoveInstances' })).map((c) => c.params.ClientToken);
    expect(new Set(tokens).size).toBe(5);
  });
});

describe('worker killed with SIGKILL mid-poll', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('resumes polling on a new worker; nothing is removed twice', async () => {
    const { workflowId, killed } = await runWithWorkerKilledMidPoll(stack, {
      pollMinIntervalMs: 200,
      pollMaxIntervalMs: 500,
      retryInitialIntervalMs: 100,
      retryMaxIntervalMs: 500,
      heartbeatTimeoutSeconds: 2,
    });
    // The process that polled is really gone (no wrapper left a worker behind).
    expect(() => process.kill(killed.pid, 0)).toThrow();
    const pollsBefore = (await stack.admin.calls({ action: 'DescribeScalingActivities' })).length;
    expect(pollsBefore).toBeGreaterThan(0);

    const second = await stack.spawnWorker();
    const result = await stack.client.result(workflowId);
    expect(result.outcome, second.output()).toBe('completed');
    expect(result.counts.removed).toBe(10);
    const removes = await stack.admin.calls({ action: 'RemoveInstances' });
    expect(removes.filter((c) => c.outcome === 'ok')).toHaveLength(2);
    expect((await stack.admin.calls({ action: 'DescribeScalingActivities' })).length).toBeGreaterThan(pollsBefore);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});

describe('worker killed with SIGKILL while a drain waits for its ALB job', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the retried drain keeps the original weights, so a cancel restores them, not 0', async () => {
    await stack.admin.settings({ timings: { albJobDurationMs: 8000 } });
    const ids = (await stack.instanceIds()).slice(0, 4);
    const before = await stack.weights(ids);
    expect(before.clb.every((w) => w > 0)).toBe(true);
    const first = await stack.spawnWorker();
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        batchSize: 4,
        drain: { timeoutSeconds: 600 },
        advanced: {
          pollMinIntervalMs: 200,
          pollMaxIntervalMs: 500,
          retryInitialIntervalMs: 100,
          retryMaxIntervalMs: 500,
          heartbeatTimeoutSeconds: 2,
        },
      }),
    );
    // Weights are at 0 on the CLB and vserver group; the ALB job is still Processing.
    await waitFor(async () => (await stack.admin.calls({ action: 'ListAsynJobs' })).length > 0, 60_000, 100);
    expect(await stack.weights(ids)).toMatchObject({ clb: [0, 0, 0, 0], vsg: [0, 0, 0, 0] });
    // Past the SDK's heartbeat throttle (0.8 x the 2 s timeout): a later heartbeat has been sent by now.
    await new Promise((r) => setTimeout(r, 3000));
    await first.kill('SIGKILL');

    await stack.spawnWorker();
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 60_000, 200);
    await stack.client.cancel(workflowId);
    await expect(stack.client.result(workflowId)).rejects.toMatchObject({ name: 'ScaleInFailedError' });
    expect(await stack.weights(ids)).toEqual(before);
    expect(await stack.instanceIds()).toEqual(expect.arrayContaining(ids));
  });
});

describe('worker killed after RemoveInstances was accepted, and the activity ended before the retry', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the retry finds the ended activity instead of sending its failed instance again', async () => {
    const ids = (await stack.instanceIds()).slice(0, 4);
    const victim = ids[1] as string;
    const before = await stack.weights([victim]);
    // A short activity in which one instance fails: by the retry it has ended Warning and the victim
    // is InService again.
    await stack.admin.settings({
      timings: { activityDurationMs: 300, essDrainWaitMs: 50 },
      activityOutcomes: [{ match: { instanceIds: [victim] }, status: 'Warning', failInstanceIds: [victim], times: 1 }],
    });
    // The answer to the accepted call is held back; the worker dies before it arrives.
    await stack.admin.setFaults([
      { action: 'RemoveInstances', kind: 'latency', latencyMs: 5000, latencyAfterEffect: true, times: 1 },
    ]);
    const first = await stack.spawnWorker();
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        batchSize: 4,
        drain: { timeoutSeconds: 0 },
        advanced: {
          pollMinIntervalMs: 100,
          pollMaxIntervalMs: 300,
          retryInitialIntervalMs: 100,
          retryMaxIntervalMs: 300,
          heartbeatTimeoutSeconds: 2,
        },
      }),
    );
    await waitFor(() => stack.emulator.state.inProgressActivity(stack.group) !== undefined, 60_000, 2);
    await first.kill('SIGKILL');

    await stack.spawnWorker();
    const result = await stack.client
      .result(workflowId)
      .catch((e: { result?: unknown }) => e.result as Awaited<ReturnType<Stack['client']['result']>>);
    const accepted = (await stack.admin.calls({ action: 'RemoveInstances' })).filter((c) => c.createdActivityId);
    expect(accepted, 'one accepted RemoveInstances call').toHaveLength(1);
    expect(result.counts.removed).toBe(3);
    const report = result.notRemoved.find((r) => r.instanceId === victim);
    expect(report?.why).toContain(accepted[0]?.createdActivityId);
    expect(report?.why).toMatch(/ended Warning/);
    expect(result.batches[0]?.adopted).toBe(true);
    // The failed instance serves traffic again.
    expect(await stack.weights([victim])).toEqual(before);
  });
});

describe('worker killed right after the first weight change of a drain', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the original weights were in the history before the change, so a cancel restores them', async () => {
    const ids = (await stack.instanceIds()).slice(0, 3);
    const before = await stack.weights(ids);
    // The answer to the weight change is held back: the worker dies before it could checkpoint anything after it.
    await stack.admin.setFaults([
      { action: 'SetBackendServers', kind: 'latency', latencyMs: 3000, latencyAfterEffect: true, times: 1 },
    ]);
    const first = await stack.spawnWorker();
    const { workflowId } = await stack.client.start(
      stack.input(ids, {
        batchSize: 3,
        drain: { timeoutSeconds: 600 },
        advanced: {
          pollMinIntervalMs: 200,
          pollMaxIntervalMs: 500,
          retryInitialIntervalMs: 100,
          retryMaxIntervalMs: 500,
          heartbeatTimeoutSeconds: 2,
        },
      }),
    );
    await waitFor(() => stack.emulator.state.callLog({ action: 'SetBackendServers' }).length > 0, 60_000, 2);
    await first.kill('SIGKILL');
    expect((await stack.weights(ids)).clb).toEqual([0, 0, 0]);

    await stack.spawnWorker();
    await waitFor(async () => (await stack.client.progress(workflowId)).batches[0]?.state === 'drained', 60_000, 200);
    await stack.client.cancel(workflowId);
    await expect(stack.client.result(workflowId)).rejects.toMatchObject({ name: 'ScaleInFailedError' });
    expect(await stack.weights(ids)).toEqual(before);
    // The snapshot (a local activity: its marker) is in the history before the drain was scheduled.
    const events = (await stack.client.handle(workflowId).fetchHistory()).events ?? [];
    const steps = events.flatMap((e) => {
      const local = localActivityOf(e, defaultPayloadConverter);
      if (local) return [`local ${local.type}`];
      const s = e.activityTaskScheduledEventAttributes;
      return s ? [s.activityType?.name] : [];
    });
    expect(steps.slice(0, 3)).toEqual(['preflight', 'local snapshotWeights', 'drain']);
  });
});
