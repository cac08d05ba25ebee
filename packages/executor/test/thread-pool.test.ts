import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ThreadPool } from '../src/isolation/thread-pool.js';
import type { PoolTestTask } from './fixtures/pool-thread.js';

const entry = fileURLToPath(new URL('./fixtures/pool-thread.ts', import.meta.url));
const pools: Array<ThreadPool<PoolTestTask, string, string>> = [];
const makePool = (size: number, cancelGraceMs = 200): ThreadPool<PoolTestTask, string, string> => {
  const pool = new ThreadPool<PoolTestTask, string, string>({
    entry,
    size,
    cancelGraceMs,
    data: { label: 'T' },
  });
  pools.push(pool);
  return pool;
};

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('ThreadPool isolation', () => {
  it('runs tasks in threads and streams their events', async () => {
    const pool = makePool(2);
    const events: string[] = [];
    const outcome = await pool.run('a', { kind: 'echo', value: 21 }, { onEvent: (e) => events.push(e) });
    expect(outcome).toEqual({ kind: 'done', output: 'T:42' });
    expect(events).toEqual(['start:echo']);
  });

  it('kills a thread stuck in a synchronous infinite loop and keeps serving other tasks', async () => {
    const pool = makePool(2);
    await pool.warm();
    const stuck = pool.run('stuck', { kind: 'spin' });
    const started = Date.now();
    // Let the loop start, then stop it.
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.stop('stuck')).toBe(true);
    expect(await stuck).toEqual({ kind: 'killed', stopReason: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The pool replaced the killed thread and still works, on both slots.
    const after = await Promise.all([
      pool.run('b', { kind: 'echo', value: 1 }),
      pool.run('c', { kind: 'echo', value: 2 }),
    ]);
    expect(after).toEqual([
      { kind: 'done', output: 'T:2' },
      { kind: 'done', output: 'T:4' },
    ]);
    expect(pool.stats().replaced).toBe(1);
  });

  it('lets a cooperative task stop by itself within the grace period', async () => {
    const pool = makePool(1, 1_000);
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const run = pool.run('s', { kind: 'sleep', ms: 10_000 }, { onEvent: () => markStarted() });
    await started;
    pool.stop('s');
    expect(await run).toEqual({ kind: 'done', output: 'stopped-early', stopReason: 'cancelled' });
    expect(pool.stats().replaced).toBe(0);
  });

  it('never starts a task stopped while it waited for a thread', async () => {
    const pool = makePool(1);
    const events: string[] = [];
    const run = pool.run('early', { kind: 'sleep', ms: 10_000 }, { onEvent: (e) => events.push(e) });
    expect(pool.stop('early')).toBe(true);
    expect(await run).toEqual({ kind: 'killed', stopReason: 'cancelled' });
    expect(events).toEqual([]);
    expect(await pool.run('next', { kind: 'echo', value: 4 })).toEqual({ kind: 'done', output: 'T:8' });
  });

  it('enforces a whole-task timeout, even on a spinning task', async () => {
    const pool = makePool(1);
    const outcome = await pool.run('t', { kind: 'spin' }, { timeoutMs: 300 });
    expect(outcome).toEqual({ kind: 'killed', stopReason: 'timeout' });
    expect(await pool.run('u', { kind: 'echo', value: 5 })).toEqual({ kind: 'done', output: 'T:10' });
  });

  it('reports a thread that dies under a task as crashed and replaces it', async () => {
    const pool = makePool(1);
    const outcome = await pool.run('x', { kind: 'exit' });
    expect(outcome.kind).toBe('crashed');
    expect(await pool.run('y', { kind: 'throw' })).toEqual({ kind: 'crashed', message: 'boom in thread' });
    expect(await pool.run('z', { kind: 'echo', value: 3 })).toEqual({ kind: 'done', output: 'T:6' });
  });

  it('settles a task stopped while it waits for a thread at once, without waiting for one', async () => {
    const pool = makePool(1);
    const busy = pool.run('busy', { kind: 'sleep', ms: 1_500 });
    const waiting = pool.run('waiting', { kind: 'echo', value: 1 });
    const stoppedAt = Date.now();
    pool.stop('waiting');
    expect(await waiting).toEqual({ kind: 'killed', stopReason: 'cancelled' });
    expect(Date.now() - stoppedAt).toBeLessThan(200);
    expect(pool.isRunning('busy')).toBe(true);
    expect(await busy).toEqual({ kind: 'done', output: 'slept' });
  });

  it('counts a task timeout from the moment it has a thread, not while it waits for one', async () => {
    const pool = makePool(1);
    await pool.warm();
    const first = pool.run('first', { kind: 'sleep', ms: 500 });
    const second = pool.run('second', { kind: 'echo', value: 7 }, { timeoutMs: 200 });
    expect(await first).toEqual({ kind: 'done', output: 'slept' });
    expect(await second).toEqual({ kind: 'done', output: 'T:14' });
  });

  it('starts threads a few at a time, so a burst of first runs does not time out starting', async () => {
    const pool = new ThreadPool<PoolTestTask, string, string>({
      entry,
      size: 4,
      maxConcurrentStarts: 1,
      startTimeoutMs: 20_000,
      data: { label: 'T' },
    });
    pools.push(pool);
    const runs = Array.from({ length: 4 }, (_, i) => pool.run(`burst${i}`, { kind: 'echo', value: i }));
    await new Promise((r) => setTimeout(r, 0));
    expect(pool.stats().starting).toBe(1);
    expect((await Promise.all(runs)).map((o) => o.kind)).toEqual(['done', 'done', 'done', 'done']);
    expect(pool.stats()).toMatchObject({ starting: 0, replaced: 0 });
  });

  it('queues tasks beyond its size and runs them as threads free up', async () => {
    const pool = makePool(2);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.run(`q${i}`, { kind: 'echo', value: i })),
    );
    expect(outcomes.map((o) => (o.kind === 'done' ? o.output : o.kind))).toEqual(
      Array.from({ length: 10 }, (_, i) => `T:${i * 2}`),
    );
    expect(pool.stats().threads).toBeLessThanOrEqual(2);
  });
});
