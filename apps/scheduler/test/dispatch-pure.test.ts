import { describe, expect, it } from 'vitest';
import { RunId } from '@kisjobs/protocol';
import { Coalescer } from '../src/dispatch/coalesce.js';
import { needsRetry } from '../src/dispatch/follow-up.js';
import { planFire, planRun, type RoutingSpec } from '../src/dispatch/placement.js';
import { childRunSeed, retryRunId, seededRunId } from '../src/dispatch/run-ids.js';

const three = [
  { instanceId: 'c', registeredAt: 3 },
  { instanceId: 'a', registeredAt: 1 },
  { instanceId: 'b', registeredAt: 2 },
];
const spec = (strategy: RoutingSpec['strategy'], extra: Partial<RoutingSpec> = {}): RoutingSpec => ({
  strategy,
  key: 'job_x',
  ...extra,
});
const target = (t: ReturnType<typeof planRun>): string => (t.kind === 'direct' ? t.instanceId : t.kind);

describe('planRun: placing a run that exists already', () => {
  it.each([
    [
      'failover avoids the executor the run failed on',
      spec('failover'),
      { shardIndex: 0, exclude: 'a' },
      'b',
    ],
    ['failover keeps it when it is the only one', spec('failover'), { shardIndex: 0, exclude: 'zz' }, 'a'],
    [
      'round robin uses the counter among the others',
      spec('round_robin'),
      { shardIndex: 0, counter: 1, exclude: 'a' },
      'c',
    ],
    ['broadcast shard i goes to the i-th executor', spec('broadcast'), { shardIndex: 1 }, 'b'],
    ['broadcast wraps around with fewer executors', spec('broadcast'), { shardIndex: 4 }, 'b'],
    [
      'pinned ignores exclude',
      spec('pinned', { pinnedInstanceId: 'a' }),
      { shardIndex: 0, exclude: 'a' },
      'a',
    ],
    ['any is the group queue', spec('any'), { shardIndex: 0 }, 'group'],
  ] as const)('%s', (_name, routing, options, expected) => {
    expect(target(planRun(routing, three, options))).toBe(expected);
  });

  it('with no candidate: unroutable, or the group queue when asked, never for pinned', () => {
    expect(planRun(spec('failover'), [], { shardIndex: 0 }).kind).toBe('unroutable');
    expect(planRun(spec('failover'), [], { shardIndex: 0, fallbackToGroup: true }).kind).toBe('group');
    expect(
      planRun(spec('pinned', { pinnedInstanceId: 'a' }), [], { shardIndex: 0, fallbackToGroup: true }).kind,
    ).toBe('unroutable');
  });

  it('planFire gives broadcast one target per executor with its shard', () => {
    expect(
      planFire(spec('broadcast'), three).map((s) => [target(s.target), s.shardIndex, s.shardTotal]),
    ).toEqual([
      ['a', 0, 3],
      ['b', 1, 3],
      ['c', 2, 3],
    ]);
    expect(planFire(spec('pinned', { pinnedInstanceId: 'q' }), three)[0]?.target.kind).toBe('unroutable');
  });
});

describe('needsRetry', () => {
  const run = (status: string, attempt: number, maxAttempts: number, errorCode: string | null = null) =>
    needsRetry({ status: status as 'failed', attempt, maxAttempts, errorCode });
  it.each([
    ['failed with attempts left', run('failed', 1, 2), true],
    ['timed out with attempts left', run('timed_out', 1, 3), true],
    ['lost with attempts left', run('lost', 2, 3), true],
    ['the last attempt', run('failed', 3, 3), false],
    ['succeeded', run('succeeded', 1, 3), false],
    ['terminated by an operator', run('terminated', 1, 3, 'TERMINATED'), false],
    ['terminated by its executor shutting down', run('terminated', 1, 3, 'EXECUTOR_SHUTDOWN'), true],
    ['no executor could take it', run('failed', 1, 3, 'EXECUTOR_UNAVAILABLE'), false],
    ['an invalid payload', run('failed', 1, 3, 'PAYLOAD_INVALID'), false],
    ['skipped', run('skipped', 1, 3), false],
  ])('%s -> %s', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('derived run ids', () => {
  it('are valid run ids, the same for the same input and different otherwise', () => {
    const at = new Date('2026-03-01T02:00:00Z');
    const a = retryRunId('run_01jq3v6k9e7x2m4n8p0r5s7t9w', 2, at);
    expect(RunId.safeParse(a).success).toBe(true);
    expect(retryRunId('run_01jq3v6k9e7x2m4n8p0r5s7t9w', 2, at)).toBe(a);
    expect(retryRunId('run_01jq3v6k9e7x2m4n8p0r5s7t9w', 3, at)).not.toBe(a);
    const seed = childRunSeed('run_01jq3v6k9e7x2m4n8p0r5s7t9w', 'job_01jq3v6k9e7x2m4n8p0r5s7t9w');
    expect(seededRunId(seed, 0, at)).toBe(seededRunId(seed, 0, at));
    expect(seededRunId(seed, 1, at)).not.toBe(seededRunId(seed, 0, at));
  });
});

describe('Coalescer', () => {
  it('serves the calls of one event-loop turn with one batch, each caller its own result', async () => {
    const batches: number[][] = [];
    const c = new Coalescer<number, number>(async (items) => {
      batches.push([...items]);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3].map((i) => c.submit(i)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await c.submit(4)).toBe(40);
    expect(batches).toHaveLength(2);
  });

  it('fails every caller of a failing batch, and flushes early at the batch limit', async () => {
    const failing = new Coalescer<number, number>(() => Promise.reject(new Error('db down')));
    await expect(Promise.all([failing.submit(1), failing.submit(2)])).rejects.toThrow('db down');
    const sizes: number[] = [];
    const small = new Coalescer<number, number>(async (items) => {
      sizes.push(items.length);
      return [...items];
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((i) => small.submit(i)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
