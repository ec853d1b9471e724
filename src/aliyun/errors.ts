/**
 * Typed errors of the Alibaba Cloud client. Each class has a stable `name` (never derived from
 * `constructor.name`, which minifiers rename) and a `code`. Messages never contain credentials.
 */

export abstract class AliyunError extends Error {
  abstract override readonly name: string;
  abstract readonly code: string;
  /** True when the outcome on the server is unknown: the call may or may not have taken effect. */
  abstract readonly ambiguous: boolean;
}

/** The API answered with its error envelope. `code` is the API's own error code. */
export class AliyunApiError extends AliyunError {
  override readonly name = 'AliyunApiError' as const;
  readonly ambiguous = false;
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly requestId: string | undefined,
    readonly recommend: string | undefined,
    readonly action: string,
  ) {
    super(`${action} failed: ${code}: ${message}${requestId ? ` (RequestId ${requestId})` : ''}`);
  }
  /** The API's own message, without the action and RequestId decoration. */
  get apiMessage(): string {
    return this.message.replace(/^[^:]+ failed: [^:]+: /, '').replace(/ \(RequestId [^)]+\)$/, '');
  }
}

/** The request did not complete in time; it may have reached the server. */
export class AliyunTimeoutError extends AliyunError {
  override readonly name = 'AliyunTimeoutError' as const;
  readonly code = 'RequestTimeout' as const;
  readonly ambiguous = true;
  constructor(
    readonly action: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${action} timed out after ${timeoutMs} ms; the call may have taken effect`, options);
  }
}

/** The connection failed or was reset; if the request was sent, it may have taken effect. */
export class AliyunNetworkError extends AliyunError {
  override readonly name = 'AliyunNetworkError' as const;
  readonly code = 'NetworkError' as const;
  constructor(
    readonly action: string,
    readonly ambiguous: boolean,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${action} failed on the network: ${detail}`, options);
  }
}

/** The server answered with something that is not the API's JSON (an HTML 502 page, say). */
export class AliyunBadResponseError extends AliyunError {
  override readonly name = 'AliyunBadResponseError' as const;
  readonly code = 'BadResponse' as const;
  constructor(
    readonly action: string,
    readonly httpStatus: number,
    readonly ambiguous: boolean,
    detail: string,
  ) {
    super(`${action} returned an unreadable response (HTTP ${httpStatus}): ${detail}`);
  }
}

/** The request was aborted by its caller (e.g. the activity was cancelled). */
export class AliyunAbortedError extends AliyunError {
  override readonly name = 'AliyunAbortedError' as const;
  readonly code = 'Aborted' as const;
  readonly ambiguous = true;
  constructor(
    readonly action: string,
    options?: { cause?: unknown },
  ) {
    super(`${action} was aborted`, options);
  }
}

/** No credentials could be found, or the chain failed. */
export class AliyunCredentialsError extends AliyunError {
  override readonly name = 'AliyunCredentialsError' as const;
  readonly code = 'CredentialsUnavailable' as const;
  readonly ambiguous = false;
}

export function isAliyunError(e: unknown): e is AliyunError {
  return e instanceof AliyunError;
}
