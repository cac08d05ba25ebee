import { describe, expect, it } from 'vitest';
import { actions, type FlowAction } from '../src/engine/actions.js';
import {
  decide,
  runSteps,
  type Decision,
  type StepExecutor,
  type StepOutcome,
} from '../src/engine/step-loop.js';

const IN = [{ i: 1 }, { i: 2 }];
const OUT = [{ o: 1 }];
const NONE: unknown[] = [];
const firstStepOf = new Map([
  ['a', 0],
  ['b', 1],
  ['c', 2],
]);

function outcome(action: FlowAction | undefined, committed: readonly unknown[]): StepOutcome {
  return { action, input: IN, committed };
}

describe('decide (the action table)', () => {
  const cases: [string, number, StepOutcome, Decision][] = [
    ['no action, rows committed', 0, outcome(undefined, OUT), { kind: 'next', next: 1, passed: OUT }],
    [
      'no action, nothing committed',
      0,
      outcome(undefined, NONE),
      { kind: 'end', endedBy: 'no_rows', output: NONE },
    ],
    [
      'no action on the last step',
      2,
      outcome(undefined, OUT),
      { kind: 'end', endedBy: 'completed', output: OUT },
    ],
    [
      'nothing committed on the last step',
      2,
      outcome(undefined, NONE),
      { kind: 'end', endedBy: 'completed', output: NONE },
    ],
    [
      'DataReuse passes the input',
      0,
      outcome(actions.dataReuse(), OUT),
      { kind: 'next', next: 1, passed: IN },
    ],
    [
      'DataReuse on the last step outputs the input',
      2,
      outcome(actions.dataReuse(), OUT),
      { kind: 'end', endedBy: 'completed', output: IN },
    ],
    [
      'ForceEntryNext with nothing committed',
      0,
      outcome(actions.forceEntryNext(), NONE),
      { kind: 'next', next: 1, passed: NONE },
    ],
    [
      'ForceEntryNext passes the commits',
      1,
      outcome(actions.forceEntryNext(), OUT),
      { kind: 'next', next: 2, passed: OUT },
    ],
    [
      'Abort ends with the commits',
      0,
      outcome(actions.abort(), OUT),
      { kind: 'end', endedBy: 'abort_action', output: OUT },
    ],
    [
      'Abort with nothing committed',
      1,
      outcome(actions.abort(), NONE),
      { kind: 'end', endedBy: 'abort_action', output: NONE },
    ],
    [
      'JumpFunc backwards, even with no commits',
      2,
      outcome(actions.jump('a'), NONE),
      { kind: 'jump', next: 0, passed: NONE },
    ],
    ['JumpFunc forwards', 0, outcome(actions.jump('c'), OUT), { kind: 'jump', next: 2, passed: OUT }],
    [
      'JumpFunc to an unknown name',
      0,
      outcome(actions.jump('zzz'), OUT),
      { kind: 'unknown_jump', target: 'zzz' },
    ],
  ];
  it.each(cases)('%s', (_name, at, out, expected) => {
    expect(decide(at, 3, out, firstStepOf)).toEqual(expected);
  });

  it('DataReuse with an empty input ends the flow like a step that committed nothing', () => {
    const d = decide(0, 3, { action: actions.dataReuse(), input: [], committed: OUT }, firstStepOf);
    expect(d).toEqual({ kind: 'end', endedBy: 'no_rows', output: [] });
  });
});

/** An executor over scripted steps: step index -> (input, execution) -> outcome. */
function scripted(
  steps: Record<
    number,
    (input: readonly unknown[], execution: number) => { action?: FlowAction; committed: unknown[] }
  >,
  seen: { step: number; input: readonly unknown[] }[] = [],
): StepExecutor {
  return {
    async runStep(step, input, execution) {
      seen.push({ step, input });
      const run = steps[step];
      if (run === undefined) throw new Error(`no script for step ${step}`);
      const { action, committed } = run(input, execution);
      return { action, input, committed };
    },
  };
}

const spec = (names: string[], maxSteps = 100, signal = new AbortController().signal) => ({
  flowName: 'f',
  stepNames: names,
  maxSteps,
  firstStepOf: new Map(names.map((n, i) => [n, i] as const).reverse()),
  signal,
});

describe('runSteps', () => {
  it('passes each step the previous commits and returns the last', async () => {
    const seen: { step: number; input: readonly unknown[] }[] = [];
    const result = await runSteps(
      spec(['a', 'b']),
      [1, 2],
      scripted(
        {
          0: (input) => ({ committed: input.map((x) => Number(x) * 10) }),
          1: (input) => ({ committed: input.map((x) => Number(x) + 1) }),
        },
        seen,
      ),
    );
    expect(result).toEqual({ ok: true, endedBy: 'completed', output: [11, 21], steps: 2 });
    expect(seen).toEqual([
      { step: 0, input: [1, 2] },
      { step: 1, input: [10, 20] },
    ]);
  });

  it('a jump target reads its own predecessor’s last output', async () => {
    const seen: { step: number; input: readonly unknown[] }[] = [];
    const result = await runSteps(
      spec(['a', 'b', 'c']),
      ['src'],
      scripted(
        {
          0: () => ({ committed: ['a-out'] }),
          1: (_input, execution) => ({ committed: [`b-out-${execution}`] }),
          2: (_input, execution) =>
            execution < 5 ? { action: actions.jump('b'), committed: [] } : { committed: ['done'] },
        },
        seen,
      ),
    );
    expect(result).toEqual({ ok: true, endedBy: 'completed', output: ['done'], steps: 5 });
    // b always reads a's output, c reads b's latest output.
    expect(seen.map((s) => [s.step, s.input])).toEqual([
      [0, ['src']],
      [1, ['a-out']],
      [2, ['b-out-2']],
      [1, ['a-out']],
      [2, ['b-out-4']],
    ]);
  });

  it('a jump to the first step reads the source rows again', async () => {
    const seen: { step: number; input: readonly unknown[] }[] = [];
    await runSteps(
      spec(['a', 'b']),
      ['src'],
      scripted(
        {
          0: () => ({ committed: ['x'] }),
          1: (_i, execution) =>
            execution === 2 ? { action: actions.jump('a'), committed: ['y'] } : { committed: [] },
        },
        seen,
      ),
    );
    expect(seen[2]).toEqual({ step: 0, input: ['src'] });
  });

  it('a forward jump over a step that never ran gives the target an empty input', async () => {
    const seen: { step: number; input: readonly unknown[] }[] = [];
    await runSteps(
      spec(['a', 'b', 'c']),
      ['src'],
      scripted(
        { 0: () => ({ action: actions.jump('c'), committed: ['x'] }), 2: () => ({ committed: [1] }) },
        seen,
      ),
    );
    expect(seen).toEqual([
      { step: 0, input: ['src'] },
      { step: 2, input: [] },
    ]);
  });

  it('the step guard fails an endless jump loop after maxSteps executions', async () => {
    let executions = 0;
    const result = await runSteps(
      spec(['a', 'b'], 7),
      ['src'],
      scripted({
        0: () => (executions++, { committed: ['x'] }),
        1: () => (executions++, { action: actions.jump('a'), committed: [] }),
      }),
    );
    expect(executions).toBe(7);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.steps).toBe(7);
    expect(result.error.code).toBe('STEP_LIMIT_EXCEEDED');
    expect(result.error.funcName).toBe('b');
  });

  it('checks the signal before every step, not during one', async () => {
    const controller = new AbortController();
    const seen: { step: number; input: readonly unknown[] }[] = [];
    const result = await runSteps(
      spec(['a', 'b', 'c'], 100, controller.signal),
      ['src'],
      scripted(
        {
          0: () => ({ committed: ['x'] }),
          1: () => {
            controller.abort();
            return { committed: ['y'] };
          },
          2: () => ({ committed: ['z'] }),
        },
        seen,
      ),
    );
    expect(seen.map((s) => s.step)).toEqual([0, 1]);
    expect(result).toMatchObject({ ok: false, steps: 2, error: { code: 'CANCELLED', step: 2 } });
  });

  it('an already-aborted signal runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runSteps(spec(['a'], 100, controller.signal), [1], scripted({}));
    expect(result).toMatchObject({ ok: false, steps: 0, error: { code: 'CANCELLED' } });
  });

  it('an unknown jump target fails the run and names the jumping function', async () => {
    const result = await runSteps(
      spec(['a', 'b']),
      [1],
      scripted({ 0: () => ({ action: actions.jump('nope'), committed: [1] }) }),
    );
    expect(result).toMatchObject({
      ok: false,
      steps: 1,
      error: { code: 'UNKNOWN_JUMP_TARGET', funcName: 'a', step: 0 },
    });
  });

  it('wraps a non-FlowError from the executor as FUNCTION_FAILED', async () => {
    const result = await runSteps(spec(['a']), [1], { runStep: () => Promise.reject(new Error('boom')) });
    expect(result).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', funcName: 'a' } });
  });

  it('a flow with no steps outputs its source rows', async () => {
    expect(await runSteps(spec([]), [1, 2], scripted({}))).toEqual({
      ok: true,
      endedBy: 'completed',
      output: [1, 2],
      steps: 0,
    });
  });
});
