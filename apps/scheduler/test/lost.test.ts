/**
 * Lost-run detection against real Redis, Postgres and BullMQ, with executors simulated at the protocol
 * level: an executor that stops beating is what a SIGKILL looks like from Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import { createKeyspace, type Keyspace } from '@kisjobs/protocol';
import { applyRunEvents, type Db } from '@kisjobs/db';
import {
  createMigratedDatabase,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';
import { createExecutorRegistry, type ExecutorRegistryService } from '../src/registry/index.js';
import {
  createLostRunDetector,
  type LostRun,
  type LostRunDetector,
  type StrandedRun,
} from '../src/lost/index.js';
import { createIngestor } from '../src/ingest/index.js';
import { systemClock } from '../src/registry/ports.js';
import { SimExecutor, emitEvents } from './support/sim-executor.js';
import { capturingLogger, dispatchRuns, openDb, seedRuns } from './support/sim-services.js';

let database: TestDatabase;
let db: Db;
let redis: TestRedis;
let ks: Keyspace;
let registry: ExecutorRegistryService;
let detector: LostRunDetector;
let lost: LostRun[];
let stranded: StrandedRun[];
let group: string;
let token: string;
const cleanups: (() => Promise<void>)[] = [];

let seq = 0;
beforeEach(async () => {
  // A database per test: runs one test left active must not be another test's lost runs.
  database = await createMigratedDatabase('lost');
  db = openDb(database.url);
  redis = await useTestRedis('lost');
  ks = createKeyspace(redis.prefix);
  lost = [];
  stranded = [];
  const logger = capturingLogger();
  detector = createLostRunDetector({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger,
    clock: systemClock,
    registry: {
      heartbeatsOf: (ids) => registry.heartbeatsOf(ids),
      lastKnownHeartbeat: (id) => registry.lastKnownHeartbeat(id),
    },
    intervalMs: 500,
    onRunsLost: async (runs) => {
      // What the dispatcher does with them (its policy): mark them lost.
      await applyRunEvents(
        db.prisma,
        runs.map((r) => ({
          type: 'finished' as const,
          runId: r.runId,
          at: new Date(),
          status: 'lost' as const,
          errorMessage: r.reason,
        })),
      );
      lost.push(...runs);
    },
    onRunsStranded: async (runs) => {
      stranded.push(...runs);
    },
  });
  registry = createExecutorRegistry({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger,
    clock: systemClock,
    onExecutorsOffline: (ids) => detector.handleExecutorsOffline(ids),
  });
  await registry.start();
  await detector.start();
  group = `lost${++seq}-${redis.prefix.slice(-6).toLowerCase()}`;
  ({ token } = await registry.createGroup({ name: group }));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await detector.close();
  await registry.close();
  await redis.close();
  await db.close();
  await database.drop();
});

async function liveExecutor(): Promise<SimExecutor> {
  const executor = new SimExecutor(redis.client, ks, { group, token });
  cleanups.push(async () => executor.stopBeating());
  expect(await executor.register()).toBe(true);
  executor.startBeating();
  await waitFor(
    async () => (await db.prisma.executor.findUnique({ where: { instanceId: executor.id } })) ?? undefined,
  );
  return executor;
}

async function startRun(runId: string, executor: SimExecutor): Promise<void> {
  await applyRunEvents(db.prisma, [
    { type: 'started', runId, at: new Date(), executorInstanceId: executor.id },
  ]);
}

const statusOf = async (runId: string): Promise<string> =>
  (await db.prisma.run.findUniqueOrThrow({ where: { id: runId } })).status;

function queue(name: string): Queue {
  const q = new Queue(name, { connection: redis.client, prefix: ks.bullPrefix });
  cleanups.push(() => q.close());
  return q;
}

describe('executor offline', () => {
  it("a SIGKILLed executor's runs are lost within 15 s; a live executor's listed run never is", async () => {
    const doomed = await liveExecutor();
    const survivor = await liveExecutor();
    const [running = '', taken = '', queued = '', safe = ''] = await seedRuns(db, 4, {
      executorGroup: group,
      targetQueue: ks.groupQueue(group),
    });
    await startRun(running, doomed);
    await startRun(safe, survivor);
    // `taken`: dequeued from the group queue by the doomed executor, which died before its `started`.
    doomed.runIds = [running, taken];
    survivor.runIds = [safe];
    // `queued`: waiting in the doomed executor's direct queue (not taken): routed again, not lost.
    await db.prisma.run.update({ where: { id: queued }, data: { executorInstanceId: doomed.id } });
    await dispatchRuns(db, [queued], ks.directQueue(doomed.id));
    await queue(ks.directQueue(doomed.id)).add('run', { runId: queued }, { jobId: queued });
    await doomed.beat();
    await survivor.beat();
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // the registry has seen both beats

    doomed.stopBeating();
    const killedAt = performance.now();
    await waitFor(() => lost.length >= 2, { timeoutMs: 16_000, intervalMs: 50, message: 'runs lost' });
    expect(performance.now() - killedAt).toBeLessThan(15_000);
    expect(Object.fromEntries(lost.map((r) => [r.runId, r.cause]))).toEqual({
      [running]: 'executor_offline',
      [taken]: 'executor_offline',
    });
    expect(lost.find((r) => r.runId === running)).toMatchObject({
      status: 'running',
      executorInstanceId: doomed.id,
    });
    expect(await statusOf(running)).toBe('lost');
    expect(await statusOf(taken)).toBe('lost');
    await waitFor(() => stranded.find((r) => r.runId === queued), {
      timeoutMs: 8_000,
      message: 'stranded run',
    });
    expect(stranded[0]).toMatchObject({ executorInstanceId: doomed.id, queue: ks.directQueue(doomed.id) });

    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(lost.map((r) => r.runId)).not.toContain(safe);
    expect(lost.map((r) => r.runId)).not.toContain(queued);
    expect(await statusOf(safe)).toBe('running');
    expect(lost).toHaveLength(2);
  }, 40_000);
});

describe('live executor', () => {
  it('a running run its live executor stops listing is lost after two beats; listed ones never are', async () => {
    const executor = await liveExecutor();
    const [dropped = '', kept = ''] = await seedRuns(db, 2, { executorGroup: group });
    await startRun(dropped, executor);
    await startRun(kept, executor);
    executor.runIds = [kept]; // the thread running `dropped` crashed without a finished event
    const startedAt = performance.now();
    await waitFor(() => lost.find((r) => r.runId === dropped), {
      timeoutMs: 12_000,
      message: 'dropped run lost',
    });
    const tookMs = performance.now() - startedAt;
    expect(tookMs).toBeGreaterThan(1_500);
    expect(lost).toEqual([
      expect.objectContaining({ runId: dropped, cause: 'not_in_heartbeat', executorInstanceId: executor.id }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(lost.map((r) => r.runId)).toEqual([dropped]);
    expect(await statusOf(kept)).toBe('running');
  }, 30_000);

  it('never reports a run whose finished event still waits in Redis: the result wins once ingested', async () => {
    const executor = await liveExecutor();
    const [done = '', other = ''] = await seedRuns(db, 2, { executorGroup: group });
    await startRun(done, executor);
    await startRun(other, executor);
    // The executor finished `done` and wrote its event, but ingestion is behind (not running here).
    await emitEvents(redis.client, ks, [executor.finished(done)]);
    executor.runIds = [other];
    await new Promise((resolve) => setTimeout(resolve, 7_000)); // many beats without it
    expect(lost).toEqual([]);
    expect(detector.stats().deferred).toBeGreaterThan(0);
    const ingestor = createIngestor({
      prisma: db.prisma,
      redis: redis.client,
      keyspace: ks,
      logger: capturingLogger(),
      clock: systemClock,
      consumerName: 'lost-test',
      blockMs: 200,
    });
    await ingestor.start();
    cleanups.push(() => ingestor.close());
    await waitFor(async () => (await statusOf(done)) === 'succeeded', { message: 'result ingested' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(lost).toEqual([]);
    expect(await statusOf(done)).toBe('succeeded');
  }, 30_000);
});

describe('the periodic sweep', () => {
  it('an unreadable heartbeat counts as alive; once it is gone the run is lost (no registry callback needed)', async () => {
    const [runId = ''] = await seedRuns(db, 1, { executorGroup: group, targetQueue: ks.groupQueue(group) });
    // An executor the registry never saw (not a member): only the sweep can find its runs.
    await redis.client.set(ks.heartbeat('stranger-1'), '{"from":"a newer executor"}', 'PX', 60_000);
    await applyRunEvents(db.prisma, [
      { type: 'started', runId, at: new Date(), executorInstanceId: 'stranger-1' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(lost).toEqual([]);
    await redis.client.del(ks.heartbeat('stranger-1'));
    await waitFor(() => lost.find((r) => r.runId === runId), {
      timeoutMs: 5_000,
      message: 'lost by the sweep',
    });
    expect(lost).toEqual([
      expect.objectContaining({ runId, cause: 'executor_offline', executorInstanceId: 'stranger-1' }),
    ]);
  }, 20_000);
});

describe('pending runs and their BullMQ jobs', () => {
  it('pending past the threshold: missing, failed (stalled) and abandoned jobs are lost; waiting ones are not', async () => {
    const old = { executorGroup: group, ageMs: 40_000, targetQueue: ks.groupQueue(group) };
    const [missing = '', failed = '', abandoned = '', waiting = ''] = await seedRuns(db, 4, old);
    const [young = ''] = await seedRuns(db, 1, { executorGroup: group, targetQueue: ks.groupQueue(group) });
    // Held back by a serial job: on no queue yet, so never "missing" however old.
    const [held = ''] = await seedRuns(db, 1, { executorGroup: group, ageMs: 40_000 });
    const q = queue(ks.groupQueue(group));
    const connection = redis.client.duplicate({ maxRetriesPerRequest: null });
    cleanups.push(async () => connection.disconnect());

    // `abandoned`: a worker took it (active, with a 1 s lock) and died without renewing the lock.
    await q.add('run', { runId: abandoned }, { jobId: abandoned });
    const taker = new Worker(ks.groupQueue(group), null, {
      connection,
      prefix: ks.bullPrefix,
      lockDuration: 1_000,
    });
    cleanups.push(() => taker.close(true));
    const job = await taker.getNextJob('dead-worker-token');
    expect(job?.id).toBe(abandoned);

    // `failed`: BullMQ failed it (as its stalled checker does when the worker died before `started`).
    await q.add('run', { runId: failed }, { jobId: failed });
    const failer = new Worker(
      ks.groupQueue(group),
      async () => {
        throw new Error('job stalled more than allowable limit');
      },
      { connection, prefix: ks.bullPrefix },
    );
    cleanups.push(() => failer.close());
    await waitFor(async () => (await q.getJobState(failed)) === 'failed', { message: 'job failed' });
    await failer.close();
    await q.add('run', { runId: waiting }, { jobId: waiting });

    await waitFor(() => lost.length >= 3, { timeoutMs: 15_000, message: 'three lost' });
    expect(Object.fromEntries(lost.map((r) => [r.runId, r.cause]))).toEqual({
      [missing]: 'queue_job_missing',
      [failed]: 'queue_job_failed',
      [abandoned]: 'queue_job_abandoned',
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(lost).toHaveLength(3);
    expect(await statusOf(waiting)).toBe('pending');
    expect(await statusOf(young)).toBe('pending');
    expect(await statusOf(held)).toBe('pending');
  }, 40_000);
});

describe('a live executor that is busy', () => {
  it('never loses the pending group-queue runs it holds, whatever BullMQ says of their jobs', async () => {
    // Heavy load: the `started` events are not ingested yet (the runs still name no executor), and the
    // executor renewed its BullMQ locks too late, so one job is failed (stalled) and one lost its lock.
    const executor = await liveExecutor();
    const old = { executorGroup: group, ageMs: 40_000, targetQueue: ks.groupQueue(group) };
    const [stalled = '', unlocked = ''] = await seedRuns(db, 2, old);
    const q = queue(ks.groupQueue(group));
    const connection = redis.client.duplicate({ maxRetriesPerRequest: null });
    cleanups.push(async () => connection.disconnect());
    await q.add('run', { runId: unlocked }, { jobId: unlocked });
    const taker = new Worker(ks.groupQueue(group), null, {
      connection,
      prefix: ks.bullPrefix,
      lockDuration: 1_000,
    });
    cleanups.push(() => taker.close(true));
    expect((await taker.getNextJob('busy-worker-token'))?.id).toBe(unlocked);
    await q.add('run', { runId: stalled }, { jobId: stalled });
    const failer = new Worker(
      ks.groupQueue(group),
      async () => {
        throw new Error('job stalled more than allowable limit');
      },
      { connection, prefix: ks.bullPrefix },
    );
    cleanups.push(() => failer.close());
    await waitFor(async () => (await q.getJobState(stalled)) === 'failed', { message: 'job failed' });
    await failer.close();
    executor.runIds = [stalled, unlocked]; // it holds both: their `started` is on its way
    await executor.beat();

    await new Promise((resolve) => setTimeout(resolve, 9_000)); // well past probe + confirmation
    expect(lost).toEqual([]);
    expect(await statusOf(stalled)).toBe('pending');
    expect(await statusOf(unlocked)).toBe('pending');
  }, 30_000);
});
