import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RunEvent, RunFinishedEvent } from '@kisjobs/protocol';
import { useTestRedis, waitFor, type TestRedis } from '@kisjobs/testing';
import type { Executor } from '../src/index.js';
import { startInProcess } from './support/executors.js';
import { SchedulerSide, newToken, runRequest } from './support/scheduler-side.js';

let redis: TestRedis;
let side: SchedulerSide;
let executor: Executor;

async function setup(concurrency: number): Promise<void> {
  const token = newToken();
  await side.seedToken(token);
  ({ executor } = await startInProcess({ redisUrl: redis.url, prefix: redis.prefix, token, concurrency }));
}

beforeEach(async () => {
  redis = await useTestRedis('exec-runs');
  side = new SchedulerSide(redis.client, redis.prefix);
});

afterEach(async () => {
  await executor?.close();
  await side.close();
  await redis.close();
});

const types = (events: readonly RunEvent[]): string[] => events.map((e) => e.type);

describe('running flows', () => {
  it('runs a flow end to end: started, log lines, progress per function, finished with the summary', async () => {
    await setup(2);
    const request = runRequest('etl', { params: { rows: '4' }, attempt: 2, maxAttempts: 3 });
    const tail = new Redis(redis.url);
    const tailed: string[] = [];
    tail.on('message', (_channel: string, message: string) => void tailed.push(message));
    await tail.subscribe(side.ks.liveLogChannel(request.runId));

    await side.enqueue(request);
    const finished = await side.finished(request.runId);
    const events = await side.events(request.runId);

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const e of events)
      expect(e).toMatchObject({ runId: request.runId, attempt: 2, instanceId: executor.instanceId });
    expect(events[0]?.type).toBe('started');
    expect(events.at(-1)?.type).toBe('finished');
    expect(types(events).filter((t) => t === 'progress')).toHaveLength(4);
    const logs = events.filter((e) => e.type === 'log');
    expect(logs.map((l) => [l.funcName, l.message])).toEqual([
      ['Source', 'emitting 4 rows'],
      ['Log', 'log line 0'],
      ['Log', 'log line 1'],
    ]);
    expect(logs[1]).toMatchObject({ level: 'info', fields: { line: 0, step: 1 } });

    expect(finished).toMatchObject({ status: 'succeeded', outputRows: 1 });
    expect(finished.error).toBeUndefined();
    expect(
      finished.summary.map((s) => [s.step, s.funcName, s.mode, s.rowsIn, s.rowsOut, s.attempts]),
    ).toEqual([
      [0, 'Source', 'Load', 1, 4, 1],
      [1, 'Log', 'Calculate', 4, 4, 1],
      [2, 'Double', 'Calculate', 4, 4, 1],
      [3, 'Count', 'Save', 4, 1, 1],
    ]);
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.summary);
    expect(progress).toEqual(finished.summary);

    await waitFor(() => tailed.length === 3, { timeoutMs: 2_000 });
    expect(tailed.map((m) => (JSON.parse(m) as { message: string }).message)).toEqual([
      'emitting 4 rows',
      'log line 0',
      'log line 1',
    ]);
    tail.disconnect();
  });

  it('consumes its direct queue as well as the group queue', async () => {
    await setup(1);
    const request = await side.enqueue(runRequest('etl'), { instanceId: executor.instanceId });
    expect((await side.finished(request.runId)).status).toBe('succeeded');
  });

  it('reports a function that throws as failed, with its code and message', async () => {
    await setup(1);
    const request = await side.enqueue(runRequest('throw'));
    const finished = await side.finished(request.runId);
    expect(finished.status).toBe('failed');
    expect(finished.error?.code).toBe('FUNCTION_FAILED');
    expect(finished.error?.message).toContain('the data is bad');
    expect(finished.error?.message).toContain('Throw');
    expect(finished.summary.map((s) => [s.funcName, s.error === undefined])).toEqual([
      ['Source', true],
      ['Throw', false],
    ]);
  });

  it('fails a run whose thread dies under it, and keeps serving on a new thread', async () => {
    await setup(1);
    const request = await side.enqueue(runRequest('exit'));
    const finished = await side.finished(request.runId);
    expect(finished.status).toBe('failed');
    expect(finished.error?.code).toBe('EXECUTOR_THREAD_CRASHED');
    expect(finished.error?.message).toContain('exited with code 3');
    expect(finished.summary.map((s) => s.funcName)).toEqual(['Source']);
    const next = await side.enqueue(runRequest('etl'));
    expect((await side.finished(next.runId)).status).toBe('succeeded');
  });

  it('ends a run that outlives its timeout as timed_out, cooperative or stuck', async () => {
    await setup(2);
    const sleeping = await side.enqueue(runRequest('sleep', { params: { ms: '20000' }, timeoutMs: 400 }));
    const spinning = await side.enqueue(runRequest('spin', { timeoutMs: 400 }));
    for (const request of [sleeping, spinning]) {
      const finished = await side.finished(request.runId, 5_000);
      expect(finished.status).toBe('timed_out');
      expect(finished.error).toEqual({ code: 'TIMEOUT', message: 'the run exceeded its timeout of 400 ms' });
    }
    // The spin flow's first function completed before the stuck one: its summary survives the kill.
    expect((await side.finished(spinning.runId)).summary.map((s) => s.funcName)).toEqual(['Source']);
  });

  it('terminates a cooperative and a stuck run within 2 s while another run on the executor completes', async () => {
    await setup(3);
    const cooperative = await side.enqueue(runRequest('sleep', { params: { ms: '60000' } }));
    const stuck = await side.enqueue(runRequest('spin'));
    const other = await side.enqueue(runRequest('slow'));
    await side.waitForEvent(cooperative.runId, 'started');
    await side.waitForEvent(stuck.runId, 'progress'); // Source done: Spin is spinning now
    await side.waitForEvent(other.runId, 'started');

    const sentAt = Date.now();
    await side.terminate(cooperative.runId, 'no longer needed');
    await side.terminate(stuck.runId, 'stuck');
    const [a, b] = await Promise.all([
      side.finished(cooperative.runId, 5_000),
      side.finished(stuck.runId, 5_000),
    ]);
    for (const finished of [a, b]) {
      expect(finished.status).toBe('terminated');
      expect(Date.parse(finished.at) - sentAt).toBeLessThan(2_000);
    }
    expect(a.error).toEqual({ code: 'TERMINATED', message: 'terminated by usr_test: no longer needed' });
    expect(b.error).toEqual({ code: 'TERMINATED', message: 'terminated by usr_test: stuck' });

    const done = await side.finished(other.runId, 10_000);
    expect(done.status).toBe('succeeded');
    expect(done.summary).toHaveLength(3);
    expect(executor.stats().threadsReplaced).toBe(1); // the stuck thread was killed; the cooperative one ended itself

    // Healthy afterwards: a new run on the replaced thread succeeds.
    const after = await side.enqueue(runRequest('etl'));
    expect((await side.finished(after.runId)).status).toBe('succeeded');
  });

  it('kills a run that ignores its stop signal after the grace period', async () => {
    await setup(1);
    const request = await side.enqueue(runRequest('stubborn', { params: { ms: '30000' } }));
    await side.waitForEvent(request.runId, 'started');
    const sentAt = Date.now();
    await side.terminate(request.runId);
    const finished = await side.finished(request.runId, 5_000);
    expect(finished.status).toBe('terminated');
    expect(Date.parse(finished.at) - sentAt).toBeLessThan(2_000);
  });

  it('terminates without running a run whose cancel flag was set before it was dequeued', async () => {
    await setup(1);
    const request = runRequest('etl');
    await side.setCancelFlag(request.runId, 'cancelled while queued');
    await side.enqueue(request);
    const finished = await side.finished(request.runId);
    expect(finished).toMatchObject({
      status: 'terminated',
      seq: 0,
      summary: [],
      outputRows: 0,
      error: { code: 'TERMINATED', message: 'terminated by usr_test: cancelled while queued' },
    });
    expect(types(await side.events(request.runId))).toEqual(['finished']);
  });

  it('fails an invalid run request with PAYLOAD_INVALID naming the fields, and keeps serving', async () => {
    await setup(1);
    const bad = { ...runRequest('etl'), timeoutMs: 'soon', flowName: undefined, attempt: 2 };
    await side.enqueueRaw(bad, bad.runId);
    const finished = await side.finished(bad.runId);
    expect(finished).toMatchObject({
      status: 'failed',
      attempt: 2,
      seq: 0,
      error: { code: 'PAYLOAD_INVALID' },
    });
    expect(finished.error?.message).toMatch(/^invalid run request: /);
    expect(finished.error?.message).toContain('flowName');
    expect(finished.error?.message).toContain('timeoutMs');

    // No run id anywhere: the raw entry goes to the dead-letter stream.
    await side.enqueueRaw({ hello: 'world' }, 'not-a-run-id');
    const dead = await waitFor(async () => (await side.entries(side.ks.deadLetterStream()))[0]);
    expect(dead.fields).toMatchObject({
      kind: 'runRequest',
      payload: '{"hello":"world"}',
      jobId: 'not-a-run-id',
    });
    expect(dead.fields['error']).toContain('runId');

    const good = await side.enqueue(runRequest('etl'));
    expect((await side.finished(good.runId)).status).toBe('succeeded');
  });

  it('fails a run whose flow config is invalid with FLOW_INVALID naming the field', async () => {
    await setup(1);
    const request = runRequest('etl', {
      flow: { funcs: { Source: { kind: 'func', name: 'Source', mode: 'Transmogrify' } }, flows: {} },
    });
    await side.enqueue(request);
    const finished = await side.finished(request.runId);
    expect(finished.status).toBe('failed');
    expect(finished.error?.code).toBe('FLOW_INVALID');
    expect(finished.error?.message).toContain('flow.funcs.Source.mode');
  });

  it('fails a run naming a flow its config does not hold with FLOW_NOT_FOUND', async () => {
    await setup(1);
    const request = await side.enqueue(runRequest('etl', { flowName: 'nightly' }));
    const finished = await side.finished(request.runId);
    expect(finished.error?.code).toBe('FLOW_NOT_FOUND');
  });

  it('initialises a connector once per thread and reuses it across runs', async () => {
    await setup(1);
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      const request = await side.enqueue(runRequest('probe'));
      const finished: RunFinishedEvent = await side.finished(request.runId);
      expect(finished.status).toBe('succeeded');
      const log = (await side.events(request.runId)).find((e) => e.type === 'log');
      messages.push(log?.type === 'log' ? log.message : '');
    }
    expect(messages).toEqual(['connector init 1', 'connector init 1', 'connector init 1']);
  });

  it('lists the runs it holds in its heartbeat', async () => {
    await setup(2);
    const request = await side.enqueue(runRequest('sleep', { params: { ms: '3000' } }));
    await side.waitForEvent(request.runId, 'started');
    await waitFor(async () => {
      const raw = await redis.client.get(side.ks.heartbeat(executor.instanceId));
      return raw !== null && (JSON.parse(raw) as { runIds: string[] }).runIds.includes(request.runId);
    });
    expect(executor.stats().runIds).toEqual([request.runId]);
    await side.finished(request.runId);
    await waitFor(() => executor.stats().runIds.length === 0);
  });
});
