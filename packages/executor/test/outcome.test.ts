import { describe, expect, it } from 'vitest';
import { encodePayload, newId } from '@kisjobs/protocol';
import {
  finishedFieldsOf,
  type FinishedFields,
  type OutcomeContext,
  type StopCause,
} from '../src/outcome.js';
import type { StepSummary } from '../src/run-task.js';

const step = (i: number, funcName: string, extra: Partial<StepSummary> = {}): StepSummary => ({
  step: i,
  funcName,
  mode: 'Calculate',
  rowsIn: 2,
  rowsOut: 3,
  durationMs: 1.6,
  attempts: 1,
  ...extra,
});
const steps = [step(0, 'Load', { mode: 'Load', rowsIn: 1 }), step(1, 'Sum', { rowsOut: 1 })];
const terminate: StopCause = { kind: 'terminate', reason: 'not needed', requestedBy: 'usr_1' };
const flowError = {
  code: 'FUNCTION_FAILED' as const,
  message: 'step 1 failed: boom',
  funcName: 'Sum',
  step: 1,
};

const cases: readonly [string, Omit<OutcomeContext, 'timeoutMs'>, Partial<FinishedFields>][] = [
  [
    'a flow that succeeded',
    {
      outcome: { kind: 'done', output: { kind: 'flow', ok: true, functions: steps, outputRows: 7 } },
      stopCause: undefined,
      progress: [],
    },
    { status: 'succeeded', outputRows: 7 },
  ],
  [
    'a flow that succeeded although a stop came in as it finished',
    {
      outcome: {
        kind: 'done',
        output: { kind: 'flow', ok: true, functions: steps, outputRows: 7 },
        stopReason: 'cancelled',
      },
      stopCause: terminate,
      progress: [],
    },
    { status: 'succeeded', outputRows: 7 },
  ],
  [
    'a flow that failed on its own, its function named',
    {
      outcome: {
        kind: 'done',
        output: { kind: 'flow', ok: false, status: 'failed', error: flowError, functions: steps },
      },
      stopCause: undefined,
      progress: [],
    },
    {
      status: 'failed',
      outputRows: 1,
      error: { code: 'FUNCTION_FAILED', message: 'Sum: step 1 failed: boom' },
    },
  ],
  [
    'a flow cancelled by a terminate',
    {
      outcome: {
        kind: 'done',
        output: {
          kind: 'flow',
          ok: false,
          status: 'cancelled',
          error: { code: 'CANCELLED', message: 'x' },
          functions: steps,
        },
        stopReason: 'cancelled',
      },
      stopCause: terminate,
      progress: [],
    },
    { status: 'terminated', error: { code: 'TERMINATED', message: 'terminated by usr_1: not needed' } },
  ],
  [
    'a flow cancelled by its timeout',
    {
      outcome: {
        kind: 'done',
        output: {
          kind: 'flow',
          ok: false,
          status: 'cancelled',
          error: { code: 'CANCELLED', message: 'x' },
          functions: steps,
        },
        stopReason: 'timeout',
      },
      stopCause: undefined,
      progress: [],
    },
    { status: 'timed_out', error: { code: 'TIMEOUT', message: 'the run exceeded its timeout of 5000 ms' } },
  ],
  [
    'an invalid flow config',
    {
      outcome: { kind: 'done', output: { kind: 'flow-invalid', message: 'flow.funcs: bad' } },
      stopCause: undefined,
      progress: steps,
    },
    {
      status: 'failed',
      summary: [],
      outputRows: 0,
      error: { code: 'FLOW_INVALID', message: 'flow.funcs: bad' },
    },
  ],
  [
    'a thread killed at its timeout',
    { outcome: { kind: 'killed', stopReason: 'timeout' }, stopCause: undefined, progress: steps },
    { status: 'timed_out', outputRows: 1 },
  ],
  [
    'a thread killed after a terminate',
    { outcome: { kind: 'killed', stopReason: 'cancelled' }, stopCause: terminate, progress: [] },
    { status: 'terminated', summary: [], outputRows: 0 },
  ],
  [
    'a thread killed at shutdown',
    { outcome: { kind: 'killed', stopReason: 'cancelled' }, stopCause: { kind: 'shutdown' }, progress: [] },
    {
      status: 'terminated',
      error: {
        code: 'EXECUTOR_SHUTDOWN',
        message: 'executor shutdown: the run did not finish within the drain timeout',
      },
    },
  ],
  [
    'a thread that crashed',
    { outcome: { kind: 'crashed', message: 'out of memory' }, stopCause: undefined, progress: steps },
    {
      status: 'failed',
      error: {
        code: 'EXECUTOR_THREAD_CRASHED',
        message: 'the isolation thread died under the run: out of memory',
      },
    },
  ],
  [
    'a thread that died while being stopped at shutdown',
    {
      outcome: { kind: 'crashed', message: 'thread pool closed' },
      stopCause: { kind: 'shutdown' },
      progress: [],
    },
    { status: 'terminated' },
  ],
];

describe('finished event fields from how a run ended', () => {
  it.each(cases)('%s', (_name, ctx, expected) => {
    const fields = finishedFieldsOf({ ...ctx, timeoutMs: 5_000 });
    expect(fields).toMatchObject(expected);
    expect(fields.error === undefined).toBe(fields.status === 'succeeded');
    // Every outcome makes a valid protocol event.
    const event = {
      type: 'finished',
      eventId: newId('evt'),
      runId: newId('run'),
      attempt: 1,
      instanceId: 'h-1',
      seq: 3,
      at: new Date().toISOString(),
      ...fields,
    } as const;
    expect(() => encodePayload('runEvent', event)).not.toThrow();
  });

  it('converts step summaries to the protocol form: whole milliseconds, attempts as reported (0 = failed before its handler), error text', () => {
    const fields = finishedFieldsOf({
      outcome: { kind: 'killed', stopReason: 'timeout' },
      stopCause: undefined,
      progress: [
        step(0, 'Load', {
          durationMs: 12.5,
          attempts: 0,
          error: { code: 'SOURCE_MUST_MISSING', message: 'no id' },
        }),
      ],
      timeoutMs: 1,
    });
    expect(fields.summary).toEqual([
      {
        step: 0,
        funcName: 'Load',
        mode: 'Calculate',
        rowsIn: 2,
        rowsOut: 3,
        durationMs: 13,
        attempts: 0,
        error: 'SOURCE_MUST_MISSING: no id',
      },
    ]);
  });
});
