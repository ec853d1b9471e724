/**
 * The one table that maps Alibaba Cloud error codes (and the client's transport error codes) to
 * how a scale-in handles them. Activities read it to decide retryable vs not and the next delay;
 * the workflow reads it to explain failures. The Temporal failure `type` is always the code.
 */

/**
 * All the activity boundary (src/activities/failures.ts) decides from the table: `retry` under the
 * activity's retry policy, or `fail` at once (non-retryable). What a retry looks like is the other
 * fields' business; handling particular to one code (re-checking membership on
 * InvalidInstanceId.NotFound, looking for the scaling activity of a call whose answer was lost) lives
 * in the activities, keyed by the code.
 */
export type Handling = 'retry' | 'fail';

export interface ErrorPolicy {
  handling: Handling;
  /** Total attempts of the activity, this one included, after which a retryable code fails naming the code. */
  maxAttempts?: number;
  /** Overrides the backoff for the next retry. */
  delayMs?: number;
  /** What an operator should do, shown in failures and the UI. */
  advice: string;
}

const throttled: ErrorPolicy = {
  handling: 'retry',
  delayMs: 5000,
  advice: 'API rate limit reached; retried with backoff. Raise the API quota in Quota Center if it persists.',
};
const serverSide: ErrorPolicy = { handling: 'retry', advice: 'Alibaba Cloud server-side error; retried with backoff.' };
const ambiguous: ErrorPolicy = {
  handling: 'retry',
  advice: 'The call may have taken effect; the run checks the group before retrying, so nothing is done twice.',
};
/**
 * A change of the load balancer is still in progress, often ESS's own deregistration of the batch
 * before (its length is not documented): 20 attempts 3 s apart wait out about a minute of it.
 */
const lbBusy: ErrorPolicy = {
  handling: 'retry',
  maxAttempts: 20,
  delayMs: 3000,
  advice: 'The load balancer is being configured; retried for a while.',
};

export const ERROR_POLICY: Readonly<Record<string, ErrorPolicy>> = {
  // --- RemoveInstances error table (seed document) ---
  'InvalidScalingGroupId.NotFound': {
    handling: 'fail',
    advice: 'Check the regionId and scalingGroupId; the group does not exist in this account and region.',
  },
  'InvalidInstanceId.NotFound': {
    handling: 'retry',
    maxAttempts: 10,
    advice: 'Instances not in the group are reported and skipped; the rest are removed.',
  },
  InvalidParameter: {
    handling: 'fail',
    advice:
      'A parameter was rejected (e.g. removePolicy "recycle" on a group whose ScalingPolicy is not recycle); ' +
      'fix the input.',
  },
  'Forbidden.Unauthorized': {
    handling: 'fail',
    advice:
      "Grant the worker's RAM identity the ESS permissions in docs/ram-policy.json, " +
      'and authorize ESS (AliyunServiceRoleForAutoScaling).',
  },
  IncorrectScalingGroupStatus: {
    handling: 'retry',
    maxAttempts: 15,
    advice: 'The group is not Active; enable it (EnableScalingGroup). Retried for about 10 minutes.',
  },
  ScalingActivityInProgress: {
    handling: 'retry',
    maxAttempts: 120,
    delayMs: 10_000,
    advice: 'Another scaling activity runs on the group; waited for and retried (about 20 minutes at most).',
  },
  IncorrectLoadBalancerStatus: {
    handling: 'retry',
    maxAttempts: 15,
    advice: 'A load balancer attached to the group is not active; start it. Retried for about 10 minutes.',
  },
  IncorrectDBInstanceStatus: {
    handling: 'retry',
    maxAttempts: 15,
    advice: 'An RDS instance attached to the group is not Running; retried for about 10 minutes.',
  },
  'IncorrectCapacity.MinSize': {
    handling: 'fail',
    advice: 'Removing these instances would take TotalCapacity below MinSize; remove fewer or lower MinSize first.',
  },
  // --- idempotence and other ESS codes ---
  IdempotentParameterMismatch: {
    handling: 'fail',
    advice: 'The ClientToken was used with other parameters; this is a bug or a concurrent run: report it.',
  },
  'InvalidOperation.Conflict': {
    handling: 'retry',
    maxAttempts: 15,
    advice: 'A conflicting operation runs on the group; retried for a while.',
  },
  IncorrectInstanceStatus: {
    handling: 'retry',
    maxAttempts: 10,
    advice: 'An instance is in a state that does not allow this (e.g. Pending); retried for a while.',
  },
  MissingParameter: {
    handling: 'fail',
    advice: 'A required parameter is missing: this is a bug in ess-scale-in; report it.',
  },
  UnsupportedOperation: { handling: 'fail', advice: 'The API does not support this operation here.' },
  // --- common: throttling, server, auth, gateway ---
  Throttling: throttled,
  'Throttling.User': throttled,
  'Throttling.Api': throttled,
  'Rejected.Throttling': throttled,
  ServiceUnavailable: serverSide,
  InternalError: serverSide,
  UnknownError: serverSide,
  SignatureNonceUsed: { handling: 'retry', advice: 'Nonce collision; retried with a fresh nonce.' },
  'InvalidTimeStamp.Expired': {
    handling: 'retry',
    maxAttempts: 3,
    advice: "The worker's clock is more than 15 minutes off; fix NTP on the worker host.",
  },
  SignatureDoesNotMatch: { handling: 'fail', advice: "The AccessKey secret is wrong; check the worker's credentials." },
  'InvalidAccessKeyId.NotFound': {
    handling: 'fail',
    advice: "The AccessKey ID does not exist; check the worker's credentials.",
  },
  'InvalidAccessKeyId.Inactive': { handling: 'fail', advice: 'The AccessKey is disabled; enable it or use another.' },
  'InvalidSecurityToken.Expired': {
    handling: 'retry',
    advice: 'The STS token expired; the credential chain refreshes it.',
  },
  Forbidden: { handling: 'fail', advice: 'The RAM identity lacks a permission; see docs/ram-policy.json.' },
  'Forbidden.RiskControl': { handling: 'fail', advice: 'Blocked by Alibaba Cloud risk control; contact support.' },
  'InvalidAction.NotFound': {
    handling: 'fail',
    advice: 'The endpoint does not serve this API; check ESS_ENDPOINT / SLB_ENDPOINT / ALB_ENDPOINT.',
  },
  // --- CLB ---
  'InvalidLoadBalancerId.NotFound': {
    handling: 'fail',
    advice: 'A load balancer attached to the group no longer exists; detach it from the group.',
  },
  ServiceIsConfiguring: lbBusy,
  VServerGroupProcessing: lbBusy,
  OperationBusy: lbBusy,
  SystemBusy: lbBusy,
  'BackendServer.configuring': lbBusy,
  ServiceIsStopping: lbBusy,
  // --- ALB ---
  'IncorrectStatus.ServerGroup': lbBusy,
  IdempotenceProcessing: lbBusy,
  'Conflict.Lock': lbBusy,
  'ResourceNotFound.ServerGroup': {
    handling: 'fail',
    advice: 'An ALB server group attached to the group no longer exists.',
  },
  AlbJobFailed: {
    handling: 'retry',
    maxAttempts: 5,
    advice: 'An ALB weight change job failed; retried a few times.',
  },
  // --- NLB (codes spelled as the NLB reference's examples spell them; docs/emulator.md) ---
  'IncorrectStatus.serverGroup': lbBusy,
  // Terraform's NLB server-group resources retry this one too while a change is in progress.
  'OperationFailed.ResourceIsConfiguring': lbBusy,
  'ResourceNotFound.serverGroup': {
    handling: 'fail',
    advice: 'An NLB server group attached to the group no longer exists.',
  },
  NlbJobFailed: {
    handling: 'retry',
    maxAttempts: 5,
    advice: 'An NLB weight change job failed; retried a few times.',
  },
  // --- the client's own transport codes (src/aliyun/errors.ts) ---
  RequestTimeout: ambiguous,
  NetworkError: ambiguous,
  BadResponse: ambiguous,
  Aborted: { handling: 'fail', advice: 'The call was aborted because the activity was cancelled.' },
  CredentialsUnavailable: {
    handling: 'retry',
    maxAttempts: 5,
    advice:
      'No Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, a CLI profile, ' +
      'or an ECS RAM role on the worker.',
  },
};

/** Codes not in the table: 5xx and throttling-like codes retry, other 4xx fail. */
export function errorPolicyFor(code: string, httpStatus?: number): ErrorPolicy {
  const known = ERROR_POLICY[code];
  if (known) return known;
  if (/throttl/i.test(code)) return throttled;
  if (httpStatus !== undefined && httpStatus >= 500) return serverSide;
  if (httpStatus === undefined) return ambiguous;
  return { handling: 'fail', advice: `Unexpected error code ${code}; see the Recommend link in the failure details.` };
}

/** Types the workflow's retry policies never retry, kept here so renames cannot drift. */
export const NON_RETRYABLE_TYPES: string[] = [
  ...Object.entries(ERROR_POLICY)
    .filter(([, p]) => p.handling === 'fail')
    .map(([code]) => code),
  'InvalidInput',
  'PreflightFailed',
];
