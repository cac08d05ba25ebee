import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunRequest, fireRunId } from '@kisjobs/protocol';
import { dispatchEnv, type DispatchEnv } from './support/dispatch-env.js';

let env: DispatchEnv;
beforeAll(async () => {
  env = await dispatchEnv('disp-route');
  env.directory.add('exe-a', 1_000);
  env.directory.add('exe-b', 2_000);
  env.directory.add('exe-c', 3_000);
});
afterAll(async () => env?.close());

const manual = { triggerType: 'manual', triggeredBy: 'usr_test' } as const;

describe('trigger: rows first, then BullMQ', () => {
  it('any: a pending row claimed for the group queue and a valid RunRequest carrying the resolved flow', async () => {
    const jobId = await env.job({ params: { rows: '5', who: 'job' } });
    const result = await env.dispatcher.trigger(jobId, { ...manual, params: { who: 'trigger' } });
    expect(result.outcome).toBe('dispatched');
    const [runId] = result.runIds;
    const run = await env.run(runId ?? '');
    expect(run).toMatchObject({
      status: 'pending',
      triggerType: 'manual',
      triggeredBy: 'usr_test',
      attempt: 1,
    });
    expect(run.targetQueue).toBe(env.keyspace.groupQueue('etl'));
    expect(run.dispatchedAt).not.toBeNull();
    expect(run.params).toEqual({ rows: '5', who: 'trigger' });
    const data = await env.queued(env.keyspace.groupQueue('etl'), runId ?? '');
    const request = RunRequest.parse(data);
    expect(request).toMatchObject({ runId, jobId, flowName: 'etl', params: { rows: '5', who: 'trigger' } });
    expect(request.routing).toEqual({ group: 'etl', strategy: 'any' });
    const flow = request.flow as { flows: Record<string, unknown>; funcs: Record<string, unknown> };
    expect(Object.keys(flow.flows)).toEqual(['etl']);
    expect(Object.keys(flow.funcs).sort()).toEqual(['Log', 'Source']);
  });

  it('a scheduled fire has a deterministic id: the second trigger of the same instant inserts and enqueues nothing', async () => {
    const jobId = await env.job();
    const scheduledAt = new Date('2026-01-01T00:00:00.000Z');
    const fire = { triggerType: 'cron', triggeredBy: 'scheduler', scheduledAt } as const;
    const first = await env.dispatcher.trigger(jobId, fire);
    const second = await env.dispatcher.trigger(jobId, fire);
    expect(first.runIds).toEqual([fireRunId(jobId, scheduledAt)]);
    expect(first.outcome).toBe('dispatched');
    expect(second).toEqual({ runIds: first.runIds, outcome: 'duplicate' });
    expect(await env.runsOf(jobId)).toHaveLength(1);
    expect(
      await env.queue(env.keyspace.groupQueue('etl')).getJobCountByTypes('wait', 'delayed'),
    ).toBeGreaterThan(0);
  });

  it('round_robin spreads the runs over the executors in registration order', async () => {
    const jobId = await env.job({ routing: { strategy: 'round_robin' } });
    const targets: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { runIds } = await env.dispatcher.trigger(jobId, manual);
      targets.push((await env.run(runIds[0] ?? '')).targetQueue ?? '');
    }
    expect(targets).toEqual(['exe.exe-a', 'exe.exe-b', 'exe.exe-c', 'exe.exe-a', 'exe.exe-b', 'exe.exe-c']);
    const request = RunRequest.parse(await env.queued('exe.exe-b', (await env.runsOf(jobId))[1]?.id ?? ''));
    expect(request.routing).toEqual({ group: 'etl', strategy: 'round_robin', targetInstanceId: 'exe-b' });
  });

  it('consistent_hash sends every run of a key to the same executor', async () => {
    const jobId = await env.job({ routing: { strategy: 'consistent_hash', key: 'customer-42' } });
    const targets = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { runIds } = await env.dispatcher.trigger(jobId, manual);
      targets.add((await env.run(runIds[0] ?? '')).targetQueue ?? '');
    }
    expect(targets.size).toBe(1);
  });

  it('failover picks the first executor in registration order', async () => {
    const jobId = await env.job({ routing: { strategy: 'failover' } });
    const { runIds } = await env.dispatcher.trigger(jobId, manual);
    expect((await env.run(runIds[0] ?? '')).targetQueue).toBe('exe.exe-a');
  });

  it('broadcast makes one run per executor, each told its shard', async () => {
    const jobId = await env.job({ routing: { strategy: 'broadcast' } });
    const { runIds, outcome } = await env.dispatcher.trigger(jobId, manual);
    expect(outcome).toBe('dispatched');
    expect(runIds).toHaveLength(3);
    const runs = await Promise.all(runIds.map((id) => env.run(id)));
    expect(runs.map((r) => [r.targetQueue, r.shardIndex, r.shardTotal])).toEqual([
      ['exe.exe-a', 0, 3],
      ['exe.exe-b', 1, 3],
      ['exe.exe-c', 2, 3],
    ]);
    const request = RunRequest.parse(await env.queued('exe.exe-c', runIds[2] ?? ''));
    expect([request.shardIndex, request.shardTotal]).toEqual([2, 3]);
  });

  it('pinned goes to the named executor, and fails EXECUTOR_UNAVAILABLE when it is offline', async () => {
    const online = await env.job({ routing: { strategy: 'pinned', executorInstanceId: 'exe-b' } });
    const ok = await env.dispatcher.trigger(online, manual);
    expect((await env.run(ok.runIds[0] ?? '')).targetQueue).toBe('exe.exe-b');

    const offline = await env.job({
      routing: { strategy: 'pinned', executorInstanceId: 'exe-gone' },
      retry: { attempts: 2 },
    });
    const failed = await env.dispatcher.trigger(offline, manual);
    expect(failed.outcome).toBe('failed');
    expect(failed.error?.code).toBe('EXECUTOR_UNAVAILABLE');
    const run = await env.run(failed.runIds[0] ?? '');
    expect(run).toMatchObject({ status: 'failed', errorCode: 'EXECUTOR_UNAVAILABLE', dispatchedAt: null });
    expect(run.errorMessage).toContain('exe-gone');
    expect(run.finishedAt).not.toBeNull();
    // Not retried: no executor to retry on.
    expect(await env.runsOf(offline)).toHaveLength(1);
  });

  it('direct strategies only choose executors that implement every function of the flow', async () => {
    env.directory.add('exe-partial', 500, ['Source']);
    try {
      const jobId = await env.job({ routing: { strategy: 'failover' } });
      const { runIds } = await env.dispatcher.trigger(jobId, manual);
      expect((await env.run(runIds[0] ?? '')).targetQueue).toBe('exe.exe-a');
    } finally {
      env.directory.remove('exe-partial');
    }
  });

  it('any waits in the group queue when no executor is online', async () => {
    const saved = env.directory.executors;
    env.directory.executors = [];
    try {
      const jobId = await env.job();
      const result = await env.dispatcher.trigger(jobId, manual);
      expect(result.outcome).toBe('dispatched');
      expect((await env.run(result.runIds[0] ?? '')).status).toBe('pending');
    } finally {
      env.directory.executors = saved;
    }
  });
});

describe('trigger: flows that cannot run, and bad input', () => {
  it('a manual trigger of a missing or disabled flow is the caller error; nothing is recorded', async () => {
    const missing = await env.job({ flowName: 'no-such-flow' });
    await expect(env.dispatcher.trigger(missing, manual)).rejects.toMatchObject({
      code: 'FLOW_NOT_FOUND',
      status: 404,
    });
    const disabled = await env.job({ flowName: 'off' });
    await expect(env.dispatcher.trigger(disabled, manual)).rejects.toMatchObject({ code: 'UNPROCESSABLE' });
    expect(await env.runsOf(missing)).toHaveLength(0);
    expect(await env.runsOf(disabled)).toHaveLength(0);
  });

  it('a scheduled fire of a missing flow is recorded failed with the reason', async () => {
    const jobId = await env.job({ flowName: 'no-such-flow' });
    const result = await env.dispatcher.trigger(jobId, {
      triggerType: 'cron',
      triggeredBy: 'scheduler',
      scheduledAt: new Date('2026-02-01T00:00:00Z'),
    });
    expect(result.outcome).toBe('failed');
    expect(await env.run(result.runIds[0] ?? '')).toMatchObject({
      status: 'failed',
      errorCode: 'FLOW_NOT_FOUND',
    });
  });

  it('an unknown job is a typed 404, a malformed input names its field', async () => {
    await expect(env.dispatcher.trigger('job_00000000000000000000000000', manual)).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
    const jobId = await env.job();
    await expect(
      env.dispatcher.trigger(jobId, { triggerType: 'sometimes' as 'manual', triggeredBy: 'x' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'triggerType' }] } });
  });

  it('a disabled job refuses manual triggers with JOB_DISABLED', async () => {
    const jobId = await env.job({ enabled: false });
    await expect(env.dispatcher.trigger(jobId, manual)).rejects.toMatchObject({
      code: 'JOB_DISABLED',
      status: 409,
    });
  });
});
