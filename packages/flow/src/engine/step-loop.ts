/**
 * The step loop: the pure core of a run. `decide` maps one step's outcome to what happens next (a table of
 * the KisFlow actions); `runSteps` drives the steps through an injected executor, keeps the last output of
 * each step for JumpFunc, checks cancellation between functions and enforces the step guard. No I/O, no
 * registry, no clock: everything it touches comes in through its arguments.
 */
import type { FlowAction } from './actions.js';
import {
  CancelledError,
  FlowError,
  FunctionFailedError,
  StepLimitExceededError,
  UnknownJumpTargetError,
  assertNever,
  messageOf,
} from './errors.js';
import type { EndedBy } from './types.js';

export interface StepOutcome {
  readonly action: FlowAction | undefined;
  /** The rows the step received (what DataReuse passes on). */
  readonly input: readonly unknown[];
  readonly committed: readonly unknown[];
}

export type Decision =
  /** Go on at `next`, which reads `passed` (the step right after this one). */
  | { readonly kind: 'next'; readonly next: number; readonly passed: readonly unknown[] }
  /** JumpFunc: go on at `next`, which reads its own predecessor's last output. */
  | { readonly kind: 'jump'; readonly next: number; readonly passed: readonly unknown[] }
  | { readonly kind: 'end'; readonly endedBy: EndedBy; readonly output: readonly unknown[] }
  | { readonly kind: 'unknown_jump'; readonly target: string };

/** What happens after step `at` (of `stepCount`) ended with `outcome`. */
export function decide(
  at: number,
  stepCount: number,
  outcome: StepOutcome,
  firstStepOf: ReadonlyMap<string, number>,
): Decision {
  const action = outcome.action;
  const isLast = at + 1 >= stepCount;
  if (action === undefined) return sequential(at, isLast, outcome.committed, false);
  switch (action.kind) {
    case 'DataReuse':
      return sequential(at, isLast, outcome.input, false);
    case 'ForceEntryNext':
      return sequential(at, isLast, outcome.committed, true);
    case 'Abort':
      return { kind: 'end', endedBy: 'abort_action', output: outcome.committed };
    case 'JumpFunc': {
      const next = firstStepOf.get(action.target);
      if (next === undefined) return { kind: 'unknown_jump', target: action.target };
      return { kind: 'jump', next, passed: outcome.committed };
    }
    default:
      return assertNever(action);
  }
}

function sequential(at: number, isLast: boolean, passed: readonly unknown[], force: boolean): Decision {
  if (isLast) return { kind: 'end', endedBy: 'completed', output: passed };
  if (passed.length === 0 && !force) return { kind: 'end', endedBy: 'no_rows', output: passed };
  return { kind: 'next', next: at + 1, passed };
}

export interface StepLoopSpec {
  readonly flowName: string;
  /** The function name of each step. */
  readonly stepNames: readonly string[];
  readonly maxSteps: number;
  readonly firstStepOf: ReadonlyMap<string, number>;
  readonly signal: AbortSignal | undefined;
}

export interface StepExecutor {
  /** Runs one step; throws a FlowError to fail the run. `execution` counts from 1 across the run. */
  runStep(step: number, input: readonly unknown[], execution: number): Promise<StepOutcome>;
}

export type LoopResult =
  | {
      readonly ok: true;
      readonly endedBy: EndedBy;
      readonly output: readonly unknown[];
      readonly steps: number;
    }
  | { readonly ok: false; readonly error: FlowError; readonly steps: number };

export async function runSteps(
  spec: StepLoopSpec,
  source: readonly unknown[],
  executor: StepExecutor,
): Promise<LoopResult> {
  const stepCount = spec.stepNames.length;
  if (stepCount === 0) return { ok: true, endedBy: 'completed', output: source, steps: 0 };
  const lastOutput: (readonly unknown[] | undefined)[] = new Array<readonly unknown[] | undefined>(stepCount);
  let at = 0;
  let input = source;
  let steps = 0;
  for (;;) {
    if (spec.signal?.aborted === true) {
      const error = new CancelledError(`run of flow "${spec.flowName}" cancelled before step ${at}`, {
        step: at,
        cause: spec.signal.reason,
      });
      return { ok: false, error, steps };
    }
    if (steps >= spec.maxSteps) {
      const error = new StepLimitExceededError(
        `flow "${spec.flowName}" exceeded its step limit of ${spec.maxSteps} executed steps (a JumpFunc loop?)`,
        { step: at, funcName: spec.stepNames[at] },
      );
      return { ok: false, error, steps };
    }
    steps++;
    let outcome: StepOutcome;
    try {
      outcome = await executor.runStep(at, input, steps);
    } catch (err) {
      const error =
        err instanceof FlowError
          ? err
          : new FunctionFailedError(`step ${at} failed: ${messageOf(err)}`, {
              step: at,
              funcName: spec.stepNames[at],
              cause: err,
            });
      return { ok: false, error, steps };
    }
    const decision = decide(at, stepCount, outcome, spec.firstStepOf);
    switch (decision.kind) {
      case 'end':
        return { ok: true, endedBy: decision.endedBy, output: decision.output, steps };
      case 'unknown_jump': {
        const error = new UnknownJumpTargetError(
          `function "${spec.stepNames[at] ?? '?'}" (step ${at}) jumps to "${decision.target}", which is not in flow "${spec.flowName}"`,
          { step: at, funcName: spec.stepNames[at] },
        );
        return { ok: false, error, steps };
      }
      case 'next':
        lastOutput[at] = decision.passed;
        input = decision.passed;
        at = decision.next;
        break;
      case 'jump':
        lastOutput[at] = decision.passed;
        at = decision.next;
        input = at === 0 ? source : (lastOutput[at - 1] ?? []);
        break;
      default:
        return assertNever(decision);
    }
  }
}
