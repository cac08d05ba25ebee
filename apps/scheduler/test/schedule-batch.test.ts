/**
 * The batch fire path (schedule/batch-dispatch.ts) against the dispatcher's own `trigger`, on real Postgres
 * and Redis: for every job shape, the same fires give the same run rows and the same queue contents; a
 * repeated batch records and enqueues nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createDb, type Db } from '@kisjobs/db';
import { createMigratedDatabase, useTestRedis, type TestDatabase, type TestRedis } from '@kisjobs/testing';
import { silentLogger } from '../src/logger.js';
import { systemClock } from '../src/registry/ports.js';
import { createScheduler, type Scheduler } from '../src/scheduler.js';
import { createBatchFireDispatcher, type BatchFireDispatcher } from '../src/schedule/batch-dispatch.js';
import type { ScheduledFire } from '../src/schedule/fire-port.js';

const FLOWS = `
kistype: func
fname: Count
fmode: Save
source:
  name: fires
  must: []
---
kistype: flow
flow_name: noop
flows:
  - fname: Count
`;

let database: TestDatabase;
let redis: TestRedis;
let db: Db;
let admin: Scheduler;
let batch: BatchFireDispatcher;
let queue: Queue;
let sceneId: string;

beforeAll(async () => {
  database = await createMigratedDatabase('sched-batch');
  redis = await useTestRedis('sched-batch');
  db = createDb({ url: database.url });
  admin = createScheduler({
    prisma: db.prisma,
    redisUrl: redis.url,
    prefix: redis.prefix,
    logger: silentLogger,
  });
  await admin.createGroup({ name: 'g' });
  await admin.putConfigDocuments([{ file: 'flows.yml', text: FLOWS }]);
  sceneId = (await admin.createScene({ name: 'batch' })).id;
  batch = createBatchFireDispatcher({
    prisma: db.prisma,
    redis: admin.redis,
    keyspace: admin.keyspace,
    logger: silentLogger,
    clock: systemClock,
    registry: admin.registry,
    dispatcher: admin.dispatcher,
  });
  queue = new Queue(admin.keyspace.groupQueue('g'), {
    connection: admin.redis,
    prefix: admin.keyspace.bullPrefix,
  });
});
afterAll(async () => {
  await queue?.close();
  await batch?.close();
  await admin?.close();
  await db?.close();
  await redis?.close();
  await database?.drop();
});

const at = (s: number) => new Date(Date.UTC(2031, 0, 1, 0, 0, s));

async function job(name: string, extra: Record<string, unknown>): Promise<string> {
  const created = await admin.createJob({
    name,
    sceneId,
    flowName: 'noop',
    group: 'g',
    schedule: { type: 'cron', expr: '* * * * * *' },
    retry: { attempts: 2 },
    params: { p: '1' },
    ...extra,
  });
  return created.id;
}

/** A job's runs, comparable across jobs: ids and times replaced by their order. */
async function shape(jobId: string) {
  const runs = await db.prisma.run.findMany({ where: { jobId }, orderBy: { scheduledAt: 'asc' } });
  const index = new Map(runs.map((r, i) => [r.id, `#${i}`]));
  const queued = new Set(
    (
      await Promise.all(runs.map(async (r) => ((await queue.getJob(r.id)) === undefined ? null : r.id)))
    ).filter(Boolean),
  );
  return runs.map((r) => ({
    status: r.status,
    skipReason: r.skipReason?.replace(/run_[0-9a-z]+/g, (id) => index.get(id) ?? 'run?') ?? null,
    errorCode: r.errorCode,
    triggerType: r.triggerType,
    triggeredBy: r.triggeredBy,
    dispatched: r.dispatchedAt !== null,
    targetQueue: r.targetQueue,
    maxAttempts: r.maxAttempts,
    params: r.params,
    shard: `${r.shardIndex}/${r.shardTotal}`,
    queued: queued.has(r.id),
  }));
}

const fires = (
  jobId: string,
  seconds: readonly number[],
  triggerType: ScheduledFire['triggerType'] = 'cron',
) => seconds.map((s) => ({ jobId, scheduledAt: at(s), triggerType }));

describe('batch fires', () => {
  it.each([
    ['parallel', { blockStrategy: 'parallel' }],
    ['serial', { blockStrategy: 'serial' }],
    ['discard', { blockStrategy: 'discard' }],
    ['replace (one by one)', { blockStrategy: 'replace' }],
    ['disabled (one by one)', { enabled: false }],
    ['flow missing (one by one)', { flowName: 'nowhere' }],
  ])('%s: the same rows and queue entries as trigger', async (name, extra) => {
    const viaBatch = await job(`${name}-batch`, extra);
    const viaTrigger = await job(`${name}-trigger`, extra);
    const outcomes = await batch.fire([...fires(viaBatch, [1, 2]), ...fires(viaBatch, [3], 'misfire')]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const [s, type] of [
      [1, 'cron'],
      [2, 'cron'],
      [3, 'misfire'],
    ] as const) {
      await admin.dispatcher.trigger(viaTrigger, {
        triggerType: type,
        triggeredBy: 'scheduler',
        scheduledAt: at(s),
      });
    }
    const expected = await shape(viaTrigger);
    expect(expected).toHaveLength(3);
    expect(await shape(viaBatch)).toEqual(expected);
  });

  it('a repeated batch records and enqueues nothing; jobs are isolated from each other', async () => {
    const a = await job('repeat-a', { blockStrategy: 'serial' });
    const b = await job('repeat-b', { blockStrategy: 'parallel' });
    const batchOf = [...fires(a, [10]), ...fires(b, [10, 11])];
    await batch.fire(batchOf);
    const before = { runs: await db.prisma.run.count(), queued: await queue.count() };
    const again = await batch.fire(batchOf);
    expect(again.every((o) => o.ok)).toBe(true);
    expect({ runs: await db.prisma.run.count(), queued: await queue.count() }).toEqual(before);
    expect((await shape(a)).map((r) => r.status)).toEqual(['pending']);
    expect((await shape(b)).map((r) => r.queued)).toEqual([true, true]);
  });

  it('a fire of a deleted job is refused, not retried; the rest of the batch goes through', async () => {
    const kept = await job('kept', {});
    const outcomes = await batch.fire([
      { jobId: 'job_0000000000000000000000000a', scheduledAt: at(20), triggerType: 'cron' },
      ...fires(kept, [20]),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, retry: false });
    expect(outcomes[1]).toEqual({ ok: true });
  });
});
