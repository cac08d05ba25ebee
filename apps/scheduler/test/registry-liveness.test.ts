/**
 * Liveness: real TTLs (6 s), real scan period (1 s). A simulated executor that stops beating is what a
 * SIGKILL looks like from Redis.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HEARTBEAT_TTL_MS, createKeyspace, encodePayload, type Keyspace } from '@kisjobs/protocol';
import { listExecutorEvents, registerExecutor, type Db } from '@kisjobs/db';
import {
  createMigratedDatabase,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';
import { createExecutorRegistry, type ExecutorRegistryService } from '../src/registry/index.js';
import { systemClock } from '../src/registry/ports.js';
import { SimExecutor } from './support/sim-executor.js';
import { capturingLogger, openDb } from './support/sim-services.js';

let database: TestDatabase;
let db: Db;
let redis: TestRedis;
let ks: Keyspace;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  // A database per test: executors one test leaves online must not be the next test's offline ones.
  database = await createMigratedDatabase('registry-live');
  db = openDb(database.url);
  redis = await useTestRedis('registry-live');
  ks = createKeyspace(redis.prefix);
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await redis.close();
  await db.close();
  await database.drop();
});

function startRegistry(
  offline: string[][],
  extra: { heartbeatFlushMs?: number } = {},
): ExecutorRegistryService {
  const registry = createExecutorRegistry({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger: capturingLogger(),
    clock: systemClock,
    onExecutorsOffline: async (ids) => {
      offline.push(ids);
    },
    ...extra,
  });
  closers.push(() => registry.close());
  return registry;
}

let seq = 0;
const groupName = (): string => `live${++seq}-${redis.prefix.slice(-6).toLowerCase()}`;

it('a SIGKILLed executor is offline within 10 s, reported once across two scheduler replicas', async () => {
  const offlineA: string[][] = [];
  const offlineB: string[][] = [];
  const a = startRegistry(offlineA);
  const b = startRegistry(offlineB);
  await Promise.all([a.start(), b.start()]);
  const group = groupName();
  const { token } = await a.createGroup({ name: group });
  const executor = new SimExecutor(redis.client, ks, { group, token });
  const survivor = new SimExecutor(redis.client, ks, { group, token });
  closers.push(async () => {
    executor.stopBeating();
    survivor.stopBeating();
  });
  expect(await executor.register()).toBe(true);
  expect(await survivor.register()).toBe(true);
  executor.startBeating();
  survivor.startBeating();
  await waitFor(
    async () =>
      (await db.prisma.executor.count({ where: { instanceId: { in: [executor.id, survivor.id] } } })) === 2,
  );
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  await executor.beat();
  executor.stopBeating(); // SIGKILL, right after a beat: the worst case
  const killedAt = performance.now();
  await waitFor(() => [...offlineA, ...offlineB].flat().includes(executor.id), {
    timeoutMs: 12_000,
    intervalMs: 20,
    message: 'offline report',
  });
  const detectedMs = performance.now() - killedAt;
  expect(detectedMs).toBeGreaterThanOrEqual(HEARTBEAT_TTL_MS - 100);
  expect(detectedMs).toBeLessThan(10_000);

  const row = await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: executor.id } });
  expect(row.status).toBe('offline');
  expect(row.offlineAt).not.toBeNull();
  expect((await listExecutorEvents(db.prisma, row.id)).map((e) => e.type)).toEqual(['offline', 'registered']);
  expect(await redis.client.sismember(ks.groupMembers(group), executor.id)).toBe(0);
  expect(await redis.client.exists(ks.executor(executor.id))).toBe(0);
  expect((await a.onlineExecutors(group)).map((e) => e.instanceId)).toEqual([survivor.id]);

  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect([...offlineA, ...offlineB].flat().filter((id) => id === executor.id)).toHaveLength(1);
  expect([...offlineA, ...offlineB].flat()).not.toContain(survivor.id);
  expect((await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: survivor.id } })).status).toBe(
    'online',
  );

  // A paused (not dead) executor comes back through the normal registration path.
  expect(await executor.beat()).toBe('missing');
  expect(await executor.register()).toBe(true);
  await waitFor(
    async () =>
      (await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: executor.id } })).status ===
      'online',
  );
}, 40_000);

it('scans 2,000 executors in one pass, writes their heartbeats in one batch, and finds 500 dead ones', async () => {
  const offline: string[][] = [];
  const registry = startRegistry(offline, { heartbeatFlushMs: 2_000 });
  await registry.start();
  const group = groupName();
  const created = await registry.createGroup({ name: group });
  const ids = Array.from({ length: 2_000 }, (_, i) => `bulk-${seq}-${i}`);
  const now = new Date();
  const beatAll = async (live: readonly string[]): Promise<void> => {
    const pipeline = redis.client.pipeline();
    for (const id of live) {
      pipeline.set(
        ks.heartbeat(id),
        encodePayload('heartbeat', { instanceId: id, at: new Date().toISOString(), activeRuns: 0, load: 0 }),
        'PX',
        HEARTBEAT_TTL_MS,
      );
    }
    await pipeline.exec();
  };
  const setup = redis.client.pipeline();
  for (const id of ids) {
    setup.set(
      ks.executor(id),
      encodePayload('executorRecord', {
        group,
        instanceId: id,
        host: 'bulk',
        pid: 1,
        version: '1',
        functions: ['f1'],
        connectorTypes: [],
        concurrency: 1,
        startedAt: now.toISOString(),
      }),
    );
  }
  setup.sadd(ks.groupMembers(group), ...ids);
  setup.sadd(ks.groups(), group);
  await setup.exec();
  await beatAll(ids);
  let beatingIds = ids;
  const beating = setInterval(() => void beatAll(beatingIds).catch(() => undefined), 2_000);
  closers.push(async () => clearInterval(beating));

  // Live in Redis like 2,000 executors, then recorded in Postgres as the registry stream would have.
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(
      ids.slice(i, i + 200).map((instanceId) =>
        registerExecutor(db.prisma, {
          instanceId,
          groupId: created.group.id,
          host: 'bulk',
          pid: 1,
          version: '1',
          functions: ['f1'],
          concurrency: 1,
          at: now,
        }),
      ),
    );
  }
  await waitFor(() => registry.stats().members === 2_000 && registry.stats().live === 2_000, {
    message: 'full scan',
  });
  // How long a scan of 2,000 executors takes is a figure for a benchmark, not a test bound; print it.
  console.log(`registry scan of 2,000 executors: ${registry.stats().lastScanMs} ms`);
  expect((await registry.onlineExecutors(group)).length).toBe(2_000);
  // Heartbeats reach Postgres in the periodic flush.
  const flushedAfter = new Date();
  await waitFor(
    async () =>
      (await db.prisma.executor.count({
        where: { host: 'bulk', lastHeartbeatAt: { gte: flushedAfter } },
      })) === 2_000,
    { timeoutMs: 8_000, message: 'heartbeat flush' },
  );

  const dead = new Set(ids.slice(0, 500));
  beatingIds = ids.slice(500); // 500 executors die
  await waitFor(() => offline.flat().length >= 500, { timeoutMs: 12_000, message: '500 offline' });
  const reported = offline.flat();
  expect(new Set(reported)).toEqual(dead);
  expect(reported).toHaveLength(500);
  expect(await db.prisma.executor.count({ where: { host: 'bulk', status: 'offline' } })).toBe(500);
  expect((await registry.onlineExecutors(group)).length).toBe(1_500);
}, 60_000);

it('reconciles Postgres with Redis: an executor online in Postgres but absent from Redis goes offline', async () => {
  const offline: string[][] = [];
  const registry = startRegistry(offline, { heartbeatFlushMs: 1_000 });
  const group = groupName();
  await registry.start();
  const created = await registry.createGroup({ name: group });
  // What Redis losing its data (FLUSHALL) while this executor died looks like to Postgres.
  await registerExecutor(db.prisma, {
    instanceId: `ghost-${seq}`,
    groupId: created.group.id,
    host: 'gone',
    pid: 1,
    version: '1',
    functions: [],
    concurrency: 1,
    at: new Date(),
  });
  await waitFor(() => offline.flat().includes(`ghost-${seq}`), { timeoutMs: 5_000, message: 'reconciled' });
  expect((await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: `ghost-${seq}` } })).status).toBe(
    'offline',
  );
}, 20_000);
