/**
 * The thread side of a run, in-process (FlowHost has no thread APIs of its own).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '@kisjobs/protocol';
import { FlowHost, importFunctionsModule, type RunTaskInput, type RunThreadEvent } from '../src/index.js';
import { CONFIG, FLOWS } from './fixtures/flows.js';
import { FUNCTIONS_MODULE } from './support/executors.js';

const hosts: FlowHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function host(options: Partial<ConstructorParameters<typeof FlowHost>[1]> = {}): Promise<FlowHost> {
  const module = await importFunctionsModule(new URL(`file://${FUNCTIONS_MODULE}`).href);
  const h = new FlowHost(module, { maxLogLinesPerRun: 1_000, runLogLevel: 'info', ...options });
  hosts.push(h);
  return h;
}

function input(flowName: string, flow: unknown = CONFIG, params: Record<string, string> = {}): RunTaskInput {
  const runId = newId('run');
  return {
    runId,
    flowName,
    flow: flow as Record<string, unknown>,
    params,
    source: {
      runId,
      jobId: newId('job'),
      scheduledAt: new Date().toISOString(),
      attempt: 1,
      triggerType: 'manual',
      shardIndex: 1,
      shardTotal: 2,
      params,
    },
  };
}

async function run(h: FlowHost, task: RunTaskInput): Promise<{ output: unknown; events: RunThreadEvent[] }> {
  const events: RunThreadEvent[] = [];
  const output = await h.run(task, {
    signal: new AbortController().signal,
    emit: (e) => void events.push(e),
  });
  return { output, events };
}

describe('FlowHost', () => {
  it('runs a flow from one source row, streaming logs and a progress event per function', async () => {
    const h = await host();
    const { output, events } = await run(h, input('etl', CONFIG, { rows: '2' }));
    expect(output).toMatchObject({ kind: 'flow', ok: true, outputRows: 1 });
    expect(
      events.map((e) => (e.type === 'log' ? `log:${e.funcName}` : `progress:${e.summary.funcName}`)),
    ).toEqual([
      'log:Source',
      'progress:Source',
      'log:Log',
      'log:Log',
      'progress:Log',
      'progress:Double',
      'progress:Count',
    ]);
  });

  it('loads a changed flow config, and keeps serving after an invalid one', async () => {
    const h = await host();
    expect((await run(h, input('etl'))).output).toMatchObject({ ok: true });
    const withFourRows = {
      ...CONFIG,
      flows: { etl: { ...FLOWS.etl, steps: [{ funcName: 'Source', params: { rows: '4' } }] } },
    };
    const changed = await run(h, input('etl', withFourRows));
    expect(changed.output).toMatchObject({ ok: true, outputRows: 4 });

    const invalid = await run(h, input('etl', { funcs: {}, flows: { etl: { ...FLOWS.etl, steps: 'all' } } }));
    expect(invalid.output).toEqual({
      kind: 'flow-invalid',
      message:
        "the request's flow config is invalid: flow.flows.etl.steps: Invalid input: expected array, received string",
    });
    const unresolved = await run(h, input('etl', { funcs: {}, flows: { etl: FLOWS.etl } }));
    expect(unresolved.output).toMatchObject({ kind: 'flow-invalid' });
    expect((unresolved.output as { message: string }).message).toContain(
      'names function "Source", which is not in the config',
    );

    expect((await run(h, input('etl'))).output).toMatchObject({ ok: true, outputRows: 1 });
  });

  it('caps the log lines of a run and says how many it dropped', async () => {
    const h = await host({ maxLogLinesPerRun: 3 });
    const { events } = await run(h, input('etl', CONFIG, { lines: '10' }));
    const logs = events.filter((e) => e.type === 'log').map((e) => e.message);
    expect(logs).toEqual([
      'emitting 3 rows',
      'log line 0',
      'log line 1',
      '8 log lines of this run were dropped (limit 3 per run)',
    ]);
  });

  it('drops lines below the run log level', async () => {
    const h = await host({ runLogLevel: 'warn' });
    const { events } = await run(h, input('etl'));
    expect(events.filter((e) => e.type === 'log')).toEqual([]);
  });

  it('reports a cancelled run when its signal aborts', async () => {
    const h = await host();
    const controller = new AbortController();
    const pending = h.run(input('sleep', CONFIG, { ms: '10000' }), {
      signal: controller.signal,
      emit: () => undefined,
    });
    setTimeout(() => controller.abort(new Error('stop')), 50);
    expect(await pending).toMatchObject({
      kind: 'flow',
      ok: false,
      status: 'cancelled',
      error: { code: 'CANCELLED' },
    });
  });
});
