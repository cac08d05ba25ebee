import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FlowRegistry, actions, defineFunction, type FlowRunResult } from '../src/index.js';
import { flow, func, kisConfig } from './support/config-builders.js';

interface Row {
  readonly run: number;
  readonly v: number;
}

/**
 * A flow that yields to the event loop inside every function, so concurrent runs interleave at every
 * step, and that uses every kind of per-run state: commits, DataReuse, a jump loop counted in ctx.meta.
 */
function concurrentRegistry(onStep?: (runNo: number, funcName: string) => void) {
  const registry = new FlowRegistry();
  const step = (
    name: string,
    body: (rows: readonly Row[], meta: Map<string, unknown>) => ReturnType<typeof actions.abort> | void,
    commit: (r: Row) => Row | undefined,
  ) =>
    defineFunction({
      name,
      handler: async (ctx) => {
        const rows = ctx.rows as readonly Row[];
        onStep?.(Number(ctx.meta.get('run')), name);
        await yieldToLoop();
        for (const r of rows) {
          const out = commit(r);
          if (out !== undefined) ctx.commit(out);
          await (r.v % 3 === 0 ? yieldToLoop() : undefined);
        }
        return body(rows, ctx.meta) ?? undefined;
      },
    });
  registry.registerFunction(
    step(
      'Verify',
      () => undefined,
      (r) => (r.v % 5 === 0 ? undefined : r),
    ),
  );
  registry.registerFunction(
    step(
      'Calc',
      () => undefined,
      (r) => ({ run: r.run, v: r.v * 3 }),
    ),
  );
  registry.registerFunction(
    step(
      'Reuse',
      () => actions.dataReuse(),
      (r) => ({ run: -1, v: r.v }),
    ),
  );
  registry.registerFunction(
    step(
      'Loop',
      (_rows, meta) => {
        const laps = Number(meta.get('laps') ?? 0) + 1;
        meta.set('laps', laps);
        return laps < 3 ? actions.jump('Calc') : undefined;
      },
      (r) => ({ run: r.run, v: r.v + 1 }),
    ),
  );
  registry.loadConfig(
    kisConfig({
      funcs: ['Verify', 'Calc', 'Reuse', 'Loop'].map((n) => func(n, { must: ['run', 'v'] })),
      flows: [flow('f', ['Verify', 'Calc', 'Reuse', 'Loop'])],
    }),
  );
  return registry;
}

const rowsFor = (runNo: number): Row[] =>
  Array.from({ length: 20 }, (_, i) => ({ run: runNo, v: runNo * 100 + i }));

function comparable(result: FlowRunResult) {
  if (!result.ok) return { ok: false, code: result.error.code };
  return {
    ok: true,
    endedBy: result.endedBy,
    output: result.output,
    steps: result.steps,
    functions: result.functions.map((f) => [f.step, f.funcName, f.rowsIn, f.rowsOut, f.attempts, f.action]),
  };
}

describe('concurrent runs', () => {
  it('100 concurrent runs of one flow give the same results as sequential runs', async () => {
    const sequentialRegistry = concurrentRegistry();
    const sequential: ReturnType<typeof comparable>[] = [];
    for (let n = 0; n < 100; n++) {
      sequential.push(
        comparable(await sequentialRegistry.run('f', { rows: rowsFor(n), metadata: { run: n } })),
      );
    }
    const concurrentReg = concurrentRegistry();
    const concurrent = await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        concurrentReg.run('f', { rows: rowsFor(n), metadata: { run: n } }),
      ),
    );
    expect(concurrent.map(comparable)).toEqual(sequential);
    // sanity: the flow did real work, through the jump loop (4 + 2 laps of 3 steps)
    expect(sequential[7]).toMatchObject({ ok: true, endedBy: 'completed', steps: 10 });
    const out = concurrent[7]?.ok ? (concurrent[7].output as Row[]) : [];
    expect(out).toHaveLength(16);
    expect(out.every((r) => r.run === 7)).toBe(true);
  });

  it('aborting one of 100 concurrent runs stops it between functions; the other 99 succeed', async () => {
    const controllers = Array.from({ length: 100 }, () => new AbortController());
    const victim = 42;
    const victimSteps: string[] = [];
    const registry = concurrentRegistry((runNo, funcName) => {
      if (runNo !== victim) return;
      victimSteps.push(funcName);
      if (funcName === 'Calc') controllers[victim]?.abort(new Error('operator terminated the run'));
    });
    const results = await Promise.all(
      controllers.map((c, n) =>
        registry.run('f', { rows: rowsFor(n), metadata: { run: n }, signal: c.signal }),
      ),
    );
    const victimResult = results[victim];
    expect(victimResult).toMatchObject({
      ok: false,
      status: 'cancelled',
      error: { code: 'CANCELLED', step: 2 },
    });
    // Calc (running when the abort came) finished; nothing after it started.
    expect(victimSteps).toEqual(['Verify', 'Calc']);
    expect(victimResult?.functions.map((f) => f.funcName)).toEqual(['Verify', 'Calc']);
    const others = results.filter((_, n) => n !== victim);
    expect(others).toHaveLength(99);
    expect(others.every((r) => r.ok && r.endedBy === 'completed')).toBe(true);
  });
});
