/**
 * The executor's observer (in process): told of each run's start and end with its flow, status and
 * duration, including a run terminated before it started (no duration); an observer that throws is logged
 * and never breaks the run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import type { Executor, RunFinishedEvent, RunStartedEvent } from '../src/index.js';
import { startInProcess, type LogLine } from './support/executors.js';
import { SchedulerSide, newToken, runRequest } from './support/scheduler-side.js';

let redis: TestRedis | undefined;
let side: SchedulerSide | undefined;
let executor: Executor | undefined;

afterEach(async () => {
  await executor?.close();
  await side?.close();
  await redis?.close();
  [executor, side, redis] = [undefined, undefined, undefined];
});

async function setup(observer: object): Promise<{ side: SchedulerSide; logs: LogLine[] }> {
  redis = await useTestRedis('exec-observer');
  side = new SchedulerSide(redis.client, redis.prefix);
  const token = newToken();
  await side.seedToken(token);
  const started = await startInProcess({ redisUrl: redis.url, prefix: redis.prefix, token }, { observer });
  executor = started.executor;
  return { side, logs: started.logs };
}

describe('executor observer', () => {
  it('hears each run start and end, with flow, status and duration', async () => {
    const starts: RunStartedEvent[] = [];
    const ends: RunFinishedEvent[] = [];
    const { side } = await setup({
      runStarted: (e: RunStartedEvent) => void starts.push(e),
      runFinished: (e: RunFinishedEvent) => void ends.push(e),
    });
    const ok = await side.enqueue(runRequest('etl', { attempt: 2, maxAttempts: 3 }));
    const bad = await side.enqueue(runRequest('throw'));
    const cancelled = runRequest('etl');
    await side.setCancelFlag(cancelled.runId);
    await side.enqueue(cancelled);
    for (const r of [ok, bad, cancelled]) await side.finished(r.runId);

    expect(starts).toEqual(
      expect.arrayContaining([
        { runId: ok.runId, flow: 'etl', attempt: 2, waitedMs: expect.any(Number) },
        { runId: bad.runId, flow: 'throw', attempt: 1, waitedMs: expect.any(Number) },
      ]),
    );
    expect(starts).toHaveLength(2);
    // From ready in the queue to started: not negative, and not longer than the test has been running.
    for (const e of starts) expect(e.waitedMs).toBeGreaterThanOrEqual(0);
    for (const e of starts) expect(e.waitedMs).toBeLessThan(30_000);
    const byRun = new Map(ends.map((e) => [e.runId, e]));
    expect(byRun.get(ok.runId)).toMatchObject({ flow: 'etl', status: 'succeeded' });
    expect(byRun.get(ok.runId)?.durationMs).toBeGreaterThanOrEqual(0);
    expect(byRun.get(bad.runId)).toMatchObject({ flow: 'throw', status: 'failed' });
    expect(byRun.get(cancelled.runId)).toEqual({
      runId: cancelled.runId,
      flow: 'etl',
      status: 'terminated',
      durationMs: undefined,
    });
  });

  it('logs an observer that throws, and the run goes on', async () => {
    const { side, logs } = await setup({
      runStarted: () => {
        throw new Error('observer bug');
      },
    });
    const request = await side.enqueue(runRequest('etl'));
    expect((await side.finished(request.runId)).status).toBe('succeeded');
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'executor observer failed', hook: 'runStarted' }),
    );
  });

  it('refuses an observer whose hooks are not functions', async () => {
    await expect(setup({ runStarted: 'yes' })).rejects.toThrow(/observer/);
  });
});
