import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRunEvents } from '@kisjobs/db';
import { RunRequest } from '@kisjobs/protocol';
import { dispatchEnv, type DispatchEnv } from './support/dispatch-env.js';

let env: DispatchEnv;
beforeAll(async () => {
  env = await dispatchEnv('disp-follow');
  env.directory.add('exe-a', 1_000);
  env.directory.add('exe-b', 2_000);
  env.directory.add('exe-c', 3_000);
});
afterAll(async () => env?.close());

const manual = { triggerType: 'manual', triggeredBy: 'usr_test' } as const;

async function end(
  runId: string,
  status: 'succeeded' | 'failed' | 'timed_out',
  instanceId = 'exe-a',
): Promise<void> {
  const at = new Date();
  await applyRunEvents(env.prisma, [
    { type: 'started', runId, at, executorInstanceId: instanceId },
    {
      type: 'finished',
      runId,
      at,
      status,
      ...(status === 'succeeded' ? {} : { errorCode: 'X', errorMessage: 'x' }),
    },
  ]);
}

describe('retries', () => {
  it('a failed run with attempts left gets one retry (attempt 2, trigger retry, parent set), delayed, on another executor', async () => {
    const jobId = await env.job({
      routing: { strategy: 'failover' },
      retry: { attempts: 2, delayMs: 60_000 },
    });
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const first = runIds[0] ?? '';
    await end(first, 'failed', 'exe-a');
    await env.dispatcher.handleFinalized([{ runId: first }]);
    await env.dispatcher.handleFinalized([{ runId: first }]); // at-least-once: a repeat is a no-op
    const runs = await env.runsOf(jobId);
    expect(runs).toHaveLength(2);
    const retry = runs.find((r) => r.id !== first);
    expect(retry).toMatchObject({
      attempt: 2,
      maxAttempts: 3,
      triggerType: 'retry',
      parentRunId: first,
      status: 'pending',
    });
    // Failover would pick exe-a again; the retry avoids the executor it failed on.
    expect(retry?.targetQueue).toBe('exe.exe-b');
    const job = await env.queue('exe.exe-b').getJob(retry?.id ?? '');
    expect(await job?.getState()).toBe('delayed');
    expect(RunRequest.parse(job?.data)).toMatchObject({ attempt: 2, maxAttempts: 3, triggerType: 'retry' });
    expect(retry?.scheduledAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('timed_out retries too; the last attempt ends without one; succeeded and terminated never retry', async () => {
    const jobId = await env.job({ retry: { attempts: 1, delayMs: 0 } });
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    await end(runIds[0] ?? '', 'timed_out');
    await env.dispatcher.handleFinalized([{ runId: runIds[0] ?? '' }]);
    const retry = (await env.runsOf(jobId)).find((r) => r.attempt === 2);
    expect(retry?.targetQueue).toBe(env.keyspace.groupQueue('etl'));
    await end(retry?.id ?? '', 'failed');
    await env.dispatcher.handleFinalized([{ runId: retry?.id ?? '' }]);
    expect(await env.runsOf(jobId)).toHaveLength(2);

    const other = await env.job({ retry: { attempts: 3 } });
    const ok = await env.dispatcher.trigger(other, manual);
    await end(ok.runIds[0] ?? '', 'succeeded');
    await env.dispatcher.handleFinalized([{ runId: ok.runIds[0] ?? '' }]);
    const stopped = await env.dispatcher.trigger(other, manual);
    await env.dispatcher.terminate(stopped.runIds[0] ?? '', { requestedBy: 'usr_test', reason: 'no' });
    expect(await env.runsOf(other)).toHaveLength(2);
  });

  it('a lost run is marked lost and retried elsewhere; a lost run on its last attempt stays lost', async () => {
    const jobId = await env.job({ routing: { strategy: 'failover' }, retry: { attempts: 1, delayMs: 0 } });
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const first = runIds[0] ?? '';
    await applyRunEvents(env.prisma, [
      { type: 'started', runId: first, at: new Date(), executorInstanceId: 'exe-a' },
    ]);
    await env.dispatcher.handleLost([{ runId: first, executorInstanceId: 'exe-a' }]);
    await env.dispatcher.handleLost([{ runId: first, executorInstanceId: 'exe-a' }]);
    expect(await env.run(first)).toMatchObject({ status: 'lost', errorCode: 'EXECUTOR_LOST' });
    const retry = (await env.runsOf(jobId)).find((r) => r.id !== first);
    expect(retry).toMatchObject({ attempt: 2, triggerType: 'retry', targetQueue: 'exe.exe-b' });
    await applyRunEvents(env.prisma, [
      { type: 'started', runId: retry?.id ?? '', at: new Date(), executorInstanceId: 'exe-b' },
    ]);
    await env.dispatcher.handleLost([{ runId: retry?.id ?? '', executorInstanceId: 'exe-b' }]);
    expect(await env.run(retry?.id ?? '')).toMatchObject({ status: 'lost' });
    expect(await env.runsOf(jobId)).toHaveLength(2);
  });

  it('the sweep creates a retry whose callback never came', async () => {
    const jobId = await env.job({ retry: { attempts: 1, delayMs: 0 } });
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const first = runIds[0] ?? '';
    await end(first, 'failed');
    await env.prisma.run.update({
      where: { id: first },
      data: { finishedAt: new Date(Date.now() - 60_000) },
    });
    const stats = await env.dispatcher.redispatch();
    expect(stats.repaired).toBeGreaterThanOrEqual(1);
    expect((await env.runsOf(jobId)).map((r) => r.attempt).sort((a, b) => a - b)).toEqual([1, 2]);
  });
});

describe('child jobs', () => {
  it('a succeeded run triggers each child job once, with trigger parent and the parent run', async () => {
    const child = await env.job({ flowName: 'nap' });
    const parent = await env.job({ childJobIds: [child] });
    const { runIds } = await env.dispatcher.trigger(parent, manual);
    const parentRun = runIds[0] ?? '';
    await end(parentRun, 'succeeded');
    await env.dispatcher.handleFinalized([{ runId: parentRun }]);
    await env.dispatcher.handleFinalized([{ runId: parentRun }]);
    const childRuns = await env.runsOf(child);
    expect(childRuns).toHaveLength(1);
    expect(childRuns[0]).toMatchObject({
      triggerType: 'parent',
      triggeredBy: parentRun,
      parentRunId: parentRun,
      flowName: 'nap',
    });

    const failing = await env.dispatcher.trigger(parent, manual);
    await end(failing.runIds[0] ?? '', 'failed');
    await env.dispatcher.handleFinalized([{ runId: failing.runIds[0] ?? '' }]);
    expect(await env.runsOf(child)).toHaveLength(1);
  });
});

describe('terminate', () => {
  it('a waiting run is removed from its queue and ends terminated at once', async () => {
    const jobId = await env.job();
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const runId = runIds[0] ?? '';
    const result = await env.dispatcher.terminate(runId, { requestedBy: 'usr_op', reason: 'wrong params' });
    expect(result).toEqual({ runId, outcome: 'terminated' });
    expect(await env.run(runId)).toMatchObject({ status: 'terminated', errorCode: 'TERMINATED' });
    expect(await env.queued(env.keyspace.groupQueue('etl'), runId)).toBeUndefined();
    expect(await env.dispatcher.terminate(runId, { requestedBy: 'usr_op', reason: 'again' })).toEqual({
      runId,
      outcome: 'already_finished',
    });
    await expect(
      env.dispatcher.terminate('run_00000000000000000000000000', { requestedBy: 'u', reason: 'r' }),
    ).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
  });

  it('a running run gets the cancel flag and a terminate message on the broadcast channel when its executor is unknown', async () => {
    const jobId = await env.job();
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const runId = runIds[0] ?? '';
    await env.queue(env.keyspace.groupQueue('etl')).remove(runId);
    await env.prisma.run.update({ where: { id: runId }, data: { status: 'running' } });
    const subscriber = env.redis.client.duplicate();
    const messages: string[] = [];
    await subscriber.subscribe(env.keyspace.controlChannel());
    subscriber.on('message', (_c, m: string) => messages.push(m));
    try {
      expect(await env.dispatcher.terminate(runId, { requestedBy: 'usr_op', reason: 'stop' })).toEqual({
        runId,
        outcome: 'requested',
      });
      await expect.poll(() => messages.some((m) => m.includes(runId))).toBe(true);
      expect(JSON.parse((await env.redis.client.get(env.keyspace.cancelFlag(runId))) ?? '{}')).toMatchObject({
        runId,
        reason: 'stop',
      });
    } finally {
      subscriber.disconnect();
    }
  });
});

describe('offline executors and lost deliveries', () => {
  it('runs waiting in a dead executor direct queue are routed again, keeping their ids; pinned ones fail', async () => {
    env.directory.add('exe-d', 4_000);
    const rr = await env.job({ routing: { strategy: 'consistent_hash', key: 'k-7' } });
    const pinned = await env.job({ routing: { strategy: 'pinned', executorInstanceId: 'exe-d' } });
    // Find a key that lands on exe-d, so the run sits in its queue.
    let moved: string | undefined;
    for (let i = 0; i < 40 && moved === undefined; i++) {
      await env.prisma.job.update({ where: { id: rr }, data: { routingKey: `k-${i}` } });
      const { runIds } = await env.dispatcher.trigger(rr, manual);
      if ((await env.run(runIds[0] ?? '')).targetQueue === 'exe.exe-d') moved = runIds[0];
    }
    expect(moved).toBeDefined();
    const pinnedRun = (await env.dispatcher.trigger(pinned, manual)).runIds[0] ?? '';
    env.directory.remove('exe-d');
    const result = await env.dispatcher.rerouteDirectQueue('exe-d');
    expect(result.failed).toBe(1);
    expect(result.moved).toBeGreaterThanOrEqual(1);
    const after = await env.run(moved ?? '');
    expect(after.status).toBe('pending');
    expect(['exe.exe-a', 'exe.exe-b', 'exe.exe-c']).toContain(after.targetQueue);
    const request = RunRequest.parse(await env.queued(after.targetQueue ?? '', moved ?? ''));
    expect(request.routing.targetInstanceId).toBe(after.targetQueue?.slice(4));
    expect(await env.queue('exe.exe-d').getJobCountByTypes('wait', 'delayed')).toBe(0);
    expect(await env.run(pinnedRun)).toMatchObject({ status: 'failed', errorCode: 'EXECUTOR_UNAVAILABLE' });
  });

  it('the sweep enqueues again a pending run whose BullMQ job is gone (failed add, FLUSHALL)', async () => {
    const jobId = await env.job();
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const runId = runIds[0] ?? '';
    await env.queue(env.keyspace.groupQueue('etl')).remove(runId);
    expect(await env.queued(env.keyspace.groupQueue('etl'), runId)).toBeUndefined();
    const stats = await env.dispatcher.redispatch();
    expect(stats.redelivered).toBeGreaterThanOrEqual(1);
    expect(RunRequest.parse(await env.queued(env.keyspace.groupQueue('etl'), runId)).runId).toBe(runId);
  });

  it('the sweep waits while older run events are not ingested (the run may have finished already)', async () => {
    const jobId = await env.job();
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    const runId = runIds[0] ?? '';
    await env.queue(env.keyspace.groupQueue('etl')).remove(runId);
    const stream = env.keyspace.runEventsStream();
    await env.redis.client.xgroup('CREATE', stream, 'kisjobs-ingest', '$', 'MKSTREAM');
    await env.redis.client.xadd(stream, '*', 'kind', 'runEvent', 'payload', '{}');
    expect((await env.dispatcher.redispatch()).redelivered).toBe(0);
    expect(await env.queued(env.keyspace.groupQueue('etl'), runId)).toBeUndefined();
    // Read and acknowledged: caught up.
    const read = (await env.redis.client.xreadgroup(
      'GROUP',
      'kisjobs-ingest',
      'c1',
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][];
    for (const [, entries] of read)
      for (const [id] of entries) await env.redis.client.xack(stream, 'kisjobs-ingest', id);
    expect((await env.dispatcher.redispatch()).redelivered).toBeGreaterThanOrEqual(1);
    expect(await env.queued(env.keyspace.groupQueue('etl'), runId)).toBeDefined();
  });
});
