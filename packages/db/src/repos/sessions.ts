/**
 * Login sessions. Only the SHA-256 of a session token is stored (`tokenHash`), so a copy of the table does not
 * let anyone sign in. A session ends at `expiresAt` (absolute) or after an idle period that the caller measures
 * from `lastSeenAt`, which is written at most once per throttle period (`touchSession`).
 */
import type { DbClient } from '../client.js';
import type { Session, User } from '../generated/prisma/client.js';

export interface NewSession {
  readonly id: string;
  readonly tokenHash: string;
  readonly userId: string;
  readonly now: Date;
  readonly expiresAt: Date;
}

export function insertSession(db: DbClient, session: NewSession): Promise<Session> {
  return db.session.create({
    data: {
      id: session.id,
      tokenHash: session.tokenHash,
      userId: session.userId,
      createdAt: session.now,
      lastSeenAt: session.now,
      expiresAt: session.expiresAt,
    },
  });
}

export type SessionWithUser = Session & { readonly user: User & { readonly sceneIds: readonly string[] } };

/** The session with this token hash, with its user and the user's granted scene ids. */
export async function findSessionByTokenHash(
  db: DbClient,
  tokenHash: string,
): Promise<SessionWithUser | null> {
  const row = await db.session.findUnique({
    where: { tokenHash },
    include: { user: { include: { sceneGrants: { select: { sceneId: true } } } } },
  });
  if (row === null) return null;
  const { sceneGrants, ...user } = row.user;
  return { ...row, user: { ...user, sceneIds: sceneGrants.map((grant) => grant.sceneId) } };
}

/** Sets `lastSeenAt = now` unless it was written after `notBefore` (at most one write per throttle period). */
export async function touchSession(db: DbClient, id: string, now: Date, notBefore: Date): Promise<boolean> {
  const result = await db.session.updateMany({
    where: { id, lastSeenAt: { lt: notBefore } },
    data: { lastSeenAt: now },
  });
  return result.count > 0;
}

export async function deleteSession(db: DbClient, id: string): Promise<boolean> {
  const result = await db.session.deleteMany({ where: { id } });
  return result.count > 0;
}

/** Ends every session of a user, except `keepId` when given (the one the request came with). */
export async function deleteSessionsOfUser(db: DbClient, userId: string, keepId?: string): Promise<number> {
  const result = await db.session.deleteMany({
    where: keepId === undefined ? { userId } : { userId, id: { not: keepId } },
  });
  return result.count;
}

/** Deletes at most `limit` sessions that expired before `now` (bounded, so it can run on any request path). */
export async function deleteExpiredSessions(db: DbClient, now: Date, limit = 1_000): Promise<number> {
  return db.$executeRaw`
    DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE expires_at <= ${now} ORDER BY expires_at LIMIT ${Math.max(1, Math.floor(limit))}
    )`;
}
