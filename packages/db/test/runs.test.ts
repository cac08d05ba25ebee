import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db, NewRun, Run } from '../src/index.js';
import { applyRunEvents, createDb, insertRuns, isDbError, listRuns } from '../src/index.js';
import type { Fixture } from './support.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let db: Db;
let fx: Fixture;

beforeAll(async () => {
  database = await createMigratedDatabase('runs');
  db = createDb({ url: database.url });
  fx = await seedJob(db.prisma, 'a');
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const at = (iso: string): Date => new Date(iso);
function run(id: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id,
    jobId: fx.jobId,
    sceneId: fx.sceneId,
    flowName: 'flow-1',
    triggerType: 'cron',
    scheduledAt: at('2031-01-01T00:00:00.000Z'),
    ...overrides,
  };
}
const getRun = (id: string): Promise<Run> => db.prisma.run.findUniqueOrThrow({ where: { id } });

describe('insertRuns', () => {
  test('the same run id twice is one row', async () => {
    const once = run('run_same', { scheduledAt: at('2031-01-01T00:00:01.000Z') });
    expect(await insertRuns(db.prisma, [once])).toEqual(['run_same']);
    expect(await insertRuns(db.prisma, [once])).toEqual([]);
    expect(await insertRuns(db.prisma, [once, once])).toEqual([]);
    expect(await db.prisma.run.count({ where: { id: 'run_same' } })).toBe(1);
  });

  test('a scheduled fire is recorded once per (job, scheduledAt, shard, attempt) whatever its id', async () => {
    const scheduledAt = at('2031-01-01T00:00:02.000Z');
    expect(await insertRuns(db.prisma, [run('run_fk1', { scheduledAt })])).toEqual(['run_fk1']);
    // Another id for the same cron fire: refused by the fire key.
    expect(await insertRuns(db.prisma, [run('run_fk2', { scheduledAt })])).toEqual([]);
    // Broadcast shards and retries of that fire are distinct runs; a manual trigger at that instant too.
    const more = [
      run('run_fk_s1', { scheduledAt, shardIndex: 1, shardTotal: 3 }),
      run('run_fk_s2', { scheduledAt, shardIndex: 2, shardTotal: 3 }),
      run('run_fk_r2', {
        scheduledAt,
        attempt: 2,
        maxAttempts: 3,
        triggerType: 'retry',
        parentRunId: 'run_fk1',
      }),
      run('run_fk_m', { scheduledAt, triggerType: 'manual', triggeredBy: 'usr_1' }),
      run('run_fk_m2', { scheduledAt, triggerType: 'manual', triggeredBy: 'usr_1' }),
    ];
    expect((await insertRuns(db.prisma, more)).sort()).toEqual(more.map((r) => r.id).sort());
    // Replaying the whole fire, shards included, inserts nothing.
    expect(await insertRuns(db.prisma, [run('run_fk3', { scheduledAt }), ...more])).toEqual([]);
    expect(await db.prisma.run.count({ where: { scheduledAt } })).toBe(6);
  });

  test('a skipped run is final at once, with its reason', async () => {
    await insertRuns(db.prisma, [
      run('run_skip', {
        scheduledAt: at('2031-01-01T00:00:03.000Z'),
        status: 'skipped',
        skipReason: 'discard',
      }),
    ]);
    const stored = await getRun('run_skip');
    expect(stored.status).toBe('skipped');
    expect(stored.skipReason).toBe('discard');
    expect(stored.finishedAt).not.toBeNull();
  });

  test('ten thousand runs in one call (raw multi-row SQL)', async () => {
    const base = Date.parse('2032-01-01T00:00:00.000Z');
    const many = Array.from({ length: 10_000 }, (_, i) =>
      run(`run_bulk_${i}`, { scheduledAt: new Date(base + i * 1000), params: { i } }),
    );
    const started = performance.now();
    const inserted = await insertRuns(db.prisma, many);
    const ms = performance.now() - started;
    expect(inserted).toHaveLength(10_000);
    console.log(`insertRuns: 10000 rows in ${ms.toFixed(0)} ms (${Math.round(10_000 / (ms / 1000))} rows/s)`);
    expect(await insertRuns(db.prisma, many.slice(0, 500))).toEqual([]);
  });
});

describe('applyRunEvents', () => {
  const t = (s: number): Date => new Date(Date.parse('2031-02-01T00:00:00.000Z') + s * 1000);
  let n = 0;
  async function pendingRun(): Promise<string> {
    n++;
    const id = `run_ev_${n}`;
    await insertRuns(db.prisma, [run(id, { scheduledAt: t(1000 + n) })]);
    return id;
  }

  test('pending → running → succeeded, with timestamps, executor and duration', async () => {
    const id = await pendingRun();
    const r1 = await applyRunEvents(db.prisma, [
      { type: 'started', runId: id, at: t(1), executorInstanceId: 'exi_a' },
    ]);
    expect(r1.applied).toEqual([{ runId: id, type: 'started', status: 'running' }]);
    const r2 = await applyRunEvents(db.prisma, [
      { type: 'finished', runId: id, at: t(3), status: 'succeeded', summary: { rows: 2 } },
    ]);
    expect(r2.applied).toEqual([{ runId: id, type: 'finished', status: 'succeeded' }]);
    const stored = await getRun(id);
    expect(stored).toMatchObject({
      status: 'succeeded',
      executorInstanceId: 'exi_a',
      startedAt: t(1),
      finishedAt: t(3),
      durationMs: 2000,
      summary: { rows: 2 },
    });
  });

  test('a final run never goes back to running, nor to another final state', async () => {
    const id = await pendingRun();
    await applyRunEvents(db.prisma, [
      { type: 'started', runId: id, at: t(1), executorInstanceId: 'exi_a' },
      { type: 'finished', runId: id, at: t(2), status: 'failed', errorMessage: 'boom', errorCode: 'E1' },
    ]);
    const late = await applyRunEvents(db.prisma, [
      { type: 'started', runId: id, at: t(5), executorInstanceId: 'exi_b' },
      { type: 'finished', runId: id, at: t(6), status: 'lost' },
      { type: 'skipped', runId: id, at: t(7), reason: 'late' },
    ]);
    expect(late.applied).toEqual([]);
    expect(late.ignored).toHaveLength(3);
    expect(await getRun(id)).toMatchObject({
      status: 'failed',
      errorMessage: 'boom',
      errorCode: 'E1',
      executorInstanceId: 'exi_a',
      finishedAt: t(2),
    });
  });

  test('every final state is absorbing', async () => {
    for (const status of ['succeeded', 'failed', 'timed_out', 'terminated', 'lost'] as const) {
      const id = await pendingRun();
      await applyRunEvents(db.prisma, [{ type: 'finished', runId: id, at: t(1), status }]);
      const again = await applyRunEvents(db.prisma, [
        { type: 'started', runId: id, at: t(2), executorInstanceId: 'exi_z' },
        { type: 'finished', runId: id, at: t(3), status: status === 'lost' ? 'succeeded' : 'lost' },
      ]);
      expect(again.applied).toEqual([]);
      expect((await getRun(id)).status).toBe(status);
    }
  });

  test('out of order within a batch: finished before started still ends final, with startedAt filled', async () => {
    const id = await pendingRun();
    const result = await applyRunEvents(db.prisma, [
      { type: 'finished', runId: id, at: t(4), status: 'terminated' },
      { type: 'started', runId: id, at: t(1), executorInstanceId: 'exi_a' },
    ]);
    expect(result.applied.map((x) => x.type)).toEqual(['started', 'finished']);
    expect(await getRun(id)).toMatchObject({ status: 'terminated', startedAt: t(1), durationMs: 3000 });
  });

  test('two final reports in one batch: the first wins', async () => {
    const id = await pendingRun();
    const result = await applyRunEvents(db.prisma, [
      { type: 'finished', runId: id, at: t(2), status: 'succeeded' },
      { type: 'finished', runId: id, at: t(3), status: 'lost' },
    ]);
    expect(result.applied).toEqual([{ runId: id, type: 'finished', status: 'succeeded' }]);
    expect(result.ignored).toEqual([{ runId: id, type: 'finished' }]);
    expect((await getRun(id)).status).toBe('succeeded');
  });

  test('a repeated start keeps the first startedAt and records the newest executor', async () => {
    const id = await pendingRun();
    await applyRunEvents(db.prisma, [{ type: 'started', runId: id, at: t(1), executorInstanceId: 'exi_a' }]);
    await applyRunEvents(db.prisma, [{ type: 'started', runId: id, at: t(9), executorInstanceId: 'exi_b' }]);
    expect(await getRun(id)).toMatchObject({
      status: 'running',
      startedAt: t(1),
      executorInstanceId: 'exi_b',
    });
  });

  test('skipped applies only to a pending run; unknown runs are ignored', async () => {
    const pending = await pendingRun();
    const running = await pendingRun();
    await applyRunEvents(db.prisma, [
      { type: 'started', runId: running, at: t(1), executorInstanceId: 'exi_a' },
    ]);
    const result = await applyRunEvents(db.prisma, [
      { type: 'skipped', runId: pending, at: t(2), reason: 'serial queue full' },
      { type: 'skipped', runId: running, at: t(2), reason: 'too late' },
      { type: 'finished', runId: 'run_missing', at: t(2), status: 'succeeded' },
    ]);
    expect(result.applied).toEqual([{ runId: pending, type: 'skipped', status: 'skipped' }]);
    expect(result.ignored).toEqual([
      { runId: running, type: 'skipped' },
      { runId: 'run_missing', type: 'finished' },
    ]);
    expect(await getRun(pending)).toMatchObject({ status: 'skipped', skipReason: 'serial queue full' });
    expect((await getRun(running)).status).toBe('running');
  });

  test('concurrent batches over the same runs in opposite orders neither deadlock nor regress', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await pendingRun());
    const forward = ids.map((runId) => ({
      type: 'finished' as const,
      runId,
      at: t(5),
      status: 'succeeded' as const,
    }));
    const backward = [...ids]
      .reverse()
      .map((runId) => ({ type: 'started' as const, runId, at: t(1), executorInstanceId: 'exi_r' }));
    const other = createDb({ url: database.url });
    try {
      const rounds = await Promise.all([
        applyRunEvents(db.prisma, forward),
        applyRunEvents(other.prisma, backward),
        applyRunEvents(db.prisma, backward),
        applyRunEvents(other.prisma, forward),
      ]);
      expect(rounds.every((r) => r.applied.length + r.ignored.length === ids.length)).toBe(true);
    } finally {
      await other.close();
    }
    const stored = await db.prisma.run.findMany({ where: { id: { in: ids } } });
    expect(stored.every((r) => r.status === 'succeeded')).toBe(true);
  });
});

describe('listRuns', () => {
  let pagedFx: Fixture;
  const ids: string[] = [];
  beforeAll(async () => {
    pagedFx = await seedJob(db.prisma, 'paged');
    // 230 runs over 23 distinct instants: many rows share a triggeredAt, which the id must break.
    const rows: NewRun[] = [];
    for (let i = 0; i < 230; i++) {
      const id = `run_pg_${String(i).padStart(4, '0')}`;
      ids.push(id);
      rows.push({
        id,
        jobId: pagedFx.jobId,
        sceneId: pagedFx.sceneId,
        flowName: 'flow-1',
        triggerType: 'manual',
        scheduledAt: new Date(Date.parse('2033-01-01T00:00:00.000Z') + i),
        triggeredAt: new Date(Date.parse('2033-01-01T00:00:00.000Z') + Math.floor(i / 10) * 1000),
      });
    }
    await insertRuns(db.prisma, rows);
  });

  const expectedOrder = (): string[] =>
    [...ids].sort((a, b) => {
      const ta = Math.floor(Number(a.slice(-4)) / 10);
      const tb = Math.floor(Number(b.slice(-4)) / 10);
      return tb - ta || (a < b ? 1 : -1);
    });

  test('pages cover every run once, newest first, and the cursor is stable under new inserts', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await listRuns(db.prisma, { jobId: pagedFx.jobId }, { limit: 40, cursor });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
      if (pages === 2) {
        // Newer runs arriving while a client pages must not shift the pages it has not read yet.
        await insertRuns(db.prisma, [
          {
            ...run('run_pg_new'),
            jobId: pagedFx.jobId,
            sceneId: pagedFx.sceneId,
            triggerType: 'api',
            triggeredAt: new Date('2034-01-01T00:00:00.000Z'),
          },
        ]);
      }
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(6);
    expect(seen).toEqual(expectedOrder());
  });

  test('filters by status, scene and time, and an empty scene list matches nothing', async () => {
    await applyRunEvents(db.prisma, [
      { type: 'finished', runId: 'run_pg_0005', at: new Date('2033-02-01T00:00:00.000Z'), status: 'failed' },
    ]);
    const failed = await listRuns(db.prisma, { jobId: pagedFx.jobId, statuses: ['failed'] });
    expect(failed.items.map((r) => r.id)).toEqual(['run_pg_0005']);
    expect(failed.nextCursor).toBeNull();
    const window = await listRuns(
      db.prisma,
      {
        sceneIds: [pagedFx.sceneId],
        from: new Date('2033-01-01T00:00:01.000Z'),
        to: new Date('2033-01-01T00:00:02.000Z'),
      },
      { limit: 100 },
    );
    expect(window.items.map((r) => r.id)).toEqual(
      expectedOrder().filter((id) => Math.floor(Number(id.slice(-4)) / 10) === 1),
    );
    expect((await listRuns(db.prisma, { sceneIds: [] })).items).toEqual([]);
  });

  test('a tampered cursor is refused with DB_INVALID_CURSOR', async () => {
    const error: unknown = await listRuns(db.prisma, {}, { cursor: 'not-a-cursor' }).catch((e: unknown) => e);
    expect(isDbError(error, 'DB_INVALID_CURSOR')).toBe(true);
  });
});
