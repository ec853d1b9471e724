/**
 * Errors the emulated APIs answer with. Codes, statuses and messages follow the product docs
 * (RemoveInstances error table, ESS common errors, CLB/ALB error pages); see docs/emulator.md for
 * the ones that are unconfirmed.
 */

export class ApiError extends Error {
  override readonly name = 'ApiError' as const;
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    /** Extra response headers, e.g. `x-acs-retry-after` for throttling. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Status and message of every code the emulator produces or can inject by code alone. */
export const KNOWN_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  // gateway / common
  MissingParameter: {
    status: 400,
    message: 'The input parameter that is mandatory for processing this request is not supplied.',
  },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidAction.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  UnsupportedHTTPMethod: { status: 400, message: 'This http method is not supported.' },
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'Throttling.Api': { status: 400, message: 'Request was denied due to api flow control.' },
  InternalError: {
    status: 500,
    message: 'The request processing has failed due to some unknown error, exception or failure.',
  },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
  Forbidden: { status: 403, message: 'User not authorized to operate on the specified resource.' },
  'Forbidden.RiskControl': { status: 403, message: 'This operation is forbidden by Aliyun RiskControl system.' },
  'Forbidden.Unsubscribed': { status: 403, message: 'The request requires a subscription to the service.' },
  'Forbidden.UserVerification': { status: 403, message: 'Your account has not passed the real-name verification.' },
  UnsupportedOperation: { status: 400, message: 'The specified action is not supported.' },
  NoSuchVersion: { status: 400, message: 'The specified version does not exist.' },
  ResourceNotAvailable: { status: 400, message: 'The resource is not available.' },
  'InvalidRegionId.NotFound': { status: 404, message: 'The specified region does not exist.' },
  IdempotentParameterMismatch: {
    status: 400,
    message: 'The request uses the same client token as a previous, but non-identical request.',
  },
  // ESS RemoveInstances table (seed) and neighbours
  'InvalidScalingGroupId.NotFound': { status: 404, message: 'The specified scaling group does not exist.' },
  'InvalidInstanceId.NotFound': { status: 404, message: 'Instance "XXX" does not exist.' },
  'Forbidden.Unauthorized': {
    status: 403,
    message: 'A required authorization for the specified action is not supplied.',
  },
  IncorrectScalingGroupStatus: {
    status: 400,
    message: 'The current status of the specified scaling group does not support this action.',
  },
  ScalingActivityInProgress: {
    status: 400,
    message:
      'You cannot delete a scaling group or launch a new scaling activity while there is a scaling activity ' +
      'in progress for the specified scaling group.',
  },
  IncorrectLoadBalancerStatus: {
    status: 400,
    message: 'The current status of the specified load balancer does not support this action.',
  },
  IncorrectDBInstanceStatus: {
    status: 400,
    message: 'The current status of DB instance "XXX" does not support this action.',
  },
  'IncorrectCapacity.MinSize': {
    status: 400,
    message: 'To remove the instances, the total capacity will be lesser than the MinSize.',
  },
  IncorrectInstanceStatus: {
    status: 400,
    message: 'The current status of the specified instance does not support this action.',
  },
  'InvalidOperation.Conflict': { status: 400, message: 'The operation conflicts with another operation in progress.' },
  // ESS lifecycle hooks (the reference's error tables; `InvalidParamter` is spelled as they spell it)
  InvalidParamter: { status: 400, message: 'The specified value of parameter is not valid.' },
  InvalidNotificationArn: { status: 400, message: 'The specified value of parameter notificationArn is not valid.' },
  'InvalidLifecycleHookName.Duplicate': {
    status: 400,
    message: 'The specified value of parameter lifecycleHookName is duplicated.',
  },
  'QuotaExceeded.LifecycleHook': {
    status: 400,
    message: 'Lifecycle hook quota exceeded in the specified scaling group.',
  },
  'InvalidLifecycleHookId.NotExist': { status: 400, message: 'The specified lifecycleHookId not exist.' },
  'InvalidLifecycleHookName.NotExist': {
    status: 400,
    message: 'The specified lifecycleHookName you provided not exist.',
  },
  'LifecycleHookIdAndLifecycleActionToken.Invalid': {
    status: 400,
    message:
      'The specified lifecycleActionToken and lifecycleHookId you provided does not match any in process ' +
      'lifecycle action.',
  },
  'LifecycleAction.TimeExceeded': {
    status: 400,
    message: 'The specified parameter heartbeatTime exceed lifecycleAction max suspend time.',
  },
  'LifecycleAction.RecordTimesExceeded': {
    status: 400,
    message: 'The specified lifecycleAction exceed lifecycleAction max record times.',
  },
  // CLB
  'InvalidLoadBalancerId.NotFound': { status: 404, message: 'The specified LoadBalancerId does not exist.' },
  ServiceIsConfiguring: {
    status: 400,
    message: 'A previous configuration of the load balancer is pending, please try again later.',
  },
  OperationBusy: { status: 400, message: 'The operation is busy, please try again later.' },
  SystemBusy: { status: 449, message: 'System is busy, please try again later.' },
  'BackendServer.configuring': {
    status: 409,
    message: 'A previous configuration of the load balancer is pending, please try again later.',
  },
  ServiceIsStopping: { status: 400, message: 'The load balancer is stopping, please try again later.' },
  // ALB
  'ResourceNotFound.ServerGroup': { status: 404, message: 'The specified resource of ServerGroup is not found.' },
  'ResourceNotFound.BackendServer': { status: 404, message: 'The specified resource of BackendServer is not found.' },
  'IncorrectStatus.ServerGroup': { status: 400, message: 'The status of ServerGroup is incorrect.' },
  IdempotenceProcessing: { status: 400, message: 'The previous idempotent request(s) is still processing.' },
  IdempotenceSignatureMismatch: {
    status: 400,
    message: 'The idempotence token of request is same with the prev one, but the signature is different.',
  },
  'Conflict.Lock': { status: 400, message: 'The Lock is conflict.' },
  DryRunOperation: { status: 400, message: 'Request validation has been passed with DryRun flag set.' },
};

/** An error by code, with the table's status and message unless overridden. */
export function apiError(code: string, message?: string, httpStatus?: number): ApiError {
  const known = KNOWN_ERRORS[code];
  return new ApiError(
    code,
    httpStatus ?? known?.status ?? 400,
    message ?? known?.message ?? `The request failed with error ${code}.`,
  );
}

export function missingParameter(name: string): ApiError {
  return new ApiError(
    'MissingParameter',
    400,
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

export function invalidParameter(name: string, detail?: string): ApiError {
  return new ApiError('InvalidParameter', 400, detail ?? `The specified parameter "${name}" is not valid.`);
}
