/**
 * The Redis reset watch on a real Redis (a prefix of the test's own: deleting the epoch key stands for a
 * FLUSHALL, which would wipe the shared test server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyspace } from '@kisjobs/protocol';
import { sleep, useTestRedis, type TestRedis } from '@kisjobs/testing';
import { silentLogger } from '../src/logger.js';
import { epochKey, watchRedisReset } from '../src/schedule/redis-reset.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await useTestRedis('sched-reset');
});
afterAll(async () => {
  await redis?.close();
});

describe('watchRedisReset', () => {
  it('every replica notices that the data is gone, once, and rebuilds again after the grace', async () => {
    const keyspace = createKeyspace(redis.prefix);
    const calls = { a: 0, b: 0 };
    const a = watchRedisReset({
      redis: redis.client,
      keyspace,
      logger: silentLogger,
      onReset: async () => void calls.a++,
      repeatAfterMs: [50],
    });
    const b = watchRedisReset({
      redis: redis.client,
      keyspace,
      logger: silentLogger,
      onReset: async () => void calls.b++,
      repeatAfterMs: [],
    });
    try {
      expect([await a.check(), await b.check()]).toEqual([false, false]);
      expect(await redis.client.exists(epochKey(keyspace))).toBe(1);
      expect([await a.check(), await b.check()]).toEqual([false, false]);

      await redis.client.del(epochKey(keyspace)); // what FLUSHALL does to it
      expect(await b.check()).toBe(true); // notices the missing key and writes a new epoch
      expect(await a.check()).toBe(true); // notices the new value
      expect([await a.check(), await b.check()]).toEqual([false, false]);
      expect(calls).toEqual({ a: 1, b: 1 });
      await sleep(150);
      expect(calls).toEqual({ a: 2, b: 1 }); // the repeat, once the dispatcher's grace has passed
    } finally {
      await a.close();
      await b.close();
    }
  });
});
