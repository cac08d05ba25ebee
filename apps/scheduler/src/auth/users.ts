/**
 * User administration: create (with grants), change role / disabled / password, delete, replace grants.
 * Two guards: the last enabled admin can be neither demoted, disabled nor deleted (checked under row locks, so
 * two admins demoting each other at once cannot both succeed); and a new password or disabling a user ends
 * that user's sessions. Grants name existing scenes, or the request fails naming the field. Every change to an
 * existing user is reported to `credentials` once written, so that cached principals of it are dropped.
 */
import {
  deleteSessionsOfUser,
  deleteUser as deleteUserRow,
  existingSceneIds,
  getUser,
  insertUser,
  lockActiveAdmins,
  replaceSceneGrants,
  updateUser as updateUserRow,
  type DbClient,
  type PrismaClient,
  type UserWithGrants,
} from '@kisjobs/db';
import {
  ConflictError,
  newId,
  NotFoundError,
  ValidationError,
  type Role,
  type UserInput,
  type UserPatch,
} from '@kisjobs/protocol';
import type { Clock } from '../registry/ports.js';
import type { PasswordHasher } from './password.js';
import type { CredentialChanges } from './principal-cache.js';

export interface UserServiceDeps {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
}

/** What changing or deleting existing users needs on top: who to tell that their credentials changed. */
export interface UserAdminDeps extends UserServiceDeps {
  readonly credentials: CredentialChanges;
}

/** Runs a write that changes a user's credentials, then drops what this process cached for them. */
async function changingUser<T>(deps: UserAdminDeps, id: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } finally {
    // Also when the write failed: whether it committed is not always known, and forgetting is only a lookup.
    deps.credentials.userChanged(id);
  }
}

export interface NewUserRequest {
  readonly username: string;
  readonly password: string;
  readonly role: Role;
  readonly sceneIds?: readonly string[];
}

export async function createUser(
  deps: UserServiceDeps,
  input: NewUserRequest | UserInput,
): Promise<UserWithGrants> {
  const passwordHash = await deps.hasher.hash(input.password);
  const now = deps.clock.now();
  const sceneIds = input.sceneIds ?? [];
  return deps.prisma.$transaction(async (tx) => {
    await requireScenes(tx, sceneIds, 'sceneIds');
    const inserted = await insertUser(tx, {
      id: newId('usr', now),
      username: input.username,
      passwordHash,
      role: input.role,
      now,
    });
    if (!inserted.ok) {
      throw new ConflictError(`A user named ${input.username} exists already`, {
        code: 'ALREADY_EXISTS',
        details: { username: input.username },
      });
    }
    await replaceSceneGrants(tx, inserted.user.id, sceneIds, now);
    return { ...inserted.user, sceneIds: [...sceneIds].sort() };
  });
}

export async function updateUser(deps: UserAdminDeps, id: string, patch: UserPatch): Promise<UserWithGrants> {
  const passwordHash = patch.password === undefined ? undefined : await deps.hasher.hash(patch.password);
  const now = deps.clock.now();
  return changingUser(deps, id, () =>
    deps.prisma.$transaction(async (tx) => {
      const admins = await lockActiveAdmins(tx);
      const user = await found(tx, id);
      const staysAdmin = (patch.role ?? user.role) === 'admin' && !(patch.disabled ?? user.disabled);
      if (admins.includes(id) && !staysAdmin && admins.length <= 1) throw lastAdmin();
      await updateUserRow(tx, id, {
        now,
        ...(patch.role === undefined ? {} : { role: patch.role }),
        ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
        ...(passwordHash === undefined ? {} : { passwordHash }),
      });
      if (passwordHash !== undefined || patch.disabled === true) await deleteSessionsOfUser(tx, id);
      return found(tx, id);
    }),
  );
}

export async function deleteUser(deps: UserAdminDeps, id: string): Promise<void> {
  await changingUser(deps, id, () =>
    deps.prisma.$transaction(async (tx) => {
      const admins = await lockActiveAdmins(tx);
      await found(tx, id);
      if (admins.includes(id) && admins.length <= 1) throw lastAdmin();
      await deleteUserRow(tx, id);
    }),
  );
}

export async function setGrants(
  deps: UserAdminDeps,
  id: string,
  sceneIds: readonly string[],
): Promise<UserWithGrants> {
  const now = deps.clock.now();
  return changingUser(deps, id, () =>
    deps.prisma.$transaction(async (tx) => {
      await found(tx, id);
      await requireScenes(tx, sceneIds, 'sceneIds');
      await replaceSceneGrants(tx, id, sceneIds, now);
      return found(tx, id);
    }),
  );
}

export async function getUserOrThrow(db: DbClient, id: string): Promise<UserWithGrants> {
  return found(db, id);
}

async function found(db: DbClient, id: string): Promise<UserWithGrants> {
  const user = await getUser(db, id);
  if (user === null) throw new NotFoundError('user', id);
  return user;
}

async function requireScenes(db: DbClient, sceneIds: readonly string[], field: string): Promise<void> {
  const existing = await existingSceneIds(db, sceneIds);
  const issues = sceneIds.flatMap((sceneId, index) =>
    existing.has(sceneId) ? [] : [{ path: `${field}[${index}]`, message: `Scene ${sceneId} does not exist` }],
  );
  if (issues.length > 0) throw new ValidationError(issues);
}

function lastAdmin(): ConflictError {
  return new ConflictError('This is the last enabled admin: make another admin first', { code: 'CONFLICT' });
}
