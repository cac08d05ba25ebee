/**
 * The first admin, created explicitly (DESIGN §2.7: no default credentials):
 * - `createAdmin({ username, password? })` for `kisjobs admin create`: without a password it generates a
 *   strong one and returns it, once;
 * - `bootstrapAdminFromEnv` for container deployments: `KISJOBS_ADMIN_USERNAME` + `KISJOBS_ADMIN_PASSWORD`
 *   create an admin only when the database has no user at all, so a restart, a second replica or a later
 *   password change through the API is never overridden. Replicas booting together serialise on an advisory
 *   lock.
 */
import { countUsers, insertUser, type PrismaClient } from '@kisjobs/db';
import {
  ConflictError,
  NewPassword,
  newId,
  toValidationIssues,
  Username,
  ValidationError,
  type User,
} from '@kisjobs/protocol';
import { z } from 'zod';
import type { Clock } from '../registry/ports.js';
import { userDto } from './dto.js';
import { createPasswordHasher, generatePassword, type PasswordHasher } from './password.js';
import { createUser } from './users.js';

export interface AdminDeps {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  /** Default: scrypt with the default parameters. */
  readonly hasher?: PasswordHasher;
}

export interface CreatedAdmin {
  readonly user: User;
  /** Set only when the password was generated: show it to the operator once; it is not stored anywhere. */
  readonly generatedPassword?: string;
}

const AdminInput = z.strictObject({ username: Username, password: NewPassword.optional() });

/** Creates an admin; 409 ALREADY_EXISTS when the username is taken, 400 naming the field when invalid. */
export async function createAdmin(
  deps: AdminDeps,
  input: { readonly username: string; readonly password?: string | undefined },
): Promise<CreatedAdmin> {
  const parsed = AdminInput.safeParse(input);
  if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error.issues));
  const generated = parsed.data.password === undefined ? generatePassword() : undefined;
  const user = await createUser(
    { prisma: deps.prisma, clock: deps.clock, hasher: deps.hasher ?? createPasswordHasher() },
    { username: parsed.data.username, password: parsed.data.password ?? generated ?? '', role: 'admin' },
  );
  return generated === undefined
    ? { user: userDto(user) }
    : { user: userDto(user), generatedPassword: generated };
}

export const AdminBootstrapEnv = z
  .object({
    KISJOBS_ADMIN_USERNAME: Username.optional(),
    KISJOBS_ADMIN_PASSWORD: NewPassword.optional(),
  })
  .superRefine((env, ctx) => {
    const hasUser = env.KISJOBS_ADMIN_USERNAME !== undefined;
    const hasPassword = env.KISJOBS_ADMIN_PASSWORD !== undefined;
    if (hasUser !== hasPassword) {
      ctx.addIssue({
        code: 'custom',
        path: [hasUser ? 'KISJOBS_ADMIN_PASSWORD' : 'KISJOBS_ADMIN_USERNAME'],
        message: 'Set both KISJOBS_ADMIN_USERNAME and KISJOBS_ADMIN_PASSWORD, or neither',
      });
    }
  });

export type BootstrapResult =
  | { readonly created: true; readonly user: User }
  | { readonly created: false; readonly reason: 'not_configured' | 'users_exist' };

const BOOTSTRAP_LOCK_KEY = 7_370_912_001; // any constant: serialises bootstraps across replicas

/** Creates the admin named by the environment when there is no user yet; a ValidationError names a bad variable. */
export async function bootstrapAdminFromEnv(
  deps: AdminDeps,
  env: Readonly<Record<string, string | undefined>>,
): Promise<BootstrapResult> {
  const present = Object.fromEntries(
    ['KISJOBS_ADMIN_USERNAME', 'KISJOBS_ADMIN_PASSWORD'].flatMap((name) => {
      const value = env[name];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
  const parsed = AdminBootstrapEnv.safeParse(present);
  if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error.issues));
  const { KISJOBS_ADMIN_USERNAME: username, KISJOBS_ADMIN_PASSWORD: password } = parsed.data;
  if (username === undefined || password === undefined) return { created: false, reason: 'not_configured' };
  if ((await countUsers(deps.prisma)) > 0) return { created: false, reason: 'users_exist' };

  const hasher = deps.hasher ?? createPasswordHasher();
  const passwordHash = await hasher.hash(password);
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx): Promise<BootstrapResult> => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY}::bigint)`;
    if ((await countUsers(tx)) > 0) return { created: false, reason: 'users_exist' };
    const inserted = await insertUser(tx, {
      id: newId('usr', now),
      username,
      passwordHash,
      role: 'admin',
      now,
    });
    if (!inserted.ok)
      throw new ConflictError(`A user named ${username} exists already`, { code: 'ALREADY_EXISTS' });
    return { created: true, user: userDto({ ...inserted.user, sceneIds: [] }) };
  });
}
