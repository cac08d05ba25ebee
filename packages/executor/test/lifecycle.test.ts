/**
 * Executors as real child processes of the runnable, signalled and killed by the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HEARTBEAT_TTL_MS, decodePayload } from '@kisjobs/protocol';
import { sleep, startPrivateRedis, waitFor, type PrivateRedis } from '@kisjobs/testing';
import { spawnExecutor, type ExecutorChild } from './support/executors.js';
import { stages, type Stages } from './support/stage.js';
import { GROUP, SchedulerSide, newToken, runRequest } from './support/scheduler-side.js';

const kit = stages();
afterEach(() => kit.cleanup());
type Stage = Awaited<ReturnType<Stages['shared']>>;
const stage = (label: string): Promise<Stage> => kit.shared(label);
const spawn = (s: Stage, options: Parameters<Stages['spawn']>[1] = {}): ExecutorChild =>
  kit.spawn(s, options);

async function expectDeregistered(s: Stage, instanceId: string, reason: RegExp): Promise<void> {
  const { client } = s.redis;
  expect(await client.exists(s.side.ks.executor(instanceId))).toBe(0);
  expect(await client.exists(s.side.ks.heartbeat(instanceId))).toBe(0);
  expect(await client.sismember(s.side.ks.groupMembers(GROUP), instanceId)).toBe(0);
  const last = (await s.side.entries(s.side.ks.registryStream())).at(-1);
  expect(last?.fields['kind']).toBe('deregistration');
  const entry = decodePayload('deregistration', last?.fields['payload'] ?? '');
  if (!entry.ok) throw entry.error;
  expect(entry.value).toMatchObject({ group: GROUP, instanceId });
  expect(entry.value.reason).toMatch(reason);
}

describe('executor process lifecycle', () => {
  it('on SIGTERM drains the active run, takes no new one, deregisters, and exits 0', async () => {
    const s = await stage('exec-sigterm');
    const child = spawn(s);
    const id = await child.started();
    const active = await s.side.enqueue(runRequest('sleep', { params: { ms: '1500' } }));
    await s.side.waitForEvent(active.runId, 'started');

    child.signal('SIGTERM');
    await child.waitForLine((l) => l.msg === 'executor closing');
    const late = await s.side.enqueue(runRequest('etl'));

    expect(await child.exit()).toEqual({ code: 0, signal: null });
    expect((await s.side.finished(active.runId, 1)).status).toBe('succeeded');
    expect(await s.side.events(late.runId)).toEqual([]);
    expect(await s.side.queue(s.side.ks.groupQueue(GROUP)).getJobCounts('wait')).toEqual({ wait: 1 });
    await expectDeregistered(s, id, /SIGTERM/);
  });

  it('on SIGTERM terminates the runs still active after the drain timeout, then exits 0', async () => {
    const s = await stage('exec-draintimeout');
    const child = spawn(s, { env: { KISJOBS_DRAIN_TIMEOUT_MS: '300' } });
    const id = await child.started();
    const stuck = await s.side.enqueue(runRequest('spin'));
    await s.side.waitForEvent(stuck.runId, 'progress');
    child.signal('SIGTERM');
    expect((await child.exit()).code).toBe(0);
    const finished = await s.side.finished(stuck.runId, 1);
    expect(finished.status).toBe('terminated');
    expect(finished.error?.code).toBe('EXECUTOR_SHUTDOWN');
    await expectDeregistered(s, id, /SIGTERM/);
  });

  it('after a SIGKILL its heartbeat key expires within the heartbeat TTL', async () => {
    const s = await stage('exec-sigkill');
    const child = spawn(s);
    const id = await child.started();
    expect(await s.redis.client.exists(s.side.ks.heartbeat(id))).toBe(1);
    const killedAt = Date.now();
    await child.stop(); // SIGKILL
    await waitFor(async () => (await s.redis.client.exists(s.side.ks.heartbeat(id))) === 0, {
      timeoutMs: HEARTBEAT_TTL_MS + 1_000,
      intervalMs: 100,
    });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(HEARTBEAT_TTL_MS + 200);
    // The record stays: declaring it offline and re-routing its runs is the scheduler's call.
    expect(await s.redis.client.exists(s.side.ks.executor(id))).toBe(1);
  });

  it('drains on a drain message addressed to it, deregisters, and exits 0', async () => {
    const s = await stage('exec-drain');
    const other = spawn(s);
    const target = spawn(s);
    const [otherId, targetId] = await Promise.all([other.started(), target.started()]);
    await s.side.publish(
      { type: 'drain', instanceId: targetId, requestedBy: 'usr_ops', at: new Date().toISOString() },
      targetId,
    );
    expect((await target.exit()).code).toBe(0);
    await expectDeregistered(s, targetId, /drained by usr_ops/);
    expect(await s.redis.client.sismember(s.side.ks.groupMembers(GROUP), otherId)).toBe(1);
    expect(other.child.exitCode).toBeNull();
  });

  it('delivers the finished event of a run that spans a Redis restart (persistent Redis)', async () => {
    const server: PrivateRedis = await startPrivateRedis({ persistent: true });
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    const prefix = 'restart';
    const side = new SchedulerSide(client, prefix);
    kit.defer(async () => {
      await side.close();
      client.disconnect();
      await server.close();
    });
    const token = newToken();
    await side.seedToken(token);
    const child = spawnExecutor({ redisUrl: server.url, prefix, token });
    kit.defer(() => child.stop());
    const id = await child.started();

    const request = await side.enqueue(runRequest('slow', { params: {} }));
    await side.waitForEvent(request.runId, 'started');
    await server.stop();
    const downAt = Date.now();
    await sleep(2_000); // the run's functions end while Redis is down: its events wait in the executor
    const upAt = Date.now();
    await server.start();

    const finished = await side.finished(request.runId, 20_000);
    expect(finished.status).toBe('succeeded');
    expect(Date.parse(finished.at)).toBeGreaterThan(downAt);
    expect(Date.parse(finished.at)).toBeLessThan(upAt);
    await child.waitForLine((l) => l.msg === 'redis connection lost; commands wait until it is back');
    const events = await side.events(request.runId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(3);
    await child.waitForLine((l) => l.msg === 'redis connection is back');
    // Still registered and beating.
    await waitFor(async () => (await client.exists(side.ks.heartbeat(id))) === 1, { timeoutMs: 5_000 });
  });

  it('registers again when Redis lost its data, once the scheduler has mirrored its token back', async () => {
    const server: PrivateRedis = await startPrivateRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    const prefix = 'flushed';
    const side = new SchedulerSide(client, prefix);
    kit.defer(async () => {
      await side.close();
      client.disconnect();
      await server.close();
    });
    const token = newToken();
    await side.seedToken(token);
    const child = spawnExecutor({ redisUrl: server.url, prefix, token });
    kit.defer(() => child.stop());
    const id = await child.started();

    await client.flushall();
    await child.waitForLine(
      (l) => l.level === 'error' && String(l.msg).startsWith('registration refused'),
      6_000,
    );
    expect(await client.exists(side.ks.executor(id))).toBe(0);
    await side.seedToken(token);
    await child.waitForLine(
      (l) => l.msg === 'executor record was missing (Redis data lost or removed); registered again',
      6_000,
    );
    expect(await client.sismember(side.ks.groupMembers(GROUP), id)).toBe(1);
    expect(await client.exists(side.ks.heartbeat(id))).toBe(1);
    // And it serves runs again.
    const request = await side.enqueue(runRequest('etl'));
    expect((await side.finished(request.runId)).status).toBe('succeeded');
  });
});
