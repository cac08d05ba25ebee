/**
 * Routing end to end: three executor processes, each strategy, runs ending `succeeded` in Postgres with
 * the executor that ran them. Failover moves to the next executor when the first one dies (SIGKILL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorChild } from '../support/executor-child.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let executors: ExecutorChild[];
beforeAll(async () => {
  p = await startPipeline('e2e-route');
  // Started one after the other so that registration order (failover, round robin) is a-b-c.
  const a = await p.spawnExecutor({ instanceId: 'route-a' });
  const b = await p.spawnExecutor({ instanceId: 'route-b' });
  const c = await p.spawnExecutor({ instanceId: 'route-c' });
  executors = [a, b, c];
});
afterAll(async () => p?.close());

async function runAll(jobId: string, times: number): Promise<{ executor: string | null; status: string }[]> {
  const ids: string[] = [];
  for (let i = 0; i < times; i++) ids.push(...(await p.trigger(jobId)));
  const runs = await Promise.all(ids.map((id) => p.waitFinal(id)));
  return runs.map((r) => ({ executor: r.executorInstanceId, status: r.status }));
}

describe('routing across executor processes', () => {
  it('any: runs go through the group queue and succeed on some executor', async () => {
    const jobId = await p.job({ routing: { strategy: 'any' } });
    const runs = await runAll(jobId, 6);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    for (const r of runs) expect(['route-a', 'route-b', 'route-c']).toContain(r.executor);
  });

  it('round_robin spreads the runs over every executor', async () => {
    const jobId = await p.job({ routing: { strategy: 'round_robin' } });
    const runs = await runAll(jobId, 6);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r.executor ?? '', (counts.get(r.executor ?? '') ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 'route-a': 2, 'route-b': 2, 'route-c': 2 });
  });

  it('consistent_hash is sticky: every run of the key on the same executor', async () => {
    const jobId = await p.job({ routing: { strategy: 'consistent_hash', key: 'tenant-17' } });
    const runs = await runAll(jobId, 5);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(new Set(runs.map((r) => r.executor)).size).toBe(1);
  });

  it('broadcast: one run per executor, each with its shard, in one fire', async () => {
    const jobId = await p.job({ routing: { strategy: 'broadcast' } });
    const ids = await p.trigger(jobId);
    expect(ids).toHaveLength(3);
    const runs = await Promise.all(ids.map((id) => p.waitFinal(id)));
    expect(runs.map((r) => [r.status, r.executorInstanceId, r.shardIndex, r.shardTotal])).toEqual([
      ['succeeded', 'route-a', 0, 3],
      ['succeeded', 'route-b', 1, 3],
      ['succeeded', 'route-c', 2, 3],
    ]);
  });

  it('pinned: every run on the named executor', async () => {
    const jobId = await p.job({ routing: { strategy: 'pinned', executorInstanceId: 'route-c' } });
    const runs = await runAll(jobId, 3);
    expect(runs).toEqual(Array.from({ length: 3 }, () => ({ executor: 'route-c', status: 'succeeded' })));
  });

  it('failover: the first executor in registration order, then the next one once it died', async () => {
    const jobId = await p.job({ routing: { strategy: 'failover' } });
    expect(await runAll(jobId, 2)).toEqual([
      { executor: 'route-a', status: 'succeeded' },
      { executor: 'route-a', status: 'succeeded' },
    ]);
    const [first] = executors;
    await first?.kill('SIGKILL');
    // The registry notices the missing heartbeat (TTL 6 s) and routing stops choosing it.
    await p.waitOnline(['route-b', 'route-c']);
    await expectEventually(async () => {
      const online = (await p.scheduler.registry.onlineExecutors(p.group)).map((e) => e.instanceId);
      return !online.includes('route-a');
    }, 15_000);
    expect(await runAll(jobId, 2)).toEqual([
      { executor: 'route-b', status: 'succeeded' },
      { executor: 'route-b', status: 'succeeded' },
    ]);
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
