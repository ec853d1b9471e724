import { AliyunError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';

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

/** Whether the ALB job has succeeded (false while it runs); a failed one throws. */
export async function albJobSucceeded(
  cloud: CloudClient,
  regionId: string,
  jobId: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { jobs } = await cloud.alb.listAsynJobs(regionId, [jobId], { signal });
  const job = jobs.find((j) => j.id === jobId);
  if (job?.status === 'Failed') throw new AlbJobFailedError(jobId, job.errorCode, job.errorMessage);
  return job?.status === 'Succeeded';
}
