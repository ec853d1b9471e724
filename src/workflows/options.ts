import type { Duration } from '@temporalio/common';
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
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
 * The scale-in's activities, one proxy per timeout class. Calls add only their `summary` (the
 * UI timeline's label) through executeWithOptions, which the SDK merges over these options.
 */
export function scaleInActivities(adv: Advanced) {
  return {
    /** Reads: preflight and the weight snapshot. */
    reads: proxyActivities<ScaleInActivities>(preset(adv, '5m', 30)),
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
