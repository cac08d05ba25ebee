/**
 * Notices that Redis lost its data (FLUSHALL, a restart without persistence, a failover to an empty
 * replica) so that what lives there can be rebuilt from Postgres at once (DESIGN §2.5) instead of at the
 * next periodic sweep. An epoch key holds a random value; every replica remembers the value it last saw,
 * and a missing key or a different value means the data is gone (the first replica to notice writes a
 * new epoch; the others see the value change).
 *
 * The schedule itself needs no rebuild: schedules and planned fires live in Postgres and in memory, never
 * in Redis. What a reset loses is the runs enqueued and not yet started; `onReset` hands them to the
 * dispatcher's redispatch sweep (and whatever else mirrors Postgres into Redis).
 */
import type { Redis } from 'ioredis';
import type { Keyspace } from '@kisjobs/protocol';
import { idTime, newId } from '@kisjobs/protocol';
import { errorMessage, type Logger } from '../registry/ports.js';

export interface RedisResetWatchOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly onReset: () => Promise<void>;
  /** Default 1000 ms. */
  readonly intervalMs?: number;
  /**
   * `onReset` runs again this long after a reset (default [6000]): runs enqueued just before the reset only
   * count as missing once the dispatcher's grace (5 s) has passed since they were claimed.
   */
  readonly repeatAfterMs?: readonly number[];
}

export interface RedisResetWatch {
  start(): void;
  /** One check; resolves true when a reset was noticed (and `onReset` has run). */
  check(): Promise<boolean>;
  close(): Promise<void>;
}

/** The epoch key: `{prefix}:schedule:epoch`. */
export function epochKey(keyspace: Keyspace): string {
  return `${keyspace.hashTag}:schedule:epoch`;
}

async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/**
 * How long ago (by Redis' clock) the current epoch was written, i.e. Redis was last found reset (or first
 * watched); the epoch id carries the instant. Undefined while there is no epoch (no watch runs, or a reset
 * the watch has not noticed yet: it does within its interval).
 */
export async function epochAgeMs(redis: Redis, keyspace: Keyspace): Promise<number | undefined> {
  const value = await redis.get(epochKey(keyspace));
  if (value === null) return undefined;
  const at = idTime(value);
  return at === undefined ? Number.POSITIVE_INFINITY : Math.max(0, (await redisNowMs(redis)) - at.getTime());
}

export function watchRedisReset(options: RedisResetWatchOptions): RedisResetWatch {
  const { redis, logger } = options;
  const key = epochKey(options.keyspace);
  const intervalMs = options.intervalMs ?? 1_000;
  let seen: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let closed = false;
  let started = false;
  const repeats = new Set<NodeJS.Timeout>();
  const again = (): void => {
    for (const delay of options.repeatAfterMs ?? [6_000]) {
      const timer = setTimeout(() => {
        repeats.delete(timer);
        if (closed) return;
        options
          .onReset()
          .catch((error: unknown) =>
            logger.warn('rebuilding after a redis reset failed', { error: errorMessage(error) }),
          );
      }, delay);
      repeats.add(timer);
    }
  };

  const check = (): Promise<boolean> => {
    running ??= (async () => {
      try {
        let value = await redis.get(key);
        if (value === null) {
          await redis.set(key, newId('evt', new Date(await redisNowMs(redis))), 'NX');
          value = await redis.get(key);
        }
        if (value === null) return false;
        const reset = seen !== undefined && value !== seen;
        seen = value;
        if (reset) {
          logger.warn('redis lost its data: rebuilding from Postgres', { epoch: value });
          again();
          await options.onReset();
        }
        return reset;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      check()
        .catch((error: unknown) => logger.warn('redis reset check failed', { error: errorMessage(error) }))
        .finally(schedule);
    }, intervalMs);
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      check()
        .catch((error: unknown) => logger.warn('redis reset check failed', { error: errorMessage(error) }))
        .finally(schedule);
    },
    check,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const repeat of repeats) clearTimeout(repeat);
      await running?.catch(() => undefined);
    },
  };
}
