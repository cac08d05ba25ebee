/**
 * Retention on a real database: old finished runs go in bounded batches, their log lines first in batches of
 * their own, and their children keep living (parent set null); old runs still pending or running stay,
 * however old; recent runs stay; audit events past their own horizon go; so do executor events and executors
 * offline or removed for longer than theirs, while online ones stay. Zero days turns each part off.
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
      lineBatchSize: 4,
      pauseMs: 0,
    });
    expect(await retention.runOnce()).toEqual({
      runs: 5,
      logLines: 15,
      auditEvents: 1,
      executors: 0,
      executorEvents: 0,
    });

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
    expect(retention.stats()).toMatchObject({ runs: 5, logLines: 15, auditEvents: 1 });
    expect(await retention.runOnce()).toEqual({
      runs: 0,
      logLines: 0,
      auditEvents: 0,
      executors: 0,
      executorEvents: 0,
    });
  });

  test('deletes old executor events, and executors offline or removed for longer than the horizon', async () => {
    const group = await db.prisma.executorGroup.create({ data: { id: newId('grp'), name: 'ret-group' } });
    const executor = async (
      instanceId: string,
      status: 'online' | 'offline' | 'removed',
      daysAgo: number,
    ) => {
      const at = new Date(clock.now().getTime() - daysAgo * DAY);
      const row = await db.prisma.executor.create({
        data: {
          id: newId('exe'),
          instanceId,
          groupId: group.id,
          host: 'h',
          pid: 1,
          version: 'v',
          concurrency: 1,
          status,
          registeredAt: at,
          lastHeartbeatAt: at,
          offlineAt: status === 'online' ? null : at,
        },
      });
      await db.prisma.executorEvent.createMany({
        data: [daysAgo, 1].map((d) => ({
          id: newId('evt'),
          executorId: row.id,
          type: 'registered' as const,
          at: new Date(clock.now().getTime() - d * DAY),
        })),
      });
      return row.id;
    };
    const gone = await executor('gone-long-ago', 'offline', 30);
    const removed = await executor('removed-long-ago', 'removed', 10);
    const recentlyOff = await executor('offline-yesterday', 'offline', 1);
    const stillOnline = await executor('online-for-weeks', 'online', 30);
    const retention = createRetention({ prisma: db.prisma, clock, logger: silentLogger, pauseMs: 0 });
    const pass = await retention.runOnce();
    expect(pass).toMatchObject({ executors: 2, executorEvents: 3 });
    const left = (await db.prisma.executor.findMany({ select: { id: true } })).map((e) => e.id).sort();
    expect(left).toEqual([recentlyOff, stillOnline].sort());
    expect(await db.prisma.executorEvent.count({ where: { executorId: { in: [gone, removed] } } })).toBe(0);
    expect(await db.prisma.executorEvent.count({ where: { executorId: stillOnline } })).toBe(1);
    expect(await db.prisma.executorEvent.count({ where: { executorId: recentlyOff } })).toBe(2);
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
      executorsDays: 0,
    });
    expect(await off.runOnce()).toEqual({
      runs: 0,
      logLines: 0,
      auditEvents: 0,
      executors: 0,
      executorEvents: 0,
    });
  });
});
