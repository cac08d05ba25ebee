/**
 * A short-lived, in-process cache of who a bearer secret stands for, keyed by the secret's hash (never the
 * secret). It saves the session / token lookup (with the user and their grants) on nearly every request.
 *
 * What it may and may not hide:
 * - An entry lives at most `ttlMs` (default 2 s), so a change made elsewhere (another replica, the CLI, SQL)
 *   is seen within that bound.
 * - A change made through this process is seen at once: every write path that ends or changes credentials
 *   calls `CredentialChanges` after it commits (logout, token revoke, password change, role / disabled /
 *   grants change, user or scene deletion). Each call drops the matching entries and bumps a generation:
 *   a lookup that started before it neither stores its result nor is joined by later requests.
 * - Expiry is never cached: the authenticator checks `expiresAt` (and a session's idle time) against the clock
 *   on every hit.
 * Concurrent misses of one hash share one lookup. Negative answers are not cached. Size is bounded (oldest
 * entries go first).
 */
import type { Clock } from '../registry/ports.js';
import type { Principal } from './principal.js';

/** What write paths tell the cache after they commit: the credentials they ended or changed. */
export interface CredentialChanges {
  /** A login session ended (logout). */
  sessionEnded(sessionId: string): void;
  /** An API token was revoked. */
  tokenRevoked(tokenId: string): void;
  /** A user's role, disabled flag, password or grants changed, or the user was deleted: all their credentials. */
  userChanged(userId: string): void;
  /** Grants of any number of users changed at once (a scene was deleted, and its grants with it). */
  everyoneChanged(): void;
}

/** A resolved credential: the principal, and its last-seen (session) / last-used (token) time as known here. */
export interface ResolvedCredential {
  readonly principal: Principal;
  /** A lower bound of the stored `lastSeenAt` / `lastUsedAt` (null: a token never used). */
  readonly seenAt: Date | null;
}

export interface CachedCredential {
  readonly principal: Principal;
  seenAt: Date | null;
  /** A write of `seenAt` in progress, shared by the requests that found it due. */
  touching: Promise<void> | undefined;
}

export interface PrincipalCache extends CredentialChanges {
  /** The entry for `hash` if it is younger than the TTL. */
  get(hash: string): CachedCredential | undefined;
  /**
   * Runs `resolve` for `hash` (once for concurrent callers) and keeps the result for the TTL, unless a change
   * was reported while it ran.
   */
  load(hash: string, resolve: () => Promise<ResolvedCredential>): Promise<CachedCredential>;
  delete(hash: string): void;
  readonly size: number;
}

export interface PrincipalCacheOptions {
  readonly clock: Clock;
  /** How long an entry is trusted; 0 turns the cache off (every request looks its credential up). */
  readonly ttlMs: number;
  /** The most entries kept (default 10,000). */
  readonly maxEntries?: number;
}

interface Entry extends CachedCredential {
  readonly storedAt: number;
}

export function createPrincipalCache(options: PrincipalCacheOptions): PrincipalCache {
  const { clock, ttlMs } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<CachedCredential>>();
  let generation = 0;

  const entryOf = (resolved: ResolvedCredential, storedAt: number): Entry => ({
    principal: freeze(resolved.principal),
    seenAt: resolved.seenAt,
    touching: undefined,
    storedAt,
  });

  function forget(matches: (entry: Entry) => boolean): void {
    generation++;
    pending.clear();
    for (const [hash, entry] of entries) if (matches(entry)) entries.delete(hash);
  }

  return {
    get(hash) {
      const entry = entries.get(hash);
      if (entry === undefined) return undefined;
      if (clock.now().getTime() - entry.storedAt < ttlMs) return entry;
      entries.delete(hash);
      return undefined;
    },
    load(hash, resolve) {
      if (ttlMs <= 0) return resolve().then((resolved) => entryOf(resolved, 0));
      const inFlight = pending.get(hash);
      if (inFlight !== undefined) return inFlight;
      const started = generation;
      const storedAt = clock.now().getTime();
      const promise = resolve()
        .then((resolved) => {
          const entry = entryOf(resolved, storedAt);
          if (generation === started) {
            entries.delete(hash);
            entries.set(hash, entry);
            if (entries.size > maxEntries) {
              const oldest = entries.keys().next();
              if (oldest.done !== true) entries.delete(oldest.value);
            }
          }
          return entry;
        })
        .finally(() => {
          if (pending.get(hash) === promise) pending.delete(hash);
        });
      pending.set(hash, promise);
      return promise;
    },
    delete(hash) {
      entries.delete(hash);
    },
    get size() {
      return entries.size;
    },
    sessionEnded(sessionId) {
      forget(
        ({ principal: { credential } }) =>
          credential.kind === 'session' && credential.sessionId === sessionId,
      );
    },
    tokenRevoked(tokenId) {
      forget(
        ({ principal: { credential } }) => credential.kind === 'token' && credential.tokenId === tokenId,
      );
    },
    userChanged(userId) {
      forget((entry) => entry.principal.userId === userId);
    },
    everyoneChanged() {
      forget(() => true);
    },
  };
}

/** Cached principals are shared by requests: nothing may change them. */
function freeze(principal: Principal): Principal {
  Object.freeze(principal.grantedSceneIds);
  Object.freeze(principal.credential);
  return Object.freeze(principal);
}
