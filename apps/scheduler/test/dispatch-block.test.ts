import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRunEvents } from '@kisjobs/db';
import { decodePayload } from '@kisjobs/protocol';
import { dispatchEnv, type DispatchEnv } from './support/dispatch-env.js';

let env: DispatchEnv;
beforeAll(async () => {
  env = await dispatchEnv('disp-block');
  env.directory.add('exe-a', 1_000);
  env.directory.add('exe-b', 2_000);
});
afterAll(async () => env?.close());

const manual = { triggerType: 'manual', triggeredBy: 'usr_test' } as const;

/** What ingestion does when an executor reports a result, then its callback. */
async function finish(runId: string, status: 'succeeded' | 'failed', instanceId = 'exe-a'): Promise<void> {
  const at = new Date();
  await applyRunEvents(env.prisma, [
    { type: 'started', runId, at, executorInstanceId: instanceId },
    {
      type: 'finished',
      runId,
      at,
      status,
      ...(status === 'failed' ? { errorCode: 'FUNCTION_FAILED', errorMessage: 'boom' } : {}),
    },
  ]);
  await env.dispatcher.handleFinalized([{ runId }]);
}

describe('block strategies', () => {
  it('parallel: a second trigger is dispatched while the first is active', async () => {
    const jobId = await env.job({ blockStrategy: 'parallel' });
    const a = await env.dispatcher.trigger(jobId, manual);
    const b = await env.dispatcher.trigger(jobId, manual);
    expect([a.outcome, b.outcome]).toEqual(['dispatched', 'dispatched']);
  });

  it('discard: the new run is recorded skipped with its reason', async () => {
    const jobId = await env.job({ blockStrategy: 'discard' });
    const first = await env.dispatcher.trigger(jobId, manual);
    const second = await env.dispatcher.trigger(jobId, manual);
    expect(second.outcome).toBe('skipped');
    expect(second.skipped?.reason).toContain(first.runIds[0] ?? '?');
    const run = await env.run(second.runIds[0] ?? '');
    expect(run).toMatchObject({ status: 'skipped', dispatchedAt: null });
    expect(run.skipReason).toContain('discard');
    expect(run.finishedAt).not.toBeNull();
    expect(await env.queued(env.keyspace.groupQueue('etl'), run.id)).toBeUndefined();
  });

  it('serial: later runs are held, then dispatched one at a time, oldest first, as each run ends', async () => {
    const jobId = await env.job({ blockStrategy: 'serial' });
    const first = await env.dispatcher.trigger(jobId, manual);
    const second = await env.dispatcher.trigger(jobId, manual);
    const third = await env.dispatcher.trigger(jobId, manual);
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['dispatched', 'held', 'held']);
    const [s, t] = [second.runIds[0] ?? '', third.runIds[0] ?? ''];
    expect(await env.run(s)).toMatchObject({ status: 'pending', dispatchedAt: null, targetQueue: null });

    await finish(first.runIds[0] ?? '', 'succeeded');
    expect((await env.run(s)).dispatchedAt).not.toBeNull();
    expect(await env.queued(env.keyspace.groupQueue('etl'), s)).toBeDefined();
    expect((await env.run(t)).dispatchedAt).toBeNull();
    // A repeated callback changes nothing.
    await env.dispatcher.handleFinalized([{ runId: first.runIds[0] ?? '' }]);
    expect((await env.run(t)).dispatchedAt).toBeNull();

    await finish(s, 'failed');
    expect((await env.run(t)).dispatchedAt).not.toBeNull();
  });

  it('serial: the sweep advances a queue whose callback was missed', async () => {
    const jobId = await env.job({ blockStrategy: 'serial' });
    const first = await env.dispatcher.trigger(jobId, manual);
    const second = await env.dispatcher.trigger(jobId, manual);
    await applyRunEvents(env.prisma, [
      { type: 'finished', runId: first.runIds[0] ?? '', at: new Date(), status: 'succeeded' },
    ]);
    // Held runs younger than 2 s are left to the live path.
    await env.prisma.run.update({
      where: { id: second.runIds[0] ?? '' },
      data: { triggeredAt: new Date(Date.now() - 5_000) },
    });
    const stats = await env.dispatcher.redispatch();
    expect(stats.advancedJobs).toBeGreaterThanOrEqual(1);
    expect((await env.run(second.runIds[0] ?? '')).dispatchedAt).not.toBeNull();
  });

  it('replace: the new run is dispatched and the waiting active run is terminated and removed from its queue', async () => {
    const jobId = await env.job({ blockStrategy: 'replace' });
    const first = await env.dispatcher.trigger(jobId, manual);
    const old = first.runIds[0] ?? '';
    const second = await env.dispatcher.trigger(jobId, manual);
    expect(second.outcome).toBe('dispatched');
    const run = await env.run(old);
    expect(run).toMatchObject({ status: 'terminated', errorCode: 'TERMINATED' });
    expect(run.errorMessage).toContain(second.runIds[0] ?? '?');
    expect(await env.queued(env.keyspace.groupQueue('etl'), old)).toBeUndefined();
    expect(await env.queued(env.keyspace.groupQueue('etl'), second.runIds[0] ?? '')).toBeDefined();
  });

  it('replace: a running active run is told to stop through its executor channel and the cancel flag', async () => {
    const jobId = await env.job({ blockStrategy: 'replace' });
    const first = await env.dispatcher.trigger(jobId, manual);
    const old = first.runIds[0] ?? '';
    await applyRunEvents(env.prisma, [
      { type: 'started', runId: old, at: new Date(), executorInstanceId: 'exe-b' },
    ]);
    const subscriber = env.redis.client.duplicate();
    const messages: string[] = [];
    await subscriber.subscribe(env.keyspace.executorControlChannel('exe-b'));
    subscriber.on('message', (_channel, message: string) => messages.push(message));
    try {
      await env.dispatcher.trigger(jobId, manual);
      await expect.poll(() => messages.length).toBe(1);
      const control = decodePayload('control', messages[0] ?? '');
      expect(control.ok && control.value).toMatchObject({
        type: 'terminate',
        runId: old,
        requestedBy: 'scheduler',
      });
      expect(await env.redis.client.get(env.keyspace.cancelFlag(old))).not.toBeNull();
      expect((await env.run(old)).status).toBe('running');
    } finally {
      subscriber.disconnect();
    }
  });
});
