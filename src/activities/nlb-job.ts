import { AliyunError } from '../aliyun/errors';
import type { CloudClient } from '../aliyun/types';

/**
 * An NLB weight change whose asynchronous job ended `Failed`. GetJobStatus documents only
 * `Succeeded` and `Processing`, and carries no error detail; a `Failed` status is still taken at
 * its word rather than waited on for ever.
 */
export class NlbJobFailedError extends AliyunError {
  override readonly name = 'NlbJobFailedError' as const;
  readonly code = 'NlbJobFailed' as const;
  readonly ambiguous = false;
  readonly action = 'UpdateServerGroupServersAttribute' as const;
  constructor(readonly jobId: string) {
    super(`NLB job ${jobId} of UpdateServerGroupServersAttribute failed`);
  }
}

/** Whether the NLB job has succeeded (GetJobStatus; false while it runs); a failed one throws. */
export async function nlbJobSucceeded(
  cloud: CloudClient,
  regionId: string,
  jobId: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { status } = await cloud.nlb.getJobStatus(regionId, jobId, { signal });
  // The reference spells it `Succeeded`, its example values vary in case; compare without it.
  const s = status.toLowerCase();
  if (s === 'failed') throw new NlbJobFailedError(jobId);
  return s === 'succeeded';
}
