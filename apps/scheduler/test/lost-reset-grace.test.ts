/** The detector's reset grace against a real Redis, with a hand-driven clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyspace, type Keyspace } from '@kisjobs/protocol';
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import { ResetGrace } from '../src/lost/reset-grace.js';
import { epochKey } from '../src/schedule/redis-reset.js';

let redis: TestRedis;
let ks: Keyspace;
let now = 0;
const clock = (): number => now;

beforeEach(async () => {
  redis = await useTestRedis('reset-grace');
  ks = createKeyspace(redis.prefix);
  now = 1_000;
});
afterEach(async () => {
  await redis.close();
});

describe('ResetGrace', () => {
  it('holds for the grace after the epoch vanishes or changes, and not before', async () => {
    const grace = new ResetGrace(redis.client, ks, 10_000, clock);
    let resets = 0;
    const onReset = (): void => void (resets += 1);
    await redis.client.set(epochKey(ks), 'e1');
    expect(await grace.holding(onReset)).toBe(false);
    now += 5_000;
    expect(await grace.holding(onReset)).toBe(false);

    await redis.client.del(epochKey(ks)); // FLUSHALL
    expect(await grace.holding(onReset)).toBe(true);
    expect(resets).toBe(1);
    now += 3_000;
    await redis.client.set(epochKey(ks), 'e2'); // the watch writes a new epoch: same reset
    expect(await grace.holding(onReset)).toBe(true);
    expect(resets).toBe(1);
    now += 7_001;
    expect(await grace.holding(onReset)).toBe(false);

    await redis.client.set(epochKey(ks), 'e3'); // flushed and rewritten between two reads
    expect(await grace.holding(onReset)).toBe(true);
    expect(resets).toBe(2);
    now += 9_999;
    expect(await grace.holding(onReset)).toBe(true);
    now += 2;
    expect(await grace.holding(onReset)).toBe(false);
  });

  it('the first epoch appearing after start is no reset', async () => {
    const grace = new ResetGrace(redis.client, ks, 10_000, clock);
    expect(await grace.holding()).toBe(false);
    await redis.client.set(epochKey(ks), 'e1');
    expect(await grace.holding()).toBe(false);
  });
});
