import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Db, NewRunLogLine } from '../src/index.js';
import { createDb, insertRunLogLines, insertRuns, listRunLogLines } from '../src/index.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createMigratedDatabase('logs');
  db = createDb({ url: database.url });
  const fx = await seedJob(db.prisma, 'logs');
  await insertRuns(db.prisma, [
    {
      id: 'run_log',
      jobId: fx.jobId,
      sceneId: fx.sceneId,
      flowName: 'flow-1',
      triggerType: 'manual',
      scheduledAt: new Date('2031-01-01T00:00:00.000Z'),
    },
  ]);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const line = (seq: number, runId = 'run_log'): NewRunLogLine => ({
  runId,
  seq,
  at: new Date(Date.parse('2031-01-01T00:00:00.000Z') + seq),
  level: seq % 2 === 0 ? 'info' : 'warn',
  funcName: 'f1',
  message: `line ${seq}`,
  fields: { seq },
});

test('batches of lines are stored once; redelivered lines and lines of deleted runs are skipped', async () => {
  const lines = Array.from({ length: 5000 }, (_, i) => line(i + 1));
  expect(await insertRunLogLines(db.prisma, lines)).toBe(5000);
  // Redelivery of a batch that overlaps what is stored, plus lines of a run that no longer exists.
  const again = [...lines.slice(4990), line(5001), line(1, 'run_gone'), line(2, 'run_gone')];
  expect(await insertRunLogLines(db.prisma, again)).toBe(1);
  expect(await db.prisma.runLogLine.count({ where: { runId: 'run_log' } })).toBe(5001);
  expect(await db.prisma.runLogLine.count({ where: { runId: 'run_gone' } })).toBe(0);
});

test('lines read back in seq order, paged by afterSeq', async () => {
  const first = await listRunLogLines(db.prisma, 'run_log', { limit: 3 });
  expect(first.map((l) => l.seq)).toEqual([1, 2, 3]);
  expect(first[0]).toMatchObject({ level: 'warn', funcName: 'f1', message: 'line 1', fields: { seq: 1 } });
  const tail = await listRunLogLines(db.prisma, 'run_log', { afterSeq: 4998 });
  expect(tail.map((l) => l.seq)).toEqual([4999, 5000, 5001]);
});

test('deleting a run deletes its lines', async () => {
  await db.prisma.run.delete({ where: { id: 'run_log' } });
  expect(await db.prisma.runLogLine.count({ where: { runId: 'run_log' } })).toBe(0);
});
