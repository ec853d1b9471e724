/**
 * Verification of RPC signature V1 (HMAC-SHA1), exactly as the gateway does it: over every
 * parameter except Signature, from query and form body, with the real HTTP method and the key
 * `secret&`. The signature is recomputed by the emulator's own implementation (./signature), never by
 * the client's signer, so a client signing bug fails here as it would against the real gateway.
 */
import { timingSafeEqual } from 'node:crypto';

import { ApiError, apiError, invalidParameter, missingParameter } from './api-error';
import { expectedV1Signature } from './signature';

/** 15 minutes: the allowed clock skew and how long a nonce stays burnt. */
export const NONCE_WINDOW_MS = 15 * 60_000;

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/;

/** SignatureNonce values seen per AccessKeyId in the last 15 minutes. */
export class NonceStore {
  private seen = new Map<string, number>();
  private lastPrune = 0;

  has(accessKeyId: string, nonce: string, now: number): boolean {
    const exp = this.seen.get(`${accessKeyId}\n${nonce}`);
    return exp !== undefined && exp > now;
  }

  add(accessKeyId: string, nonce: string, now: number): void {
    this.seen.set(`${accessKeyId}\n${nonce}`, now + NONCE_WINDOW_MS);
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
    }
  }
}

export interface Verified {
  accessKeyId: string;
  nonce: string;
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks the common signing parameters and the signature. Does not burn the nonce: the caller
 * does that once it decides the request is processed (`NonceStore.add`).
 */
export function verifySignature(
  method: string,
  params: Readonly<Record<string, string>>,
  secretOf: (accessKeyId: string) => string | undefined,
  nonces: NonceStore,
  now: number,
): Verified {
  const accessKeyId = params.AccessKeyId;
  if (!accessKeyId) throw missingParameter('AccessKeyId');
  const signature = params.Signature;
  if (!signature) throw apiError('IncompleteSignature');
  const sigMethod = params.SignatureMethod;
  if (!sigMethod) throw missingParameter('SignatureMethod');
  if (sigMethod !== 'HMAC-SHA1')
    throw invalidParameter(
      'SignatureMethod',
      `The specified parameter "SignatureMethod" is not valid: only HMAC-SHA1 is supported.`,
    );
  const sigVersion = params.SignatureVersion;
  if (!sigVersion) throw missingParameter('SignatureVersion');
  if (sigVersion !== '1.0') throw invalidParameter('SignatureVersion');
  const nonce = params.SignatureNonce;
  if (!nonce) throw missingParameter('SignatureNonce');
  const timestamp = params.Timestamp;
  if (!timestamp) throw missingParameter('Timestamp');

  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw apiError('InvalidAccessKeyId.NotFound');

  if (!TIMESTAMP_RE.test(timestamp) || Number.isNaN(Date.parse(timestamp))) throw apiError('InvalidTimeStamp.Format');
  if (Math.abs(Date.parse(timestamp) - now) > NONCE_WINDOW_MS) throw apiError('InvalidTimeStamp.Expired');

  const expected = expectedV1Signature(method, params, secret);
  if (!sameSignature(expected, signature)) {
    // Never echo the secret, the expected signature or anything derived from the key.
    throw new ApiError('SignatureDoesNotMatch', 400, 'Specified signature is not matched with our calculation.');
  }
  if (nonces.has(accessKeyId, nonce, now)) throw apiError('SignatureNonceUsed');
  return { accessKeyId, nonce };
}
