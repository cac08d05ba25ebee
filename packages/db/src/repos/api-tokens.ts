/**
 * API tokens: long-lived bearer credentials a user makes for scripts and the CLI. Only the SHA-256 of the
 * secret is stored. Revoking keeps the row (with `revokedAt`) so listings and the audit trail still name it.
 */
import type { DbClient } from '../client.js';
import type { ApiToken, User } from '../generated/prisma/client.js';

export interface NewApiToken {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: string;
  readonly userId: string;
  readonly now: Date;
  readonly expiresAt: Date | null;
}

export function insertApiToken(db: DbClient, token: NewApiToken): Promise<ApiToken> {
  return db.apiToken.create({
    data: {
      id: token.id,
      name: token.name,
      tokenHash: token.tokenHash,
      userId: token.userId,
      createdAt: token.now,
      expiresAt: token.expiresAt,
    },
  });
}

export type ApiTokenWithUser = ApiToken & { readonly user: User & { readonly sceneIds: readonly string[] } };

/** The token with this secret hash, with its user and the user's granted scene ids (revoked or not). */
export async function findApiTokenByHash(db: DbClient, tokenHash: string): Promise<ApiTokenWithUser | null> {
  const row = await db.apiToken.findUnique({
    where: { tokenHash },
    include: { user: { include: { sceneGrants: { select: { sceneId: true } } } } },
  });
  if (row === null) return null;
  const { sceneGrants, ...user } = row.user;
  return { ...row, user: { ...user, sceneIds: sceneGrants.map((grant) => grant.sceneId) } };
}

export function getApiToken(db: DbClient, id: string): Promise<ApiToken | null> {
  return db.apiToken.findUnique({ where: { id } });
}

/** A user's tokens, newest first (at most `limit`; users hold few). */
export function listApiTokensOfUser(db: DbClient, userId: string, limit = 500): Promise<ApiToken[]> {
  return db.apiToken.findMany({
    where: { userId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit,
  });
}

/** Tokens of the user that still work at `now` (not revoked, not expired). */
export function countUsableApiTokens(db: DbClient, userId: string, now: Date): Promise<number> {
  return db.apiToken.count({
    where: { userId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
  });
}

/** Sets `revokedAt` once; false when the token was revoked already or does not exist. */
export async function revokeApiToken(db: DbClient, id: string, now: Date): Promise<boolean> {
  const result = await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
  return result.count > 0;
}

/** Sets `lastUsedAt = now` unless it was written after `notBefore` (at most one write per throttle period). */
export async function touchApiToken(db: DbClient, id: string, now: Date, notBefore: Date): Promise<boolean> {
  const result = await db.apiToken.updateMany({
    where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: notBefore } }] },
    data: { lastUsedAt: now },
  });
  return result.count > 0;
}
