/**
 * Prefixed, sortable ids: `<prefix>_<26 chars>`, e.g. `run_01jq3v6k9e7x2m4n8p0r5s7t9w`.
 *
 * The 26 characters are lower-case Crockford base32 (no i, l, o, u): 10 for the creation time in
 * milliseconds (48 bits, so ids sort by time as strings) and 16 for 80 random bits. The same layout is
 * used by deterministic fire ids (see fire-ids.ts), whose time part is the scheduled instant and whose
 * other 80 bits come from a hash, so every run id, random or derived, passes the same `RunId` schema.
 * Ids contain no `:`, `{` or `}`, so they are safe as BullMQ job ids and inside Redis keys.
 */
import { z } from 'zod';

export const ID_PREFIXES = ['run', 'job', 'scn', 'exe', 'grp', 'usr', 'tok', 'cfg', 'evt'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_BYTES = 10;
const MAX_TIME_MS = 2 ** 48 - 1;
const BODY = '[0-9a-hjkmnp-tv-z]{26}';
const PATTERNS: Readonly<Record<IdPrefix, RegExp>> = Object.fromEntries(
  ID_PREFIXES.map((prefix) => [prefix, new RegExp(`^${prefix}_${BODY}$`)]),
) as Record<IdPrefix, RegExp>;

/** Encodes a millisecond timestamp as 10 base32 characters (big-endian, so strings sort by time). */
export function encodeIdTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new RangeError(`id time out of range: ${ms}`);
  }
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** Encodes exactly 10 bytes (80 bits) as 16 base32 characters. */
export function encodeIdEntropy(bytes: Uint8Array): string {
  if (bytes.length !== RANDOM_BYTES) throw new RangeError(`expected ${RANDOM_BYTES} bytes`);
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET.charAt((buffer >>> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/**
 * Random bytes for ids, drawn from the platform CSPRNG 4 KiB at a time: one call per ~400 ids instead of one
 * per id (each call costs far more than the bytes; executors make several ids per run). Each byte is handed
 * out once. Like Node's own `randomUUID` entropy cache, this is process-local state with no behaviour of its
 * own, not a service.
 */
const ENTROPY_POOL_BYTES = 4_096;
const entropy = { pool: new Uint8Array(ENTROPY_POOL_BYTES), next: ENTROPY_POOL_BYTES };

function randomIdBytes(): Uint8Array {
  if (entropy.next + RANDOM_BYTES > ENTROPY_POOL_BYTES) {
    globalThis.crypto.getRandomValues(entropy.pool);
    entropy.next = 0;
  }
  const bytes = entropy.pool.subarray(entropy.next, entropy.next + RANDOM_BYTES);
  entropy.next += RANDOM_BYTES;
  return bytes;
}

/** A new random id for `prefix`, time-ordered by `at` (default: now). Uses the platform CSPRNG. */
export function newId<P extends IdPrefix>(prefix: P, at: Date = new Date()): `${P}_${string}` {
  return `${prefix}_${encodeIdTime(at.getTime())}${encodeIdEntropy(randomIdBytes())}`;
}

/** The instant encoded in an id's time part (creation time, or scheduled time for a fire id). */
export function idTime(id: string): Date | undefined {
  const match = /^[a-z]{3}_([0-9a-hjkmnp-tv-z]{10})[0-9a-hjkmnp-tv-z]{16}$/.exec(id);
  if (match?.[1] === undefined) return undefined;
  let ms = 0;
  for (const char of match[1]) ms = ms * 32 + ALPHABET.indexOf(char);
  return ms <= MAX_TIME_MS ? new Date(ms) : undefined;
}

/** A zod schema accepting ids of one kind. */
export function idSchema<P extends IdPrefix>(prefix: P) {
  return z.string().regex(PATTERNS[prefix], { message: `Invalid id: expected ${prefix}_…` });
}

export function isId(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && PATTERNS[prefix].test(value);
}

export const RunId = idSchema('run');
export type RunId = z.infer<typeof RunId>;
export const JobId = idSchema('job');
export type JobId = z.infer<typeof JobId>;
export const SceneId = idSchema('scn');
export type SceneId = z.infer<typeof SceneId>;
/** The database id of an executor row (its `instanceId` is the name it registered with). */
export const ExecutorId = idSchema('exe');
export type ExecutorId = z.infer<typeof ExecutorId>;
/** The database id of an executor group row (its `name` keys the queues). */
export const GroupId = idSchema('grp');
export type GroupId = z.infer<typeof GroupId>;
export const UserId = idSchema('usr');
export type UserId = z.infer<typeof UserId>;
/** The id of an API or registration token (never the secret itself). */
export const TokenId = idSchema('tok');
export type TokenId = z.infer<typeof TokenId>;
/** A KisFlow config document (func, flow or conn) stored with its version history. */
export const ConfigId = idSchema('cfg');
export type ConfigId = z.infer<typeof ConfigId>;
/** A run event, unique across executors and deliveries: ingestion deduplicates on it. */
export const EventId = idSchema('evt');
export type EventId = z.infer<typeof EventId>;
