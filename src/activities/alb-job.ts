import { Context } from '@temporalio/activity';
import { AliyunError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';
import type { Heartbeat } from './heartbeat';

/**
 * An ALB weight change whose asynchronous job ended `Failed`. Not an API answer (the call itself
 * was accepted), so it is our own error with our own code, carrying the job's code and message.
 */
export class AlbJobFailedError extends AliyunError {
  override readonly name = 'AlbJobFailedError' as const;
  readonly code = 'AlbJobFailed' as const;
  readonly ambiguous = false;
  readonly action = 'UpdateServerGroupServersAttribute' as const;
  constructor(
    readonly jobId: string,
    readonly jobErrorCode: string | undefined,
    readonly jobErrorMessage: string | undefined,
  ) {
    const why = [jobErrorCode, jobErrorMessage].filter(Boolean).join(' ');
    super(`ALB job ${jobId} of UpdateServerGroupServersAttribute failed${why ? `: ${why}` : ''}`);
  }
}

/** ALB weight changes are asynchronous: traffic has moved only when the job has succeeded. */
export async function waitForAlbJob(cloud: CloudClient, regionId: string, jobId: string, hb: Heartbeat): Promise<void> {
  const ctx = Context.current();
  let delay = 200;
  for (;;) {
    const { jobs } = await cloud.alb.listAsynJobs(regionId, [jobId], { signal: ctx.cancellationSignal });
    const job = jobs.find((j) => j.id === jobId);
    if (job?.status === 'Succeeded') return;
    if (job?.status === 'Failed') throw new AlbJobFailedError(jobId, job.errorCode, job.errorMessage);
    // Not the earlier attempt's details: that would drop a drain attempt's record of the original weights.
    hb.beat();
    await ctx.sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
}
