/**
 * DESIGN §2.5, Redis loses its data (FLUSHALL) while jobs are scheduled, with the real stack on a Redis of
 * the test's own. Postgres is the truth: the schedules go on by themselves, the runs that sat in a queue
 * are enqueued again within 10 s, and no fire is made twice.
 *
 * At F (A + 8 s): five jobs fire every second (window [A, A + 16 s)); three slow one-shot runs fired at
 * F - 1.5 s hold the two slots of the `slow` executor and one waits in its queue; two one-shot jobs are
 * due at F + 3 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startPrivateRedis, waitFor, type PrivateRedis } from '@kisjobs/testing';
import {
  firesOf,
  nextWholeSecond,
  startScheduleStack,
  type FireRow,
  type ScheduleStack,
} from './support/stack.js';

let redis: PrivateRedis;
let stack: ScheduleStack;
/** Every run of the scenario, once it is over (read by the second test). */
let fires: FireRow[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  stack = await startScheduleStack('sched-flushall', { redisUrl: redis.url });
});
afterAll(async () => {
  await stack?.close();
  await redis?.close();
});

describe('FLUSHALL while jobs are scheduled', () => {
  it('restores schedules and queued fires from Postgres within 10 s, with no duplicate fire', async () => {
    const slowToken = await stack.createGroup('slow');
    const scheduler = await stack.spawnScheduler({ name: 's1' });
    await stack.spawnExecutor({ concurrency: 4 });
    await stack.spawnExecutor({ concurrency: 2, group: 'slow', token: slowToken });

    const A = nextWholeSecond(3_000);
    const F = A + 8_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const job = async (name: string, extra: Record<string, unknown>) =>
      (
        await stack.admin.createJob({
          name,
          sceneId: stack.sceneId,
          flowName: 'noop',
          group: stack.group,
          blockStrategy: 'parallel',
          schedule: { type: 'cron', expr: '* * * * * *' },
          window: { startAt: iso(A), endAt: iso(A + 16_000) },
          ...extra,
        })
      ).id;
    const everySecond = await Promise.all([1, 2, 3, 4, 5].map((i) => job(`every-second-${i}`, {})));
    const slow = await Promise.all(
      [1, 2, 3].map((i) =>
        job(`slow-${i}`, {
          group: 'slow',
          flowName: 'sleep',
          params: { ms: '4000' },
          schedule: { type: 'once', at: iso(F - 1_500) },
          window: null,
        }),
      ),
    );
    const after = await Promise.all(
      [1, 2].map((i) => job(`after-${i}`, { schedule: { type: 'once', at: iso(F + 3_000) }, window: null })),
    );

    await sleep(F - Date.now());
    const waiting = await stack.prisma.run.count({ where: { jobId: { in: slow }, status: 'pending' } });
    expect(waiting).toBe(1); // two slow runs hold both slots, one waits in the queue
    await stack.redis.client.flushall();
    const flushedAt = Date.now();

    await scheduler.waitForLine((line) => line.msg?.startsWith('redis lost its data') === true, 10_000);
    // The run that waited in the flushed queue is enqueued again and starts within 10 s.
    const restarted = await waitFor(
      async () => {
        const runs = await stack.prisma.run.findMany({ where: { jobId: { in: slow } } });
        return runs.every((r) => r.startedAt !== null) ? runs : undefined;
      },
      { timeoutMs: 15_000, message: 'every slow run started' },
    );
    const lastStart = Math.max(...restarted.map((r) => r.startedAt?.getTime() ?? 0));
    expect(lastStart - flushedAt).toBeLessThanOrEqual(10_000);

    await sleep(Math.max(0, A + 17_000 - Date.now()));
    await waitFor(
      async () =>
        (await firesOf(stack.prisma)).every((f) => f.status !== 'pending' && f.status !== 'running'),
      { timeoutMs: 20_000, message: 'every run ended' },
    ).catch(() => undefined);
    fires = await firesOf(stack.prisma);
    const seconds = Array.from({ length: 16 }, (_, k) => A + k * 1000);
    const firesOfJob = (id: string) => fires.filter((f) => f.jobId === id);
    const gaps = everySecond.filter(
      (id) => JSON.stringify(firesOfJob(id).map((f) => f.scheduledAt.getTime())) !== JSON.stringify(seconds),
    );
    expect(gaps, 'every-second jobs whose fires are not exactly the 16 seconds').toEqual([]);
    expect([...slow, ...after].map((id) => firesOfJob(id).length)).toEqual([1, 1, 1, 1, 1]);
    expect(fires).toHaveLength(everySecond.length * 16 + slow.length + after.length);
    expect(fires.filter((f) => f.status === 'pending' || f.status === 'running')).toEqual([]);
    console.log(
      `FLUSHALL at A+8 s: slow runs started ${restarted.map((r) => (r.startedAt?.getTime() ?? 0) - flushedAt).join(', ')} ms after it`,
    );
  }, 120_000);

  // Right after a FLUSHALL an executor's heartbeat key is gone until its next beat (up to 2 s) and the
  // queued jobs are gone until the redispatch: the lost-run detector must wait (its reset grace) instead of
  // declaring the runs of live executors lost (lost/reset-grace.ts). A run that FINISHED just before the flush
  // had its `finished` event in the events stream, not yet ingested, and FLUSHALL destroyed it: the executor
  // sends its recent `finished` events again when it registers again after the loss (events-writer.ts).
  it('declares no run lost because Redis was flushed', () => {
    expect(fires.length).toBeGreaterThan(0);
    expect(fires.filter((f) => f.status !== 'succeeded')).toEqual([]);
  });
});
