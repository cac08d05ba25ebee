import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  createTestDatabase,
  ensureTemplateDatabase,
  startPrivatePostgres,
  startPrivateRedis,
  useTestRedis,
  waitFor,
} from '../src/index.js';

describe('test helpers against real services', () => {
  it('gives each test a unique Redis prefix and cleans it up', async () => {
    const a = await useTestRedis('a');
    const b = await useTestRedis('b');
    expect(a.prefix).not.toBe(b.prefix);
    await a.client.set(`{${a.prefix}}:k`, '1');
    expect(await b.client.exists(`{${a.prefix}}:k`)).toBe(1);
    await a.close();
    expect(await b.client.exists(`{${a.prefix}}:k`)).toBe(0);
    await b.close();
  });

  it('creates a database per test file from a template, and drops it', async () => {
    const template = await ensureTemplateDatabase('helpers_selftest_v1', async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('CREATE TABLE IF NOT EXISTS marker (id int primary key)');
      await client.query('INSERT INTO marker VALUES (42) ON CONFLICT DO NOTHING');
      await client.end();
    });
    const db = await createTestDatabase({ template, label: 'selftest' });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ id: number }>('SELECT id FROM marker');
    expect(rows).toEqual([{ id: 42 }]);
    await client.end();
    await db.drop();
  });

  it('runs a private redis-server that can be killed and restarted', async () => {
    const redis = await startPrivateRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    await client.set('x', '1');
    await redis.kill();
    await redis.start();
    await waitFor(async () => (await client.ping()) === 'PONG', { timeoutMs: 10_000 });
    expect(await client.get('x')).toBeNull();
    client.disconnect();
    await redis.close();
  });

  it('runs a private postgres that survives a crash and restart with its data', async () => {
    const server = await startPrivatePostgres();
    const connect = async (): Promise<pg.Client> => {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      return c;
    };
    let client = await connect();
    await client.query('CREATE TABLE t (v int)');
    await client.query('INSERT INTO t VALUES (7)');
    await client.end();
    await server.kill();
    await expect(connect()).rejects.toThrow(/ECONNREFUSED|terminat|connect/);
    await server.start();
    client = await connect();
    const { rows } = await client.query<{ v: number }>('SELECT v FROM t');
    expect(rows).toEqual([{ v: 7 }]);
    await client.end();
    await server.close();
  });
});
