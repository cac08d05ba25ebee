/**
 * DESIGN §2.3: no result is lost while Postgres is down. A Postgres server of the test's own is stopped,
 * 500 finished events arrive, and everything lands once it is back; the ingestor never stops or crashes.
 * A Redis of the test's own is killed and restarted too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKeyspace } from '@kisjobs/protocol';
import { migrate, type Db } from '@kisjobs/db';
import { Redis } from 'ioredis';
import {
  startPrivatePostgres,
  startPrivateRedis,
  useTestRedis,
  waitFor,
  type PrivatePostgres,
  type TestRedis,
} from '@kisjobs/testing';
import { createIngestor, type FinalizedRun } from '../src/ingest/index.js';
import { systemClock } from '../src/registry/ports.js';
import { SimExecutor, emitEvents } from './support/sim-executor.js';
import { capturingLogger, openDb, seedRuns } from './support/sim-services.js';

let pg: PrivatePostgres;
let db: Db;
let redis: TestRedis;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  await migrate({ url: pg.url });
  db = openDb(pg.url);
  redis = await useTestRedis('ingest-outage');
});
afterAll(async () => {
  await db?.close();
  await pg?.close();
  await redis?.close();
});

it('Postgres down: 500 finished events wait in Redis and all land when it is back', async () => {
  const ks = createKeyspace(redis.prefix);
  const executor = new SimExecutor(redis.client, ks, { group: 'etl', token: 'unused-token-000000000' });
  const runIds = await seedRuns(db, 500);
  const finalized: FinalizedRun[] = [];
  const logger = capturingLogger();
  const ingestor = createIngestor({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger,
    clock: systemClock,
    consumerName: 'outage-replica',
    blockMs: 200,
    maxBackoffMs: 1_000,
    onRunsFinalized: async (runs) => {
      finalized.push(...runs);
    },
  });
  await ingestor.start();
  try {
    await pg.stop();
    await emitEvents(
      redis.client,
      ks,
      runIds.map((id) => executor.finished(id)),
    );
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    // Still running, still failing, nothing acknowledged: every event waits in Redis.
    expect(ingestor.stats().failures).toBeGreaterThan(0);
    expect(ingestor.stats().lastError).not.toBeNull();
    expect(await redis.client.xlen(ks.runEventsStream())).toBe(500);
    expect(finalized).toEqual([]);
    expect(
      logger.lines.some((l) => l.level === 'warn' && l.msg.startsWith('run event ingestion failed')),
    ).toBe(true);

    await pg.start();
    await waitFor(() => finalized.length === 500, { timeoutMs: 20_000, message: 'all 500 finalized' });
    expect(await db.prisma.run.count({ where: { id: { in: runIds }, status: 'succeeded' } })).toBe(500);
    expect(new Set(finalized.map((r) => r.runId)).size).toBe(500);
    await waitFor(async () => (await redis.client.xlen(ks.runEventsStream())) === 0, {
      message: 'stream drained',
    });
    expect(ingestor.stats().consecutiveFailures).toBe(0);
    expect(ingestor.stats().deadLettered).toBe(0);
  } finally {
    await ingestor.close();
  }
}, 60_000);

it('Redis down: the ingestor keeps retrying without crashing, resumes when Redis is back, and closes', async () => {
  const server = await startPrivateRedis({ persistent: true });
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  const ks = createKeyspace('outage');
  const executor = new SimExecutor(client, ks, { group: 'etl', token: 'unused-token-000000000' });
  const runIds = await seedRuns(db, 20);
  const finalized: FinalizedRun[] = [];
  const ingestor = createIngestor({
    prisma: db.prisma,
    redis: client,
    keyspace: ks,
    logger: capturingLogger(),
    clock: systemClock,
    consumerName: 'redis-outage',
    blockMs: 200,
    maxBackoffMs: 500,
    onRunsFinalized: async (runs) => {
      finalized.push(...runs);
    },
  });
  try {
    await ingestor.start();
    await emitEvents(
      client,
      ks,
      runIds.slice(0, 10).map((id) => executor.finished(id)),
    );
    await waitFor(() => finalized.length === 10);
    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.start();
    await emitEvents(
      client,
      ks,
      runIds.slice(10).map((id) => executor.finished(id)),
    );
    await waitFor(() => finalized.length === 20, {
      timeoutMs: 15_000,
      message: 'resumed after Redis restart',
    });
    await server.kill();
    const closing = performance.now();
    await ingestor.close();
    expect(performance.now() - closing).toBeLessThan(12_000);
  } finally {
    await ingestor.close();
    client.disconnect();
    await server.close();
  }
}, 60_000);
