import { createHmac, randomUUID } from 'node:crypto';

/**
 * Alibaba Cloud RPC signature version 1.0 (HMAC-SHA1), as a pure function.
 * Time and nonce are injectable so published vectors can be reproduced byte for byte,
 * and so the emulator can verify requests with exactly the same rules.
 */

export type RpcParams = Readonly<Record<string, string>>;

/** RFC 3986 percent-encoding as Alibaba Cloud specifies it: only A-Z a-z 0-9 - _ . ~ stay literal. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Case-sensitive sort of names by UTF-16 code units (so `InstanceId.10` comes before `InstanceId.2`), then
 * `k=v&k=v`. UTF-16 rather than UTF-8 byte order because the reference's own code sorts Java Strings
 * (`Arrays.sort`), as do @alicloud/pop-core and the Java SDK; the two orders differ only for non-ASCII names.
 */
export function canonicalize(params: RpcParams): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort(compareCodeUnits)
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
}

function compareCodeUnits(a: string, b: string): number {
  // JavaScript compares strings by UTF-16 code units.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function stringToSign(method: string, params: RpcParams): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalize(params))}`;
}

export function computeSignature(method: string, params: RpcParams, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign(method, params), 'utf8').digest('base64');
}

/** Timestamp format the API expects: UTC, second precision, `YYYY-MM-DDThh:mm:ssZ`. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface SignOptions {
  method: 'GET' | 'POST';
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
  /** Injected for reproducible signatures; defaults to the current time. */
  now?: Date;
  /** Injected for reproducible signatures; defaults to a random UUID. */
  nonce?: string;
}

/**
 * Adds the common parameters (AccessKeyId, SignatureMethod, SignatureVersion, SignatureNonce,
 * Timestamp, Format, SecurityToken) and the Signature to the operation's parameters.
 */
export function signRpcParams(params: RpcParams, opts: SignOptions): Record<string, string> {
  const all: Record<string, string> = {
    Format: 'JSON',
    ...params,
    AccessKeyId: opts.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: opts.nonce ?? randomUUID(),
    Timestamp: formatTimestamp(opts.now ?? new Date()),
  };
  if (opts.securityToken) all.SecurityToken = opts.securityToken;
  all.Signature = computeSignature(opts.method, all, opts.accessKeySecret);
  return all;
}
