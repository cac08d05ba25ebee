/**
 * The typed catalog of everything that crosses Redis. Both sides go through `encodePayload` (validate,
 * then JSON) and `decodePayload` (JSON, then validate), so a payload is parsed on enqueue and dequeue.
 *
 * Compatibility: payload objects are not strict; unknown fields are dropped on decode. Adding an optional
 * field is therefore safe during a rolling upgrade; removing or retyping one is not.
 *
 * Streams: every entry is `XADD <stream> * kind <catalog key> payload <encodePayload(...)>`.
 */
import type { z } from 'zod';
import { ProtocolError } from '../errors/classes.js';
import { toValidationIssues } from '../errors/issues.js';
import { ControlMessage, TerminateMessage } from './control.js';
import {
  Deregistration,
  ExecutorRecord,
  Heartbeat,
  RegistrationRejected,
  RegistrationRequest,
} from './executor.js';
import { RunEvent } from './run-event.js';
import { RunRequest } from './run-request.js';

export const RedisPayloads = {
  /** BullMQ job data in `grp.*` and `exe.*` queues. */
  runRequest: RunRequest,
  /** Entries of the events and logs streams. */
  runEvent: RunEvent,
  /** Pub/sub control channels. */
  control: ControlMessage,
  /** The value of a durable cancel flag. */
  cancelFlag: TerminateMessage,
  /** Registry stream, `kind registration`. */
  registration: RegistrationRequest,
  /** Registry stream, `kind registrationRejected`: a registration refused for its token. */
  registrationRejected: RegistrationRejected,
  /** Registry stream, `kind deregistration`. */
  deregistration: Deregistration,
  /** The value of `executor(instanceId)`. */
  executorRecord: ExecutorRecord,
  /** The value of `heartbeat(instanceId)`. */
  heartbeat: Heartbeat,
} as const;

export type RedisPayloadKind = keyof typeof RedisPayloads;
export const REDIS_PAYLOAD_KINDS = Object.keys(RedisPayloads) as RedisPayloadKind[];
/** The decoded (output) type of a payload kind. */
export type RedisPayload<K extends RedisPayloadKind> = z.output<(typeof RedisPayloads)[K]>;
/** What `encodePayload` accepts: defaults may be left out. */
export type RedisPayloadInput<K extends RedisPayloadKind> = z.input<(typeof RedisPayloads)[K]>;
/** One handler per payload kind; a missing or mistyped handler is a compile error. */
export type RedisPayloadHandlers<R> = { readonly [K in RedisPayloadKind]: (payload: RedisPayload<K>) => R };

/** The catalog seen through its element types, so indexing with a generic `K` keeps `K`'s types. */
type TypedCatalog = { readonly [K in RedisPayloadKind]: z.ZodType<RedisPayload<K>, RedisPayloadInput<K>> };
const typedCatalog: TypedCatalog = RedisPayloads;

/** The schema of a payload kind. */
export function schemaOf<K extends RedisPayloadKind>(kind: K): TypedCatalog[K] {
  return typedCatalog[kind];
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/**
 * The `kind` of each registry stream entry. Executors register with an atomic script that checks the token
 * hash and writes the record, so the stream carries the stored record (never the token), a rejection, or a
 * deregistration.
 */
export const REGISTRY_ENTRY_KINDS = {
  registered: 'executorRecord',
  rejected: 'registrationRejected',
  deregistered: 'deregistration',
} as const satisfies Record<string, RedisPayloadKind>;

/** Stream entry field names (see the module comment). */
export const STREAM_FIELDS = { kind: 'kind', payload: 'payload' } as const;

/**
 * Refuses payloads larger than this before parsing them (a RunRequest holds a whole flow). Counted in
 * bytes for a Buffer and in UTF-16 units for a string.
 */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export function isRedisPayloadKind(value: unknown): value is RedisPayloadKind {
  return typeof value === 'string' && Object.hasOwn(RedisPayloads, value);
}

/** Validates and serialises. Throws a ProtocolError if `value` is invalid: that is our own bug. */
export function encodePayload<K extends RedisPayloadKind>(kind: K, value: RedisPayloadInput<K>): string {
  const result = schemaOf(kind).safeParse(value);
  if (!result.success) throw new ProtocolError(kind, toValidationIssues(result.error.issues), result.error);
  return JSON.stringify(result.data);
}

/** Parses and validates. Never throws: bad input comes back as `{ ok: false, error }` naming the fields. */
export function decodePayload<K extends RedisPayloadKind>(
  kind: K,
  raw: string | Uint8Array,
): DecodeResult<RedisPayload<K>> {
  const size = typeof raw === 'string' ? raw.length : raw.byteLength;
  if (size > MAX_PAYLOAD_BYTES) {
    return fail(kind, `Payload too large: ${size} > ${MAX_PAYLOAD_BYTES} bytes`);
  }
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (cause) {
    return fail(kind, 'Payload is not valid UTF-8', cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return fail(
      kind,
      `Payload is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    );
  }
  const result = schemaOf(kind).safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: new ProtocolError(kind, toValidationIssues(result.error.issues), result.error) };
}

function fail(kind: string, message: string, cause?: unknown): { ok: false; error: ProtocolError } {
  return { ok: false, error: new ProtocolError(kind, [{ path: '', message }], cause) };
}
