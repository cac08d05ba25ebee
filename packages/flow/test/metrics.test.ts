import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  FlowRegistry,
  createFlowMetrics,
  defineFunction,
  parseListenAddress,
  startPrometheusServer,
  type GlobalConfig,
} from '../src/index.js';
import { flow, func, kisConfig } from './support/config-builders.js';

function metricsRegistry(register: Registry) {
  const registry = new FlowRegistry({ hooks: createFlowMetrics(register) });
  registry.registerFunction(defineFunction({ name: 'Verify1', handler: (ctx) => ctx.commitMany(ctx.rows) }));
  registry.registerFunction(
    defineFunction({ name: 'Expand1', handler: (ctx) => ctx.commitMany(ctx.rows.slice(1)) }),
  );
  registry.registerFunction(
    defineFunction({
      name: 'Fails',
      handler: () => {
        throw new Error('nope');
      },
    }),
  );
  registry.loadConfig(
    kisConfig({
      funcs: [
        func('Verify1', { mode: 'Verify' }),
        func('Expand1', { mode: 'Expand' }),
        func('Fails', { mode: 'Save' }),
      ],
      flows: [flow('Orders', ['Verify1', 'Expand1']), flow('Broken', ['Verify1', 'Fails'])],
    }),
  );
  return registry;
}

describe('prom-client adapter', () => {
  it('records rows, durations in seconds and errors with flow/function/mode labels', async () => {
    const register = new Registry();
    const registry = metricsRegistry(register);
    await registry.run('Orders', { rows: [1, 2, 3] });
    await registry.run('Orders', { rows: [1, 2] });
    await registry.run('Broken', { rows: [1] });
    const text = await register.metrics();

    expect(text).toContain(
      'kisflow_function_rows_in_total{flow="Orders",function="Verify1",mode="Verify"} 5',
    );
    expect(text).toContain(
      'kisflow_function_rows_out_total{flow="Orders",function="Expand1",mode="Expand"} 3',
    );
    expect(text).toContain(
      'kisflow_function_duration_seconds_count{flow="Orders",function="Verify1",mode="Verify"} 2',
    );
    expect(text).toContain(
      'kisflow_function_errors_total{flow="Broken",function="Fails",mode="Save",code="FUNCTION_FAILED"} 1',
    );
    expect(text).toContain('kisflow_flow_runs_total{flow="Orders",status="succeeded"} 2');
    expect(text).toContain('kisflow_flow_runs_total{flow="Broken",status="failed"} 1');
    expect(text).toContain('kisflow_flow_rows_in_total{flow="Orders"} 5');
    expect(text).toContain('kisflow_flow_duration_seconds_count{flow="Orders",status="succeeded"} 2');

    // durations are seconds: a trivial function lands well under one second
    const sum =
      /^kisflow_function_duration_seconds_sum\{flow="Orders",function="Verify1",mode="Verify"\} (\S+)$/m.exec(
        text,
      );
    expect(Number(sum?.[1])).toBeGreaterThan(0);
    expect(Number(sum?.[1])).toBeLessThan(1);
  });

  it('can be created twice on one Registry (the metrics are shared)', async () => {
    const register = new Registry();
    createFlowMetrics(register);
    const registry = metricsRegistry(register);
    await registry.run('Orders', { rows: [1] });
    expect(await register.metrics()).toContain('kisflow_flow_runs_total{flow="Orders",status="succeeded"} 1');
  });
});

describe('prometheus server', () => {
  const global = (over: Partial<GlobalConfig>): GlobalConfig => ({
    kind: 'global',
    prometheusEnable: true,
    prometheusListen: true,
    prometheusServe: '127.0.0.1:0',
    ...over,
  });

  it('serves /metrics when enable and listen are both true', async () => {
    const register = new Registry();
    await metricsRegistry(register).run('Orders', { rows: [1, 2] });
    const server = await startPrometheusServer(global({}), register);
    expect(server).toBeDefined();
    if (server === undefined) return;
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('kisflow_flow_runs_total{flow="Orders",status="succeeded"} 1');
      const other = await fetch(server.url.replace('/metrics', '/other'));
      expect(other.status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(server.url)).rejects.toThrow(/fetch failed/);
  });

  it('does not serve when enable or listen is false', async () => {
    const register = new Registry();
    expect(await startPrometheusServer(global({ prometheusEnable: false }), register)).toBeUndefined();
    expect(await startPrometheusServer(global({ prometheusListen: false }), register)).toBeUndefined();
  });

  it('rejects a missing or invalid address, and a taken port', async () => {
    const register = new Registry();
    await expect(startPrometheusServer(global({ prometheusServe: undefined }), register)).rejects.toThrow(
      /prometheus_serve/,
    );
    await expect(startPrometheusServer(global({ prometheusServe: 'nonsense' }), register)).rejects.toThrow(
      /host:port/,
    );
    const first = await startPrometheusServer(global({}), register);
    if (first === undefined) throw new Error('expected a server');
    try {
      await expect(
        startPrometheusServer(global({ prometheusServe: `127.0.0.1:${first.port}` }), register),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it.each([
    ['0.0.0.0:20004', { host: '0.0.0.0', port: 20004 }],
    [':9100', { host: '0.0.0.0', port: 9100 }],
    ['[::1]:9100', { host: '::1', port: 9100 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('parses %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });
});
