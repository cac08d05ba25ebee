/**
 * Reads of the live registry in Redis, batched for thousands of executors (MGET in chunks; every key
 * shares the keyspace hash tag, so multi-key commands stay legal on Redis Cluster).
 *
 * Draining: the operator's drain decision must stop routing at once, before the executor's own heartbeat
 * reports `draining`. It is kept in a SET of instance ids, `{prefix}:draining`, mirroring the executors
 * that Postgres has as `draining` (and `removed` ones that come back). PROPOSED for the protocol keyspace
 * as `drainingExecutors()`; until then it is built here, in one place.
 */
import type { Redis } from 'ioredis';
import { decodePayload, type ExecutorRecord, type Heartbeat, type Keyspace } from '@kisjobs/protocol';

const MGET_CHUNK = 1_000;

export function drainingKey(ks: Keyspace): string {
  return `${ks.hashTag}:draining`;
}

export async function mgetChunked(redis: Redis, keys: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < keys.length; i += MGET_CHUNK) {
    out.push(...(await redis.mget(...keys.slice(i, i + MGET_CHUNK))));
  }
  return out;
}

export function decodeHeartbeat(raw: string | null | undefined): Heartbeat | undefined {
  if (raw === null || raw === undefined) return undefined;
  const decoded = decodePayload('heartbeat', raw);
  return decoded.ok ? decoded.value : undefined;
}

export function decodeRecord(raw: string | null | undefined): ExecutorRecord | undefined {
  if (raw === null || raw === undefined) return undefined;
  const decoded = decodePayload('executorRecord', raw);
  return decoded.ok ? decoded.value : undefined;
}

/**
 * Stands in for a heartbeat key that exists but does not decode (a newer or broken executor): the
 * executor is alive, but what it holds is unknown. Its `at` (the epoch) is before any run's start, so no
 * run is ever counted missing from it; routing (`onlineExecutors`) leaves such an executor out.
 */
export function unreadableHeartbeat(instanceId: string): Heartbeat {
  return { instanceId, at: new Date(0).toISOString(), activeRuns: 0, load: 0, runIds: [], draining: false };
}

/** Heartbeat per instance id; undefined = no live heartbeat (expired or never beat). */
export async function readHeartbeats(
  redis: Redis,
  ks: Keyspace,
  instanceIds: readonly string[],
): Promise<Map<string, Heartbeat | undefined>> {
  const ids = [...new Set(instanceIds)];
  const raw = await mgetChunked(
    redis,
    ids.map((id) => ks.heartbeat(id)),
  );
  return new Map(
    ids.map((id, i) => {
      const value = raw[i];
      if (value === null || value === undefined) return [id, undefined];
      return [id, decodeHeartbeat(value) ?? unreadableHeartbeat(id)];
    }),
  );
}

export async function readRecords(
  redis: Redis,
  ks: Keyspace,
  instanceIds: readonly string[],
): Promise<Map<string, ExecutorRecord | undefined>> {
  const ids = [...new Set(instanceIds)];
  const raw = await mgetChunked(
    redis,
    ids.map((id) => ks.executor(id)),
  );
  return new Map(ids.map((id, i) => [id, decodeRecord(raw[i])]));
}

/** Every group's members: instance id → group. */
export async function readMembers(redis: Redis, ks: Keyspace): Promise<Map<string, string>> {
  const groups = await redis.smembers(ks.groups());
  const members = new Map<string, string>();
  if (groups.length === 0) return members;
  const pipeline = redis.pipeline();
  for (const group of groups) pipeline.smembers(ks.groupMembers(group));
  const results = (await pipeline.exec()) ?? [];
  groups.forEach((group, i) => {
    const [error, ids] = results[i] ?? [null, []];
    if (error !== null) throw error;
    for (const id of ids as string[]) members.set(id, group);
  });
  return members;
}

// KEYS: per instance, its heartbeat, record and group members keys. ARGV: the instance ids.
// Removes an instance whose heartbeat is gone: SREM from its group and DEL its record. Atomic per
// instance, so of several scheduler replicas scanning at once exactly one removes (and reports) it; and an
// executor that beat again in the meantime is left alone.
const EXPIRE_MEMBERS = `
local removed = {}
for i = 1, #ARGV do
  local base = (i - 1) * 3
  if redis.call('EXISTS', KEYS[base + 1]) == 0 then
    if redis.call('SREM', KEYS[base + 3], ARGV[i]) == 1 then
      redis.call('DEL', KEYS[base + 2])
      removed[#removed + 1] = ARGV[i]
    end
  end
end
return removed
`;

/**
 * Takes executors whose heartbeat expired out of the live registry and returns the ones this call removed.
 * The record is deleted too: an executor that was only paused (GC, a stopped VM) longer than the TTL then
 * finds its record gone at its next beat and registers again through the normal, token-checked path,
 * instead of heartbeating on as an invisible non-member while Postgres has it offline.
 */
export async function expireMembers(
  redis: Redis,
  ks: Keyspace,
  candidates: readonly { readonly instanceId: string; readonly group: string }[],
): Promise<string[]> {
  const removed: string[] = [];
  for (let i = 0; i < candidates.length; i += 200) {
    const chunk = candidates.slice(i, i + 200);
    const keys = chunk.flatMap((c) => [
      ks.heartbeat(c.instanceId),
      ks.executor(c.instanceId),
      ks.groupMembers(c.group),
    ]);
    const result = (await redis.eval(
      EXPIRE_MEMBERS,
      keys.length,
      ...keys,
      ...chunk.map((c) => c.instanceId),
    )) as string[];
    removed.push(...result);
  }
  return removed;
}
