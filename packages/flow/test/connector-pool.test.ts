import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  FlowRegistry,
  defineFunction,
  type ConnConfig,
  type Connector,
  type ConnectorHelpers,
} from '../src/index.js';
import { conn, expectFailure, flow, func, kisConfig } from './support/config-builders.js';

interface Fake extends Connector {
  readonly id: number;
  readonly conf: ConnConfig;
  closed: boolean;
  calls: number;
}

/** A connector type whose factory is slow, counts its calls, and fails while `failing` is set. */
function fakeType(options: { initMs?: number; failTimes?: number; hang?: boolean } = {}) {
  const made: Fake[] = [];
  const signals: AbortSignal[] = [];
  let failures = options.failTimes ?? 0;
  let factoryCalls = 0;
  const factory = async (conf: ConnConfig, helpers: ConnectorHelpers): Promise<Fake> => {
    factoryCalls++;
    signals.push(helpers.signal);
    if (options.hang) await new Promise(() => {});
    await delay(options.initMs ?? 20);
    if (failures > 0) {
      failures--;
      throw new Error('server said no');
    }
    const fake: Fake = {
      id: made.length + 1,
      conf,
      closed: false,
      calls: 0,
      close: async () => {
        fake.closed = true;
      },
    };
    made.push(fake);
    return fake;
  };
  return { factory, made, signals, factoryCalls: () => factoryCalls };
}

function registryWith(type: ReturnType<typeof fakeType>, options: { connectorInitTimeoutMs?: number } = {}) {
  const registry = new FlowRegistry(options);
  registry.registerConnectorType('fake', type.factory);
  registry.registerFunction(
    defineFunction({
      name: 'use',
      handler: (ctx) => {
        const c = ctx.connector as Fake;
        c.calls++;
        ctx.commit(c.id);
      },
    }),
  );
  const load = (conns: ConnConfig[] = [conn('c', 'fake')]) =>
    registry.loadConfig(
      kisConfig({ funcs: [func('use', { connectorName: 'c' })], conns, flows: [flow('f', ['use'])] }),
    );
  load();
  return { registry, load };
}

describe('connector pool', () => {
  it('initialises lazily, once, even under 50 concurrent first runs', async () => {
    const type = fakeType({ initMs: 50 });
    const { registry } = registryWith(type);
    expect(type.factoryCalls()).toBe(0);
    expect(registry.isConnectorInitialised('c')).toBe(false);
    const results = await Promise.all(Array.from({ length: 50 }, () => registry.run('f', { rows: [1] })));
    expect(results.every((r) => r.ok && r.output[0] === 1)).toBe(true);
    expect(type.factoryCalls()).toBe(1);
    expect(type.made[0]?.calls).toBe(50);
    expect(registry.isConnectorInitialised('c')).toBe(true);
    await registry.close();
  });

  it('a failed initialisation fails that run with CONNECTOR_INIT_FAILED and is retried at the next use', async () => {
    const type = fakeType({ failTimes: 1 });
    const { registry } = registryWith(type);
    const first = await Promise.all([registry.run('f', { rows: [1] }), registry.run('f', { rows: [1] })]);
    for (const result of first) {
      expect(result).toMatchObject({
        ok: false,
        status: 'failed',
        error: { code: 'CONNECTOR_INIT_FAILED', funcName: 'use' },
      });
      expect(expectFailure(result).error.message).toContain('server said no');
    }
    expect(type.factoryCalls()).toBe(1);
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: [1] });
    expect(type.factoryCalls()).toBe(2);
    await registry.close();
  });

  it('bounds an initialisation that never finishes', async () => {
    const type = fakeType({ hang: true });
    const { registry } = registryWith(type, { connectorInitTimeoutMs: 100 });
    const started = performance.now();
    const result = await registry.run('f', { rows: [1] });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ ok: false, error: { code: 'CONNECTOR_INIT_FAILED' } });
    expect(type.signals[0]?.aborted).toBe(true);
    await registry.close();
  });

  it('a run cancelled while waiting for a connector ends cancelled; the init carries on for others', async () => {
    const type = fakeType({ initMs: 100 });
    const { registry } = registryWith(type);
    const controller = new AbortController();
    const cancelled = registry.run('f', { rows: [1], signal: controller.signal });
    const other = registry.run('f', { rows: [1] });
    setTimeout(() => controller.abort(), 10);
    expect(await cancelled).toMatchObject({ ok: false, status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(await other).toMatchObject({ ok: true, output: [1] });
    expect(type.factoryCalls()).toBe(1);
    await registry.close();
  });

  it('close() closes every initialised connector, and the next use initialises again', async () => {
    const type = fakeType();
    const { registry } = registryWith(type);
    await registry.run('f', { rows: [1] });
    await registry.close();
    expect(type.made[0]?.closed).toBe(true);
    expect(registry.isConnectorInitialised('c')).toBe(false);
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: [2] });
    await registry.close();
    expect(type.made[1]?.closed).toBe(true);
  });

  it('close() during an initialisation closes the connector once it is made', async () => {
    const type = fakeType({ initMs: 50 });
    const { registry } = registryWith(type);
    const pending = registry.run('f', { rows: [1] });
    await delay(10);
    await registry.close();
    expect(type.made[0]?.closed).toBe(true);
    await pending;
  });

  it('a config reload closes connectors whose config changed and keeps the others', async () => {
    const type = fakeType();
    const { registry, load } = registryWith(type);
    await registry.run('f', { rows: [1] });
    load([{ ...conn('c', 'fake'), save: ['use'] }]); // only the descriptive lists changed
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ output: [1] });
    load([conn('c', 'fake', { addrs: '10.0.0.1:1' })]);
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ output: [2] });
    await delay(0);
    expect(type.made[0]?.closed).toBe(true);
    expect(type.made[1]?.conf.addrs).toBe('10.0.0.1:1');
    await registry.close();
  });
});
