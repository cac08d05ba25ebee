/**
 * Scale, the CI-sized version (bench/schedule measures 100,000 jobs): 10,000 enabled cron jobs, bulk
 * inserted with SQL, all due in the same two instants, with two scheduler replicas and no executor (this
 * is about scheduling and firing, not executing). Every fire must be recorded exactly once: the first
 * instant's runs dispatched to the queue, the second's held behind them (block strategy serial).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { sleep, waitFor } from '@kisjobs/testing';
import { insertCronJobs } from './support/bulk.js';
import { startScheduleStack, type ScheduleStack } from './support/stack.js';

const JOBS = 10_000;

let stack: ScheduleStack;

beforeAll(async () => {
  stack = await startScheduleStack('sched-scale');
});
afterAll(async () => {
  await stack?.close();
});

describe('10,000 enabled cron jobs due at the same instants', () => {
  it('fires each of them exactly once per instant', async () => {
    await Promise.all(['s1', 's2'].map((name) => stack.spawnScheduler({ name })));
    const W = Math.ceil((Date.now() + 8_000) / 5_000) * 5_000; // an instant of */5
    const insertStarted = Date.now();
    await insertCronJobs(stack, {
      count: JOBS,
      expr: () => '*/5 * * * * *',
      startAt: new Date(W),
      endAt: new Date(W + 10_000),
    });
    const insertMs = Date.now() - insertStarted;
    expect(Date.now()).toBeLessThan(W - 1_500);

    const counts = async () =>
      stack.prisma.$queryRawUnsafe<{ at: Date; n: bigint; dispatched: bigint; last: Date }[]>(
        `SELECT scheduled_at AS at, count(*) AS n, count(dispatched_at) AS dispatched, max(triggered_at) AS last
         FROM runs GROUP BY 1 ORDER BY 1`,
      );
    await waitFor(async () => (await stack.prisma.run.count()) >= 2 * JOBS || undefined, {
      timeoutMs: W + 10_000 - Date.now() + 30_000,
      message: 'every fire recorded',
    });
    await sleep(2_000);
    const rows = await counts();
    expect(rows.map((r) => [r.at.getTime() - W, Number(r.n), Number(r.dispatched)])).toEqual([
      [0, JOBS, JOBS],
      [5_000, JOBS, 0],
    ]);
    const distinct = await stack.prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(DISTINCT (job_id, scheduled_at)) AS n FROM runs`,
    );
    expect(Number(distinct[0]?.n)).toBe(2 * JOBS);
    const queue = new Queue(stack.admin.keyspace.groupQueue(stack.group), {
      connection: stack.admin.redis,
      prefix: stack.admin.keyspace.bullPrefix,
    });
    try {
      expect(await queue.count()).toBe(JOBS);
    } finally {
      await queue.close();
    }
    const jobs = await stack.prisma.job.count({ where: { nextFireAt: null, leaseOwner: null } });
    expect(jobs).toBe(JOBS); // the window is over: no next instant, no lease left behind
    console.log(
      `inserted ${JOBS} jobs in ${insertMs} ms; all ${JOBS} fires of an instant recorded within ` +
        `${rows.map((r) => r.last.getTime() - r.at.getTime()).join(' / ')} ms of it`,
    );
  }, 120_000);
});
