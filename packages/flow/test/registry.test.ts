import { describe, expect, it } from 'vitest';
import {
  DuplicateRegistrationError,
  FlowConfigError,
  FlowRegistry,
  actions,
  combineHooks,
  defineFunction,
  type FlowEndEvent,
  type FunctionEndEvent,
} from '../src/index.js';
import { conn, flow, func, kisConfig, memoryLogger } from './support/config-builders.js';

const echo = (name: string) => defineFunction({ name, handler: (ctx) => ctx.commitMany(ctx.rows) });

describe('loadConfig', () => {
  it('rejects a config that does not hold together, listing every problem', () => {
    const registry = new FlowRegistry();
    const bad = kisConfig({
      funcs: [func('a', { connectorName: 'ghost', retryTimes: -1 }), func('b', { timeoutMs: 0 })],
      flows: [flow('f', ['a', 'missing']), flow('g', ['b'], { maxSteps: 0 })],
    });
    let error: unknown;
    try {
      registry.loadConfig(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlowConfigError);
    const issues = (error as FlowConfigError).issues;
    expect(issues).toHaveLength(5);
    expect(issues.join('\n')).toMatch(/ghost/);
    expect(issues.join('\n')).toMatch(/retryTimes/);
    expect(issues.join('\n')).toMatch(/timeoutMs/);
    expect(issues.join('\n')).toMatch(/"missing"/);
    expect(issues.join('\n')).toMatch(/maxSteps/);
    expect((error as FlowConfigError).code).toBe('CONFIG_INVALID');
  });

  it('is atomic: a rejected config leaves the previous one in place', async () => {
    const registry = new FlowRegistry().registerFunction(echo('a'));
    registry.loadConfig(kisConfig({ funcs: [func('a')], flows: [flow('f', ['a'])] }));
    expect(() =>
      registry.loadConfig(kisConfig({ funcs: [func('a')], flows: [flow('f', ['a', 'nope'])] })),
    ).toThrow(FlowConfigError);
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: [1] });
  });

  it('never connects, and an unregistered connector type is reported by the run that uses it', async () => {
    let factoryCalls = 0;
    const registry = new FlowRegistry();
    registry.registerConnectorType('counting', async () => {
      factoryCalls++;
      return { close: async () => {} };
    });
    registry.registerFunction(echo('a')).registerFunction(echo('b'));
    registry.loadConfig(
      kisConfig({
        funcs: [func('a', { connectorName: 'c1' }), func('b', { connectorName: 'c2' })],
        conns: [conn('c1', 'counting'), conn('c2', 'mysql')],
        flows: [flow('fa', ['a']), flow('fb', ['b'])],
      }),
    );
    expect(factoryCalls).toBe(0);
    expect(await registry.run('fb', { rows: [1] })).toMatchObject({
      ok: false,
      error: { code: 'CONNECTOR_TYPE_NOT_REGISTERED', funcName: 'b', step: 0 },
    });
    expect(await registry.run('fa', { rows: [1] })).toMatchObject({ ok: true });
    expect(factoryCalls).toBe(1);
    await registry.close();
  });
});

describe('run lookups', () => {
  const registry = new FlowRegistry().registerFunction(echo('a'));
  registry.loadConfig(
    kisConfig({
      funcs: [func('a'), func('unimplemented')],
      flows: [
        flow('on', ['a']),
        flow('off', ['a'], { enabled: false }),
        flow('partial', ['a', 'unimplemented']),
      ],
    }),
  );

  it('FLOW_NOT_FOUND', async () => {
    expect(await registry.run('nope', { rows: [] })).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'FLOW_NOT_FOUND' },
      steps: 0,
    });
  });

  it('FLOW_DISABLED for a flow with status 0', async () => {
    expect(await registry.run('off', { rows: [] })).toMatchObject({
      ok: false,
      error: { code: 'FLOW_DISABLED' },
    });
  });

  it('FUNCTION_NOT_REGISTERED before any step runs', async () => {
    const result = await registry.run('partial', { rows: [1] });
    expect(result).toMatchObject({
      ok: false,
      steps: 0,
      functions: [],
      error: { code: 'FUNCTION_NOT_REGISTERED', funcName: 'unimplemented', step: 1 },
    });
  });

  it('INPUT_INVALID when rows is not an array', async () => {
    const result = await registry.run('on', { rows: 'oops' as unknown as unknown[] });
    expect(result).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
  });

  it('describe lists functions, connector types and flows', () => {
    registry.registerConnectorType('fake', async () => ({ close: async () => {} }));
    expect(registry.describe()).toEqual({
      functions: ['a'],
      connectorTypes: ['fake'],
      flows: [
        { name: 'off', enabled: false },
        { name: 'on', enabled: true },
        { name: 'partial', enabled: true },
      ],
    });
  });
});

describe('registration', () => {
  it('rejects duplicates', () => {
    const registry = new FlowRegistry().registerFunction(echo('a'));
    expect(() => registry.registerFunction(echo('a'))).toThrow(DuplicateRegistrationError);
    registry.registerConnectorType('t', async () => ({ close: async () => {} }));
    expect(() => registry.registerConnectorType('t', async () => ({ close: async () => {} }))).toThrow(
      DuplicateRegistrationError,
    );
  });

  it('rejects bad options', () => {
    expect(() => new FlowRegistry({ maxSteps: 0 })).toThrow(FlowConfigError);
    expect(() => new FlowRegistry({ maxSteps: 1.5 })).toThrow(FlowConfigError);
  });

  it('registries are independent', async () => {
    const one = new FlowRegistry().registerFunction(echo('a'));
    const two = new FlowRegistry();
    const config = kisConfig({ funcs: [func('a')], flows: [flow('f', ['a'])] });
    one.loadConfig(config);
    two.loadConfig(config);
    expect((await one.run('f', { rows: [1] })).ok).toBe(true);
    expect(await two.run('f', { rows: [1] })).toMatchObject({ error: { code: 'FUNCTION_NOT_REGISTERED' } });
  });
});

describe('hooks', () => {
  it('fire per executed function and per run, with counts and durations', async () => {
    const fnEvents: FunctionEndEvent[] = [];
    const flowEvents: FlowEndEvent[] = [];
    const registry = new FlowRegistry({
      hooks: { onFunctionEnd: (e) => fnEvents.push(e), onFlowEnd: (e) => flowEvents.push(e) },
    });
    registry.registerFunction(echo('a'));
    registry.registerFunction(
      defineFunction({ name: 'stop', handler: (ctx) => (ctx.commit('x'), actions.abort()) }),
    );
    registry.registerFunction(
      defineFunction({ name: 'boom', handler: () => Promise.reject(new Error('boom')) }),
    );
    registry.loadConfig(
      kisConfig({
        funcs: [func('a', { mode: 'Verify' }), func('stop'), func('boom', { mode: 'Save' })],
        flows: [flow('ok', ['a', 'stop', 'a']), flow('bad', ['a', 'boom'])],
      }),
    );
    await registry.run('ok', { rows: [1, 2], runId: 'run_1' });
    await registry.run('bad', { rows: [1], runId: 'run_2' });
    expect(
      fnEvents.map((e) => [
        e.runId,
        e.flow,
        e.function,
        e.mode,
        e.rowsIn,
        e.rowsOut,
        e.action,
        e.error?.code,
      ]),
    ).toEqual([
      ['run_1', 'ok', 'a', 'Verify', 2, 2, undefined, undefined],
      ['run_1', 'ok', 'stop', 'Calculate', 2, 1, 'Abort', undefined],
      ['run_2', 'bad', 'a', 'Verify', 1, 1, undefined, undefined],
      ['run_2', 'bad', 'boom', 'Save', 1, 0, undefined, 'FUNCTION_FAILED'],
    ]);
    expect(fnEvents.every((e) => e.durationMs >= 0)).toBe(true);
    expect(flowEvents).toMatchObject([
      {
        runId: 'run_1',
        flow: 'ok',
        status: 'succeeded',
        endedBy: 'abort_action',
        rows: 2,
        rowsOut: 1,
        steps: 2,
      },
      {
        runId: 'run_2',
        flow: 'bad',
        status: 'failed',
        rows: 1,
        rowsOut: 0,
        steps: 2,
        error: { code: 'FUNCTION_FAILED' },
      },
    ]);
  });

  it('a throwing hook is logged and does not change the outcome; combineHooks calls each', async () => {
    const { logger, lines } = memoryLogger();
    const seen: string[] = [];
    const registry = new FlowRegistry({
      logger,
      hooks: combineHooks(
        { onFunctionEnd: (e) => seen.push(`fn:${e.function}`) },
        { onFlowEnd: (e) => seen.push(`flow:${e.flow}`) },
        {
          onFlowEnd: () => {
            throw new Error('metrics down');
          },
        },
      ),
    });
    registry.registerFunction(echo('a'));
    registry.loadConfig(kisConfig({ funcs: [func('a')], flows: [flow('f', ['a'])] }));
    expect(await registry.run('f', { rows: [1] })).toMatchObject({ ok: true, output: [1] });
    expect(seen).toEqual(['fn:a', 'flow:f']);
    expect(lines.some((l) => l.level === 'error' && l.msg.includes('onFlowEnd'))).toBe(true);
  });
});
