/**
 * Bearer authentication: `Authorization: Bearer kjs_sess_…` (a login session) or `Bearer kjs_api_…` (an API
 * token). The secret is hashed and looked up by its hash. A session is refused once past `expiresAt` or idle
 * for longer than `sessionIdleMs` (and deleted then); a token once revoked or past its `expiresAt`; both when
 * their user is disabled. Last-seen / last-used times are written at most once per `touchThrottleMs`.
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
import type { Principal } from './principal.js';
import { bearerKind, bearerSecret } from './secrets.js';
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
}): Authenticator {
  const { prisma, clock, settings } = deps;

  async function fromSession(hash: string): Promise<Principal> {
    const now = clock.now();
    const session = await findSessionByTokenHash(prisma, hash);
    if (session === null) throw invalidBearer();
    const idleSince = now.getTime() - session.lastSeenAt.getTime();
    if (session.expiresAt.getTime() <= now.getTime() || idleSince > settings.sessionIdleMs) {
      await deleteSession(prisma, session.id);
      throw invalidBearer();
    }
    if (session.user.disabled) throw invalidBearer();
    if (idleSince >= settings.touchThrottleMs) {
      await touchSession(prisma, session.id, now, new Date(now.getTime() - settings.touchThrottleMs));
    }
    return {
      userId: session.user.id,
      username: session.user.username,
      role: session.user.role,
      grantedSceneIds: session.user.sceneIds,
      credential: { kind: 'session', sessionId: session.id, expiresAt: session.expiresAt },
    };
  }

  async function fromToken(hash: string): Promise<Principal> {
    const now = clock.now();
    const token = await findApiTokenByHash(prisma, hash);
    if (token === null || token.revokedAt !== null || token.user.disabled) throw invalidBearer();
    if (token.expiresAt !== null && token.expiresAt.getTime() <= now.getTime()) throw invalidBearer();
    const notBefore = new Date(now.getTime() - settings.touchThrottleMs);
    if (token.lastUsedAt === null || token.lastUsedAt.getTime() < notBefore.getTime()) {
      await touchApiToken(prisma, token.id, now, notBefore);
    }
    return {
      userId: token.user.id,
      username: token.user.username,
      role: token.user.role,
      grantedSceneIds: token.user.sceneIds,
      credential: { kind: 'token', tokenId: token.id, expiresAt: token.expiresAt },
    };
  }

  return {
    async authenticate(header) {
      if (header === undefined || header === '') return null;
      const secret = bearerSecret(header);
      const kind = secret === undefined ? undefined : bearerKind(secret);
      if (secret === undefined || kind === undefined) throw invalidBearer();
      return kind === 'session' ? fromSession(tokenHash(secret)) : fromToken(tokenHash(secret));
    },
  };
}
