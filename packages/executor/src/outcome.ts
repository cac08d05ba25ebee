/**
 * Pure: how a run ended (the pool's outcome, the flow's result, why it was stopped) → the fields of its
 * `finished` event. Also converts the engine's step summaries to the protocol's FunctionSummary.
 */
import {
  MAX_ERROR_MESSAGE_CHARS,
  decodePayload,
  type ExecutorOutcome,
  type FunctionSummary,
  type RunError,
} from '@kisjobs/protocol';
import { EXECUTOR_RUN_ERROR_CODES as CODES } from '@kisjobs/protocol';
import type { FlowRunOutcome } from './flow-runner.js';
import type { StepSummary } from './run-task.js';

/** Why the executor asked a run to stop (a timeout is the pool's own stop reason). */
export type StopCause =
  | { readonly kind: 'terminate'; readonly reason: string; readonly requestedBy: string }
  | { readonly kind: 'shutdown' };

export interface FinishedFields {
  readonly status: ExecutorOutcome;
  readonly summary: FunctionSummary[];
  readonly outputRows: number;
  readonly error?: RunError;
}

export interface OutcomeContext {
  readonly outcome: FlowRunOutcome;
  readonly stopCause: StopCause | undefined;
  /** Summaries from the progress events, for runs whose thread never returned a result. */
  readonly progress: readonly StepSummary[];
  readonly timeoutMs: number;
}

export function finishedFieldsOf(ctx: OutcomeContext): FinishedFields {
  const { outcome, stopCause } = ctx;
  const fromProgress = ctx.progress.map(toFunctionSummary);
  const lastRowsOut = (summary: readonly FunctionSummary[]): number => summary.at(-1)?.rowsOut ?? 0;
  const stopped = (summary: FunctionSummary[], stopReason: 'cancelled' | 'timeout'): FinishedFields =>
    stopReason === 'timeout'
      ? {
          status: 'timed_out',
          summary,
          outputRows: lastRowsOut(summary),
          error: runError(CODES.timeout, `the run exceeded its timeout of ${ctx.timeoutMs} ms`),
        }
      : { status: 'terminated', summary, outputRows: lastRowsOut(summary), error: stopError(stopCause) };

  switch (outcome.kind) {
    case 'killed':
      return stopped(fromProgress, outcome.stopReason);
    case 'crashed':
      if (stopCause !== undefined) return stopped(fromProgress, 'cancelled');
      return {
        status: 'failed',
        summary: fromProgress,
        outputRows: lastRowsOut(fromProgress),
        error: runError(CODES.threadCrashed, `the isolation thread died under the run: ${outcome.message}`),
      };
    case 'done': {
      const output = outcome.output;
      if (output.kind === 'flow-invalid') {
        return {
          status: 'failed',
          summary: [],
          outputRows: 0,
          error: runError(CODES.flowInvalid, output.message),
        };
      }
      const summary = output.functions.map(toFunctionSummary);
      if (output.ok) return { status: 'succeeded', summary, outputRows: output.outputRows };
      // A stop request explains a failure or cancellation that came after it (the flow saw the abort).
      if (outcome.stopReason !== undefined) return stopped(summary, outcome.stopReason);
      const { code, message, funcName } = output.error;
      const named =
        funcName === undefined || message.includes(funcName) ? message : `${funcName}: ${message}`;
      return { status: 'failed', summary, outputRows: lastRowsOut(summary), error: runError(code, named) };
    }
  }
}

/** The stop cause a durable cancel flag stands for (a flag that does not decode still stops the run). */
export function cancelFlagCause(raw: string): StopCause {
  const flag = decodePayload('cancelFlag', raw);
  return flag.ok
    ? { kind: 'terminate', reason: flag.value.reason, requestedBy: flag.value.requestedBy }
    : { kind: 'terminate', reason: 'cancel flag set', requestedBy: 'unknown' };
}

/** A run stopped before it started (cancel flag found at dequeue, or a stop during the check). */
export function stoppedBeforeStart(cause: StopCause): FinishedFields {
  return { status: 'terminated', summary: [], outputRows: 0, error: stopError(cause) };
}

function stopError(cause: StopCause | undefined): RunError {
  if (cause?.kind === 'shutdown') {
    return runError(CODES.shutdown, 'executor shutdown: the run did not finish within the drain timeout');
  }
  if (cause?.kind === 'terminate')
    return runError(CODES.terminated, `terminated by ${cause.requestedBy}: ${cause.reason}`);
  return runError(CODES.terminated, 'terminated');
}

export function runError(code: string, message: string): RunError {
  return { code: code.slice(0, 100), message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) };
}

/**
 * The protocol's summary: whole milliseconds, and at least one attempt (the engine reports 0 attempts for a
 * step that failed before its handler ran, which the protocol schema does not allow yet).
 */
export function toFunctionSummary(step: StepSummary): FunctionSummary {
  const summary: FunctionSummary = {
    step: step.step,
    funcName: step.funcName.slice(0, 256),
    mode: step.mode,
    rowsIn: step.rowsIn,
    rowsOut: step.rowsOut,
    durationMs: Math.max(0, Math.round(step.durationMs)),
    attempts: step.attempts,
  };
  if (step.error !== undefined) {
    summary.error = `${step.error.code}: ${step.error.message}`.slice(0, MAX_ERROR_MESSAGE_CHARS);
  }
  return summary;
}
