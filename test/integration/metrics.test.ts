import { spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { freePort } from '../../src/devtools/temporal-dev-server';
import { waitFor } from '../../src/emulator/testing';
import { SMALL, startStack, type Stack, type WorkerProcess } from '../harness/stack';

// Runtime.install (which opens the Prometheus endpoint) works once per process and the test
// process already has a Runtime (setup-runtime.ts), so the worker runs as a child process,
// exactly as in production.
const root = path.resolve(__dirname, '../..');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it: no escapes inside label values are used here). */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

describe('Prometheus metrics of a worker process', () => {
  let stack: Stack;
  let child: ChildProcess | undefined;
  let worker: WorkerProcess | undefined;
  const output = () => worker?.output() ?? '';
  let port: number;

  beforeAll(async () => {
    stack = await startStack({ withWorker: false });
    port = await freePort();
    worker = await stack.spawnWorker({
      TEMPORAL_METRICS_BIND_ADDRESS: `127.0.0.1:${port}`,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'INFO',
    });
    child = worker.child;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await stack?.close();
  });

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    return parseMetrics(await res.text());
  };

  it('serves SDK and product metrics during and after a scale-in, then stops on SIGTERM', async () => {
    // Scaling activities that last long enough to scrape while batches are in flight.
    await stack.admin.settings({ timings: { activityDurationMs: 2500 } });
    const ids = (await stack.instanceIds()).slice(0, 6);
    const { workflowId } = await stack.client.start(stack.input(ids, { batchSize: 3, drain: { timeoutSeconds: 0 } }));

    // During the run: the first batch was accepted and is being polled.
    await waitFor(
      async () => (await stack.client.progress(workflowId)).batches.some((b) => b.state === 'polling'),
      60_000,
      100,
    );
    let during: Sample[] = [];
    await waitFor(
      async () => {
        during = await scrape();
        return total(during, 'ess_scale_in_api_calls_total', { action: 'RemoveInstances', outcome: 'ok' }) >= 1;
      },
      10_000,
      200,
    );
    expect(
      total(during, 'ess_scale_in_api_calls_total', { product: 'ess', action: 'RemoveInstances', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(during, 'ess_scale_in_api_calls_total', { product: 'ess', action: 'DescribeScalingGroups', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(during, 'ess_scale_in_api_call_duration_seconds_count', { action: 'RemoveInstances' }),
    ).toBeGreaterThanOrEqual(1);
    const mine = { task_queue: stack.taskQueue, scaling_group_id: stack.group, region_id: SMALL.region };
    // That scrape happened mid-run: the workflow was still running and not every instance was counted yet.
    expect((await stack.client.handle(workflowId).describe()).status.name).toBe('RUNNING');
    expect(total(during, 'ess_scale_in_instances_removed_total', mine)).toBeLessThan(6);
    const result = await stack.client.result(workflowId);
    expect(result.outcome).toBe('completed');
    expect(result.counts.removed).toBe(6);

    let after: Sample[] = [];
    await waitFor(
      async () => {
        after = await scrape();
        return total(after, 'temporal_workflow_completed', { task_queue: stack.taskQueue }) >= 1;
      },
      10_000,
      200,
    );
    // Product metrics, labelled.
    expect(total(after, 'ess_scale_in_instances_removed_total', mine)).toBe(6);
    expect(total(after, 'ess_scale_in_instances_failed_total', mine)).toBe(0);
    expect(total(after, 'ess_scale_in_scaling_activities_total', { ...mine, status: 'Successful' })).toBe(2);
    expect(total(after, 'ess_scale_in_batch_duration_seconds_count', { ...mine, status: 'Successful' })).toBe(2);
    expect(total(after, 'ess_scale_in_batch_duration_seconds_sum', mine)).toBeGreaterThan(2 * 2.0);
    expect(total(after, 'ess_scale_in_drain_duration_seconds_count', mine)).toBe(2);
    expect(total(after, 'ess_scale_in_instances_drained_total', mine)).toBe(6);
    expect(total(after, 'ess_scale_in_scaling_activity_polls_total', mine)).toBeGreaterThanOrEqual(2);
    expect(total(after, 'ess_scale_in_api_calls_total', { action: 'RemoveInstances', outcome: 'ok' })).toBe(2);
    // Polls counted by the activity match the DescribeScalingActivities calls the client made.
    expect(total(after, 'ess_scale_in_scaling_activity_polls_total', mine)).toBe(
      total(after, 'ess_scale_in_api_calls_total', { action: 'DescribeScalingActivities', outcome: 'ok' }),
    );
    // SDK metrics through the same endpoint.
    expect(total(after, 'temporal_workflow_completed', { task_queue: stack.taskQueue, workflow_type: 'scaleIn' })).toBe(
      1,
    );
    expect(
      total(after, 'temporal_activity_execution_latency_count', {
        task_queue: stack.taskQueue,
        activity_type: 'removeBatch',
      }),
    ).toBe(2);

    // An API error is counted with its code.
    await stack.admin.setFaults([{ action: 'DescribeScalingGroups', kind: 'Throttling', times: 1 }]);
    const next = (await stack.instanceIds()).slice(0, 1);
    const second = await stack.client.start(stack.input(next, { drain: { timeoutSeconds: 0 } }));
    expect((await stack.client.result(second.workflowId)).counts.removed).toBe(1);
    const end = await scrape();
    expect(
      total(end, 'ess_scale_in_api_errors_total', {
        product: 'ess',
        action: 'DescribeScalingGroups',
        code: 'Throttling',
      }),
    ).toBe(1);
    expect(total(end, 'ess_scale_in_api_calls_total', { action: 'DescribeScalingGroups', outcome: 'Throttling' })).toBe(
      1,
    );
    expect(total(end, 'ess_scale_in_instances_removed_total', mine)).toBe(7);

    // JSON logs carry the workflow ID on activity lines; the scaling activity's end is logged by the
    // removeBatch that followed it (remove-and-follow).
    const lines = output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      lines.some(
        (l) => l.workflowId === workflowId && l.activity === 'removeBatch' && /ended Successful/.test(String(l.msg)),
      ),
    ).toBe(true);

    // The image's HEALTHCHECK script, against this worker: healthy.
    const health = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'src/observability/healthcheck.ts')],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, METRICS_PORT: '', TEMPORAL_METRICS_BIND_ADDRESS: `127.0.0.1:${port}` },
      },
    );
    expect(health.stdout).toMatch(/^healthy: worker registered/);
    expect(health.status).toBe(0);

    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
