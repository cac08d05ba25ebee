import {
  newId,
  type RedisPayloadInput,
  type RedisPayloadKind,
  type RunFinishedEvent,
  type RunRequest,
} from '@kisjobs/protocol';

const runId = newId('run');
const jobId = newId('job');
const at = '2026-03-01T02:00:00.000Z';

export function runRequest(overrides: Partial<RunRequest> = {}): RunRequest {
  return {
    runId,
    jobId,
    flowName: 'daily-orders',
    flow: { name: 'daily-orders', steps: [{ funcName: 'load-orders', params: {} }] },
    params: { date: '2026-02-28', 'region.code': 'eu' },
    attempt: 1,
    maxAttempts: 3,
    timeoutMs: 60_000,
    scheduledAt: at,
    triggerType: 'cron',
    triggeredBy: 'scheduler',
    shardIndex: 0,
    shardTotal: 1,
    routing: { group: 'etl', strategy: 'any' },
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    enqueuedAt: at,
    ...overrides,
  };
}

export function finishedEvent(overrides: Partial<RunFinishedEvent> = {}): RunFinishedEvent {
  return {
    type: 'finished',
    eventId: newId('evt'),
    runId,
    attempt: 1,
    instanceId: 'host-1.example.com-4123',
    seq: 7,
    at,
    status: 'failed',
    summary: [
      {
        step: 0,
        funcName: 'load-orders',
        mode: 'Load',
        rowsIn: 0,
        rowsOut: 120,
        durationMs: 35,
        attempts: 1,
      },
      {
        step: 1,
        funcName: 'sum-orders',
        mode: 'Calculate',
        rowsIn: 120,
        rowsOut: 0,
        durationMs: 4,
        attempts: 2,
        error: 'division by zero',
      },
    ],
    error: { code: 'FUNCTION_FAILED', message: 'sum-orders: division by zero' },
    outputRows: 0,
    ...overrides,
  };
}

/** One valid value per payload kind; the mapped type makes a missing kind a compile error. */
export const samples: { [K in RedisPayloadKind]: RedisPayloadInput<K> } = {
  runRequest: runRequest(),
  runEvent: finishedEvent(),
  control: { type: 'terminate', runId, reason: 'operator request', requestedBy: newId('usr'), at },
  cancelFlag: { type: 'terminate', runId, reason: 'replaced by a newer run', requestedBy: 'scheduler', at },
  registration: {
    group: 'etl',
    instanceId: 'host-1.example.com-4123',
    host: 'host-1.example.com',
    pid: 4123,
    version: '0.1.0',
    functions: ['load-orders', 'sum-orders'],
    connectorTypes: ['redis'],
    concurrency: 8,
    startedAt: at,
    token: 'kjs_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
  },
  registrationRejected: {
    group: 'etl',
    instanceId: 'host-2.example.com-77',
    host: 'host-2.example.com',
    reason: 'invalid token',
    at,
  },
  deregistration: { group: 'etl', instanceId: 'host-1.example.com-4123', reason: 'SIGTERM', at },
  executorRecord: {
    group: 'etl',
    instanceId: 'host-1.example.com-4123',
    host: 'host-1.example.com',
    pid: 4123,
    version: '0.1.0',
    functions: ['load-orders'],
    connectorTypes: [],
    concurrency: 1,
    startedAt: at,
  },
  heartbeat: {
    instanceId: 'host-1.example.com-4123',
    at,
    activeRuns: 1,
    load: 0.25,
    runIds: [runId],
    draining: false,
  },
};

/** Runs `fn` and returns what it threw; fails the test if it returned normally. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
