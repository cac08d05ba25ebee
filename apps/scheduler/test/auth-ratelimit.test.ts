/** The Redis login limiter on its own: windows end, parallel attempts cannot overshoot, successes refund. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sleep, useTestRedis, type TestRedis } from '@kisjobs/testing';
import { createLoginRateLimiter, type LoginRateLimiter } from '../src/auth/rate-limit.js';

let redis: TestRedis;
let limiter: LoginRateLimiter;
beforeAll(async () => {
  redis = await useTestRedis('ratelimit');
  limiter = createLoginRateLimiter({
    redis: redis.client,
    hashTag: `{${redis.prefix}}`,
    limits: { perUser: { max: 3, windowMs: 400 }, perIp: { max: 5, windowMs: 400 } },
  });
});
afterAll(async () => {
  await redis?.close();
});

test('a locked name opens again when its window ends', async () => {
  for (let i = 0; i < 3; i++) expect(await limiter.consume('ann', `ip-${i}`)).toEqual({ allowed: true });
  const refused = await limiter.consume('ann', 'ip-9');
  expect(refused.allowed).toBe(false);
  expect(refused.allowed ? 0 : refused.retryAfterMs).toBeGreaterThan(0);
  expect(refused.allowed ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(400);
  await sleep(450);
  expect(await limiter.consume('ann', 'ip-9')).toEqual({ allowed: true });
});

test('parallel attempts take exactly the allowed number of slots', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, () => limiter.consume('bob', 'ip-parallel')));
  expect(results.filter((r) => r.allowed).length).toBe(3);
});

test('a refused attempt does not count against the other key', async () => {
  for (let i = 0; i < 5; i++) await limiter.consume(`spray-${i}`, 'ip-spray');
  expect((await limiter.consume('carol', 'ip-spray')).allowed).toBe(false);
  // carol's own count was not touched by the refusal: three attempts elsewhere are still allowed.
  for (let i = 0; i < 3; i++) expect((await limiter.consume('carol', `ip-c${i}`)).allowed).toBe(true);
});

test('success resets the name and gives the address its slot back', async () => {
  for (let i = 0; i < 2; i++) await limiter.consume('dave', 'ip-d');
  await limiter.succeeded('dave', 'ip-d');
  for (let i = 0; i < 3; i++) expect((await limiter.consume('dave', 'ip-d')).allowed).toBe(true);
  expect((await limiter.consume('dave', 'ip-d')).allowed).toBe(false);
});

test('every key lives under the keyspace hash tag and expires', async () => {
  await limiter.consume('erin', 'ip-e');
  const keys = await redis.client.keys(`{${redis.prefix}}:ratelimit:login:*`);
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) expect(await redis.client.pttl(key)).toBeGreaterThan(0);
});
