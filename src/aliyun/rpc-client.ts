import { Agent } from 'undici';
import type { AliyunCredentials, CredentialsProvider } from './credentials';
import { defaultEndpoint } from './endpoints';
import {
  AliyunAbortedError,
  AliyunApiError,
  AliyunBadResponseError,
  AliyunCredentialsError,
  AliyunNetworkError,
  AliyunTimeoutError,
  isAliyunError,
} from './errors';
import type { AliyunError } from './errors';
import type { ApiRateLimiter } from './rate-limiter';
import { percentEncode, signRpcParams } from './signer';
import type { CallOptions } from './types';
import { API_VERSIONS, WireFormatError } from './wire';
import type { Product } from './wire';

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Reported after every call, successful or not; `outcome` is `ok` or the error's `code`. */
export interface RpcCallEvent {
  product: Product;
  action: string;
  requestId: string | undefined;
  httpStatus: number | undefined;
  durationMs: number;
  outcome: 'ok' | (string & {});
  /** Time the call waited for the rate limiter before it was sent (absent without a limiter); not in durationMs. */
  rateLimitWaitMs?: number | undefined;
}

export interface RpcClientOptions {
  credentials: CredentialsProvider;
  /** Origin (e.g. `https://ess.aliyuncs.com`) for a product in a region; defaults to the public endpoints. */
  endpoint?: ((product: Product, regionId: string) => string) | undefined;
  /** Default per-call timeout covering connect, headers and body. */
  timeoutMs?: number | undefined;
  onCall?: ((event: RpcCallEvent) => void) | undefined;
  keepAliveTimeoutMs?: number | undefined;
  /** Sockets per origin. */
  connections?: number | undefined;
  userAgent?: string | undefined;
  /** Paces calls per product and action (process-wide); every call waits for it before it is signed and sent. */
  rateLimiter?: ApiRateLimiter | undefined;
}

export type RpcCallParams = Readonly<Record<string, string | undefined>>;

export interface RpcCallOptions extends CallOptions {
  /** Picks the endpoint. ESS and CLB also take it as the `RegionId` parameter; ALB does not. */
  regionId: string;
  method?: 'GET' | 'POST' | undefined;
  /** Sent as an x-www-form-urlencoded body (ALB `Servers.N.*`); signed together with the query. */
  body?: RpcCallParams | undefined;
}

export type WireObject = Record<string, unknown>;

/** Codes that mean the request never left this host, so it cannot have taken effect. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * Signed Alibaba Cloud RPC (V1, HMAC-SHA1) over one pooled undici Agent. It never retries:
 * Temporal owns retries, and every failure comes out as a typed AliyunError that says whether the
 * call may have taken effect. Credentials never appear in errors or events.
 */
export class RpcClient {
  private readonly agent: Agent;
  private readonly credentials: CredentialsProvider;
  private readonly endpoint: (product: Product, regionId: string) => string;
  private readonly timeoutMs: number;
  private readonly onCall: ((event: RpcCallEvent) => void) | undefined;
  private readonly userAgent: string;
  private readonly rateLimiter: ApiRateLimiter | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: RpcClientOptions) {
    this.credentials = opts.credentials;
    this.endpoint = opts.endpoint ?? defaultEndpoint;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onCall = opts.onCall;
    this.userAgent = opts.userAgent ?? 'ess-scale-in (undici)';
    this.rateLimiter = opts.rateLimiter;
    this.agent = new Agent({ keepAliveTimeout: opts.keepAliveTimeoutMs ?? 4_000, connections: opts.connections ?? 16 });
  }

  /** Calls `action` and returns the parsed JSON body of a 2xx answer. */
  call(product: Product, action: string, params: RpcCallParams, opts: RpcCallOptions): Promise<WireObject> {
    return this.invoke(product, action, params, (w: WireObject) => w, opts);
  }

  /**
   * Like `call`, then converts the body with `decode`. A WireFormatError from `decode` (a 2xx body
   * missing a field) becomes an ambiguous AliyunBadResponseError: the call itself went through.
   */
  async invoke<W, T>(
    product: Product,
    action: string,
    params: RpcCallParams,
    decode: (wire: W) => T,
    opts: RpcCallOptions,
  ): Promise<T> {
    const queued = performance.now();
    let started: number | undefined;
    let waitedMs: number | undefined;
    const seen: Seen = {};
    try {
      // The wait is not the call's: it is reported apart and does not count against its timeout.
      if (this.rateLimiter) waitedMs = await this.rateLimiter.acquire(product, action, opts.signal);
      started = performance.now();
      const body = await this.exchange(product, action, params, opts, seen);
      let value: T;
      try {
        value = decode(body as W);
      } catch (e) {
        if (e instanceof WireFormatError)
          throw new AliyunBadResponseError(action, seen.httpStatus ?? 200, true, e.message);
        throw e;
      }
      this.report({
        product,
        action,
        requestId: seen.requestId,
        httpStatus: seen.httpStatus,
        durationMs: performance.now() - started,
        outcome: 'ok',
        ...this.waited(waitedMs ?? 0),
      });
      return value;
    } catch (e) {
      const requestId = e instanceof AliyunApiError ? e.requestId : seen.requestId;
      const outcome = isAliyunError(e) ? e.code : e instanceof Error ? e.name : 'Error';
      const now = performance.now();
      this.report({
        product,
        action,
        requestId,
        httpStatus: seen.httpStatus,
        durationMs: started === undefined ? 0 : now - started,
        outcome,
        ...this.waited(waitedMs ?? now - queued),
      });
      throw e;
    }
  }

  private waited(ms: number): Pick<RpcCallEvent, 'rateLimitWaitMs'> {
    return this.rateLimiter ? { rateLimitWaitMs: Math.round(ms) } : {};
  }

  close(): Promise<void> {
    this.closing ??= this.agent.close();
    return this.closing;
  }

  private async exchange(
    product: Product,
    action: string,
    params: RpcCallParams,
    opts: RpcCallOptions,
    seen: Seen,
  ): Promise<WireObject> {
    if (opts.signal?.aborted) throw new AliyunAbortedError(action);
    if (this.closing) throw new AliyunNetworkError(action, false, 'the client is closed');
    const request = await this.signedRequest(product, action, params, opts);
    const answer = await this.send(request, action, opts, seen);
    return readAnswer(answer, action, request.redact, seen);
  }

  /** The signed request: everything signed, the form body's fields sent in the body, the rest in the query. */
  private async signedRequest(
    product: Product,
    action: string,
    params: RpcCallParams,
    opts: RpcCallOptions,
  ): Promise<SignedRequest> {
    const method = opts.method ?? 'POST';
    if (method === 'GET' && opts.body) throw new TypeError(`${action}: a GET request cannot carry a form body`);
    const creds = await this.loadCredentials();
    const bodyParams = defined(opts.body ?? {});
    const signed = signRpcParams(
      { ...defined(params), ...bodyParams, Action: action, Version: API_VERSIONS[product] },
      {
        method,
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        securityToken: creds.securityToken,
      },
    );
    const query = Object.entries(signed).filter(([k]) => !(k in bodyParams));
    return { method, query, bodyParams, origin: this.endpoint(product, opts.regionId), redact: redactor(creds) };
  }

  /** One HTTP exchange under the call's timeout (and the caller's signal); transport errors are translated. */
  private async send(request: SignedRequest, action: string, opts: RpcCallOptions, seen: Seen): Promise<HttpAnswer> {
    const { method, query, bodyParams, origin, redact } = request;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timer = new AbortController();
    const timeoutReason = new Error('timeout');
    const handle = setTimeout(() => timer.abort(timeoutReason), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
    try {
      const hasBody = Object.keys(bodyParams).length > 0;
      const res = await this.agent.request({
        origin,
        path: `/?${encodePairs(query)}`,
        method,
        headers: {
          accept: 'application/json',
          'user-agent': this.userAgent,
          ...(hasBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: hasBody ? encodePairs(Object.entries(bodyParams)) : null,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const status = res.statusCode;
      seen.httpStatus = status;
      seen.requestId = headerValue(res.headers['x-acs-request-id']);
      const contentType = headerValue(res.headers['content-type']) ?? 'no content-type';
      return { status, contentType, text: await res.body.text() };
    } catch (e) {
      throw toTransportError(e, action, timeoutMs, signal, timeoutReason, redact);
    } finally {
      clearTimeout(handle);
    }
  }

  private async loadCredentials(): Promise<AliyunCredentials> {
    let creds: AliyunCredentials;
    try {
      creds = await this.credentials.getCredentials();
    } catch (e) {
      if (e instanceof AliyunCredentialsError) throw e;
      // The provider's message is not ours to vet for secrets; keep only its class name.
      throw new AliyunCredentialsError(`The credentials provider failed (${e instanceof Error ? e.name : typeof e})`);
    }
    if (!creds.accessKeyId || !creds.accessKeySecret)
      throw new AliyunCredentialsError('The credentials provider returned an empty AccessKeyId or AccessKeySecret');
    return creds;
  }

  private report(event: RpcCallEvent): void {
    if (!this.onCall) return;
    try {
      this.onCall({ ...event, durationMs: Math.round(event.durationMs) });
    } catch {
      // A failing metrics hook must not turn a finished call into a failure.
    }
  }
}

/** What the call learned before it failed, for the metrics and the error: filled in as the answer comes. */
interface Seen {
  requestId?: string | undefined;
  httpStatus?: number | undefined;
}

interface SignedRequest {
  method: 'GET' | 'POST';
  query: Array<[string, string]>;
  bodyParams: Record<string, string>;
  origin: string;
  /** Removes the credentials from text that may echo them (error messages, bodies). */
  redact: (s: string) => string;
}

interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** The JSON object of a 2xx answer; an error answer (or an unreadable one) is thrown as the matching error. */
function readAnswer(answer: HttpAnswer, action: string, redact: (s: string) => string, seen: Seen): WireObject {
  const { status, text, contentType } = answer;
  const body = parseObject(text);
  if (typeof body?.RequestId === 'string') seen.requestId = body.RequestId;
  if (status >= 200 && status < 300) {
    // The server accepted the request, so an unreadable answer may hide a completed mutation.
    if (!body) throw new AliyunBadResponseError(action, status, true, describeBody(text, contentType, redact));
    return body;
  }
  if (body && typeof body.Code === 'string' && body.Code !== '') {
    throw new AliyunApiError(
      body.Code,
      redact(asString(body.Message) ?? ''),
      status,
      asString(body.RequestId),
      optional(redact, asString(body.Recommend)),
      action,
    );
  }
  throw new AliyunBadResponseError(action, status, status >= 500, describeBody(text, contentType, redact));
}

function defined(params: RpcCallParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = v;
  return out;
}

function encodePairs(pairs: ReadonlyArray<[string, string]>): string {
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function optional(f: (s: string) => string, v: string | undefined): string | undefined {
  return v === undefined ? undefined : f(v);
}

function parseObject(text: string): WireObject | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as WireObject) : undefined;
  } catch {
    return undefined;
  }
}

function describeBody(text: string, contentType: string, redact: (s: string) => string): string {
  const snippet = redact(text.replace(/\s+/g, ' ').trim()).slice(0, 160);
  return `${contentType}, ${Buffer.byteLength(text)} bytes${snippet ? `: ${JSON.stringify(snippet)}` : ''}`;
}

/**
 * Replaces every credential value, raw and percent-encoded once or twice (the API echoes its
 * StringToSign in SignatureDoesNotMatch messages), before any text reaches an error.
 */
function redactor(creds: AliyunCredentials): (s: string) => string {
  const values = [creds.accessKeySecret, creds.securityToken, creds.accessKeyId]
    .filter((v): v is string => !!v)
    .flatMap((v) => [v, percentEncode(v), percentEncode(percentEncode(v)), encodeURIComponent(v)]);
  const unique = [...new Set(values)].sort((a, b) => b.length - a.length);
  return (s) => unique.reduce((acc, v) => acc.split(v).join('***'), s);
}

function errorCode(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; cause?: { code?: unknown }; errors?: Array<{ code?: unknown }> };
  const code = o.code ?? o.cause?.code ?? o.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

function toTransportError(
  e: unknown,
  action: string,
  timeoutMs: number,
  signal: AbortSignal,
  timeoutReason: Error,
  redact: (s: string) => string,
): AliyunError | unknown {
  const code = errorCode(e);
  // Only the code, name and a redacted message travel on: undici errors can reference the request.
  const cause = Object.assign(new Error(redact(e instanceof Error ? e.message : String(e))), {
    name: e instanceof Error ? e.name : 'Error',
    code,
  });
  if (signal.aborted) {
    return signal.reason === timeoutReason
      ? new AliyunTimeoutError(action, timeoutMs, { cause })
      : new AliyunAbortedError(action, { cause });
  }
  if (code === 'UND_ERR_INVALID_ARG') return e;
  if (code && TIMEOUTS.has(code)) return new AliyunTimeoutError(action, timeoutMs, { cause });
  const detail = `${code ?? cause.name}: ${cause.message}`;
  return new AliyunNetworkError(action, !(code && NOT_SENT.has(code)), detail, { cause });
}
