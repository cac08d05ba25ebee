/** Result ingestion against real Redis streams and real Postgres. Executors simulated at the protocol level. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  INGEST_CONSUMER_GROUP,
  STREAM_FIELDS,
  createKeyspace,
  type Keyspace,
  type RunEvent,
} from '@kisjobs/protocol';
import { applyRunEvents, listRunLogLines, type Db } from '@kisjobs/db';
import {
  createMigratedDatabase,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';
import { createIngestor, type FinalizedRun, type Ingestor, type StartedRun } from '../src/ingest/index.js';
import { systemClock } from '../src/registry/ports.js';
import { StreamGroup } from '../src/ingest/stream-group.js';
import { SimExecutor, emitEvents } from './support/sim-executor.js';
import { capturingLogger, openDb, seedRuns } from './support/sim-services.js';

let database: TestDatabase;
let db: Db;
let redis: TestRedis;
let ks: Keyspace;
let executor: SimExecutor;
let finalized: FinalizedRun[];
let started: StartedRun[];
const ingestors: Ingestor[] = [];

beforeAll(async () => {
  database = await createMigratedDatabase('ingest');
  db = openDb(database.url);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});
beforeEach(async () => {
  redis = await useTestRedis('ingest');
  ks = createKeyspace(redis.prefix);
  executor = new SimExecutor(redis.client, ks, { group: 'etl', token: 'unused-token-000000000' });
  finalized = [];
  started = [];
});
afterEach(async () => {
  for (const ingestor of ingestors.splice(0)) await ingestor.close();
  await redis.close();
});

function startIngestor(
  consumerName = 'replica-1',
  extra: { claimMinIdleMs?: number; claimIntervalMs?: number } = {},
): Ingestor {
  const ingestor = createIngestor({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger: capturingLogger(),
    clock: systemClock,
    consumerName,
    blockMs: 200,
    onRunsFinalized: async (runs) => {
      finalized.push(...runs);
    },
    onRunsStarted: async (runs) => {
      started.push(...runs);
    },
    ...extra,
  });
  ingestors.push(ingestor);
  return ingestor;
}

async function streamsEmpty(): Promise<boolean> {
  return (
    (await redis.client.xlen(ks.runEventsStream())) === 0 &&
    (await redis.client.xlen(ks.runLogsStream())) === 0
  );
}

function lifecycle(runIds: readonly string[]): RunEvent[] {
  return runIds.flatMap((runId, i) => [
    executor.started(runId),
    executor.log(runId, `first line of ${runId}`),
    executor.log(runId, `second line of ${runId}`),
    executor.finished(runId, i % 5 === 0 ? 'failed' : 'succeeded'),
  ]);
}

describe('ingestion', () => {
  it('applies 1,000 started/log/finished events: final states, ordered log lines, drained streams', async () => {
    const runIds = await seedRuns(db, 250);
    const ingestor = startIngestor();
    await ingestor.start();
    await emitEvents(redis.client, ks, lifecycle(runIds));
    await waitFor(() => finalized.length === 250, { timeoutMs: 20_000, message: '250 finalized' });
    await waitFor(streamsEmpty, { message: 'streams drained' });

    const rows = await db.prisma.run.findMany({ where: { id: { in: runIds } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    runIds.forEach((id, i) => {
      const row = byId.get(id);
      expect(row?.status).toBe(i % 5 === 0 ? 'failed' : 'succeeded');
      expect(row?.executorInstanceId).toBe(executor.id);
      expect(row?.startedAt).not.toBeNull();
      expect(row?.finishedAt).not.toBeNull();
      expect(row?.summary).toEqual([expect.objectContaining({ funcName: 'f1', rowsIn: 1, rowsOut: 2 })]);
      const failed = i % 5 === 0;
      expect([row?.errorCode ?? null, row?.errorMessage ?? null]).toEqual(
        failed ? ['FUNCTION_FAILED', 'boom'] : [null, null],
      );
    });
    const lines = await listRunLogLines(db.prisma, runIds[7] ?? '');
    expect(lines.map((l) => [l.seq, l.message])).toEqual([
      [1, `first line of ${runIds[7]}`],
      [2, `second line of ${runIds[7]}`],
    ]);
    expect(await db.prisma.runLogLine.count({ where: { runId: { in: runIds } } })).toBe(500);
    expect(new Set(finalized.map((r) => r.runId))).toEqual(new Set(runIds));
    expect(finalized).toHaveLength(250);
    expect(finalized.every((r) => !r.redelivered && r.executorInstanceId === executor.id)).toBe(true);
    expect(new Set(started.map((r) => r.runId))).toEqual(new Set(runIds));
    expect(ingestor.stats()).toMatchObject({
      entries: 1_000,
      logLinesInserted: 500,
      deadLettered: 0,
      failures: 0,
    });

    // The same entries delivered again (a duplicate XADD of the same events): same rows, no new reports.
    const before = await db.prisma.run.findMany({ where: { id: { in: runIds } }, orderBy: { id: 'asc' } });
    const events = lifecycle(runIds); // fresh event ids, same runs: an executor re-sending its results
    await emitEvents(redis.client, ks, events);
    await waitFor(async () => ingestor.stats().entries === 2_000 && (await streamsEmpty()), {
      message: 'redelivery drained',
    });
    const after = await db.prisma.run.findMany({ where: { id: { in: runIds } }, orderBy: { id: 'asc' } });
    expect(after.map((r) => [r.id, r.status, r.finishedAt?.getTime()])).toEqual(
      before.map((r) => [r.id, r.status, r.finishedAt?.getTime()]),
    );
    expect(finalized).toHaveLength(250);
    expect(ingestor.stats().ignoredEvents).toBe(500);
  }, 60_000);

  it('identical entries twice (same event ids, same seq) leave the same rows and log lines', async () => {
    const runIds = await seedRuns(db, 20);
    const events = lifecycle(runIds);
    const ingestor = startIngestor();
    await ingestor.start();
    await emitEvents(redis.client, ks, events);
    await waitFor(() => finalized.length === 20);
    await emitEvents(redis.client, ks, events);
    await waitFor(async () => ingestor.stats().entries === 160 && (await streamsEmpty()));
    expect(await db.prisma.runLogLine.count({ where: { runId: { in: runIds } } })).toBe(40);
    expect(finalized).toHaveLength(20);
    expect(ingestor.stats()).toMatchObject({ ignoredEvents: 40, logLinesSkipped: 40 });
  });

  it('sends undecodable entries to the dead-letter stream and applies the rest of the batch', async () => {
    const [runId = ''] = await seedRuns(db, 1);
    await redis.client.xadd(
      ks.runEventsStream(),
      '*',
      STREAM_FIELDS.kind,
      'runEvent',
      STREAM_FIELDS.payload,
      '{not json',
    );
    await redis.client.xadd(
      ks.runEventsStream(),
      '*',
      STREAM_FIELDS.kind,
      'bogus',
      STREAM_FIELDS.payload,
      '{}',
    );
    await redis.client.xadd(
      ks.runEventsStream(),
      '*',
      STREAM_FIELDS.kind,
      'runEvent',
      STREAM_FIELDS.payload,
      '{"type":"finished"}',
    );
    await emitEvents(redis.client, ks, [executor.started(runId), executor.finished(runId)]);
    const ingestor = startIngestor();
    await ingestor.start();
    await waitFor(() => finalized.length === 1);
    await waitFor(streamsEmpty);
    const dead = await redis.client.xrange(ks.deadLetterStream(), '-', '+');
    expect(dead).toHaveLength(3);
    const reasons = dead.map(([, fields]) => fields[fields.indexOf('reason') + 1] ?? '');
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[1]).toMatch(/unexpected entry kind "bogus"/);
    expect(reasons[2]).toMatch(/runId|eventId/);
    expect(ingestor.stats().deadLettered).toBe(3);
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('succeeded');
  });

  it('isolates an entry Postgres refuses (poison) and writes the others; NUL bytes are cleaned', async () => {
    const runIds = await seedRuns(db, 3);
    const [a = '', b = '', c = ''] = runIds;
    const poison: RunEvent = { ...executor.log(a, 'seq out of range'), seq: 2 ** 31 };
    await emitEvents(redis.client, ks, [
      executor.started(a),
      executor.log(b, 'binary\u0000junk'),
      poison,
      executor.finished(a),
      executor.finished(b),
      executor.finished(c),
    ]);
    const ingestor = startIngestor();
    await ingestor.start();
    await waitFor(() => finalized.length === 3, { timeoutMs: 15_000 });
    await waitFor(streamsEmpty);
    const dead = await redis.client.xrange(ks.deadLetterStream(), '-', '+');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.[1].join(' ')).toMatch(/integer out of range|22003/);
    const lines = await listRunLogLines(db.prisma, b);
    expect(lines.map((l) => l.message)).toEqual(['binary\uFFFDjunk']);
  });

  it('ignores (and counts) events for a run that is already final; no second report', async () => {
    const [runId = ''] = await seedRuns(db, 1);
    await applyRunEvents(db.prisma, [
      { type: 'finished', runId, at: new Date(), status: 'lost', errorCode: 'EXECUTOR_LOST' },
    ]);
    await emitEvents(redis.client, ks, [executor.started(runId), executor.finished(runId)]);
    const ingestor = startIngestor();
    await ingestor.start();
    await waitFor(async () => ingestor.stats().entries === 2 && (await streamsEmpty()));
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('lost');
    expect(finalized).toEqual([]);
    expect(ingestor.stats().ignoredEvents).toBe(2);
  });
});

describe('consumers that die', () => {
  /** A replica that read entries and died before acknowledging them. */
  async function readAsDeadConsumer(consumer: string): Promise<number> {
    await redis.client
      .xgroup('CREATE', ks.runEventsStream(), INGEST_CONSUMER_GROUP, '0', 'MKSTREAM')
      .catch(() => undefined);
    await redis.client
      .xgroup('CREATE', ks.runLogsStream(), INGEST_CONSUMER_GROUP, '0', 'MKSTREAM')
      .catch(() => undefined);
    const read = (await redis.client.call(
      'XREADGROUP',
      'GROUP',
      INGEST_CONSUMER_GROUP,
      consumer,
      'COUNT',
      '1000',
      'STREAMS',
      ks.runEventsStream(),
      ks.runLogsStream(),
      '>',
      '>',
    )) as [string, unknown[]][] | null;
    return (read ?? []).reduce((n, [, entries]) => n + entries.length, 0);
  }

  it('another replica takes over the pending entries of a dead consumer (XAUTOCLAIM)', async () => {
    const runIds = await seedRuns(db, 50);
    await emitEvents(redis.client, ks, lifecycle(runIds));
    expect(await readAsDeadConsumer('dead-replica')).toBe(200);
    const ingestor = startIngestor('replica-2', { claimMinIdleMs: 1_000, claimIntervalMs: 300 });
    await ingestor.start();
    await waitFor(() => finalized.length === 50, { timeoutMs: 15_000, message: 'claimed and applied' });
    await waitFor(streamsEmpty);
    expect(ingestor.stats().claimed).toBe(200);
    const pending = (await redis.client.xpending(ks.runEventsStream(), INGEST_CONSUMER_GROUP)) as [
      number,
      ...unknown[],
    ];
    expect(pending[0]).toBe(0);
    expect(
      await db.prisma.run.count({ where: { id: { in: runIds }, status: { in: ['succeeded', 'failed'] } } }),
    ).toBe(50);
  });

  it('a replica that died after the commit and before the ack: the report is made again (at-least-once)', async () => {
    const runIds = await seedRuns(db, 5);
    const events = lifecycle(runIds);
    await emitEvents(redis.client, ks, events);
    expect(await readAsDeadConsumer('crashed-replica')).toBe(20);
    // What the crashed replica had committed before dying.
    await applyRunEvents(
      db.prisma,
      events.flatMap((e) =>
        e.type === 'finished'
          ? [
              {
                type: 'finished' as const,
                runId: e.runId,
                at: new Date(e.at),
                status: e.status,
                executorInstanceId: e.instanceId,
              },
            ]
          : [],
      ),
    );
    const ingestor = startIngestor('replica-3', { claimMinIdleMs: 500, claimIntervalMs: 200 });
    await ingestor.start();
    await waitFor(() => finalized.length === 5, { timeoutMs: 10_000 });
    expect(finalized.every((r) => r.redelivered)).toBe(true);
    expect(new Set(finalized.map((r) => r.runId))).toEqual(new Set(runIds));
  });

  it('a restarted replica with the same name picks up its own pending entries first', async () => {
    const runIds = await seedRuns(db, 10);
    await emitEvents(redis.client, ks, lifecycle(runIds));
    expect(await readAsDeadConsumer('replica-9')).toBe(40);
    const ingestor = startIngestor('replica-9', { claimMinIdleMs: 3_600_000 });
    await ingestor.start();
    await waitFor(() => finalized.length === 10, { timeoutMs: 10_000 });
    expect(ingestor.stats().claimed).toBe(0);
  });

  it('forgets consumers of gone replicas that hold nothing, keeps those with pending entries', async () => {
    const [runId = ''] = await seedRuns(db, 1);
    await emitEvents(redis.client, ks, [executor.started(runId)]);
    expect(await readAsDeadConsumer('holds-one')).toBe(1);
    await redis.client.xgroup('CREATECONSUMER', ks.runEventsStream(), INGEST_CONSUMER_GROUP, 'holds-none');
    const group = new StreamGroup({
      redis: redis.client,
      blocking: redis.client,
      streams: [ks.runEventsStream()],
      group: INGEST_CONSUMER_GROUP,
      consumer: 'me',
      count: 10,
      blockMs: 10,
      deadLetterStream: ks.deadLetterStream(),
    });
    expect(await group.pruneConsumers(0)).toBe(1);
    const left = (await redis.client.call(
      'XINFO',
      'CONSUMERS',
      ks.runEventsStream(),
      INGEST_CONSUMER_GROUP,
    )) as string[][];
    expect(left.map((c) => c[1])).toEqual(['holds-one']);
  });
});
