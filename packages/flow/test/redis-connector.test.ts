import { createServer, type AddressInfo, type Socket } from 'node:net';
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowRegistry, defineFunction, redisConnectorType, type RedisConnector } from '../src/index.js';
import { conn, expectFailure, flow, func, kisConfig } from './support/config-builders.js';

let redis: TestRedis;
beforeEach(async () => {
  redis = await useTestRedis('flow-redis');
});
afterEach(async () => {
  await redis.close();
});

describe('redis connector (real Redis)', () => {
  it('is initialised once under 50 concurrent first runs (one Redis connection), and close() closes it', async () => {
    const clientName = `kjflow_${redis.prefix.replace(/[^a-z0-9]/g, '')}`;
    const seen = new Set<RedisConnector>();
    const registry = new FlowRegistry();
    registry.registerConnectorType(redisConnectorType);
    registry.registerFunction(
      defineFunction({
        name: 'Touch',
        connector: redisConnectorType,
        checkSourceMust: false,
        handler: async (ctx) => {
          seen.add(ctx.connector);
          ctx.commit(await ctx.connector.hincrby('touches', 'n', 1));
        },
      }),
    );
    registry.loadConfig(
      kisConfig({
        funcs: [func('Touch', { mode: 'Save', connectorName: 'R' })],
        conns: [
          conn('R', 'redis', { addrs: redis.url, key: redis.prefix, params: { client_name: clientName } }),
        ],
        flows: [flow('touch', ['Touch'])],
      }),
    );
    const connectionsNamed = async () =>
      String(await redis.client.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(`name=${clientName} `)).length;
    expect(await connectionsNamed()).toBe(0);

    const results = await Promise.all(
      Array.from({ length: 50 }, () => registry.run('touch', { rows: [{}] })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(seen.size).toBe(1);
    expect(await connectionsNamed()).toBe(1);
    expect(await redis.client.hget(`${redis.prefix}:touches`, 'n')).toBe('50');

    const [connector] = seen;
    await registry.close();
    expect(connector?.client.status).toBe('end');
    expect(await connectionsNamed()).toBe(0);
  });

  it('an unreachable Redis fails the run with CONNECTOR_INIT_FAILED quickly, and loading never connects', async () => {
    const registry = new FlowRegistry();
    registry.registerConnectorType(redisConnectorType);
    registry.registerFunction(
      defineFunction({ name: 'Use', connector: redisConnectorType, handler: () => {} }),
    );
    registry.loadConfig(
      kisConfig({
        funcs: [func('Use', { connectorName: 'Down' })],
        conns: [conn('Down', 'redis', { addrs: '127.0.0.1:1,127.0.0.1:2', key: 'k' })],
        flows: [flow('f', ['Use'])],
      }),
    );
    const started = performance.now();
    const result = await registry.run('f', { rows: [{}] });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'CONNECTOR_INIT_FAILED', funcName: 'Use' },
    });
    expect(expectFailure(result).error.message).toMatch(/Down.*127\.0\.0\.1:1/);
    expect(elapsed).toBeLessThan(3_000);
    await registry.close();
  });

  it('a server that accepts but never answers is bounded by connect_timeout_ms', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const registry = new FlowRegistry();
    registry.registerConnectorType(redisConnectorType);
    registry.registerFunction(defineFunction({ name: 'Use', handler: () => {} }));
    registry.loadConfig(
      kisConfig({
        funcs: [func('Use', { connectorName: 'Silent' })],
        conns: [
          conn('Silent', 'redis', { addrs: `127.0.0.1:${port}`, params: { connect_timeout_ms: '300' } }),
        ],
        flows: [flow('f', ['Use'])],
      }),
    );
    try {
      const started = performance.now();
      const result = await registry.run('f', { rows: [{}] });
      const elapsed = performance.now() - started;
      expect(result).toMatchObject({ ok: false, error: { code: 'CONNECTOR_INIT_FAILED' } });
      expect(expectFailure(result).error.message).toContain('no answer within 300 ms');
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2_000);
      expect(sockets.size).toBeGreaterThan(0);
    } finally {
      await registry.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a bad connector config is reported by the run, not by the load', async () => {
    const registry = new FlowRegistry();
    registry.registerConnectorType(redisConnectorType);
    registry.registerFunction(defineFunction({ name: 'Use', handler: () => {} }));
    registry.loadConfig(
      kisConfig({
        funcs: [func('Use', { connectorName: 'Bad' })],
        conns: [conn('Bad', 'redis', { addrs: redis.url, params: { db: 'seven' } })],
        flows: [flow('f', ['Use'])],
      }),
    );
    const result = await registry.run('f', { rows: [{}] });
    expect(result).toMatchObject({ ok: false, error: { code: 'CONNECTOR_INIT_FAILED' } });
    expect(expectFailure(result).error.message).toContain('params.db');
  });
});
