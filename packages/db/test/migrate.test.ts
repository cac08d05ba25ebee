import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase } from '@kisjobs/testing';
import type { TestDatabase } from '@kisjobs/testing';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import type { PrismaClient } from '../src/index.js';
import {
  MIGRATION_LOCK_SQL_KEY,
  applyRunEvents,
  createDb,
  insertRunLogLines,
  insertRuns,
  isDbError,
  listExecutorEvents,
  listRunLogLines,
  listRuns,
  markExecutorsOffline,
  migrate,
  migrationNames,
  readMigrations,
  registerExecutor,
  setJobFireTimes,
  withDueJobs,
} from '../src/index.js';
import { seedJob } from './support.js';

const databases: TestDatabase[] = [];
async function freshDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ label });
  databases.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function appliedHistory(url: string): Promise<{ migration_name: string; finished_at: Date | null }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/** Writes through the Prisma client and the raw-SQL repositories, and reads it all back. */
async function roundTrip(prisma: PrismaClient): Promise<void> {
  const { jobId, sceneId } = await seedJob(prisma, 'rt');
  const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { scene: true } });
  expect(job.scene.name).toBe('scene-rt');
  expect(job.childJobIds).toEqual([]);
  expect(job.params).toEqual({});

  const scheduledAt = new Date('2030-01-02T03:04:05.678Z');
  const inserted = await insertRuns(prisma, [
    { id: 'run_rt', jobId, sceneId, flowName: 'flow-1', triggerType: 'cron', scheduledAt, params: { n: 1 } },
  ]);
  expect(inserted).toEqual(['run_rt']);
  const result = await applyRunEvents(prisma, [
    {
      type: 'started',
      runId: 'run_rt',
      at: new Date('2030-01-02T03:04:06.000Z'),
      executorInstanceId: 'exi_1',
    },
    {
      type: 'finished',
      runId: 'run_rt',
      at: new Date('2030-01-02T03:04:07.500Z'),
      status: 'succeeded',
      summary: { functions: [{ name: 'f1', rowsIn: 1, rowsOut: 2, durationMs: 3 }] },
    },
  ]);
  expect(result.applied.map((t) => t.status)).toEqual(['running', 'succeeded']);
  const page = await listRuns(prisma, { jobId });
  expect(page.items).toHaveLength(1);
  const run = page.items[0];
  expect(run?.scheduledAt.toISOString()).toBe(scheduledAt.toISOString());
  expect(run?.status).toBe('succeeded');
  expect(run?.durationMs).toBe(1500);
  expect(run?.params).toEqual({ n: 1 });
  expect(run?.summary).toEqual({ functions: [{ name: 'f1', rowsIn: 1, rowsOut: 2, durationMs: 3 }] });

  expect(
    await insertRunLogLines(prisma, [
      { runId: 'run_rt', seq: 1, at: scheduledAt, level: 'info', message: 'hello', fields: { k: 'v' } },
    ]),
  ).toBe(1);
  expect((await listRunLogLines(prisma, 'run_rt')).map((line) => line.message)).toEqual(['hello']);

  const executor = await registerExecutor(prisma, {
    instanceId: 'exi_rt',
    groupId: job.executorGroupId,
    host: 'h',
    pid: 1,
    version: '1',
    functions: ['f1'],
    concurrency: 2,
    at: scheduledAt,
  });
  expect(await markExecutorsOffline(prisma, ['exi_rt'], 'deregistered', { at: scheduledAt })).toEqual([
    'exi_rt',
  ]);
  expect((await listExecutorEvents(prisma, executor.id)).map((e) => e.type).sort()).toEqual([
    'deregistered',
    'registered',
  ]);

  await setJobFireTimes(prisma, { id: jobId, nextFireAt: scheduledAt, lastFireAt: null });
  const claimed = await withDueJobs(
    prisma,
    { now: new Date(scheduledAt.getTime() + 1), limit: 10 },
    (_tx, jobs) => Promise.resolve(jobs.map((j) => j.id)),
  );
  expect(claimed).toEqual([jobId]);
}

describe('migrate on server Postgres (adapter-pg)', () => {
  test('applies every migration once, records them in _prisma_migrations, and the client round-trips', async () => {
    const database = await freshDatabase('mig');
    const known = migrationNames(await readMigrations());
    expect(known.length).toBeGreaterThan(0);

    const first = await migrate({ url: database.url });
    expect(first.applied).toEqual(known);
    expect(first.known).toEqual(known);
    const second = await migrate({ url: database.url });
    expect(second.applied).toEqual([]);

    const history = await appliedHistory(database.url);
    expect(history.map((row) => row.migration_name)).toEqual(known);
    expect(history.every((row) => row.finished_at !== null)).toBe(true);

    const db = createDb({ url: database.url });
    try {
      await roundTrip(db.prisma);
    } finally {
      await db.close();
    }
  });

  test('three concurrent migrators: one applies, the others wait and find nothing to do', async () => {
    const database = await freshDatabase('migcc');
    const known = migrationNames(await readMigrations());
    const results = await Promise.all([1, 2, 3].map(() => migrate({ url: database.url })));
    const applied = results.flatMap((result) => result.applied);
    expect(applied).toEqual(known);
    expect(results.filter((result) => result.applied.length > 0)).toHaveLength(1);
    expect((await appliedHistory(database.url)).map((row) => row.migration_name)).toEqual(known);
    // And a fourth, later, is a no-op.
    expect((await migrate({ url: database.url })).applied).toEqual([]);
  });

  test('a migrator that cannot get the lock in time fails with DB_MIGRATION_LOCK_TIMEOUT', async () => {
    const database = await freshDatabase('miglock');
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_SQL_KEY})`);
      const error: unknown = await migrate({ url: database.url, lockTimeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      expect(isDbError(error, 'DB_MIGRATION_LOCK_TIMEOUT')).toBe(true);
      // A patient migrator waits for the holder instead of failing, then applies.
      const waiting = migrate({ url: database.url, lockTimeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await appliedHistory(database.url).catch(() => 'no table yet')).toBe('no table yet');
      await holder.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_SQL_KEY})`);
      expect((await waiting).applied.length).toBeGreaterThan(0);
    } finally {
      await holder.end();
    }
  });

  test('an invalid target is refused with DB_INVALID_TARGET', async () => {
    const error: unknown = await migrate({ url: 'mysql://nope' }).catch((e: unknown) => e);
    expect(isDbError(error, 'DB_INVALID_TARGET')).toBe(true);
    expect(() => createDb({} as { url: string })).toThrow(/exactly one of url, pgliteDir or pglite/);
  });
});

describe('migrate on embedded PGlite (pglite-prisma-adapter)', () => {
  test('an in-memory instance: migrate, then round-trip through the client', async () => {
    const pglite = new PGlite();
    try {
      const first = await migrate({ pglite });
      expect(first.applied).toEqual(first.known);
      expect((await migrate({ pglite })).applied).toEqual([]);
      const db = createDb({ pglite });
      try {
        await roundTrip(db.prisma);
      } finally {
        await db.close();
      }
    } finally {
      await pglite.close();
    }
  });

  test('a data folder: migrated once, the data survives closing and reopening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kisjobs-pglite-'));
    try {
      expect((await migrate({ pgliteDir: dir })).applied.length).toBeGreaterThan(0);
      const db = createDb({ pgliteDir: dir });
      try {
        await roundTrip(db.prisma);
      } finally {
        await db.close();
      }
      expect((await migrate({ pgliteDir: dir })).applied).toEqual([]);
      const reopened = createDb({ pgliteDir: dir });
      try {
        expect(await reopened.prisma.run.count()).toBe(1);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
