/**
 * Registration, heartbeat and deregistration against the scheduler's Redis registry, each one atomic Lua
 * script (every key shares the keyspace hash tag, so the scripts are legal on Redis Cluster too).
 *
 * The token never reaches Redis: the executor sends `tokenHash(token)` as part of a key name, and the
 * script checks that the key (mirrored by the scheduler from Postgres) names the executor's group.
 */
import type { Redis } from 'ioredis';
import {
  STREAM_FIELDS,
  encodePayload,
  tokenHash,
  type Deregistration,
  type ExecutorRecord,
  type RedisPayloadInput,
} from '@kisjobs/protocol';
import { REGISTRY_ENTRY_KINDS, RegistrationRejected } from '@kisjobs/protocol';
import type { ResolvedExecutorOptions } from './options.js';

// KEYS: token, executor, members, groups, heartbeat, registry stream.
// ARGV: group, instanceId, record JSON, heartbeat JSON, heartbeat TTL ms, rejection JSON, kind fields.
const REGISTER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[5])
  redis.call('XADD', KEYS[6], '*', ARGV[7], ARGV[8], ARGV[10], ARGV[3])
  return 1
end
redis.call('XADD', KEYS[6], '*', ARGV[7], ARGV[9], ARGV[10], ARGV[6])
return 0
`;

// KEYS: executor, heartbeat. ARGV: heartbeat JSON, TTL ms. Beats only while the record exists.
const HEARTBEAT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

// KEYS: executor, heartbeat, members, registry stream. ARGV: instanceId, deregistration JSON, kind fields.
const DEREGISTER = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], '*', ARGV[3], ARGV[4], ARGV[5], ARGV[2])
return 1
`;

/** Where a heartbeat is written: the executor's record key and its heartbeat key. */
export interface HeartbeatKeys {
  readonly executorKey: string;
  readonly heartbeatKey: string;
}

/**
 * Writes one heartbeat with its TTL, only while the executor's record exists. `ok`, or `missing` when the
 * record is gone (flushed, or removed by an operator). Called from the heartbeat thread (heartbeat-thread.ts).
 */
export async function writeHeartbeat(
  redis: Redis,
  keys: HeartbeatKeys,
  heartbeat: RedisPayloadInput<'heartbeat'>,
  ttlMs: number,
): Promise<'ok' | 'missing'> {
  const json = encodePayload('heartbeat', heartbeat);
  const result = await redis.eval(HEARTBEAT, 2, keys.executorKey, keys.heartbeatKey, json, String(ttlMs));
  return result === 1 ? 'ok' : 'missing';
}

export interface RegistrarOptions {
  readonly redis: Redis;
  readonly options: ResolvedExecutorOptions;
  readonly functions: readonly string[];
  readonly connectorTypes: readonly string[];
  readonly now?: () => Date;
}

export class Registrar {
  readonly record: ExecutorRecord;
  readonly #redis: Redis;
  readonly #options: ResolvedExecutorOptions;
  readonly #tokenKey: string;
  readonly #now: () => Date;

  constructor(init: RegistrarOptions) {
    const o = init.options;
    this.#redis = init.redis;
    this.#options = o;
    this.#now = init.now ?? (() => new Date());
    this.#tokenKey = o.keyspace.registrationToken(tokenHash(o.token));
    this.record = {
      group: o.group,
      instanceId: o.instanceId,
      host: o.host,
      pid: o.pid,
      version: o.version,
      functions: [...init.functions],
      connectorTypes: [...init.connectorTypes],
      concurrency: o.concurrency,
      startedAt: this.#now().toISOString(),
    };
  }

  /** True when registered; false when the token is not valid for the group (a rejection entry is written). */
  async register(heartbeat: RedisPayloadInput<'heartbeat'>): Promise<boolean> {
    const o = this.#options;
    const ks = o.keyspace;
    const rejection: RegistrationRejected = RegistrationRejected.parse({
      group: o.group,
      instanceId: o.instanceId,
      host: o.host,
      reason: 'invalid token',
      at: this.#now().toISOString(),
    });
    const result = await this.#redis.eval(
      REGISTER,
      6,
      this.#tokenKey,
      ks.executor(o.instanceId),
      ks.groupMembers(o.group),
      ks.groups(),
      ks.heartbeat(o.instanceId),
      ks.registryStream(),
      o.group,
      o.instanceId,
      encodePayload('executorRecord', this.record),
      encodePayload('heartbeat', heartbeat),
      String(o.heartbeatTtlMs),
      JSON.stringify(rejection),
      STREAM_FIELDS.kind,
      REGISTRY_ENTRY_KINDS.registered,
      REGISTRY_ENTRY_KINDS.rejected,
      STREAM_FIELDS.payload,
    );
    return result === 1;
  }

  /** Deletes the record and heartbeat, leaves the group, and appends a Deregistration to the registry. */
  async deregister(reason: string): Promise<void> {
    const o = this.#options;
    const ks = o.keyspace;
    const entry: Deregistration = {
      group: o.group,
      instanceId: o.instanceId,
      reason: reason.slice(0, 200) || 'shutdown',
      at: this.#now().toISOString(),
    };
    await this.#redis.eval(
      DEREGISTER,
      4,
      ks.executor(o.instanceId),
      ks.heartbeat(o.instanceId),
      ks.groupMembers(o.group),
      ks.registryStream(),
      o.instanceId,
      encodePayload('deregistration', entry),
      STREAM_FIELDS.kind,
      REGISTRY_ENTRY_KINDS.deregistered,
      STREAM_FIELDS.payload,
    );
  }
}
