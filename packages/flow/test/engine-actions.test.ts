import { describe, expect, it } from 'vitest';
import { FlowRegistry, actions, defineFunction, type FlowAction, type FlowRunResult } from '../src/index.js';
import { flow, func, kisConfig } from './support/config-builders.js';

/** Records what each function received, per function name. */
function recorder() {
  const inputs = new Map<string, unknown[][]>();
  const record = (name: string, rows: readonly unknown[]) => {
    const list = inputs.get(name) ?? [];
    list.push([...rows]);
    inputs.set(name, list);
  };
  return { inputs, record };
}

function setup(
  steps: string[],
  behaviours: Record<
    string,
    (rows: readonly unknown[]) => { commit?: readonly unknown[]; action?: FlowAction }
  >,
  maxSteps?: number,
) {
  const { inputs, record } = recorder();
  const registry = new FlowRegistry(maxSteps === undefined ? {} : { maxSteps });
  for (const [name, behave] of Object.entries(behaviours)) {
    registry.registerFunction(
      defineFunction({
        name,
        handler: (ctx) => {
          record(name, ctx.rows);
          const { commit = [], action } = behave(ctx.rows);
          ctx.commitMany(commit);
          return action;
        },
      }),
    );
  }
  registry.loadConfig(
    kisConfig({ funcs: Object.keys(behaviours).map((n) => func(n)), flows: [flow('f', steps)] }),
  );
  return { registry, inputs };
}

const double = (rows: readonly unknown[]) => ({ commit: rows.map((r) => Number(r) * 2) });
const SOURCE = [1, 2, 3];

function expectOk(result: FlowRunResult) {
  if (!result.ok) throw new Error(`run failed: ${result.error.code} ${result.error.message}`);
  return result;
}

describe('actions through a registry', () => {
  it('each function receives the previous function’s commits; output is the last commits', async () => {
    const { registry, inputs } = setup(['a', 'b', 'c'], { a: double, b: double, c: double });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    expect(result.endedBy).toBe('completed');
    expect(result.output).toEqual([8, 16, 24]);
    expect(inputs.get('b')).toEqual([[2, 4, 6]]);
    expect(result.steps).toBe(3);
    expect(result.functions.map((f) => [f.funcName, f.rowsIn, f.rowsOut, f.attempts])).toEqual([
      ['a', 3, 3, 1],
      ['b', 3, 3, 1],
      ['c', 3, 3, 1],
    ]);
  });

  it('zero commits end the flow successfully and the next function does not run', async () => {
    const { registry, inputs } = setup(['a', 'none', 'c'], { a: double, none: () => ({}), c: double });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    expect(result.endedBy).toBe('no_rows');
    expect(result.output).toEqual([]);
    expect(inputs.has('c')).toBe(false);
    expect(result.steps).toBe(2);
  });

  it('DataReuse: the next function gets this function’s input; its commits are dropped', async () => {
    const { registry, inputs } = setup(['a', 'reuse', 'c'], {
      a: double,
      reuse: () => ({ commit: ['dropped'], action: actions.dataReuse() }),
      c: double,
    });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    expect(inputs.get('c')).toEqual([[2, 4, 6]]);
    expect(result.output).toEqual([4, 8, 12]);
    expect(result.functions[1]).toMatchObject({ funcName: 'reuse', rowsOut: 1, action: 'DataReuse' });
  });

  it('ForceEntryNext: the next function runs even with no commits, and receives the commits', async () => {
    const { registry, inputs } = setup(['a', 'force', 'c'], {
      a: double,
      force: () => ({ action: actions.forceEntryNext() }),
      c: () => ({ commit: ['c ran'] }),
    });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    expect(inputs.get('c')).toEqual([[]]);
    expect(result).toMatchObject({ endedBy: 'completed', output: ['c ran'] });
  });

  it('ForceEntryNext passes what was committed (the original passed an empty list)', async () => {
    const { registry, inputs } = setup(['force', 'c'], {
      force: () => ({ commit: ['kept'], action: actions.forceEntryNext() }),
      c: () => ({ commit: ['ok'] }),
    });
    expectOk(await registry.run('f', { rows: SOURCE }));
    expect(inputs.get('c')).toEqual([['kept']]);
  });

  it('Abort stops successfully after this function; its commits are the output', async () => {
    const { registry, inputs } = setup(['a', 'stop', 'c'], {
      a: double,
      stop: (rows) => ({ commit: [rows.length], action: actions.abort() }),
      c: double,
    });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    expect(result).toMatchObject({ endedBy: 'abort_action', output: [3], steps: 2 });
    expect(inputs.has('c')).toBe(false);
  });

  it('JumpFunc continues at the first step with that name, which reads its own predecessor’s output', async () => {
    let laps = 0;
    const { registry, inputs } = setup(['a', 'b', 'loop', 'b'], {
      a: double,
      b: (rows) => ({ commit: rows.map((r) => Number(r) + 1) }),
      loop: (rows) => (++laps < 3 ? { action: actions.jump('b') } : { commit: rows }),
    });
    const result = expectOk(await registry.run('f', { rows: SOURCE }));
    // a, b, loop, b, loop, b, loop, b(step 3)
    expect(result.steps).toBe(8);
    expect(result.functions.map((f) => f.step)).toEqual([0, 1, 2, 1, 2, 1, 2, 3]);
    // every run of step 1 reads a's output, never the jump's empty commits
    expect(inputs.get('b')?.slice(0, 3)).toEqual([
      [2, 4, 6],
      [2, 4, 6],
      [2, 4, 6],
    ]);
    expect(result.output).toEqual([4, 6, 8]);
  });

  it('JumpFunc to an unknown function fails with UNKNOWN_JUMP_TARGET', async () => {
    const { registry } = setup(['a', 'j'], { a: double, j: () => ({ action: actions.jump('missing') }) });
    const result = await registry.run('f', { rows: SOURCE });
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      error: { code: 'UNKNOWN_JUMP_TARGET', funcName: 'j', step: 1 },
    });
  });

  it('the step guard ends a jump loop with STEP_LIMIT_EXCEEDED (registry default)', async () => {
    const { registry } = setup(['a', 'j'], { a: double, j: () => ({ action: actions.jump('a') }) }, 10);
    const result = await registry.run('f', { rows: SOURCE });
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      steps: 10,
      error: { code: 'STEP_LIMIT_EXCEEDED' },
    });
    expect(result.functions).toHaveLength(10);
  });

  it('a flow’s own maxSteps wins over the registry default', async () => {
    const registry = new FlowRegistry({ maxSteps: 1000 });
    registry.registerFunction(defineFunction({ name: 'j', handler: () => actions.jump('j') }));
    registry.loadConfig(kisConfig({ funcs: [func('j')], flows: [flow('f', ['j'], { maxSteps: 4 })] }));
    const result = await registry.run('f', { rows: [1] });
    expect(result).toMatchObject({ ok: false, steps: 4, error: { code: 'STEP_LIMIT_EXCEEDED' } });
  });

  it('the default step guard is 1000 steps', async () => {
    const registry = new FlowRegistry();
    registry.registerFunction(defineFunction({ name: 'j', handler: () => actions.jump('j') }));
    registry.loadConfig(kisConfig({ funcs: [func('j')], flows: [flow('f', ['j'])] }));
    const result = await registry.run('f', { rows: [1] });
    expect(result).toMatchObject({ ok: false, steps: 1000, error: { code: 'STEP_LIMIT_EXCEEDED' } });
  });

  it('a handler returning something that is not an action fails the run', async () => {
    const registry = new FlowRegistry();
    registry.registerFunction({
      name: 'bad',
      handler: () => ({ kind: 'Teleport' }) as unknown as FlowAction,
    });
    registry.loadConfig(kisConfig({ funcs: [func('bad')], flows: [flow('f', ['bad'])] }));
    const result = await registry.run('f', { rows: [1] });
    expect(result).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', funcName: 'bad' } });
  });

  it('a function may appear several times in one flow', async () => {
    const { registry, inputs } = setup(['a', 'a', 'a'], { a: double });
    const result = expectOk(await registry.run('f', { rows: [1] }));
    expect(result.output).toEqual([8]);
    expect(inputs.get('a')).toEqual([[1], [2], [4]]);
  });
});
