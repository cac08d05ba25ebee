/** Redis loses its data (FLUSHALL on a Redis of the test's own): the registry heals from Postgres. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createKeyspace, tokenHash } from '@kisjobs/protocol';
import { listExecutorEvents, type Db } from '@kisjobs/db';
import {
  createMigratedDatabase,
  startPrivateRedis,
  waitFor,
  type PrivateRedis,
  type TestDatabase,
} from '@kisjobs/testing';
import { createExecutorRegistry } from '../src/registry/index.js';
import { systemClock } from '../src/registry/ports.js';
import { SimExecutor } from './support/sim-executor.js';
import { capturingLogger, openDb } from './support/sim-services.js';

let database: TestDatabase;
let db: Db;
let server: PrivateRedis;

beforeAll(async () => {
  database = await createMigratedDatabase('registry-flush');
  db = openDb(database.url);
  server = await startPrivateRedis();
});
afterAll(async () => {
  await server?.close();
  await db?.close();
  await database?.drop();
});

it('after FLUSHALL the token mirror and the registry stream group come back, and executors re-register', async () => {
  const redis = new Redis(server.url, { maxRetriesPerRequest: null, connectionName: 'test-main' });
  redis.on('error', () => undefined);
  const ks = createKeyspace('flush');
  const registry = createExecutorRegistry({
    prisma: db.prisma,
    redis,
    keyspace: ks,
    logger: capturingLogger(),
    clock: systemClock,
    scanIntervalMs: 200,
    tokenSyncIntervalMs: 500,
  });
  const executor = new SimExecutor(redis, ks, { group: 'etl', token: 'placeholder-token-000000' });
  try {
    await registry.start();
    const { token } = await registry.createGroup({ name: 'etl' });
    const sim = new SimExecutor(redis, ks, { group: 'etl', token });
    expect(await sim.register()).toBe(true);
    await waitFor(
      async () => (await db.prisma.executor.findUnique({ where: { instanceId: sim.id } })) ?? undefined,
    );

    await redis.flushall();
    // The executor's heartbeat loop notices its record is gone and registers again, with the same token.
    expect(await sim.beat()).toBe('missing');
    await waitFor(() => sim.register(), { timeoutMs: 5_000, message: 'registration accepted again' });
    expect(await redis.get(ks.registrationToken(tokenHash(token)))).toBe('etl');
    await waitFor(
      async () => {
        const row = await db.prisma.executor.findUnique({ where: { instanceId: sim.id } });
        if (row === null) return false;
        return (
          (await listExecutorEvents(db.prisma, row.id)).filter((e) => e.type === 'registered').length === 2
        );
      },
      { timeoutMs: 5_000, message: 'second registration recorded' },
    );
    expect((await registry.onlineExecutors('etl')).map((e) => e.instanceId)).toEqual([sim.id]);
  } finally {
    executor.stopBeating();
    await registry.close();
    redis.disconnect();
  }
}, 30_000);
