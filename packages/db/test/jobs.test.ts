import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db, Job } from '../src/index.js';
import {
  claimDueJobs,
  createDb,
  getJob,
  insertRuns,
  isDbError,
  setJobFireTimes,
  updateJobAtVersion,
  withDueJobs,
} from '../src/index.js';
import type { Fixture } from './support.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let a: Db;
let b: Db;
let fx: Fixture;
const now = new Date('2031-04-01T00:00:00.000Z');
const past = (s: number): Date => new Date(now.getTime() - s * 1000);

beforeAll(async () => {
  database = await createMigratedDatabase('jobs');
  a = createDb({ url: database.url });
  b = createDb({ url: database.url });
  fx = await seedJob(a.prisma, 'jobs');
  const base = {
    sceneId: fx.sceneId,
    executorGroupId: fx.groupId,
    flowName: 'flow-1',
    scheduleType: 'cron' as const,
  };
  await a.prisma.job.createMany({
    data: Array.from({ length: 20 }, (_, i) => ({
      ...base,
      id: `job_due_${String(i).padStart(2, '0')}`,
      name: `due-${i}`,
      nextFireAt: past(100 - i),
    })),
  });
  // Not due, disabled, paused, in a paused scene, or never scheduled: never claimed.
  await a.prisma.scene.create({ data: { id: 'scn_paused', name: 'paused-scene', paused: true } });
  await a.prisma.job.createMany({
    data: [
      { ...base, id: 'job_future', name: 'future', nextFireAt: new Date(now.getTime() + 1000) },
      { ...base, id: 'job_disabled', name: 'disabled', enabled: false, nextFireAt: past(500) },
      { ...base, id: 'job_paused', name: 'paused', paused: true, nextFireAt: past(500) },
      { ...base, id: 'job_in_paused_scene', sceneId: 'scn_paused', name: 'in-paused', nextFireAt: past(500) },
      { ...base, id: 'job_manual', name: 'manual', scheduleType: 'manual', nextFireAt: null },
    ],
  });
  // The seeded fixture job has no nextFireAt either.
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Claims inside a transaction and keeps it open until `release` resolves. */
function holdClaim(
  db: Db,
  limit: number,
  release: Promise<void>,
): { claimed: Promise<Job[]>; done: Promise<void> } {
  const claimed = deferred();
  let jobs: Job[] = [];
  const done = db.prisma.$transaction(
    async (tx) => {
      jobs = await claimDueJobs(tx, { now, limit });
      claimed.resolve();
      await release;
    },
    { timeout: 20_000 },
  );
  return { claimed: claimed.promise.then(() => jobs), done };
}

describe('claimDueJobs (FOR UPDATE SKIP LOCKED)', () => {
  test('concurrent claimers get disjoint sets, oldest fire first, and only due, enabled, unpaused jobs', async () => {
    const release = deferred();
    const first = holdClaim(a, 8, release.promise);
    const firstJobs = await first.claimed;
    const second = holdClaim(b, 8, release.promise);
    const secondJobs = await second.claimed;
    // A third claimer on a separate client sees only what the two others left.
    const third = createDb({ url: database.url });
    let thirdJobs: Job[] = [];
    try {
      thirdJobs = await third.prisma.$transaction((tx) => claimDueJobs(tx, { now, limit: 100 }));
    } finally {
      await third.close();
    }
    release.resolve();
    await Promise.all([first.done, second.done]);

    const ids = (jobs: Job[]): string[] => jobs.map((j) => j.id);
    expect(ids(firstJobs)).toEqual(
      Array.from({ length: 8 }, (_, i) => `job_due_${String(i).padStart(2, '0')}`),
    );
    expect(secondJobs).toHaveLength(8);
    expect(thirdJobs).toHaveLength(4);
    const all = [...ids(firstJobs), ...ids(secondJobs), ...ids(thirdJobs)];
    expect(new Set(all).size).toBe(20);
    expect(all.every((id) => id.startsWith('job_due_'))).toBe(true);
  });

  test('locks end with the transaction: released jobs are claimable again', async () => {
    const jobs = await a.prisma.$transaction((tx) => claimDueJobs(tx, { now, limit: 100 }));
    expect(jobs).toHaveLength(20);
  });

  test('withDueJobs records fires and moves nextFireAt in one transaction', async () => {
    const fired = await withDueJobs(a.prisma, { now, limit: 5 }, async (tx, jobs) => {
      await insertRuns(
        tx,
        jobs.map((job) => ({
          id: `run_${job.id}`,
          jobId: job.id,
          sceneId: job.sceneId,
          flowName: job.flowName,
          triggerType: 'cron' as const,
          scheduledAt: job.nextFireAt ?? now,
        })),
      );
      for (const job of jobs) {
        await setJobFireTimes(tx, {
          id: job.id,
          nextFireAt: new Date(now.getTime() + 60_000),
          lastFireAt: job.nextFireAt,
        });
      }
      return jobs.map((job) => job.id);
    });
    expect(fired).toHaveLength(5);
    expect(await a.prisma.run.count({ where: { id: { in: fired.map((id) => `run_${id}`) } } })).toBe(5);
    const remaining = await a.prisma.$transaction((tx) => claimDueJobs(tx, { now, limit: 100 }));
    expect(remaining).toHaveLength(15);
    expect(remaining.some((job) => fired.includes(job.id))).toBe(false);
  });

  test('a failure inside withDueJobs rolls back the fires and leaves the jobs due', async () => {
    const error = await withDueJobs(a.prisma, { now, limit: 3 }, async (tx, jobs) => {
      await insertRuns(
        tx,
        jobs.map((job) => ({
          id: `run_rollback_${job.id}`,
          jobId: job.id,
          sceneId: job.sceneId,
          flowName: job.flowName,
          triggerType: 'cron' as const,
          scheduledAt: new Date('2031-05-01T00:00:00.000Z'),
        })),
      );
      throw new Error('crash before commit');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(await a.prisma.run.count({ where: { id: { startsWith: 'run_rollback_' } } })).toBe(0);
    expect(await a.prisma.$transaction((tx) => claimDueJobs(tx, { now, limit: 100 }))).toHaveLength(15);
  });
});

describe('jobs', () => {
  test('getJob returns the job or null', async () => {
    expect((await getJob(a.prisma, fx.jobId))?.name).toBe('job-jobs');
    expect(await getJob(a.prisma, 'job_nope')).toBeNull();
  });

  test('updateJobAtVersion bumps the version, and a stale version is a DB_VERSION_CONFLICT', async () => {
    const job = await a.prisma.job.findUniqueOrThrow({ where: { id: 'job_future' } });
    const updated = await updateJobAtVersion(a.prisma, job.id, job.version, { cronExpr: '0 * * * *' });
    expect(updated.version).toBe(job.version + 1);
    expect(updated.cronExpr).toBe('0 * * * *');
    const error: unknown = await updateJobAtVersion(a.prisma, job.id, job.version, {
      cronExpr: '1 * * * *',
    }).catch((e: unknown) => e);
    expect(isDbError(error, 'DB_VERSION_CONFLICT')).toBe(true);
    expect((await getJob(a.prisma, job.id))?.cronExpr).toBe('0 * * * *');
  });
});
