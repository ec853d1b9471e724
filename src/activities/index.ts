import { Context } from '@temporalio/activity';
import type { CloudClient } from '../aliyun/types';
import { runDrain, runUndrain } from './drain';
import { translated } from './failures';
import { runPoll } from './poll';
import { runPreflight } from './preflight';
import { runRemoveBatch } from './remove';
import type { DrainRequest, PollRequest, PreflightRequest, RemoveBatchRequest, UndrainRequest } from './types';

export interface ActivityDeps {
  cloud: CloudClient;
}

/**
 * All I/O of a scale-in. Built over a cloud client so tests can pass a fake of the same type;
 * every cloud error is translated once, here, into the Temporal failure the retry policy keys on.
 */
export function createActivities({ cloud }: ActivityDeps) {
  return {
    async preflight(req: PreflightRequest) {
      return translated(() => runPreflight(cloud, req, Context.current().cancellationSignal), req.retryDelayCapMs);
    },
    async drain(req: DrainRequest) {
      return translated(() => runDrain(cloud, req), req.retryDelayCapMs);
    },
    async undrain(req: UndrainRequest) {
      return translated(() => runUndrain(cloud, req), req.retryDelayCapMs);
    },
    async removeBatch(req: RemoveBatchRequest) {
      return translated(() => runRemoveBatch(cloud, req), req.retryDelayCapMs);
    },
    async pollScalingActivity(req: PollRequest) {
      return translated(() => runPoll(cloud, req), req.retryDelayCapMs);
    },
  };
}

export type ScaleInActivities = ReturnType<typeof createActivities>;
export type * from './types';
