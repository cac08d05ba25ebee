/** Pure: protocol RunEvents → db shapes, NUL cleaning, and the Postgres error classification. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@kisjobs/protocol';
import { classify, withoutNul } from '../src/ingest/mapping.js';
import { isConnectionError, isDataError, sqlStateOf } from '../src/ingest/apply.js';

const base = {
  eventId: 'evt_01jq3v6k9e7x2m4n8p0r5s7t9w',
  runId: 'run_01jq3v6k9e7x2m4n8p0r5s7t9w',
  attempt: 2,
  instanceId: 'exe-1',
  seq: 3,
  at: '2031-01-01T00:00:01.500Z',
} as const;

describe('classify', () => {
  it('maps started to the running transition with its executor', () => {
    expect(classify({ ...base, type: 'started' })).toEqual({
      kind: 'lifecycle',
      event: { type: 'started', runId: base.runId, at: new Date(base.at), executorInstanceId: 'exe-1' },
    });
  });

  it('maps finished with its summary and error', () => {
    const event: RunEvent = {
      ...base,
      type: 'finished',
      status: 'timed_out',
      summary: [{ step: 0, funcName: 'f', mode: 'Load', rowsIn: 0, rowsOut: 3, durationMs: 9, attempts: 1 }],
      error: { code: 'TIMEOUT', message: 'took too long' },
      outputRows: 3,
    };
    expect(classify(event)).toEqual({
      kind: 'lifecycle',
      event: {
        type: 'finished',
        runId: base.runId,
        at: new Date(base.at),
        status: 'timed_out',
        summary: event.summary,
        errorCode: 'TIMEOUT',
        errorMessage: 'took too long',
        executorInstanceId: 'exe-1',
      },
    });
  });

  it('maps a log line keyed by (run, seq), and skips progress', () => {
    expect(classify({ ...base, type: 'log', level: 'warn', message: 'm', fields: { a: 1 } })).toEqual({
      kind: 'log',
      line: {
        runId: base.runId,
        seq: 3,
        at: new Date(base.at),
        level: 'warn',
        funcName: null,
        message: 'm',
        fields: { a: 1 },
      },
    });
    expect(
      classify({
        ...base,
        type: 'progress',
        summary: { step: 0, funcName: 'f', mode: 'Load', rowsIn: 0, rowsOut: 1, durationMs: 1, attempts: 1 },
      }),
    ).toEqual({ kind: 'progress' });
  });

  it('replaces NUL in every string, keys included', () => {
    expect(withoutNul({ 'k\u0000': ['a\u0000b', { c: 'd\u0000' }], n: 1 })).toEqual({
      'k\uFFFD': ['a\uFFFDb', { c: 'd\uFFFD' }],
      n: 1,
    });
  });
});

describe('Postgres error classification', () => {
  const adapterError = (cause: object) => ({
    code: 'P2010',
    meta: { driverAdapterError: { cause } },
    message: 'Raw query failed.',
  });

  it('reads the SQLSTATE from a driver adapter error or the message', () => {
    expect(sqlStateOf(adapterError({ originalCode: '22P05', kind: 'postgres' }))).toBe('22P05');
    expect(sqlStateOf(new Error('Raw query failed. Code: `23503`. Message: `fk`'))).toBe('23503');
    expect(sqlStateOf(new Error('something else'))).toBeUndefined();
  });

  it('data errors are the content’s fault; connection errors never are', () => {
    expect(isDataError(adapterError({ originalCode: '22003', kind: 'ValueOutOfRange' }))).toBe(true);
    expect(isDataError(adapterError({ originalCode: '40001' }))).toBe(false);
    expect(isConnectionError(adapterError({ kind: 'DatabaseNotReachable', host: 'h', port: 1 }))).toBe(true);
    expect(isConnectionError(adapterError({ originalCode: '57P01' }))).toBe(true);
    expect(isConnectionError(adapterError({ originalCode: '22003' }))).toBe(false);
  });
});
