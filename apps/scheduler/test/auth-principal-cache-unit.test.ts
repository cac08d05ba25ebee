/**
 * The principal cache on its own, with a fake clock and lookups the test resolves by hand: the TTL bound,
 * concurrent misses sharing one lookup, a change reported while a lookup is in flight (the lookup's answer is
 * neither kept nor joined by later requests), what each change drops, and the size bound.
 */
import { describe, expect, test } from 'vitest';
import { createPrincipalCache, type ResolvedCredential } from '../src/auth/principal-cache.js';
import type { Principal } from '../src/auth/principal.js';
import { FakeClock } from './support/http-env.js';

function principal(userId: string, credential: Principal['credential']): Principal {
  return { userId, username: userId, role: 'viewer', grantedSceneIds: ['scn_a'], credential };
}
const session = (userId: string, sessionId: string): ResolvedCredential => ({
  principal: principal(userId, { kind: 'session', sessionId, expiresAt: new Date(Date.now() + 3_600_000) }),
  seenAt: new Date(),
});
const token = (userId: string, tokenId: string): ResolvedCredential => ({
  principal: principal(userId, { kind: 'token', tokenId, expiresAt: null }),
  seenAt: null,
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('principal cache', () => {
  test('an entry is served for less than the TTL, then looked up again', async () => {
    const clock = new FakeClock();
    const cache = createPrincipalCache({ clock, ttlMs: 2_000 });
    await cache.load('h1', () => Promise.resolve(session('usr_1', 'ses_1')));
    expect(cache.get('h1')?.principal.userId).toBe('usr_1');
    clock.advance(1_999);
    expect(cache.get('h1')).toBeDefined();
    clock.advance(1);
    expect(cache.get('h1')).toBeUndefined();
  });

  test('TTL 0 keeps nothing', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 0 });
    let lookups = 0;
    const load = () => cache.load('h1', () => Promise.resolve((lookups++, session('usr_1', 'ses_1'))));
    await Promise.all([load(), load()]);
    expect(lookups).toBe(2);
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('concurrent misses of one hash share one lookup; a failed lookup is not kept', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 2_000 });
    const lookup = deferred<ResolvedCredential>();
    let lookups = 0;
    const load = () => cache.load('h1', () => (lookups++, lookup.promise));
    const all = Promise.all([load(), load(), load()]);
    lookup.resolve(session('usr_1', 'ses_1'));
    const entries = await all;
    expect(lookups).toBe(1);
    expect(new Set(entries).size).toBe(1);

    const refused = new Error('TOKEN_INVALID');
    await expect(cache.load('h2', () => Promise.reject(refused))).rejects.toBe(refused);
    expect(cache.get('h2')).toBeUndefined();
    const second = await cache.load('h2', () => Promise.resolve(token('usr_2', 'tok_2')));
    expect(second.principal.userId).toBe('usr_2');
  });

  test('a change reported during a lookup: its answer is not kept, and later requests look up afresh', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 2_000 });
    const before = deferred<ResolvedCredential>();
    const early = cache.load('h1', () => before.promise);
    cache.tokenRevoked('tok_1');
    let lateLookups = 0;
    const after = deferred<ResolvedCredential>();
    const late = cache.load('h1', () => (lateLookups++, after.promise));
    expect(lateLookups).toBe(1);
    before.resolve(token('usr_1', 'tok_1'));
    await early;
    expect(cache.get('h1')).toBeUndefined();
    after.resolve(token('usr_1', 'tok_1b'));
    expect((await late).principal.credential).toMatchObject({ tokenId: 'tok_1b' });
    expect(cache.get('h1')?.principal.credential).toMatchObject({ tokenId: 'tok_1b' });
  });

  test('each change drops exactly what it names', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 60_000 });
    const fill = async () => {
      await cache.load('s1', () => Promise.resolve(session('usr_1', 'ses_1')));
      await cache.load('s2', () => Promise.resolve(session('usr_1', 'ses_2')));
      await cache.load('t1', () => Promise.resolve(token('usr_1', 'tok_1')));
      await cache.load('t2', () => Promise.resolve(token('usr_2', 'tok_2')));
    };
    const kept = () => ['s1', 's2', 't1', 't2'].filter((hash) => cache.get(hash) !== undefined);
    await fill();
    cache.sessionEnded('ses_1');
    expect(kept()).toEqual(['s2', 't1', 't2']);
    cache.tokenRevoked('tok_2');
    expect(kept()).toEqual(['s2', 't1']);
    await fill();
    cache.userChanged('usr_1');
    expect(kept()).toEqual(['t2']);
    await fill();
    cache.everyoneChanged();
    expect(kept()).toEqual([]);
  });

  test('a cached principal cannot be changed by a request', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 60_000 });
    const entry = await cache.load('h1', () => Promise.resolve(session('usr_1', 'ses_1')));
    expect(Object.isFrozen(entry.principal)).toBe(true);
    expect(Object.isFrozen(entry.principal.grantedSceneIds)).toBe(true);
    expect(Object.isFrozen(entry.principal.credential)).toBe(true);
  });

  test('the size is bounded: the oldest entry goes first', async () => {
    const cache = createPrincipalCache({ clock: new FakeClock(), ttlMs: 60_000, maxEntries: 3 });
    for (const n of [1, 2, 3, 4])
      await cache.load(`h${n}`, () => Promise.resolve(token(`usr_${n}`, `tok_${n}`)));
    expect(cache.size).toBe(3);
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h4')).toBeDefined();
  });
});
