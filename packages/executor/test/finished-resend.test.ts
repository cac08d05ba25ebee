/**
 * A `finished` event that Redis took can be destroyed before the scheduler ingests it (FLUSHALL, a failover to
 * an empty replica). The executor keeps the `finished` events of its recent runs and sends them again when it
 * registers again after such a loss (issue #4; test/schedule/flushall.test.ts checks it with the whole stack).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { deleteByPattern, useTestRedis, waitFor, type TestRedis } from '@kisjobs/testing';
import type { Executor } from '../src/index.js';
import { startInProcess, type LogLine } from './support/executors.js';
import { SchedulerSide, newToken, runRequest } from './support/scheduler-side.js';

let redis: TestRedis;
let side: SchedulerSide;
let executor: Executor | undefined;

beforeEach(async () => {
  redis = await useTestRedis('exec-resend');
  side = new SchedulerSide(redis.client, redis.prefix);
});
afterEach(async () => {
  await executor?.close();
  await side.close();
  await redis.close();
});

it('sends the finished events of its recent runs again after its Redis data was lost', async () => {
  const token = newToken();
  await side.seedToken(token);
  let logs: LogLine[];
  ({ executor, logs } = await startInProcess(
    { redisUrl: redis.url, prefix: redis.prefix, token },
    { heartbeatIntervalMs: 200 },
  ));
  const old = runRequest('etl');
  await side.enqueue(old);
  const oldFinished = await side.finished(old.runId);
  const recent = runRequest('etl');
  await side.enqueue(recent);
  const recentFinished = await side.finished(recent.runId);
  // The data loss: every key of this executor's keyspace is gone, the token mirror too.
  await deleteByPattern(redis.client, `*${redis.prefix}*`);
  expect(await side.events(recent.runId)).toEqual([]);
  expect(await side.events(old.runId)).toEqual([]);
  await side.seedToken(token); // the scheduler's token sync writes the mirror again
  await waitFor(() => logs.some((l) => l.msg.includes('registered again')), {
    timeoutMs: 10_000,
    message: 'registered again',
  });
  const again = await side.finished(recent.runId, 5_000);
  expect(again).toEqual(recentFinished);
  expect(await side.events(old.runId)).toEqual([oldFinished]);
  expect((await side.events(recent.runId)).map((e) => e.type)).toEqual(['finished']);
  expect(logs.some((l) => l.msg.startsWith('finished events of recent runs sent again'))).toBe(true);
});
