/**
 * Executor registry against real Redis and Postgres, with executors simulated at the protocol level
 * (the Redis writes of packages/executor's registration scripts).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ValidationError,
  createKeyspace,
  decodePayload,
  encodePayload,
  tokenHash,
  type ControlMessage,
  type Keyspace,
} from '@kisjobs/protocol';
import { listExecutorEvents, type Db } from '@kisjobs/db';
import {
  createMigratedDatabase,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';
import { createExecutorRegistry, type ExecutorRegistryService } from '../src/registry/index.js';
import { SimExecutor } from './support/sim-executor.js';
import { capturingLogger, openDb } from './support/sim-services.js';
import { systemClock } from '../src/registry/ports.js';

let database: TestDatabase;
let db: Db;
let redis: TestRedis;
let ks: Keyspace;
let registry: ExecutorRegistryService;
let logger: ReturnType<typeof capturingLogger>;
let offline: string[][];
const sims: SimExecutor[] = [];

beforeAll(async () => {
  database = await createMigratedDatabase('registry');
  db = openDb(database.url);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

let groupSeq = 0;
beforeEach(async () => {
  redis = await useTestRedis('registry');
  ks = createKeyspace(redis.prefix);
  logger = capturingLogger();
  offline = [];
  registry = createExecutorRegistry({
    prisma: db.prisma,
    redis: redis.client,
    keyspace: ks,
    logger,
    clock: systemClock,
    scanIntervalMs: 200,
    unknownMemberGraceMs: 500,
    onExecutorsOffline: async (ids) => {
      offline.push(ids);
    },
  });
  await registry.start();
});
afterEach(async () => {
  for (const sim of sims.splice(0)) sim.stopBeating();
  await registry.close();
  await redis.close();
});

async function newGroup(): Promise<{ name: string; token: string }> {
  const name = `g${++groupSeq}-${redis.prefix.slice(-6).toLowerCase()}`;
  const { token } = await registry.createGroup({ name, description: 'test group' });
  return { name, token };
}

async function rowOf(instanceId: string) {
  return (await db.prisma.executor.findUnique({ where: { instanceId } })) ?? undefined;
}

function sim(group: string, token: string, instanceId?: string): SimExecutor {
  const executor = new SimExecutor(redis.client, ks, { group, token, ...(instanceId ? { instanceId } : {}) });
  sims.push(executor);
  return executor;
}

describe('registration tokens', () => {
  it('stores only the hash in Postgres and mirrors it to Redis; the token is shown once', async () => {
    const { name, token } = await newGroup();
    expect(token).toMatch(/^kjs_/);
    const row = await db.prisma.executorGroup.findUniqueOrThrow({ where: { name } });
    expect(row.registrationTokenHash).toBe(tokenHash(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(await redis.client.get(ks.registrationToken(tokenHash(token)))).toBe(name);
  });

  it('refuses an invalid group name and a duplicate group, naming the field', async () => {
    const bad = await registry.createGroup({ name: 'Bad Name!' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues[0]?.path).toBe('name');
    const { name } = await newGroup();
    await expect(registry.createGroup({ name })).rejects.toBeInstanceOf(ConflictError);
  });

  it('rotation invalidates the old token at once; the new one registers', async () => {
    const { name, token: old } = await newGroup();
    const { token } = await registry.rotateGroupToken(name);
    expect(token).not.toBe(old);
    expect(await redis.client.get(ks.registrationToken(tokenHash(old)))).toBeNull();
    expect(await redis.client.get(ks.registrationToken(tokenHash(token)))).toBe(name);
    expect(await sim(name, old).register()).toBe(false);
    expect(await sim(name, token).register()).toBe(true);
  });

  it('syncTokens rebuilds deleted keys and removes keys of hashes no longer valid', async () => {
    const { name, token } = await newGroup();
    const stale = ks.registrationToken(tokenHash('kjs_not-a-valid-token-anymore-000000'));
    await redis.client.set(stale, name);
    await redis.client.del(ks.registrationToken(tokenHash(token)));
    const result = await registry.syncTokens();
    expect(result.removed).toBeGreaterThanOrEqual(1);
    expect(await redis.client.get(stale)).toBeNull();
    expect(await redis.client.get(ks.registrationToken(tokenHash(token)))).toBe(name);
  });
});

describe('registry stream', () => {
  it('a registration becomes an online executor row with history, and is online for routing', async () => {
    const { name, token } = await newGroup();
    const executor = sim(name, token);
    expect(await executor.register()).toBe(true);
    const row = await waitFor(() => rowOf(executor.id), {
      message: 'executor row',
    });
    expect(row).toMatchObject({
      status: 'online',
      host: 'sim-host',
      pid: 4242,
      version: '1.0.0',
      concurrency: 4,
    });
    expect(row.functions).toEqual(['f1', 'f2']);
    expect(row.metadata).toMatchObject({ connectorTypes: ['memory'], source: 'stream' });
    const history = await listExecutorEvents(db.prisma, row.id);
    expect(history.map((e) => e.type)).toEqual(['registered']);
    const online = await registry.onlineExecutors(name);
    expect(online).toEqual([
      expect.objectContaining({
        instanceId: executor.id,
        group: name,
        functions: ['f1', 'f2'],
        connectorTypes: ['memory'],
        concurrency: 4,
        registeredAt: Date.parse(executor.record.startedAt),
        activeRuns: 0,
        runIds: [],
        draining: false,
      }),
    ]);
    // The stream holds only unprocessed entries.
    await waitFor(async () => (await redis.client.xlen(ks.registryStream())) === 0, {
      message: 'registry acked',
    });
  });

  it('an invalid token is refused with one clear warning line and no executor row', async () => {
    const { name } = await newGroup();
    const executor = sim(name, 'kjs_wrong-token-wrong-token-wrong-token-00', 'intruder-1');
    expect(await executor.register()).toBe(false);
    const line = `executor intruder-1 on host sim-host was refused for group ${name}: invalid registration token`;
    await waitFor(() => logger.lines.find((l) => l.msg === line), { message: 'refusal line' });
    expect(logger.lines.filter((l) => l.msg === line)).toHaveLength(1);
    expect(logger.lines.find((l) => l.msg === line)?.level).toBe('warn');
    expect(await db.prisma.executor.findUnique({ where: { instanceId: 'intruder-1' } })).toBeNull();
    expect(await redis.client.sismember(ks.groupMembers(name), 'intruder-1')).toBe(0);
  });

  it('a deregistration marks it offline with history and reports it once', async () => {
    const { name, token } = await newGroup();
    const executor = sim(name, token);
    await executor.register();
    await waitFor(() => rowOf(executor.id));
    await executor.deregister('shutdown');
    await waitFor(() => offline.some((ids) => ids.includes(executor.id)), { message: 'offline callback' });
    const row = await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: executor.id } });
    expect(row.status).toBe('offline');
    const history = await listExecutorEvents(db.prisma, row.id);
    expect(history.map((e) => e.type)).toEqual(['deregistered', 'registered']);
    expect(await registry.onlineExecutors(name)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(offline.flat().filter((id) => id === executor.id)).toHaveLength(1);
  });

  it('an undecodable registry entry goes to the dead-letter stream; the next one is processed', async () => {
    const { name, token } = await newGroup();
    await redis.client.xadd(
      ks.registryStream(),
      '*',
      'kind',
      'executorRecord',
      'payload',
      '{"not":"a record"}',
    );
    const executor = sim(name, token);
    await executor.register();
    await waitFor(() => rowOf(executor.id));
    const dead = await redis.client.xrange(ks.deadLetterStream(), '-', '+');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.[1]).toContain('{"not":"a record"}');
  });

  it('a live member whose registration entry was missed is recorded by the scan', async () => {
    const { name, token } = await newGroup();
    const executor = sim(name, token);
    // Registered in Redis, but the stream entry never reached this scheduler (trimmed while it was down).
    await redis.client
      .multi()
      .set(ks.executor(executor.id), encodePayload('executorRecord', executor.record))
      .sadd(ks.groupMembers(name), executor.id)
      .sadd(ks.groups(), name)
      .exec();
    await executor.beat();
    executor.startBeating(500);
    const row = await waitFor(() => rowOf(executor.id), { message: 'scan upsert' });
    expect(row.status).toBe('online');
    expect(row.metadata).toMatchObject({ source: 'scan' });
    expect(await redis.client.xlen(ks.registryStream())).toBe(0);
  });
});

describe('drain', () => {
  it('removeExecutor drains: excluded from routing at once, draining in Postgres, told to drain', async () => {
    const { name, token } = await newGroup();
    const executor = sim(name, token);
    await executor.register();
    executor.startBeating(500);
    await waitFor(() => rowOf(executor.id));
    const subscriber = redis.client.duplicate();
    const messages: ControlMessage[] = [];
    subscriber.on('message', (_channel: string, raw: string) => {
      const decoded = decodePayload('control', raw);
      if (decoded.ok) messages.push(decoded.value);
    });
    await subscriber.subscribe(ks.executorControlChannel(executor.id));
    try {
      expect(await registry.onlineExecutors(name)).toHaveLength(1);
      const result = await registry.removeExecutor(executor.id, { requestedBy: 'usr_admin' });
      expect(result).toEqual({ instanceId: executor.id, status: 'draining' });
      // Immediately, although the heartbeat does not say draining yet.
      expect(await registry.onlineExecutors(name)).toEqual([]);
      const row = await db.prisma.executor.findUniqueOrThrow({ where: { instanceId: executor.id } });
      expect(row.status).toBe('draining');
      expect((await listExecutorEvents(db.prisma, row.id)).map((e) => e.type)).toContain('draining');
      await waitFor(() => messages.find((m) => m.type === 'drain'), { message: 'drain message' });
      expect(messages[0]).toMatchObject({ type: 'drain', instanceId: executor.id, requestedBy: 'usr_admin' });
      const listed = await registry.listExecutors({ group: name });
      expect(listed).toEqual([
        expect.objectContaining({ instanceId: executor.id, live: true, draining: true }),
      ]);
      // The executor finishes and deregisters: offline, out of the draining mirror.
      await executor.deregister('drained');
      await waitFor(
        async () =>
          (await db.prisma.executor.findUnique({ where: { instanceId: executor.id } }))?.status === 'offline',
      );
      await waitFor(async () => (await redis.client.sismember(`${ks.hashTag}:draining`, executor.id)) === 0);
    } finally {
      subscriber.disconnect();
    }
  });

  it('removing an executor that is not live marks it removed; an unknown one is a 404', async () => {
    const { name, token } = await newGroup();
    const executor = sim(name, token);
    await executor.register();
    await waitFor(() => rowOf(executor.id));
    await executor.deregister();
    await waitFor(
      async () =>
        (await db.prisma.executor.findUnique({ where: { instanceId: executor.id } }))?.status === 'offline',
    );
    expect(await registry.removeExecutor(executor.id, { requestedBy: 'usr_admin' })).toEqual({
      instanceId: executor.id,
      status: 'removed',
    });
    await expect(registry.removeExecutor('nobody-here', { requestedBy: 'usr_admin' })).rejects.toMatchObject({
      code: 'EXECUTOR_NOT_FOUND',
    });
  });
});
