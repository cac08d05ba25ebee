/**
 * Bearer authentication: `Authorization: Bearer kjs_sess_…` (a login session) or `Bearer kjs_api_…` (an API
 * token). The secret is hashed and looked up by its hash. A session is refused once past `expiresAt` or idle
 * for longer than `sessionIdleMs` (and deleted then); a token once revoked or past its `expiresAt`; both when
 * their user is disabled. Last-seen / last-used times are written at most once per `touchThrottleMs`.
 *
 * The lookup's answer is kept for `principalCacheTtlMs` in the given PrincipalCache (principal-cache.ts: what
 * it may hide, and how writes invalidate it). On every request, cached or not, `expiresAt` and the session's
 * idle time are checked against the clock, and a due last-seen / last-used write is made.
 */
import {
  deleteSession,
  findApiTokenByHash,
  findSessionByTokenHash,
  touchApiToken,
  touchSession,
  type PrismaClient,
} from '@kisjobs/db';
import { tokenHash, UnauthenticatedError } from '@kisjobs/protocol';
import type { Clock } from '../registry/ports.js';
import type { CachedCredential, PrincipalCache, ResolvedCredential } from './principal-cache.js';
import type { Principal } from './principal.js';
import { bearerKind, bearerSecret, type BearerKind } from './secrets.js';
import type { AuthSettings } from './settings.js';

export interface Authenticator {
  /**
   * The principal of an `Authorization` header value: null when there is none; throws UnauthenticatedError
   * (TOKEN_INVALID) when it is malformed, unknown, expired or revoked, or its user is disabled.
   */
  authenticate(header: string | undefined): Promise<Principal | null>;
}

export function invalidBearer(): UnauthenticatedError {
  return new UnauthenticatedError('The bearer token is invalid, expired or revoked', 'TOKEN_INVALID');
}

export function createAuthenticator(deps: {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly settings: AuthSettings;
  /** Made by the composition root (createHttpApp), which also hands it to the write paths that invalidate it. */
  readonly cache: PrincipalCache;
}): Authenticator {
  const { prisma, clock, settings, cache } = deps;

  async function fromSession(hash: string): Promise<ResolvedCredential> {
    const now = clock.now();
    const session = await findSessionByTokenHash(prisma, hash);
    if (session === null) throw invalidBearer();
    const idleSince = now.getTime() - session.lastSeenAt.getTime();
    if (session.expiresAt.getTime() <= now.getTime() || idleSince > settings.sessionIdleMs) {
      await deleteSession(prisma, session.id);
      throw invalidBearer();
    }
    if (session.user.disabled) throw invalidBearer();
    let seenAt = session.lastSeenAt;
    if (idleSince >= settings.touchThrottleMs) {
      const notBefore = new Date(now.getTime() - settings.touchThrottleMs);
      // Not written: another request or replica wrote it after `notBefore`.
      seenAt = (await touchSession(prisma, session.id, now, notBefore)) ? now : notBefore;
    }
    return {
      principal: {
        userId: session.user.id,
        username: session.user.username,
        role: session.user.role,
        grantedSceneIds: session.user.sceneIds,
        credential: { kind: 'session', sessionId: session.id, expiresAt: session.expiresAt },
      },
      seenAt,
    };
  }

  async function fromToken(hash: string): Promise<ResolvedCredential> {
    const now = clock.now();
    const token = await findApiTokenByHash(prisma, hash);
    if (token === null || token.revokedAt !== null || token.user.disabled) throw invalidBearer();
    if (token.expiresAt !== null && token.expiresAt.getTime() <= now.getTime()) throw invalidBearer();
    const notBefore = new Date(now.getTime() - settings.touchThrottleMs);
    let seenAt = token.lastUsedAt;
    if (seenAt === null || seenAt.getTime() < notBefore.getTime()) {
      seenAt = (await touchApiToken(prisma, token.id, now, notBefore)) ? now : notBefore;
    }
    return {
      principal: {
        userId: token.user.id,
        username: token.user.username,
        role: token.user.role,
        grantedSceneIds: token.user.sceneIds,
        credential: { kind: 'token', tokenId: token.id, expiresAt: token.expiresAt },
      },
      seenAt,
    };
  }

  /** Whether a cached credential may still be used at `now` (expiry and idle time are never cached). */
  function stillValid(entry: CachedCredential, now: number): boolean {
    const { credential } = entry.principal;
    if (credential.expiresAt !== null && credential.expiresAt.getTime() <= now) return false;
    if (credential.kind === 'session') {
      const seenAt = entry.seenAt?.getTime() ?? Number.NEGATIVE_INFINITY;
      if (now - seenAt > settings.sessionIdleMs) return false;
    }
    return true;
  }

  /** The throttled last-seen / last-used write on a cache hit: at most one at a time per entry. */
  function touchIfDue(entry: CachedCredential, now: Date): Promise<void> | undefined {
    if (entry.touching !== undefined) return entry.touching;
    const notBefore = new Date(now.getTime() - settings.touchThrottleMs);
    const seenAt = entry.seenAt?.getTime();
    const { credential } = entry.principal;
    const due =
      credential.kind === 'session'
        ? seenAt === undefined || now.getTime() - seenAt >= settings.touchThrottleMs
        : seenAt === undefined || seenAt < notBefore.getTime();
    if (!due) return undefined;
    const write =
      credential.kind === 'session'
        ? touchSession(prisma, credential.sessionId, now, notBefore)
        : touchApiToken(prisma, credential.tokenId, now, notBefore);
    entry.touching = write
      .then((written) => {
        entry.seenAt = written ? now : notBefore;
      })
      .finally(() => {
        entry.touching = undefined;
      });
    return entry.touching;
  }

  async function principalOf(kind: BearerKind, hash: string): Promise<Principal> {
    const resolve = (): Promise<ResolvedCredential> =>
      kind === 'session' ? fromSession(hash) : fromToken(hash);
    const cached = cache.get(hash);
    const entry = cached ?? (await cache.load(hash, resolve));
    const now = clock.now();
    if (!stillValid(entry, now.getTime())) {
      // Expired or idle since it was cached: the lookup decides (and deletes an ended session) at `now`.
      cache.delete(hash);
      return (await resolve()).principal;
    }
    if (cached !== undefined) await touchIfDue(cached, now);
    return entry.principal;
  }

  return {
    async authenticate(header) {
      if (header === undefined || header === '') return null;
      const secret = bearerSecret(header);
      const kind = secret === undefined ? undefined : bearerKind(secret);
      if (secret === undefined || kind === undefined) throw invalidBearer();
      return principalOf(kind, tokenHash(secret));
    },
  };
}
