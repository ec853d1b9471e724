import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh RequestId, formatted like the real ones: an uppercase UUID. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

/** `n` random lowercase alphanumerics. */
export function randomAlnum(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[(bytes[i] ?? 0) % ALNUM.length];
  return out;
}

/** A scaling activity ID: `asa-` + 20 lowercase alphanumerics. */
export function newActivityId(): string {
  return `asa-${randomAlnum(20)}`;
}

/** An ALB asynchronous job ID (uppercase UUID, as ListAsynJobs shows them). */
export function newJobId(): string {
  return randomUUID().toUpperCase();
}

/** Real ECS instance IDs: `i-` + 20 lowercase [a-z0-9]. */
export const INSTANCE_ID_RE = /^i-[a-z0-9]{20}$/;

/** Deterministic generated instance ID: `i-` + prefix + base36 counter zero-padded to 20 chars. */
export function generatedInstanceId(prefix: string, counter: number): string {
  const digits = counter.toString(36);
  const width = 20 - prefix.length;
  if (digits.length > width) throw new RangeError(`instance counter ${counter} does not fit after prefix "${prefix}"`);
  return `i-${prefix}${digits.padStart(width, '0')}`;
}

/** Deterministic private IP for the n-th instance of a scenario (172.16.0.0/12). */
export function privateIpFor(n: number): string {
  const v = n + 10;
  return `172.${16 + ((v >> 16) & 15)}.${(v >> 8) & 255}.${v & 255}`;
}

/** `2020-05-18T03:11Z`: the minute precision ESS uses for CreationTime / StartTime / EndTime. */
export function minuteStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

/** `2020-05-18T03:11:39Z`. */
export function secondStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
