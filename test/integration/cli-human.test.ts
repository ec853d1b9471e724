import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { staticCredentials } from '../../src/aliyun';
import { EmulatorAdminClient, startEmulator, type RunningEmulator } from '../../src/emulator';
import { workflowIdFor } from '../../src/shared/input';
import { startWorker, type RunningWorker } from '../../src/worker';
import { SMALL, uniqueSmallScenario } from '../harness/stack';
import { uniqueName, workflowBundle } from '../harness/temporal';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'ess-scale-in.js');

/** Emulator timings are fast; these keep the workflow's own waits short too. */
const FAST_FLAGS = [
  '--drain-timeout',
  '1',
  '--poll-min-interval-ms',
  '50',
  '--poll-max-interval-ms',
  '300',
  '--retry-initial-interval-ms',
  '50',
  '--retry-max-interval-ms',
  '300',
];

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The human output of the CLI (real child process, real Temporal dev server, emulator): what operators read. */
describe('ess-scale-in CLI human output', () => {
  let emulator: RunningEmulator;
  let admin: EmulatorAdminClient;
  let worker: RunningWorker;
  let group: string;
  let workflowId: string;
  let taskQueue: string;

  /** Asynchronous on purpose: the worker in this process must keep serving while the CLI runs. */
  function cli(args: string[]): Promise<CliRun> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
    for (const k of ['TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) delete env[k];
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, ...args], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
  }

  const groupIds = () =>
    emulator.state
      .snapshot()
      .instances.filter((i) => i.scalingGroupId === group)
      .map((i) => i.instanceId)
      .sort();
  const count = (text: string, part: string) => text.split(part).length - 1;

  beforeAll(async () => {
    const s = uniqueSmallScenario();
    group = s.group;
    workflowId = workflowIdFor(SMALL.region, group);
    emulator = await startEmulator({ scenario: s.scenario, port: 0 });
    admin = new EmulatorAdminClient(emulator.url);
    taskQueue = uniqueName('cli-human');
    worker = await startWorker({
      temporal: {
        address: inject('temporalAddress'),
        namespace: 'default',
        taskQueue,
        apiKey: undefined,
        tls: undefined,
      },
      credentials: staticCredentials(SMALL.keyId, SMALL.secret),
      endpoints: { ess: emulator.url, slb: emulator.url, alb: emulator.url },
      workflowBundle: workflowBundle(),
      shutdownGraceTime: '2s',
    });
  });

  afterAll(async () => {
    if (worker?.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await worker?.done;
    await emulator?.close();
  });

  it('start --dry-run --wait lists the load balancers the run drains, and every instance of each batch', async () => {
    const ids = groupIds().slice(0, 5);
    const r = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.join(','),
      '--batch-size',
      '5',
      '--dry-run',
      ...FAST_FLAGS,
      '--wait',
    ]);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Load balancers the run drains \(weight 0 before RemoveInstances/m);
    expect(out).toMatch(/^ {2}kind +ID +server group \/ listener +instances attached$/m);
    expect(out).toMatch(new RegExp(`^  CLB +${SMALL.lb} +default server group \\(its listeners\\) +all 5$`, 'm'));
    expect(out).toMatch(new RegExp(`^  CLB +${SMALL.lb} +vserver group ${SMALL.vsg} +all 5$`, 'm'));
    expect(out).toMatch(new RegExp(`^  ALB +- +server group ${SMALL.alb} +all 5$`, 'm'));
    // The batch table names every instance of the batch, not just its first and last.
    const table = out.slice(out.indexOf('batch  instances'), out.indexOf('\nremoved 0'));
    for (const id of ids) expect(table).toContain(id);
    // One reason for the five skipped instances, said once.
    expect(count(out, 'dry run: nothing was changed')).toBe(1);
    expect(out).toMatch(/^ {2}5 instances skipped$/m);
  });

  it('an aborted run says each reason once, then the instances it applies to', async () => {
    const ids = groupIds().slice(0, 6);
    await admin.settings({
      activityOutcomes: [
        {
          match: { instanceIds: [ids[0] ?? ''] },
          status: 'Failed',
          errorCode: 'Boom',
          errorMessage: 'failed',
          times: 1,
        },
      ],
    });
    const r = await cli([
      'start',
      '--region',
      SMALL.region,
      '--group',
      group,
      '--instances',
      ids.join(','),
      '--batch-size',
      '2',
      '--on-batch-failure',
      'abort',
      ...FAST_FLAGS,
      '--wait',
    ]);
    expect(r.code).toBe(1);
    const out = r.stdout;
    const summary = out.slice(out.indexOf('Not removed:'), out.indexOf('\nOutcomes:'));
    // The stop's reason is said once in all (the failure's line), not again by the summary or each instance.
    expect(count(out, 'aborting because onBatchFailure is "abort"')).toBe(1);
    // Batches 2 and 3 were skipped, or drained ahead then restored: either way one reason a batch at most.
    expect(summary).toMatch(/^ {4}why: (not removed|drained then restored): the run stopped \(see above\)$/m);
    expect(summary).toMatch(/^ {2}[24] instances (skipped|restored)(, restored on .+)?$/m);
    // Each reason once, each instance once under it.
    expect(count(summary, 'its traffic was restored')).toBe(1);
    for (const id of ids) expect(count(summary, id)).toBe(1);
  });

  it('status lists the load balancers from the plan, and every instance of each batch', async () => {
    const r = await cli(['status', workflowId]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^  CLB +${SMALL.lb} +vserver group ${SMALL.vsg} +all 6$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^  ALB +- +server group ${SMALL.alb} +all 6$`, 'm'));
    const ids = groupIds().slice(0, 6);
    for (const id of ids) expect(r.stdout).toContain(id);
  });
});
