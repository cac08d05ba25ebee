import { describe, expect, it } from 'vitest';
import {
  FlowRegistry,
  defineConnectorType,
  defineFunction,
  type Connector,
  type FunctionContext,
  type RunIdentity,
} from '../src/index.js';
import { conn, flow, func, kisConfig, memoryLogger } from './support/config-builders.js';

describe('params', () => {
  function paramsRegistry() {
    const seen: { step: number; params: Readonly<Record<string, string>> }[] = [];
    const registry = new FlowRegistry();
    registry.registerFunction(
      defineFunction({
        name: 'p',
        handler: (ctx) => {
          seen.push({ step: ctx.run.step, params: ctx.params });
          ctx.commitMany(ctx.rows);
        },
      }),
    );
    registry.loadConfig(
      kisConfig({
        funcs: [func('p', { defaultParams: { d1: 'default-1', shared: 'from-default' } })],
        flows: [
          flow('f', [
            { funcName: 'p', params: { shared: 'from-step-0', s0: 'x' } },
            'p',
            { funcName: 'p', params: { shared: 'from-step-2' } },
          ]),
        ],
      }),
    );
    return { registry, seen };
  }

  it('defaultParams < flow step params, per position', async () => {
    const { registry, seen } = paramsRegistry();
    await registry.run('f', { rows: [1] });
    expect(seen).toEqual([
      { step: 0, params: { d1: 'default-1', shared: 'from-step-0', s0: 'x' } },
      { step: 1, params: { d1: 'default-1', shared: 'from-default' } },
      { step: 2, params: { d1: 'default-1', shared: 'from-step-2' } },
    ]);
  });

  it('run-level params are merged over every step', async () => {
    const { registry, seen } = paramsRegistry();
    await registry.run('f', { rows: [1], params: { shared: 'from-run', extra: 'e' } });
    expect(seen.map((s) => s.params)).toEqual([
      { d1: 'default-1', shared: 'from-run', s0: 'x', extra: 'e' },
      { d1: 'default-1', shared: 'from-run', extra: 'e' },
      { d1: 'default-1', shared: 'from-run', extra: 'e' },
    ]);
    // ...and do not stick to later runs
    seen.length = 0;
    await registry.run('f', { rows: [1] });
    expect(seen[1]?.params).toEqual({ d1: 'default-1', shared: 'from-default' });
  });

  it('params are read-only and param() has a fallback', async () => {
    const registry = new FlowRegistry();
    const got: unknown[] = [];
    registry.registerFunction(
      defineFunction({
        name: 'p',
        handler: (ctx) => {
          got.push(ctx.param('a'), ctx.param('missing'), ctx.param('missing', 'fb'), ctx.param('toString'));
          expect(() => {
            (ctx.params as Record<string, string>).a = 'changed';
          }).toThrow(TypeError);
        },
      }),
    );
    registry.loadConfig(
      kisConfig({ funcs: [func('p', { defaultParams: { a: '1' } })], flows: [flow('f', ['p'])] }),
    );
    expect((await registry.run('f', { rows: [1] })).ok).toBe(true);
    expect(got).toEqual(['1', undefined, 'fb', undefined]);
  });
});

describe('context', () => {
  it('carries the run identity, per-run metadata and a logger with run fields', async () => {
    const ids: RunIdentity[] = [];
    const { logger, lines } = memoryLogger();
    const registry = new FlowRegistry();
    registry.registerFunction(
      defineFunction({
        name: 'first',
        handler: (ctx) => {
          ids.push(ctx.run);
          ctx.meta.set('count', Number(ctx.meta.get('seed')) + ctx.rows.length);
          ctx.logger.info('hello', { n: 1 });
          ctx.commitMany(ctx.rows);
        },
      }),
    );
    registry.registerFunction(
      defineFunction({
        name: 'second',
        handler: (ctx) => {
          ids.push(ctx.run);
          ctx.commit(ctx.meta.get('count'));
        },
      }),
    );
    registry.loadConfig(
      kisConfig({
        funcs: [func('first', { mode: 'Verify' }), func('second', { mode: 'Expand' })],
        flows: [flow('f', ['first', 'second'])],
      }),
    );
    const result = await registry.run('f', {
      rows: [1, 2],
      runId: 'run_test',
      logger,
      metadata: { seed: 40 },
    });
    expect(result).toMatchObject({ ok: true, output: [42], runId: 'run_test', flowName: 'f' });
    expect(ids).toEqual([
      { runId: 'run_test', flowName: 'f', funcName: 'first', mode: 'Verify', step: 0 },
      { runId: 'run_test', flowName: 'f', funcName: 'second', mode: 'Expand', step: 1 },
    ]);
    expect(lines).toContainEqual({
      level: 'info',
      msg: 'hello',
      fields: { runId: 'run_test', flow: 'f', func: 'first', step: 0, n: 1 },
    });
    // per-run metadata is fresh for every run
    const again = await registry.run('f', { rows: [1], metadata: { seed: 0 } });
    expect(again).toMatchObject({ ok: true, output: [1] });
  });

  it('generates a prefixed run id', async () => {
    const registry = new FlowRegistry();
    registry.registerFunction(defineFunction({ name: 'x', handler: () => {} }));
    registry.loadConfig(kisConfig({ funcs: [func('x')], flows: [flow('f', ['x'])] }));
    const result = await registry.run('f', { rows: [] });
    expect(result.runId).toMatch(/^run_[0-9a-f-]{36}$/);
  });

  it('funcMeta and connMeta survive across runs in one registry, not across registries', async () => {
    const make = () => {
      const registry = new FlowRegistry();
      registry.registerConnectorType('fake', async () => ({ close: async () => {} }));
      registry.registerFunction(
        defineFunction({
          name: 'counter',
          handler: (ctx) => {
            const runs = Number(ctx.funcMeta.get('runs') ?? 0) + 1;
            ctx.funcMeta.set('runs', runs);
            const uses = Number(ctx.connMeta.get('uses') ?? 0) + 1;
            ctx.connMeta.set('uses', uses);
            ctx.commit({ runs, uses });
          },
        }),
      );
      registry.loadConfig(
        kisConfig({
          funcs: [func('counter', { connectorName: 'c' })],
          conns: [conn('c', 'fake')],
          flows: [flow('f', ['counter'])],
        }),
      );
      return registry;
    };
    const one = make();
    await one.run('f', { rows: [1] });
    expect(await one.run('f', { rows: [1] })).toMatchObject({ ok: true, output: [{ runs: 2, uses: 2 }] });
    expect(await make().run('f', { rows: [1] })).toMatchObject({ ok: true, output: [{ runs: 1, uses: 1 }] });
    await one.close();
  });

  it('ctx.connector and ctx.connMeta throw CONNECTOR_NOT_FOUND for a function without a connector', async () => {
    const registry = new FlowRegistry();
    registry.registerFunction(defineFunction({ name: 'lonely', handler: (ctx) => void ctx.connector }));
    registry.registerFunction(defineFunction({ name: 'lonelyMeta', handler: (ctx) => void ctx.connMeta }));
    registry.loadConfig(
      kisConfig({
        funcs: [func('lonely'), func('lonelyMeta')],
        flows: [flow('f', ['lonely']), flow('g', ['lonelyMeta'])],
      }),
    );
    for (const name of ['f', 'g']) {
      const result = await registry.run(name, { rows: [1] });
      expect(result).toMatchObject({ ok: false, error: { code: 'CONNECTOR_NOT_FOUND', step: 0 } });
    }
  });

  it('a typed connector is checked against the connector config type', async () => {
    interface Kv extends Connector {
      get(k: string): string;
    }
    const kvType = defineConnectorType<Kv>('kv', async () => ({
      get: (k) => `v:${k}`,
      close: async () => {},
    }));
    const registry = new FlowRegistry();
    registry.registerConnectorType(kvType);
    registry.registerConnectorType('other', async () => ({ close: async () => {} }));
    const useKv = defineFunction({
      name: 'useKv',
      connector: kvType,
      handler: (ctx: FunctionContext<unknown, Kv>) => ctx.commit(ctx.connector.get('a')),
    });
    registry.registerFunction(useKv);
    registry.loadConfig(
      kisConfig({
        funcs: [func('useKv', { connectorName: 'good' })],
        conns: [conn('good', 'kv')],
        flows: [flow('f', ['useKv'])],
      }),
    );
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: ['v:a'] });
    registry.loadConfig(
      kisConfig({
        funcs: [func('useKv', { connectorName: 'wrong' })],
        conns: [conn('wrong', 'other')],
        flows: [flow('f', ['useKv'])],
      }),
    );
    const mismatch = await registry.run('f', { rows: [1] });
    expect(mismatch).toMatchObject({ ok: false, error: { code: 'CONNECTOR_NOT_FOUND', funcName: 'useKv' } });
    await registry.close();
  });

  it('commitMany takes arrays and other iterables', async () => {
    const registry = new FlowRegistry();
    registry.registerFunction(
      defineFunction({
        name: 'd',
        handler: (ctx) => {
          ctx.commit(ctx.rows.length);
          ctx.commitMany(new Set(['a', 'b']));
          ctx.commitMany(['c']);
        },
      }),
    );
    registry.loadConfig(kisConfig({ funcs: [func('d')], flows: [flow('f', ['d'])] }));
    expect(await registry.run('f', { rows: [1, 2] })).toMatchObject({ ok: true, output: [2, 'a', 'b', 'c'] });
  });
});
