import type { Duration } from '@temporalio/common';
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { ScaleInActivities, WindowActivities } from '../activities';
import { NON_RETRYABLE_TYPES } from '../shared/error-policy';
import type { NormalizedInput } from '../shared/input';

type Advanced = NormalizedInput['advanced'];

/** One timeout class: how long one attempt may take, and how many attempts at most. */
function preset(adv: Advanced, startToCloseTimeout: Duration, maximumAttempts: number): ActivityOptions {
  return {
    startToCloseTimeout,
    // Every activity heartbeats (src/activities/heartbeat.ts), so a killed worker costs one
    // heartbeat timeout, not the activity's whole start-to-close timeout.
    heartbeatTimeout: adv.heartbeatTimeoutSeconds * 1000,
    retry: {
      initialInterval: adv.retryInitialIntervalMs,
      maximumInterval: adv.retryMaxIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
    },
  };
}

/**
 * The same retries for a local activity. Local activities do not heartbeat; a killed worker fails
 * the workflow task, and the next worker runs the read again from the start.
 */
function localPreset(adv: Advanced, startToCloseTimeout: Duration, maximumAttempts: number): LocalActivityOptions {
  const { retry } = preset(adv, startToCloseTimeout, maximumAttempts);
  return { startToCloseTimeout, retry };
}

/**
 * The scale-in's activities, one proxy per timeout class. Calls add only their `summary` (the
 * UI timeline's label) through executeWithOptions, which the SDK merges over these options.
 */
export function scaleInActivities(adv: Advanced) {
  return {
    /** Reads: preflight and the weight snapshot (before patch snapshot-as-local-activity). */
    reads: proxyActivities<ScaleInActivities>(preset(adv, '5m', 30)),
    /**
     * The weight snapshot as a local activity: a few quick reads whose result is needed before the
     * drain is scheduled. It costs one marker event instead of three activity events and the workflow
     * task its completion would start, and the marker is written in the same workflow task completion
     * that schedules the drain, so the originals are in the history before any weight changes.
     */
    localReads: proxyLocalActivities<ScaleInActivities>(localPreset(adv, '1m', 30)),
    /** A drain: weight changes, and ALB jobs to wait for. */
    drains: proxyActivities<ScaleInActivities>(preset(adv, '10m', 30)),
    /** Giving traffic back is retried longer than taking it away. */
    restores: proxyActivities<ScaleInActivities>(preset(adv, '10m', 50)),
    /** Bounded per error code by the activity itself (see error-policy.ts); 500 is only a backstop. */
    removals: proxyActivities<ScaleInActivities>(preset(adv, '2m', 500)),
    /** A scaling activity can run for hours on a big batch with long connection draining. */
    polls: proxyActivities<ScaleInActivities>(preset(adv, '6h', 100)),
  };
}

export type ScaleInActivityProxies = ReturnType<typeof scaleInActivities>;

/** The scheduled window's two reads. */
export function windowActivities(adv: Advanced) {
  return proxyActivities<WindowActivities>(preset(adv, '2m', 20));
}
