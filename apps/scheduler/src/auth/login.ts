/**
 * Login, logout and password change.
 *
 * A login takes a rate-limit slot first (per username and per IP: refused attempts never reach scrypt), then
 * always runs one scrypt verification, against the user's hash or, for an unknown name, against a dummy hash
 * of the same cost; a disabled user fails like a wrong password. All failures answer the same 401
 * INVALID_CREDENTIALS, so neither the answer nor its timing tells which usernames exist. A success creates a
 * session (only its hash is stored), gives the rate-limit slots back, upgrades a hash made with weaker scrypt
 * parameters, and deletes a bounded batch of expired sessions.
 */
import {
  deleteExpiredSessions,
  deleteSession,
  deleteSessionsOfUser,
  findUserByUsername,
  getUser,
  insertSession,
  newId,
  updateUser,
  type PrismaClient,
  type UserWithGrants,
} from '@kisjobs/db';
import {
  ConflictError,
  isKisJobsError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from '@kisjobs/protocol';
import type { Clock } from '../registry/ports.js';
import type { PasswordHasher } from './password.js';
import type { CredentialChanges } from './principal-cache.js';
import type { Principal } from './principal.js';
import type { LoginRateLimiter } from './rate-limit.js';
import { newSessionSecret } from './secrets.js';
import type { AuthSettings } from './settings.js';

export interface LoginDeps {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  readonly limiter: LoginRateLimiter;
  readonly settings: AuthSettings;
  /** Told when a logout or a password change ends credentials, so that cached lookups stop at once. */
  readonly credentials: CredentialChanges;
}

export interface LoginSuccess {
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: UserWithGrants;
}

export function invalidCredentials(): UnauthenticatedError {
  return new UnauthenticatedError('Invalid username or password', 'INVALID_CREDENTIALS');
}

/** Checks a password under the login rate limit; the user when it is right, else a 401 or 429 is thrown. */
async function checkPassword(deps: LoginDeps, username: string, password: string, ip: string) {
  const slot = await deps.limiter.consume(username, ip);
  if (!slot.allowed)
    throw new RateLimitedError(slot.retryAfterMs, 'Too many failed sign-in attempts: try again later');
  const user = await findUserByUsername(deps.prisma, username);
  if (user === null) {
    await deps.hasher.verifyDummy(password);
    throw invalidCredentials();
  }
  const verdict = await deps.hasher.verify(password, user.passwordHash);
  if (!verdict.ok || user.disabled) throw invalidCredentials();
  await deps.limiter.succeeded(username, ip);
  return { user, needsRehash: verdict.needsRehash };
}

export async function login(
  deps: LoginDeps,
  input: { readonly username: string; readonly password: string; readonly ip: string },
): Promise<LoginSuccess> {
  const { user, needsRehash } = await checkPassword(deps, input.username, input.password, input.ip);
  const now = deps.clock.now();
  if (needsRehash) {
    await updateUser(deps.prisma, user.id, { now, passwordHash: await deps.hasher.hash(input.password) });
  }
  const issued = newSessionSecret();
  const expiresAt = new Date(now.getTime() + deps.settings.sessionTtlMs);
  await insertSession(deps.prisma, {
    id: newId('ses', now.getTime()),
    tokenHash: issued.hash,
    userId: user.id,
    now,
    expiresAt,
  });
  await deleteExpiredSessions(deps.prisma, now, 500);
  const withGrants = await getUser(deps.prisma, user.id);
  if (withGrants === null) throw invalidCredentials(); // deleted in between
  return { token: issued.secret, expiresAt, user: withGrants };
}

/** Ends the session the request came with. An API token is revoked with DELETE /api/tokens/:id instead. */
export async function logout(
  deps: Pick<LoginDeps, 'prisma' | 'credentials'>,
  principal: Principal,
): Promise<void> {
  const { credential } = principal;
  if (credential.kind !== 'session') {
    throw new ConflictError('Signed in with an API token: revoke it with DELETE /api/tokens/{id}', {
      details: { tokenId: credential.tokenId },
    });
  }
  try {
    await deleteSession(deps.prisma, credential.sessionId);
  } finally {
    deps.credentials.sessionEnded(credential.sessionId);
  }
}

/**
 * Changes one's own password after checking the current one (under the login rate limit, so a stolen session
 * cannot be used to guess it), and ends one's other sessions.
 */
export async function changePassword(
  deps: LoginDeps,
  principal: Principal,
  input: { readonly currentPassword: string; readonly newPassword: string; readonly ip: string },
): Promise<void> {
  try {
    await checkPassword(deps, principal.username, input.currentPassword, input.ip);
  } catch (error) {
    // Signed in already: a wrong current password is a field error, not "who are you".
    if (isKisJobsError(error) && error.code === 'INVALID_CREDENTIALS') {
      throw new ValidationError([
        { path: 'currentPassword', message: 'Does not match the current password' },
      ]);
    }
    throw error;
  }
  const passwordHash = await deps.hasher.hash(input.newPassword);
  try {
    await updateUser(deps.prisma, principal.userId, { now: deps.clock.now(), passwordHash });
    const keep = principal.credential.kind === 'session' ? principal.credential.sessionId : undefined;
    await deleteSessionsOfUser(deps.prisma, principal.userId, keep);
  } finally {
    deps.credentials.userChanged(principal.userId);
  }
}
