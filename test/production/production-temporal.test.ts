import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { ScaleInWindows } from '../../src/client';
import { waitFor } from '../../src/emulator/testing';
import { FAST, SMALL, runWithWorkerKilledMidPoll, startStack, type Stack } from '../harness/stack';

/**
 * The product on the production topology of docker-compose.yml (Temporal 1.29.1 on PostgreSQL, SQL
 * visibility; started by test/production/global-setup.ts), not the SQLite dev server: a scale-in
 * found again by a visibility query on its search attributes, a scheduled window, and a worker
 * SIGKILLed mid-run.
 */

/** Instance IDs in the successful RemoveInstances calls, one entry per removal request. */
async function removedByCalls(stack: Stack): Promise<string[]> {
  const calls = await stack.admin.calls({ action: 'RemoveInstances', outcome: 'ok' });
  return calls.flatMap((c) =>
    Object.entries(c.params)
      .filter(([k]) => /^InstanceId\.\d+$/.test(k))
      .map(([, v]) => v),
  );
}

/** Visibility rows for a query, once there is at least one. */
async function findByQuery(stack: Stack, query: string): Promise<string[]> {
  return waitFor(
    async () => {
      const rows: string[] = [];
      for await (const w of stack.rawClient.workflow.list({ query })) rows.push(w.workflowId);
      return rows.length ? rows : undefined;
    },
    30_000,
    250,
  );
}

describe('the server is the production topology', () => {
  it('Temporal 1.29.1 with PostgreSQL persistence and visibility', async () => {
    const stack = await startStack({ withWorker: false });
    try {
      const info = await stack.rawClient.workflowService.getClusterInfo({});
      expect(info.serverVersion).toBe('1.29.1');
      expect(info.persistenceStore).toBe('postgres12');
      expect(info.visibilityStore).toBe('postgres12');
      const t = inject('productionTimings');
      expect(t.totalMs).toBe(t.postgresMs + t.schemaMs + t.serverMs + t.namespaceMs);
    } finally {
      await stack.close();
    }
  });
});

describe('a scale-in on PostgreSQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('completes, and a visibility query on EssScalingGroupId and EssInstancesRemoved finds it', async () => {
    const ids = (await stack.instanceIds()).slice(0, 12);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 5 }));
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(12);
    expect((await removedByCalls(stack)).sort()).toEqual([...ids].sort());
    const found = await findByQuery(
      stack,
      `EssScalingGroupId = '${stack.group}' AND EssInstancesRemoved = 12 AND ExecutionStatus = 'Completed'`,
    );
    expect(found).toEqual([workflowId]);
  });
});

describe('a scheduled window on PostgreSQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a trigger starts a window run that removes the 3 oldest instances', async () => {
    const windows = ScaleInWindows.from(stack.client);
    const { scheduleId } = await windows.createWindow({
      // 1 January only: never during a test run, in practice; the trigger fires it.
      spec: { cron: ['0 0 1 1 *'], timezone: 'UTC' },
      window: {
        regionId: SMALL.region,
        scalingGroupId: stack.group,
        windowSeconds: 120,
        count: 3,
        selection: 'oldest',
        batchSize: 10,
        drain: { timeoutSeconds: 0 },
        advanced: FAST,
      },
    });
    try {
      const before = await stack.instanceIds();
      await windows.triggerWindow(scheduleId);
      const run = await waitFor(async () => (await windows.describeWindow(scheduleId)).recentRuns.at(-1), 30_000, 250);
      const result = await windows.windowResult(run.workflowId, run.firstExecutionRunId);
      expect(result.outcome).toBe('completed');
      expect(result.removed).toHaveLength(3);
      expect(await stack.instanceIds()).toEqual(before.filter((i) => !result.removed.includes(i)));
      expect(
        await findByQuery(stack, `WorkflowType = 'scaleInWindow' AND EssScalingGroupId = '${stack.group}'`),
      ).toEqual([run.workflowId]);
    } finally {
      await windows.deleteWindow(scheduleId);
    }
  });
});

describe('a worker SIGKILLed mid-run on PostgreSQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a new worker completes the run; every instance is removed exactly once', async () => {
    const advanced = { ...FAST, pollMinIntervalMs: 200, pollMaxIntervalMs: 500, heartbeatTimeoutSeconds: 2 };
    const { workflowId, ids, killed } = await runWithWorkerKilledMidPoll(stack, advanced);
    expect(() => process.kill(killed.pid, 0)).toThrow();

    const second = await stack.spawnWorker();
    const result = await stack.client.result(workflowId);
    expect(result.outcome, second.output()).toBe('completed');
    expect(result.counts.removed).toBe(10);
    const removed = await removedByCalls(stack);
    expect(removed).toHaveLength(10);
    expect([...removed].sort()).toEqual([...ids].sort());
    expect((await stack.instanceIds()).filter((i) => ids.includes(i))).toEqual([]);
    await second.kill('SIGTERM');
  });
});
