/**
 * The emulator's own implementation of RPC signature V1 (HMAC-SHA1), written from the reference page
 * "Request signatures" (AlibabaCloudDocs/ecs, intl.en-US/API Reference/Getting started/Request signatures.md)
 * and deliberately sharing no code with the client's signer in src/aliyun/: if both were the same code, a
 * signer bug would sign and verify identically and never show up in a test.
 *
 * Sort order: the page says "alphabetical order" and its only code sorts with Java `Arrays.sort(String[])`,
 * i.e. by UTF-16 code units; the official Node SDK (@alicloud/pop-core `normalize`) and the Java core SDK
 * (`RpcSignatureComposer`) do the same. See docs/emulator.md "Signatures".
 */
import { createHash } from 'node:crypto';

const UNRESERVED = /^[A-Za-z0-9\-_.~]$/;
const SHA1_BLOCK_BYTES = 64;

/** RFC 3986 over the UTF-8 bytes: `A-Z a-z 0-9 - _ . ~` literal, every other byte `%XY` in uppercase hex. */
export function rfc3986Encode(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Lexicographic order of UTF-16 code units, spelled out so it does not depend on a runtime's default sort. */
export function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const diff = a.charCodeAt(i) - b.charCodeAt(i);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** Every parameter except `Signature`, sorted by name, as `enc(name)=enc(value)` joined with `&`. */
export function canonicalizedQueryString(params: Readonly<Record<string, string>>): string {
  const names = Object.keys(params).filter((name) => name !== 'Signature');
  names.sort(compareUtf16);
  return names.map((name) => `${rfc3986Encode(name)}=${rfc3986Encode(params[name] ?? '')}`).join('&');
}

/** `HTTPMethod & percentEncode("/") & percentEncode(CanonicalizedQueryString)`, with the request's real verb. */
export function v1StringToSign(httpMethod: string, params: Readonly<Record<string, string>>): string {
  return [httpMethod.toUpperCase(), rfc3986Encode('/'), rfc3986Encode(canonicalizedQueryString(params))].join('&');
}

/** HMAC as RFC 2104 defines it, over SHA-1 (B = 64 bytes), so the keyed construction is also our own. */
export function hmacSha1(key: Uint8Array, message: Uint8Array): Buffer {
  const shortKey = key.length > SHA1_BLOCK_BYTES ? createHash('sha1').update(key).digest() : Buffer.from(key);
  const block = Buffer.alloc(SHA1_BLOCK_BYTES);
  shortKey.copy(block);
  const inner = createHash('sha1')
    .update(block.map((b) => b ^ 0x36))
    .update(message)
    .digest();
  return createHash('sha1')
    .update(block.map((b) => b ^ 0x5c))
    .update(inner)
    .digest();
}

/** Base64(HMAC-SHA1(secret + "&", UTF-8(StringToSign))), the value the request's `Signature` must equal. */
export function expectedV1Signature(
  httpMethod: string,
  params: Readonly<Record<string, string>>,
  accessKeySecret: string,
): string {
  const key = new TextEncoder().encode(`${accessKeySecret}&`);
  const message = new TextEncoder().encode(v1StringToSign(httpMethod, params));
  return hmacSha1(key, message).toString('base64');
}
