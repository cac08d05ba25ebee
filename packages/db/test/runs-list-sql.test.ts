/**
 * `listRuns` is one raw statement. These tests hold it to the semantics of the ORM query it replaced: the same
 * rows, in the same order, with every field of `Run` equal, and the same `nextCursor`, for every filter on its
 * own and in combination, page after page; values travel as bound parameters, never in the SQL text; and in a
 * session time zone other than UTC it still agrees with the ORM (Prisma's adapter-pg reads and writes timestamps
 * as UTC wall time, so an app on such a session is only self-consistent, but the raw listing must not differ).
 */
import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db, NewRun, Page, PageRequest, Prisma, Run, RunEvent, RunFilter } from '../src/index.js';
import { applyRunEvents, createDb, insertRuns, listRuns } from '../src/index.js';
import { afterCursor, pageFrom, pageSize } from '../src/repos/cursor.js';
import { runListSql } from '../src/repos/runs-list.js';
import { createMigratedDatabase, seedJob, type Fixture } from './support.js';

let database: TestDatabase;
let db: Db;
/** The same database through connections whose session time zone is not UTC. */
let elsewhere: Db;
let one: Fixture;
let two: Fixture;

/** The ORM listing `listRuns` replaced, kept here as the reference. */
async function referenceListRuns(
  filter: RunFilter,
  page: PageRequest = {},
  client: Db = db,
): Promise<Page<Run>> {
  const limit = pageSize(page.limit);
  const and: Prisma.RunWhereInput[] = [];
  if (filter.jobId !== undefined) and.push({ jobId: filter.jobId });
  if (filter.sceneIds !== undefined) and.push({ sceneId: { in: [...filter.sceneIds] } });
  if (filter.statuses !== undefined) and.push({ status: { in: [...filter.statuses] } });
  if (filter.triggerTypes !== undefined) and.push({ triggerType: { in: [...filter.triggerTypes] } });
  if (filter.from !== undefined) and.push({ triggeredAt: { gte: filter.from } });
  if (filter.to !== undefined) and.push({ triggeredAt: { lt: filter.to } });
  and.push(...afterCursor<(typeof and)[number]>('triggeredAt', page.cursor));
  const rows = await client.prisma.run.findMany({
    where: { AND: and },
    orderBy: [{ triggeredAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return pageFrom(rows, limit, (row) => row.triggeredAt);
}

const BASE = Date.parse('2035-06-01T00:00:00.000Z');
const STATUSES = ['pending', 'succeeded', 'failed', 'timed_out'] as const;
const TRIGGERS = ['cron', 'manual', 'api', 'retry'] as const;

beforeAll(async () => {
  database = await createMigratedDatabase('runs-list-sql');
  db = createDb({ url: database.url });
  const url = new URL(database.url);
  url.searchParams.set('options', '-c TimeZone=Pacific/Chatham');
  elsewhere = createDb({ url: url.toString() });
  one = await seedJob(db.prisma, 'one');
  two = await seedJob(db.prisma, 'two');
  // 120 runs over 40 instants (ties broken by id), two jobs in two scenes, some in no scene and no job,
  // four statuses, four trigger types, params, summaries and errors.
  const rows: NewRun[] = [];
  for (let i = 0; i < 120; i++) {
    const fx = i % 2 === 0 ? one : two;
    const orphan = i % 11 === 0;
    rows.push({
      id: `run_sql_${String((i * 37) % 120).padStart(4, '0')}`,
      jobId: orphan ? null : fx.jobId,
      sceneId: orphan ? null : fx.sceneId,
      flowName: 'flow-1',
      triggerType: TRIGGERS[i % TRIGGERS.length] ?? 'cron',
      scheduledAt: new Date(BASE + i),
      triggeredAt: new Date(BASE + Math.floor(i / 3) * 1_000 + (i % 3 === 0 ? 0 : 123)),
      triggeredBy: i % 5 === 0 ? 'usr_someone' : null,
      params: i % 4 === 0 ? { day: `2035-06-${String(1 + (i % 28)).padStart(2, '0')}` } : {},
      attempt: 1 + (i % 2),
      maxAttempts: 3,
    });
  }
  await insertRuns(db.prisma, rows);
  await applyRunEvents(
    db.prisma,
    rows.flatMap((run, i): RunEvent[] => {
      const status = STATUSES[i % STATUSES.length];
      if (status === 'pending' || status === undefined) return [];
      const at = new Date(BASE + 10_000_000 + i);
      return [
        { type: 'started', runId: run.id, at, executorInstanceId: `exe-${i % 3}` },
        {
          type: 'finished',
          runId: run.id,
          at: new Date(at.getTime() + 1_500),
          status,
          ...(status === 'failed' ? { errorCode: 'FUNC_ERROR', errorMessage: `boom ${i}` } : {}),
          summary: [
            { step: 0, funcName: 'Load', mode: 'Load', rowsIn: 0, rowsOut: i, durationMs: 7, attempts: 1 },
          ],
        },
      ];
    }),
  );
});
afterAll(async () => {
  await elsewhere?.close();
  await db?.close();
  await database?.drop();
});

const at = (offsetMs: number): Date => new Date(BASE + offsetMs);

function filters(): [string, RunFilter][] {
  return [
    ['no filter', {}],
    ['job', { jobId: one.jobId }],
    ['unknown job', { jobId: 'job_nobody' }],
    ['one scene', { sceneIds: [two.sceneId] }],
    ['two scenes', { sceneIds: [one.sceneId, two.sceneId] }],
    ['no scene at all', { sceneIds: [] }],
    ['one status', { statuses: ['failed'] }],
    ['two statuses', { statuses: ['failed', 'timed_out'] }],
    ['no status at all', { statuses: [] }],
    ['trigger types', { triggerTypes: ['manual', 'api'] }],
    ['no trigger type at all', { triggerTypes: [] }],
    ['from (inclusive, on a tie)', { from: at(10_000) }],
    ['to (exclusive, on a tie)', { to: at(20_000) }],
    ['window with milliseconds', { from: at(5_123), to: at(30_123) }],
    ['empty window', { from: at(20_000), to: at(20_000) }],
    ['job + status', { jobId: two.jobId, statuses: ['succeeded', 'pending'] }],
    [
      'everything',
      {
        jobId: one.jobId,
        sceneIds: [one.sceneId],
        statuses: ['succeeded', 'failed', 'pending'],
        triggerTypes: ['cron', 'api', 'manual'],
        from: at(3_000),
        to: at(35_000),
      },
    ],
  ];
}

async function everyPage(
  list: (filter: RunFilter, page: PageRequest) => Promise<Page<Run>>,
  filter: RunFilter,
  limit: number,
): Promise<Page<Run>[]> {
  const pages: Page<Run>[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Run> = await list(filter, { limit, cursor });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 200);
  return pages;
}

describe('listRuns as one raw statement', () => {
  test('the seed covers what the comparison needs', async () => {
    const all = await referenceListRuns({}, { limit: 500 });
    expect(all.items).toHaveLength(120);
    expect(new Set(all.items.map((r) => r.status))).toEqual(new Set(STATUSES));
    expect(all.items.some((r) => r.sceneId === null)).toBe(true);
    expect(all.items.some((r) => r.summary !== null && r.errorMessage !== null)).toBe(true);
  });

  for (const limit of [2, 7, 50]) {
    test(`pages exactly like the ORM query, limit ${limit}`, async () => {
      for (const [name, filter] of filters()) {
        const expected = await everyPage(referenceListRuns, filter, limit);
        const actual = await everyPage((f, p) => listRuns(db.prisma, f, p), filter, limit);
        expect({ name, pages: actual }).toEqual({ name, pages: expected });
        const shifted = await everyPage((f, p) => listRuns(elsewhere.prisma, f, p), filter, limit);
        const shiftedReference = await everyPage((f, p) => referenceListRuns(f, p, elsewhere), filter, limit);
        expect({ name, zone: 'Pacific/Chatham', pages: shifted }).toEqual({
          name,
          zone: 'Pacific/Chatham',
          pages: shiftedReference,
        });
      }
    });
  }

  test('a limit out of range is bounded as before, and a cursor from the ORM listing is accepted', async () => {
    for (const limit of [0, -3, 501, 10_000, Number.NaN, 2.7]) {
      expect(await listRuns(db.prisma, {}, { limit })).toEqual(await referenceListRuns({}, { limit }));
    }
    const first = await referenceListRuns({ statuses: ['succeeded'] }, { limit: 4 });
    expect(first.nextCursor).not.toBeNull();
    expect(
      await listRuns(db.prisma, { statuses: ['succeeded'] }, { limit: 4, cursor: first.nextCursor }),
    ).toEqual(await referenceListRuns({ statuses: ['succeeded'] }, { limit: 4, cursor: first.nextCursor }));
  });

  test('every value is a bound parameter, never part of the SQL text', () => {
    const hostile = "x' OR '1'='1";
    const sql = runListSql(
      {
        jobId: hostile,
        sceneIds: [hostile, 'scn_b'],
        statuses: ['failed'],
        triggerTypes: ['api'],
        from: at(1),
        to: at(2),
      },
      50,
      Buffer.from(JSON.stringify([at(3).toISOString(), hostile])).toString('base64url'),
    );
    expect(sql.sql).not.toContain(hostile);
    expect(sql.sql).not.toContain('scn_b');
    expect(sql.sql).not.toContain('2035');
    expect(sql.values).toContainEqual(at(1));
    expect(sql.sql).not.toMatch(/LIMIT 51/);
    expect(sql.values).toEqual(
      expect.arrayContaining([hostile, [hostile, 'scn_b'], ['failed'], ['api'], at(2), 51]),
    );
  });

  test('a hostile id matches nothing and breaks nothing', async () => {
    const hostile = "x' OR '1'='1";
    expect(await listRuns(db.prisma, { jobId: hostile })).toEqual({ items: [], nextCursor: null });
    expect(await listRuns(db.prisma, { sceneIds: [hostile] })).toEqual({ items: [], nextCursor: null });
  });
});
