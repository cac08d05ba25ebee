import { createServer, type AddressInfo, type Socket } from 'node:net';
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowRegistry, defineFunction, redisConnectorType, type RedisConnector } from '../src/index.js';
import { conn, expectFailure, expectSuccess, flow, func, kisConfig } from './support/config-builders.js';
import { orderFunctions } from './support/orders-example.js';

let redis: TestRedis;
beforeEach(async () => {
  redis = await useTestRedis('flow-redis');
});
afterEach(async () => {
  await redis.close();
});

const ok = expectSuccess;

/** The Save -> Load pair of the worked example, on a hand-built config (no YAML). */
function ordersRegistry() {
  const registry = new FlowRegistry();
  registry.registerConnectorType(redisConnectorType);
  for (const def of orderFunctions) registry.registerFunction(def);
  registry.loadConfig(
    kisConfig({
      funcs: [
        func('VerifyOrder', { mode: 'Verify', must: ['order_id', 'user_id'] }),
        func('SumUserOrders', { mode: 'Calculate' }),
        func('SaveUserTotals', { mode: 'Save', connectorName: 'OrderStore', must: ['user_id'] }),
        func('LoadUserTotals', { mode: 'Load', connectorName: 'OrderStore', must: ['user_id'] }),
      ],
      conns: [conn('OrderStore', 'redis', { addrs: redis.url, key: `${redis.prefix}:orders` })],
      flows: [
        flow('AggregateOrders', ['VerifyOrder', 'SumUserOrders', 'SaveUserTotals']),
        flow('ReadUserTotals', ['LoadUserTotals']),
      ],
    }),
  );
  return registry;
}

describe('redis connector (real Redis)', () => {
  it('Save -> Load: one flow writes per-user aggregates with HINCRBY, another reads them back', async () => {
    const registry = ordersRegistry();
    const batch1 = [
      { order_id: 'o1', user_id: 'alice', amount_cents: 1250, status: 'paid' },
      { order_id: 'o2', user_id: 'bob', amount_cents: 500, status: 'paid' },
      { order_id: 'o3', user_id: 'alice', amount_cents: 750, status: 'paid' },
      { order_id: 'o4', user_id: 'bob', amount_cents: 9999, status: 'refunded' },
    ];
    const batch2 = [{ order_id: 'o5', user_id: 'alice', amount_cents: 100, status: 'paid' }];
    expect(ok(await registry.run('AggregateOrders', { rows: batch1 })).output).toEqual([
      { user_id: 'alice', total_cents: 2000, orders: 2 },
      { user_id: 'bob', total_cents: 500, orders: 1 },
    ]);
    ok(await registry.run('AggregateOrders', { rows: batch2 }));

    const loaded = ok(
      await registry.run('ReadUserTotals', {
        rows: [{ user_id: 'alice' }, { user_id: 'bob' }, { user_id: 'carol' }],
      }),
    );
    expect(loaded.output).toEqual([
      { user_id: 'alice', total_cents: 2100, orders: 3 },
      { user_id: 'bob', total_cents: 500, orders: 1 },
      { user_id: 'carol', total_cents: 0, orders: 0 },
    ]);
    // The keys sit under the connector's key prefix.
    expect(await redis.client.hgetall(`${redis.prefix}:orders:user:alice`)).toEqual({
      total_cents: '2100',
      orders: '3',
    });
    await registry.close();
  });

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
