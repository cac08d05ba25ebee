/**
 * Users (people who sign in to the API and the console). Usernames are stored in lower case by the caller;
 * the unique index makes a second user with the same name fail with `{ ok: false, reason: 'username_taken' }`.
 * Deleting a user drops its sessions, API tokens and scene grants (ON DELETE CASCADE).
 */
import type { DbClient } from '../client.js';
import { Prisma, type User } from '../generated/prisma/client.js';
import type { UserRole } from '../generated/prisma/enums.js';
import { afterCursor, pageFrom, pageSize } from './cursor.js';
import type { Page, PageRequest } from './runs-list.js';

/** A user with the ids of the scenes granted to it. */
export type UserWithGrants = User & { readonly sceneIds: readonly string[] };

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly now: Date;
}

export type InsertUserResult = { ok: true; user: User } | { ok: false; reason: 'username_taken' };

export async function insertUser(db: DbClient, user: NewUser): Promise<InsertUserResult> {
  try {
    const row = await db.user.create({
      data: {
        id: user.id,
        username: user.username,
        passwordHash: user.passwordHash,
        role: user.role,
        createdAt: user.now,
        updatedAt: user.now,
      },
    });
    return { ok: true, user: row };
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, reason: 'username_taken' };
    throw error;
  }
}

const withGrants = { sceneGrants: { select: { sceneId: true }, orderBy: { sceneId: 'asc' } } } as const;

function flatten(row: User & { sceneGrants: { sceneId: string }[] }): UserWithGrants {
  const { sceneGrants, ...user } = row;
  return { ...user, sceneIds: sceneGrants.map((grant) => grant.sceneId) };
}

export async function getUser(db: DbClient, id: string): Promise<UserWithGrants | null> {
  const row = await db.user.findUnique({ where: { id }, include: withGrants });
  return row === null ? null : flatten(row);
}

export function findUserByUsername(db: DbClient, username: string): Promise<User | null> {
  return db.user.findUnique({ where: { username } });
}

export function countUsers(db: DbClient): Promise<number> {
  return db.user.count();
}

/** Users, newest first, with their grants; keyset paging on (createdAt, id). */
export async function listUsers(db: DbClient, page: PageRequest = {}): Promise<Page<UserWithGrants>> {
  const limit = pageSize(page.limit);
  const rows = await db.user.findMany({
    where: { AND: afterCursor<Prisma.UserWhereInput>('createdAt', page.cursor) },
    include: withGrants,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  const paged = pageFrom(rows, limit, (row) => row.createdAt);
  return { items: paged.items.map(flatten), nextCursor: paged.nextCursor };
}

export interface UserChange {
  readonly role?: UserRole;
  readonly disabled?: boolean;
  readonly passwordHash?: string;
  readonly now: Date;
}

/** Applies a change; null when the user does not exist. */
export async function updateUser(db: DbClient, id: string, change: UserChange): Promise<User | null> {
  const data: Prisma.UserUpdateManyMutationInput = { updatedAt: change.now };
  if (change.role !== undefined) data.role = change.role;
  if (change.disabled !== undefined) data.disabled = change.disabled;
  if (change.passwordHash !== undefined) data.passwordHash = change.passwordHash;
  const rows = await db.user.updateManyAndReturn({ where: { id }, data });
  return rows[0] ?? null;
}

/** True when a user was deleted (with its sessions, tokens and grants). */
export async function deleteUser(db: DbClient, id: string): Promise<boolean> {
  const result = await db.user.deleteMany({ where: { id } });
  return result.count > 0;
}

/**
 * Locks the rows of the enabled admins until the transaction ends and returns their ids: the guard that keeps
 * two concurrent edits from removing the last admin. Call it on a transaction client.
 */
export async function lockActiveAdmins(tx: Prisma.TransactionClient): Promise<string[]> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM users WHERE role = 'admin'::user_role AND NOT disabled ORDER BY id FOR UPDATE`;
  return rows.map((row) => row.id);
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
