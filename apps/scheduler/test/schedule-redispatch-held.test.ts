/**
 * After a Redis reset the BullMQ job of a run an executor already took is gone like those of the runs that
 * waited: the redispatch sweep must enqueue only the latter, and only once executors had time to
 * re-register with the runs they hold in their heartbeats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@kisjobs/protocol';
import { epochKey } from '../src/schedule/redis-reset.js';
import { dispatchEnv, type DispatchEnv } from './support/dispatch-env.js';

let env: DispatchEnv;
beforeAll(async () => {
  env = await dispatchEnv('sched-held');
  env.directory.add('exe-a', 1_000);
});
afterAll(async () => env?.close());

const manual = { triggerType: 'manual', triggeredBy: 'usr_test' } as const;

async function beat(instanceId: string, runIds: string[]): Promise<void> {
  const ks = env.keyspace;
  await env.redis.client.sadd(ks.groupMembers('etl'), instanceId);
  const heartbeat = { instanceId, at: new Date().toISOString(), activeRuns: runIds.length, load: 0, runIds };
  await env.redis.client.set(ks.heartbeat(instanceId), JSON.stringify({ ...heartbeat, draining: false }));
}

describe('redispatch after a Redis reset', () => {
  it('waits for executors to re-register, then skips the runs they hold and re-sends the others', async () => {
    const jobId = await env.job();
    const held = (await env.dispatcher.trigger(jobId, manual)).runIds[0] ?? '';
    const waited = (await env.dispatcher.trigger(jobId, manual)).runIds[0] ?? '';
    const group = env.keyspace.groupQueue('etl');
    for (const id of [held, waited]) await env.queue(group).remove(id); // FLUSHALL took both jobs
    // The reset watch has just written a new epoch (the instant is in the id).
    const [seconds] = await env.redis.client.time();
    const epoch = newId('evt', new Date(Number(seconds) * 1_000));
    await env.redis.client.set(epochKey(env.keyspace), epoch);
    expect((await env.dispatcher.redispatch()).redelivered).toBe(0);
    expect(await env.queued(group, waited)).toBeUndefined();

    // Executors re-registered; exe-a lists the run it took before the reset.
    await beat('exe-a', [held]);
    await env.redis.client.set(epochKey(env.keyspace), newId('evt', new Date(Date.now() - 4_000)));
    expect((await env.dispatcher.redispatch()).redelivered).toBe(1);
    expect(await env.queued(group, waited)).toBeDefined();
    expect(await env.queued(group, held)).toBeUndefined();
  });
});
