/**
 * Retention on a real database: old finished runs go in bounded batches with their log lines (cascade) and
 * their children keep living (parent set null); old runs still pending or running stay, however old; recent
 * runs stay; audit events past their own horizon go. Zero days turns each part off.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, type PrismaClient } from '@kisjobs/db';
import { newId, type RunStatus } from '@kisjobs/protocol';
import { createMigratedDatabase, type TestDatabase } from '@kisjobs/testing';
import { createRetention } from '../src/maintenance/retention.js';
import { silentLogger } from '../src/logger.js';
import { FakeClock } from './support/http-env.js';

const DAY = 24 * 60 * 60 * 1000;
let database: TestDatabase;
let db: { prisma: PrismaClient; close(): Promise<void> };
const clock = new FakeClock(Date.UTC(2027, 5, 1));

async function run(status: RunStatus, daysAgo: number, parentRunId?: string): Promise<string> {
  const at = new Date(clock.now().getTime() - daysAgo * DAY);
  const final = !['pending', 'running'].includes(status);
  const row = await db.prisma.run.create({
    data: {
      id: newId('run', at),
      flowName: 'f',
      status,
      triggerType: 'api',
      scheduledAt: at,
      triggeredAt: at,
      ...(final ? { finishedAt: at } : {}),
      ...(parentRunId === undefined ? {} : { parentRunId }),
    },
  });
  await db.prisma.runLogLine.createMany({
    data: [0, 1, 2].map((seq) => ({
      runId: row.id,
      seq,
      at,
      level: 'info' as const,
      message: `line ${seq}`,
    })),
  });
  return row.id;
}

async function audit(daysAgo: number): Promise<string> {
  const row = await db.prisma.auditEvent.create({
    data: {
      id: newId('evt'),
      at: new Date(clock.now().getTime() - daysAgo * DAY),
      actorKind: 'system',
      action: 'test',
    },
  });
  return row.id;
}

beforeAll(async () => {
  database = await createMigratedDatabase('retention');
  db = createDb({ url: database.url, poolMax: 4 });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe('retention', () => {
  test('deletes old finished runs with their lines in batches, and keeps active, recent and child runs', async () => {
    const oldDone = await Promise.all([
      run('succeeded', 40),
      run('failed', 45),
      run('lost', 50),
      run('skipped', 60),
      run('terminated', 31),
    ]);
    const oldActive = await Promise.all([run('running', 90), run('pending', 90)]);
    const recent = await run('failed', 29);
    const child = await run('succeeded', 1, oldDone[0]);
    const oldAudit = await audit(200);
    const newAudit = await audit(10);

    const retention = createRetention({
      prisma: db.prisma,
      clock,
      logger: silentLogger,
      batchSize: 2,
      pauseMs: 0,
    });
    expect(await retention.runOnce()).toEqual({ runs: 5, auditEvents: 1 });

    const left = (await db.prisma.run.findMany({ select: { id: true, parentRunId: true } }))
      .map((r) => r.id)
      .sort();
    expect(left).toEqual([...oldActive, recent, child].sort());
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: child } })).parentRunId).toBeNull();
    expect(await db.prisma.runLogLine.count({ where: { runId: { in: oldDone } } })).toBe(0);
    expect(
      await db.prisma.runLogLine.count({ where: { runId: { in: [...oldActive, recent, child] } } }),
    ).toBe(12);
    const audits = (await db.prisma.auditEvent.findMany({ select: { id: true } })).map((a) => a.id);
    expect(audits).toContain(newAudit);
    expect(audits).not.toContain(oldAudit);
    expect(retention.stats()).toEqual({ runs: 5, auditEvents: 1 });
    expect(await retention.runOnce()).toEqual({ runs: 0, auditEvents: 0 });
  });

  test('zero days keeps everything', async () => {
    await run('succeeded', 400);
    await audit(4_000);
    const off = createRetention({
      prisma: db.prisma,
      clock,
      logger: silentLogger,
      runsDays: 0,
      auditDays: 0,
    });
    expect(await off.runOnce()).toEqual({ runs: 0, auditEvents: 0 });
  });
});
