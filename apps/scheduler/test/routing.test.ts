import { describe, expect, it } from 'vitest';
import { chooseRoute, rendezvousPick, type RoutingCandidate } from '../src/dispatch/routing.js';
import { retryDelay } from '../src/dispatch/backoff.js';

const exe = (instanceId: string, registeredAt: number): RoutingCandidate => ({ instanceId, registeredAt });
const three = [exe('c', 3), exe('a', 1), exe('b', 2)];
const targetsOf = (d: ReturnType<typeof chooseRoute>): string[] =>
  d.kind === 'direct' ? d.targets.map((t) => t.instanceId) : [d.kind];

describe('chooseRoute', () => {
  it.each([
    ['any', {}, ['group']],
    ['failover', {}, ['a']],
    ['round_robin', { counter: 0 }, ['a']],
    ['round_robin', { counter: 1 }, ['b']],
    ['round_robin', { counter: 5 }, ['c']],
    ['pinned', { pinnedInstanceId: 'b' }, ['b']],
    ['pinned', { pinnedInstanceId: 'zz' }, ['unroutable']],
    ['broadcast', {}, ['a', 'b', 'c']],
  ] as const)('%s %o -> %o', (strategy, extra, expected) => {
    expect(targetsOf(chooseRoute({ strategy, candidates: three, ...extra }))).toEqual(expected);
  });

  it('gives broadcast targets their shard index and total', () => {
    const d = chooseRoute({ strategy: 'broadcast', candidates: three });
    expect(d).toEqual({
      kind: 'direct',
      targets: [
        { instanceId: 'a', shardIndex: 0, shardTotal: 3 },
        { instanceId: 'b', shardIndex: 1, shardTotal: 3 },
        { instanceId: 'c', shardIndex: 2, shardTotal: 3 },
      ],
    });
  });

  it('is unroutable with no candidates, except for the shared group queue', () => {
    for (const strategy of ['round_robin', 'failover', 'consistent_hash', 'broadcast'] as const) {
      expect(chooseRoute({ strategy, candidates: [] }).kind).toBe('unroutable');
    }
    expect(chooseRoute({ strategy: 'any', candidates: [] }).kind).toBe('group');
  });

  it('fails over to the next executor in registration order when the first leaves', () => {
    expect(
      targetsOf(chooseRoute({ strategy: 'failover', candidates: three.filter((c) => c.instanceId !== 'a') })),
    ).toEqual(['b']);
  });
});

describe('consistent hashing', () => {
  it('is sticky per key and moves only the keys of a removed executor', () => {
    const many = Array.from({ length: 8 }, (_, i) => exe(`exe-${i}`, i));
    const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
    const before = new Map(keys.map((k) => [k, rendezvousPick(k, many)?.instanceId]));
    for (const k of keys) expect(rendezvousPick(k, many)?.instanceId).toBe(before.get(k));
    const without = many.filter((c) => c.instanceId !== 'exe-3');
    let movedOthers = 0;
    let stillOnRemoved = 0;
    for (const k of keys) {
      const now = rendezvousPick(k, without)?.instanceId;
      if (now === 'exe-3') stillOnRemoved++;
      if (before.get(k) !== 'exe-3' && now !== before.get(k)) movedOthers++;
    }
    expect(stillOnRemoved).toBe(0);
    expect(movedOthers).toBe(0);
    // Spread: every executor gets some keys.
    const counts = new Set(before.values());
    expect(counts.size).toBe(8);
  });
});

describe('retryDelay', () => {
  it.each([
    [{ maxAttempts: 3, backoff: 'fixed', delayMs: 500 }, 2, 500],
    [{ maxAttempts: 3, backoff: 'fixed', delayMs: 500 }, 3, 500],
    [{ maxAttempts: 3, backoff: 'fixed', delayMs: 500 }, 4, undefined],
    [{ maxAttempts: 1, backoff: 'fixed', delayMs: 500 }, 2, undefined],
    [{ maxAttempts: 5, backoff: 'exponential', delayMs: 100 }, 2, 100],
    [{ maxAttempts: 5, backoff: 'exponential', delayMs: 100 }, 4, 400],
    [{ maxAttempts: 99, backoff: 'exponential', delayMs: 1000, maxDelayMs: 5000 }, 10, 5000],
  ] as const)('%o attempt %i -> %s', (policy, attempt, expected) => {
    expect(retryDelay(policy, attempt)).toBe(expected);
  });
});
