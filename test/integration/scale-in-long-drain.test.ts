import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { createCloudClient, staticCredentials, type ClosableCloudClient } from '../../src/aliyun';
import { startEmulator, EmulatorAdminClient, type RunningEmulator } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared/input';
import { progressQuery } from '../../src/workflows/definitions';
import { scaleIn } from '../../src/workflows';
import { FAST, SMALL, uniqueSmallScenario } from '../harness/stack';
import { timeSkippingEnv, uniqueName, workflowBundle } from '../harness/temporal';

/**
 * Drain timeouts of half an hour, on the Java time-skipping server, with the real activities
 * against the emulator: the timers are skipped, the API calls are real.
 */
describe('long drain timeouts (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let cloud: ClosableCloudClient;
  let group: string;
  beforeAll(async () => {
    env = await timeSkippingEnv();
    const s = uniqueSmallScenario();
    group = s.group;
    emulator = await startEmulator({ scenario: s.scenario });
    cloud = createCloudClient({
      credentials: staticCredentials(SMALL.keyId, SMALL.secret),
      endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
    });
  });
  afterAll(async () => {
    await cloud?.close();
    await emulator?.close();
    await env?.teardown();
  });

  it('drains all batches ahead so 3 batches cost about one 30-minute drain, not three', async () => {
    const admin = new EmulatorAdminClient(emulator.url);
    const ids = (await admin.state()).instances
      .filter((i) => i.scalingGroupId === group)
      .map((i) => i.instanceId)
      .sort()
      .slice(0, 15);
    const taskQueue = uniqueName('long-drain');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: createActivities({ cloud }),
    });
    const t0 = Date.now();
    const handle = await env.client.workflow.start(scaleIn, {
      taskQueue,
      workflowId: workflowIdFor(SMALL.region, group),
      args: [
        {
          regionId: SMALL.region,
          scalingGroupId: group,
          instanceIds: ids,
          batchSize: 5,
          drain: { timeoutSeconds: 1800 },
          advanced: FAST,
        },
      ],
    });
    const { result, p } = await worker.runUntil(async () => {
      const r = await handle.result();
      return { result: r, p: await handle.query(progressQuery) };
    });
    const realSec = (Date.now() - t0) / 1000;
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const seconds = (e: (typeof events)[number] | undefined) => Number(e?.eventTime?.seconds ?? 0);
    // Workflow time from start to completion, as the server recorded it.
    const skippedSec = seconds(events.at(-1)) - seconds(events[0]);

    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(15);
    // One drain timeout (all 15 drained ahead) plus polling: well under two timeouts of workflow time.
    expect(skippedSec).toBeGreaterThanOrEqual(1800);
    expect(skippedSec).toBeLessThan(2 * 1800);
    expect(realSec).toBeLessThan(60);
    // Every batch waited its drain: removal started at least 30 minutes (server time) after its drain.
    const timers = events.filter((e) => e.timerStartedEventAttributes);
    expect(timers.length).toBeGreaterThanOrEqual(3);
    for (const t of timers) expect(Number(t.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(1800);
    expect(p.batches.every((b) => b.drainedAt !== undefined && b.state === 'succeeded')).toBe(true);
    console.log(`[long-drain] ${Math.round(skippedSec)} s of workflow time in ${realSec.toFixed(1)} s real time`);
  });
});
