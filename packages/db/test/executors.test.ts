import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Db, ExecutorRegistration } from '../src/index.js';
import {
  createDb,
  listExecutorEvents,
  markExecutorsOffline,
  recordExecutorHeartbeats,
  registerExecutor,
  setExecutorStatus,
} from '../src/index.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let db: Db;
let groupId: string;

beforeAll(async () => {
  database = await createMigratedDatabase('executors');
  db = createDb({ url: database.url });
  ({ groupId } = await seedJob(db.prisma, 'exec'));
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const t = (s: number): Date => new Date(Date.parse('2031-03-01T00:00:00.000Z') + s * 1000);
const registration = (instanceId: string, s: number, version = '1.0.0'): ExecutorRegistration => ({
  instanceId,
  groupId,
  host: 'host-a',
  pid: 4242,
  version,
  functions: ['f1', 'f2'],
  concurrency: 8,
  metadata: { zone: 'z1' },
  at: t(s),
});

test('registration inserts, re-registration refreshes the same row; both are in the history', async () => {
  const first = await registerExecutor(db.prisma, registration('exi_1', 0));
  expect(first).toMatchObject({
    instanceId: 'exi_1',
    status: 'online',
    functions: ['f1', 'f2'],
    concurrency: 8,
    metadata: { zone: 'z1' },
    registeredAt: t(0),
    lastHeartbeatAt: t(0),
  });
  expect(first.id).toMatch(/^exe_/);
  const second = await registerExecutor(db.prisma, registration('exi_1', 10, '1.1.0'));
  expect(second.id).toBe(first.id);
  expect(second).toMatchObject({ version: '1.1.0', registeredAt: t(10) });
  const events = await listExecutorEvents(db.prisma, first.id);
  expect(events.map((e) => e.type)).toEqual(['registered', 'registered']);
});

test('heartbeats move forward only; offline and deregistration change status once, with events', async () => {
  const a = await registerExecutor(db.prisma, registration('exi_a', 0));
  await registerExecutor(db.prisma, registration('exi_b', 0));
  expect(await recordExecutorHeartbeats(db.prisma, ['exi_a', 'exi_b'], t(5))).toBe(2);
  expect(await recordExecutorHeartbeats(db.prisma, ['exi_a'], t(3))).toBe(1);
  expect((await db.prisma.executor.findUniqueOrThrow({ where: { id: a.id } })).lastHeartbeatAt).toEqual(t(5));

  expect(await markExecutorsOffline(db.prisma, ['exi_a', 'exi_unknown'], 'offline', { at: t(20) })).toEqual([
    'exi_a',
  ]);
  expect(await markExecutorsOffline(db.prisma, ['exi_a', 'exi_b'], 'deregistered', { at: t(21) })).toEqual([
    'exi_b',
  ]);
  const stored = await db.prisma.executor.findMany({
    where: { instanceId: { in: ['exi_a', 'exi_b'] } },
    orderBy: { instanceId: 'asc' },
  });
  expect(stored.map((e) => [e.instanceId, e.status, e.offlineAt])).toEqual([
    ['exi_a', 'offline', t(20)],
    ['exi_b', 'offline', t(21)],
  ]);
  expect((await listExecutorEvents(db.prisma, a.id)).map((e) => e.type)).toEqual(['offline', 'registered']);

  // Coming back: registration brings it online again.
  expect((await registerExecutor(db.prisma, registration('exi_a', 30))).status).toBe('online');
});

test('draining and removal are operator decisions that registration does not undo', async () => {
  const e = await registerExecutor(db.prisma, registration('exi_d', 0));
  expect(
    await setExecutorStatus(db.prisma, 'exi_d', 'draining', { at: t(1), details: { by: 'usr_1' } }),
  ).toBe(true);
  expect(await setExecutorStatus(db.prisma, 'exi_d', 'draining', { at: t(2) })).toBe(false);
  expect((await registerExecutor(db.prisma, registration('exi_d', 3))).status).toBe('draining');
  expect(await setExecutorStatus(db.prisma, 'exi_d', 'removed', { at: t(4) })).toBe(true);
  expect(await setExecutorStatus(db.prisma, 'exi_d', 'online', { at: t(5) })).toBe(false);
  expect((await registerExecutor(db.prisma, registration('exi_d', 6))).status).toBe('removed');
  const history = await listExecutorEvents(db.prisma, e.id);
  expect(history.map((x) => x.type)).toEqual([
    'registered',
    'removed',
    'registered',
    'draining',
    'registered',
  ]);
  expect(history.find((x) => x.type === 'draining')?.details).toEqual({ by: 'usr_1' });
});
