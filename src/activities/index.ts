import { Context } from '@temporalio/activity';
import type { CloudClient } from '../aliyun/types';
import { runDrain, runSnapshotWeights, runUndrain } from './drain';
import { withHeartbeat } from './heartbeat';
import { translated } from './failures';
import { runPoll } from './poll';
import { runPreflight } from './preflight';
import { runRemoveAndFollow } from './remove-and-follow';
import {
  runCheckInstances,
  runSelectInstances,
  type CheckInstancesRequest,
  type SelectInstancesRequest,
} from './select-instances';
import { runRepairWeights, type RepairWeightsRequest } from './verify';
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
      return withHeartbeat(() =>
        translated(() => runPreflight(cloud, req, Context.current().cancellationSignal), req.retryDelayCapMs),
      );
    },
    async snapshotWeights(req: DrainRequest) {
      return withHeartbeat(() =>
        translated(() => runSnapshotWeights(cloud, req, Context.current().cancellationSignal), req.retryDelayCapMs),
      );
    },
    async drain(req: DrainRequest) {
      return withHeartbeat((hb) => translated(() => runDrain(cloud, req, hb), req.retryDelayCapMs));
    },
    async undrain(req: UndrainRequest) {
      return withHeartbeat((hb) => translated(() => runUndrain(cloud, req, hb), req.retryDelayCapMs));
    },
    /** With `follow`, it also polls the scaling activity it started to its end (remove-and-follow.ts). */
    async removeBatch(req: RemoveBatchRequest) {
      return withHeartbeat((hb) => translated(() => runRemoveAndFollow(cloud, req, hb), req.retryDelayCapMs));
    },
    async pollScalingActivity(req: PollRequest) {
      return withHeartbeat((hb) => translated(() => runPoll(cloud, req, hb), req.retryDelayCapMs));
    },
    /** `ess-scale-in repair`: puts back what a terminated run left drained, verifying each weight. */
    async repairWeights(req: RepairWeightsRequest) {
      return withHeartbeat((hb) => translated(() => runRepairWeights(cloud, req, hb), req.retryDelayCapMs));
    },
    async selectInstancesForWindow(req: SelectInstancesRequest) {
      return withHeartbeat(() =>
        translated(() => runSelectInstances(cloud, req, Context.current().cancellationSignal), req.retryDelayCapMs),
      );
    },
    async checkWindowInstances(req: CheckInstancesRequest) {
      return withHeartbeat(() =>
        translated(() => runCheckInstances(cloud, req, Context.current().cancellationSignal), req.retryDelayCapMs),
      );
    },
  };
}

/**
 * The scale-in workflow's activities (what test fakes implement); the window's two are kept apart
 * so fakes need not grow.
 */
export type ScaleInActivities = Omit<ReturnType<typeof createActivities>, keyof WindowActivities | 'repairWeights'>;
/** The repair workflow's one activity (src/activities/verify.ts). */
export type RepairActivities = Pick<ReturnType<typeof createActivities>, 'repairWeights'>;
/** The scheduled window's activities (src/activities/select-instances.ts). */
export type WindowActivities = Pick<
  ReturnType<typeof createActivities>,
  'selectInstancesForWindow' | 'checkWindowInstances'
>;
export type * from './types';
export type { RepairOutcome, RepairPlace, RepairWeightsRequest, RepairWeightsResponse } from './verify';
export type { CheckInstancesRequest, CheckInstancesResponse, SelectInstancesRequest } from './select-instances';
