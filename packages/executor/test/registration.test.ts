import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  decodePayload,
  type ExecutorRecord,
  type Heartbeat,
} from '@kisjobs/protocol';
import { useTestRedis, waitFor, type TestRedis } from '@kisjobs/testing';
import { ExecutorTokenInvalidError, createExecutor } from '../src/index.js';
import { FUNCTION_NAMES } from './fixtures/flows.js';
import {
  FUNCTIONS_MODULE,
  capturingLogger,
  spawnExecutor,
  startInProcess,
  type LogLine,
} from './support/executors.js';
import { GROUP, SchedulerSide, newToken } from './support/scheduler-side.js';

let redis: TestRedis;
let side: SchedulerSide;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  redis = await useTestRedis('exec-reg');
  side = new SchedulerSide(redis.client, redis.prefix);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await side.close();
  await redis.close();
});

async function heartbeatOf(instanceId: string): Promise<Heartbeat | undefined> {
  const raw = await redis.client.get(side.ks.heartbeat(instanceId));
  if (raw === null) return undefined;
  const decoded = decodePayload('heartbeat', raw);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

describe('registration', () => {
  it('registers its record, joins its group, and keeps its heartbeat alive', async () => {
    const token = newToken();
    await side.seedToken(token);
    const { executor } = await startInProcess({
      redisUrl: redis.url,
      prefix: redis.prefix,
      token,
      concurrency: 3,
    });
    cleanups.push(() => executor.close());
    const id = executor.instanceId;

    const raw = await redis.client.get(side.ks.executor(id));
    const record = decodePayload('executorRecord', raw ?? '');
    if (!record.ok) throw record.error;
    expect(record.value).toMatchObject<Partial<ExecutorRecord>>({
      group: GROUP,
      instanceId: id,
      pid: process.pid,
      functions: FUNCTION_NAMES,
      connectorTypes: ['memory'],
      concurrency: 3,
    });
    expect(await redis.client.sismember(side.ks.groupMembers(GROUP), id)).toBe(1);
    expect(await redis.client.sismember(side.ks.groups(), GROUP)).toBe(1);

    const registry = await side.entries(side.ks.registryStream());
    expect(registry.map((e) => e.fields['kind'])).toEqual(['executorRecord']);
    expect(decodePayload('executorRecord', registry[0]?.fields['payload'] ?? '').ok).toBe(true);

    // The heartbeat carries a TTL, and is rewritten every beat (its `at` moves, its TTL is topped up).
    const first = await heartbeatOf(id);
    expect(first).toMatchObject({ instanceId: id, activeRuns: 0, runIds: [], draining: false });
    const ttl = await redis.client.pttl(side.ks.heartbeat(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(HEARTBEAT_TTL_MS);
    const next = await waitFor(
      async () => {
        const beat = await heartbeatOf(id);
        return beat !== undefined && beat.at !== first?.at ? beat : undefined;
      },
      { timeoutMs: HEARTBEAT_INTERVAL_MS * 2 + 1_000 },
    );
    expect(Date.parse(next.at) - Date.parse(first?.at ?? '')).toBeGreaterThanOrEqual(
      HEARTBEAT_INTERVAL_MS - 200,
    );
    expect(await redis.client.pttl(side.ks.heartbeat(id))).toBeGreaterThan(
      HEARTBEAT_TTL_MS - HEARTBEAT_INTERVAL_MS,
    );
  });

  it('never writes the plaintext token to Redis', async () => {
    const token = newToken();
    await side.seedToken(token);
    const { executor } = await startInProcess({ redisUrl: redis.url, prefix: redis.prefix, token });
    await executor.close();
    const keys = await redis.client.keys(`*${redis.prefix}*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) {
      const type = await redis.client.type(key);
      const dump =
        type === 'string'
          ? await redis.client.get(key)
          : type === 'stream'
            ? JSON.stringify(await redis.client.xrange(key, '-', '+'))
            : type === 'set'
              ? JSON.stringify(await redis.client.smembers(key))
              : type === 'hash'
                ? JSON.stringify(await redis.client.hgetall(key))
                : '';
      expect(`${key} ${dump ?? ''}`).not.toContain(token);
    }
  });

  it('is refused with a wrong token: one clear log line, a typed error, a rejection entry, no record', async () => {
    await side.seedToken(newToken());
    const logs: LogLine[] = [];
    const executor = createExecutor({
      redisUrl: redis.url,
      prefix: redis.prefix,
      group: GROUP,
      token: newToken(),
      tokenSource: 'KISJOBS_TOKEN',
      functions: FUNCTIONS_MODULE,
      logger: capturingLogger(logs),
    });
    const error: unknown = await executor.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutorTokenInvalidError);
    expect((error as ExecutorTokenInvalidError).code).toBe('EXECUTOR_TOKEN_INVALID');
    await executor.closed;
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).toEqual([
      'registration refused: the token is not valid for group "etl" (KISJOBS_TOKEN)',
    ]);
    expect(await redis.client.exists(side.ks.executor(executor.instanceId))).toBe(0);
    expect(await redis.client.exists(side.ks.heartbeat(executor.instanceId))).toBe(0);
    expect(await redis.client.scard(side.ks.groupMembers(GROUP))).toBe(0);
    const registry = await side.entries(side.ks.registryStream());
    expect(registry).toHaveLength(1);
    expect(registry[0]?.fields['kind']).toBe('registrationRejected');
    expect(JSON.parse(registry[0]?.fields['payload'] ?? '{}')).toMatchObject({
      group: GROUP,
      instanceId: executor.instanceId,
      reason: 'invalid token',
    });
  });

  it('refuses a token that is valid for another group', async () => {
    const token = newToken();
    await side.seedToken(token, 'reports');
    const executor = createExecutor({
      redisUrl: redis.url,
      prefix: redis.prefix,
      group: GROUP,
      token,
      functions: FUNCTIONS_MODULE,
    });
    await expect(executor.start()).rejects.toMatchObject({ code: 'EXECUTOR_TOKEN_INVALID' });
  });

  it('the runnable exits with code 78 and says why when its token is refused', async () => {
    await side.seedToken(newToken());
    const child = spawnExecutor({ redisUrl: redis.url, prefix: redis.prefix, token: newToken() });
    cleanups.push(() => child.stop());
    const { code } = await child.exit();
    expect(code).toBe(78);
    const errors = child.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'registration refused: the token is not valid for group "etl" (KISJOBS_TOKEN)',
      code: 'EXECUTOR_TOKEN_INVALID',
    });
  });
});
