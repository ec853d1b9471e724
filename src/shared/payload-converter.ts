import {
  DefaultPayloadConverter,
  METADATA_ENCODING_KEY,
  type Payload,
  type PayloadConverter,
  type SerializationContext,
} from '@temporalio/common';
import { decode } from '@temporalio/common/lib/encoding';

/**
 * The project's payload converter: the SDK's default (undefined, binary, JSON) for everything it
 * can decode, and a marker value for a payload it cannot (data that is not JSON, an unknown
 * encoding, no metadata). With the default converter such a payload fails the workflow task on
 * every retry, so a bad start request held the group's lock forever; with this one the workflow
 * gets the marker, and its input validation fails the run as `InvalidInput` (src/shared/input.ts).
 *
 * Encoding is unchanged, so histories and other clients see the same payloads. Loaded in the
 * workflow bundle (`bundleWorkflowCode({ payloadConverterPath })`) and by the workers and clients
 * that build one (src/worker.ts, src/client/index.ts).
 */

/** The one key of the marker object. */
export const UNDECODABLE_KEY = '$undecodablePayload';

/** Why a payload could not be decoded; no payload data beyond what the decoder's message quotes (truncated). */
export interface UndecodableInfo {
  encoding: string;
  bytes: number;
  reason: string;
}

export type UndecodablePayload = { [UNDECODABLE_KEY]: UndecodableInfo };

const REASON_MAX = 200;

/** The marker's details when `v` is one, else undefined. */
export function undecodableOf(v: unknown): UndecodableInfo | undefined {
  if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, UNDECODABLE_KEY))
    return undefined;
  const info = (v as Record<string, unknown>)[UNDECODABLE_KEY];
  return typeof info === 'object' && info !== null ? (info as UndecodableInfo) : undefined;
}

function encodingOf(payload: Payload): string {
  try {
    const raw = payload.metadata?.[METADATA_ENCODING_KEY];
    return raw ? decode(raw).slice(0, 64) : '(none)';
  } catch {
    return '(unreadable)';
  }
}

function reasonOf(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : 'could not be decoded';
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX)}…` : text;
}

/** What a payload that cannot be decoded becomes. */
export function undecodable(payload: Payload, e: unknown): UndecodablePayload {
  return {
    [UNDECODABLE_KEY]: { encoding: encodingOf(payload), bytes: payload.data?.length ?? 0, reason: reasonOf(e) },
  };
}

export class LenientPayloadConverter implements PayloadConverter {
  private readonly inner = new DefaultPayloadConverter();

  toPayload<T>(value: T, context?: SerializationContext): Payload {
    return this.inner.toPayload(value, context);
  }

  fromPayload<T>(payload: Payload, context?: SerializationContext): T {
    try {
      return this.inner.fromPayload<T>(payload, context);
    } catch (e) {
      return undecodable(payload, e) as T;
    }
  }
}

/** The named export `payloadConverterPath` modules must have. */
export const payloadConverter = new LenientPayloadConverter();
