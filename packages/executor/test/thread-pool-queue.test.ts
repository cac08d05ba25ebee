import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ThreadPool, type ThreadPoolOptions } from '../src/isolation/thread-pool.js';
import type { PoolTestTask } from './fixtures/pool-thread.js';

/**
 * A busy thread may hold tasks queued behind its current one. These tests pin down what that must never
 * change: a task runs exactly once (counted in memory shared with every thread), a queued task is never
 * lost with a thread killed or dead for another task, and a queued task that its thread does not reach in
 * time runs on another thread.
 */
const entry = fileURLToPath(new URL('./fixtures/pool-thread.ts', import.meta.url));
const pools: Array<ThreadPool<PoolTestTask, string, string>> = [];
const TALLIES = 256;

function makePool(options: Partial<ThreadPoolOptions> & { size: number }): {
  pool: ThreadPool<PoolTestTask, string, string>;
  executions: (index: number) => number;
} {
  const tallies = new SharedArrayBuffer(4 * TALLIES);
  const pool = new ThreadPool<PoolTestTask, string, string>({
    entry,
    cancelGraceMs: 200,
    data: { label: 'T', tallies },
    ...options,
  });
  pools.push(pool);
  const counts = new Int32Array(tallies);
  return { pool, executions: (index) => Atomics.load(counts, index) };
}

const tally = (index: number, ms?: number): PoolTestTask =>
  ms === undefined ? { kind: 'tally', index } : { kind: 'tally', index, ms };
const output = (outcome: { kind: string; output?: unknown }): unknown =>
  outcome.kind === 'done' ? outcome.output : outcome.kind;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('ThreadPool queues', () => {
  it('queues a burst of short tasks on one flowing thread instead of waking a thread each', async () => {
    // A long hold, so that nothing is taken back however slow this machine is right now.
    const { pool, executions } = makePool({ size: 8, queueDepth: 8, queueHoldMs: 60_000 });
    await pool.warm();
    const outcomes = await Promise.all(Array.from({ length: 9 }, (_, i) => pool.run(`b${i}`, tally(i))));
    const threads = new Set(outcomes.map(output));
    expect(outcomes.every((o) => o.kind === 'done')).toBe(true);
    // Handed out in one turn: the first went to a free thread, the other 8 queued behind it.
    expect(threads.size).toBe(1);
    expect(Array.from({ length: 9 }, (_, i) => executions(i))).toEqual(Array(9).fill(1));
    expect(pool.stats().reclaimed).toBe(0);
  });

  it('spreads over more threads once a queue is full, and without queues gives each task a thread', async () => {
    // Tasks that last a while: an instant one may end (in its thread) while the next ones are handed out,
    // which rightly frees room in its thread's queue, and then fewer threads take the nine.
    const queued = makePool({ size: 8, queueDepth: 2, queueHoldMs: 60_000 });
    await queued.pool.warm();
    const some = await Promise.all(
      Array.from({ length: 9 }, (_, i) => queued.pool.run(`s${i}`, tally(i, 200))),
    );
    expect(new Set(some.map(output)).size).toBe(3);

    const plain = makePool({ size: 4, queueDepth: 0 });
    await plain.pool.warm();
    const each = await Promise.all(
      Array.from({ length: 4 }, (_, i) => plain.pool.run(`p${i}`, tally(i, 200))),
    );
    expect(new Set(each.map(output)).size).toBe(4);
  });

  it('takes a queued task back when its thread stays busy, and runs it once on another thread', async () => {
    const { pool, executions } = makePool({ size: 2, queueDepth: 8, queueHoldMs: 50 });
    await pool.warm();
    const long = pool.run('long', { kind: 'sleep', ms: 3_000 });
    const startedAt = Date.now();
    const short = await pool.run('short', tally(0)); // queued behind `long` at first
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(short.kind).toBe('done');
    expect(pool.stats().reclaimed).toBe(1);
    expect(await long).toEqual({ kind: 'done', output: 'slept' });
    // The first thread reached the task it had been given back, and skipped it.
    expect(executions(0)).toBe(1);
  });

  it('does not queue on a thread whose current task has run longer than the hold', async () => {
    const { pool } = makePool({ size: 2, queueDepth: 8, queueHoldMs: 50 });
    await pool.warm();
    const long = pool.run('long', { kind: 'sleep', ms: 1_500 });
    await sleep(300); // `long` has been running for a while now
    const short = await pool.run('short', tally(0));
    expect(short.kind).toBe('done');
    expect(pool.stats().reclaimed).toBe(0);
    await long;
  });

  it('runs the tasks queued behind a task whose thread is killed on other threads, once each', async () => {
    const { pool, executions } = makePool({ size: 3, queueDepth: 8, queueHoldMs: 60_000 });
    await pool.warm();
    const events: string[] = [];
    const stuck = pool.run('stuck', { kind: 'spin' }, { onEvent: (e) => events.push(e) });
    const behind = Array.from({ length: 3 }, (_, i) => pool.run(`behind${i}`, tally(i)));
    while (events.length === 0) await sleep(10); // the spin has started; the others wait behind it
    expect(pool.stop('stuck')).toBe(true);
    expect(await stuck).toEqual({ kind: 'killed', stopReason: 'cancelled' });
    const outcomes = await Promise.all(behind);
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'done']);
    expect([executions(0), executions(1), executions(2)]).toEqual([1, 1, 1]);
    expect(pool.stats()).toMatchObject({ replaced: 1, reclaimed: 3 });
  });

  it('runs the tasks queued behind a task whose thread dies on other threads', async () => {
    const { pool, executions } = makePool({ size: 2, queueDepth: 8, queueHoldMs: 60_000 });
    await pool.warm();
    const dying = pool.run('dying', { kind: 'exit' });
    const behind = Array.from({ length: 2 }, (_, i) => pool.run(`behind${i}`, tally(i)));
    expect((await dying).kind).toBe('crashed');
    const outcomes = await Promise.all(behind);
    // Whether the thread had reached them before it died or not, each ran exactly once.
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done']);
    expect([executions(0), executions(1)]).toEqual([1, 1]);
  });

  it('ends a queued task that is stopped at once, and it never runs', async () => {
    const { pool, executions } = makePool({ size: 1, queueDepth: 8, queueHoldMs: 60_000 });
    await pool.warm();
    const first = pool.run('first', { kind: 'sleep', ms: 500 });
    const queued = pool.run('queued', tally(0));
    const stoppedAt = Date.now();
    expect(pool.stop('queued')).toBe(true);
    expect(await queued).toEqual({ kind: 'killed', stopReason: 'cancelled' });
    expect(Date.now() - stoppedAt).toBeLessThan(200);
    expect(await first).toEqual({ kind: 'done', output: 'slept' });
    // The thread has gone past the slot it was given back; the pool still serves.
    expect(output(await pool.run('after', tally(1)))).toMatch(/^\d+$/);
    expect(executions(0)).toBe(0);
    expect(pool.stats().replaced).toBe(0);
  });

  it('never runs a task twice under a storm of short tasks with queues taken back', async () => {
    const { pool, executions } = makePool({ size: 4, queueDepth: 8, queueHoldMs: 0 });
    await pool.warm();
    const outcomes = await Promise.all(
      Array.from({ length: TALLIES }, (_, i) => pool.run(`storm${i}`, tally(i))),
    );
    expect(outcomes.every((o) => o.kind === 'done')).toBe(true);
    expect(Array.from({ length: TALLIES }, (_, i) => executions(i))).toEqual(Array(TALLIES).fill(1));
  });
});
