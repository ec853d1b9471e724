import { noopMetricMeter } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  DrainRequest,
  DrainResponse,
  PollRequest,
  PollResponse,
  RemoveBatchResponse,
  UndrainResponse,
} from '../../../src/activities/types';
import { activityObservability } from '../../../src/observability/activity';
import { ScaleInMetrics } from '../../../src/observability/metrics';
import { activityEnv, type LogLine } from './activity-env';

const NOW = Date.parse('2024-05-01T10:00:30Z');
const SCHEDULED = NOW - 12_500;
const TAGS = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1', taskQueue: 'scale-in' };

let metrics: ScaleInMetrics;

/** Runs an activity of `activityType` that takes `arg` and returns `result`, observed by the interceptor. */
async function observed(
  activityType: string,
  arg: unknown,
  result: unknown,
  opts: { metrics: ScaleInMetrics | undefined } = { metrics },
) {
  const a = activityEnv({ activityType, taskQueue: 'scale-in', scheduledTimestampMs: SCHEDULED }, [
    activityObservability(opts.metrics),
  ]);
  const returned = await a.env.run(async (_arg: unknown) => {
    a.env.context.log.info('inside the activity');
    return result;
  }, arg);
  return { returned, lines: a.logs.filter((l) => l.meta?.sdkComponent === 'activity') };
}

const messages = (lines: LogLine[]) => lines.map((l) => [l.level, l.message]);

const drainReq = {
  regionId: 'cn-hangzhou',
  scalingGroupId: 'asg-1',
  strategy: 'weight',
  batchIndex: 4,
} as DrainRequest;

describe('activityObservability', () => {
  beforeEach(() => {
    vi.spyOn(Date, 'now').mockReturnValue(NOW);
    metrics = new ScaleInMetrics(noopMetricMeter);
    for (const m of ['drained', 'restored', 'scalingActivityEnded'] as const) vi.spyOn(metrics, m);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('adds the scaling group and batch to every log line of the activity', async () => {
    const { lines } = await observed('drain', drainReq, {
      restore: [],
      requestIds: [],
    } satisfies Partial<DrainResponse>);
    expect(lines[0]).toMatchObject({
      message: 'inside the activity',
      meta: { scalingGroupId: 'asg-1', batch: 4, activityType: 'drain' },
    });
  });

  it("takes the batch from removeBatch's idempotency key and the group from preflight's input", async () => {
    const remove = await observed(
      'removeBatch',
      { scalingGroupId: 'asg-1', idempotencyKey: 'run-1/7' },
      { removals: [] },
    );
    expect(remove.lines[0]?.meta).toMatchObject({ scalingGroupId: 'asg-1', batch: 7 });
    const preflight = await observed('preflight', { input: { scalingGroupId: 'asg-2' } }, {});
    expect(preflight.lines[0]?.meta).toMatchObject({ scalingGroupId: 'asg-2' });
    expect(preflight.lines[0]?.meta).not.toHaveProperty('batch');
    const bare = await observed('preflight', 'not an object', {});
    expect(bare.lines[0]?.meta).not.toHaveProperty('scalingGroupId');
  });

  it('counts drained instances (not backends) and logs the drain', async () => {
    const res: DrainResponse = {
      restore: [
        { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-1', weight: 100 },
        { kind: 'vsg', vServerGroupId: 'rsp-1', serverId: 'i-1', port: 80, weight: 100 },
        { kind: 'clb', loadBalancerId: 'lb-1', serverId: 'i-2', weight: 100 },
      ],
      requestIds: ['req-1'],
      drainedAt: '2024-05-01T10:00:29Z',
    };
    const { returned, lines } = await observed('drain', drainReq, res);

    expect(returned).toBe(res);
    expect(metrics.drained).toHaveBeenCalledWith(TAGS, { strategy: 'weight', instances: 2, durationSeconds: 12.5 });
    expect(lines[1]).toMatchObject({
      level: 'INFO',
      message: 'drained batch 4: 2 instance(s) out of traffic (weight)',
      meta: { requestIds: ['req-1'], durationMs: 12_500 },
    });
  });

  it('counts standby drains by instance', async () => {
    const res = { restore: [{ kind: 'standby', instanceId: 'i-1' }], requestIds: [], drainedAt: '' };
    await observed('drain', { ...drainReq, strategy: 'standby' }, res);
    expect(metrics.drained).toHaveBeenCalledWith(TAGS, { strategy: 'standby', instances: 1, durationSeconds: 12.5 });
  });

  it('counts restored instances and logs what was gone', async () => {
    const res: UndrainResponse = { restoredInstanceIds: ['i-1', 'i-2'], goneInstanceIds: ['i-3'], requestIds: ['r'] };
    const { lines } = await observed('undrain', { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' }, res);

    expect(metrics.restored).toHaveBeenCalledWith(TAGS, 2);
    expect(lines[1]).toMatchObject({
      level: 'INFO',
      message: 'restored traffic to 2 instance(s)',
      meta: { instanceIds: ['i-1', 'i-2'], goneInstanceIds: ['i-3'], requestIds: ['r'] },
    });
  });

  it('logs one line per accepted or adopted removal', async () => {
    const res: Partial<RemoveBatchResponse> = {
      removals: [
        { scalingActivityId: 'sa-1', instanceIds: ['i-1', 'i-2'], adopted: false, requestId: 'req-1' },
        { scalingActivityId: 'sa-0', instanceIds: ['i-3'], adopted: true, requestId: undefined },
      ],
    };
    const { lines } = await observed('removeBatch', { scalingGroupId: 'asg-1', idempotencyKey: 'k/1' }, res);

    expect(messages(lines.slice(1))).toEqual([
      ['INFO', 'RemoveInstances accepted: scaling activity sa-1 for 2 instance(s)'],
      ['INFO', 'RemoveInstances adopted: scaling activity sa-0 for 1 instance(s)'],
    ]);
    expect(lines[1]?.meta).toMatchObject({
      action: 'RemoveInstances',
      requestId: 'req-1',
      scalingActivityId: 'sa-1',
      instanceIds: ['i-1', 'i-2'],
    });
  });

  const pollReq = { regionId: 'cn-hangzhou', scalingGroupId: 'asg-1' } as PollRequest;
  const pollRes = (over: Partial<PollResponse>): PollResponse => ({
    scalingActivityId: 'sa-1',
    statusCode: 'Successful',
    statusMessage: '',
    progress: 100,
    removedInstanceIds: ['i-1', 'i-2'],
    failedInstances: [],
    polls: 3,
    endedAt: new Date(NOW - 2500).toISOString(),
    ...over,
  });

  it('records a finished scaling activity, timed to its end, and logs it at INFO', async () => {
    const { lines } = await observed('pollScalingActivity', pollReq, pollRes({}));

    expect(metrics.scalingActivityEnded).toHaveBeenCalledWith(TAGS, {
      status: 'Successful',
      removed: 2,
      failed: 0,
      polls: 3,
      durationSeconds: 10,
    });
    expect(lines[1]).toMatchObject({
      level: 'INFO',
      message: 'scaling activity sa-1 ended Successful: 2 removed, 0 not removed',
      meta: { scalingActivityId: 'sa-1', statusCode: 'Successful', polls: 3, durationMs: 10_000 },
    });
  });

  it('logs at WARN, with the instances, when some were not removed; an unreadable end time is now', async () => {
    const failedInstances = [{ instanceId: 'i-2', why: 'still there' }];
    const res = pollRes({ statusCode: 'Warning', removedInstanceIds: ['i-1'], failedInstances, endedAt: 'never' });
    const { lines } = await observed('pollScalingActivity', pollReq, res);

    expect(metrics.scalingActivityEnded).toHaveBeenCalledWith(TAGS, {
      status: 'Warning',
      removed: 1,
      failed: 1,
      polls: 3,
      durationSeconds: 12.5,
    });
    expect(lines[1]).toMatchObject({
      level: 'WARN',
      message: 'scaling activity sa-1 ended Warning: 1 removed, 1 not removed',
      meta: { durationMs: 12_500, failedInstances },
    });
  });

  it('logs without metrics, ignores other activities, and never fails an activity that did its work', async () => {
    const noMetrics = await observed(
      'undrain',
      pollReq,
      { restoredInstanceIds: [], goneInstanceIds: [] },
      {
        metrics: undefined,
      },
    );
    expect(messages(noMetrics.lines)).toEqual([
      ['INFO', 'inside the activity'],
      ['INFO', 'restored traffic to 0 instance(s)'],
    ]);
    const other = await observed('selectInstancesForWindow', pollReq, { picks: [] });
    expect(messages(other.lines)).toEqual([['INFO', 'inside the activity']]);
    // A result observe cannot read.
    const broken = await observed('drain', drainReq, { requestIds: [] });
    expect(broken.returned).toEqual({ requestIds: [] });
    expect(metrics.drained).not.toHaveBeenCalled();
    expect(metrics.restored).not.toHaveBeenCalled();
  });
});
