/**
 * API tokens: a user's named bearer credentials for scripts and the CLI, acting with the user's role and
 * grants as they are at each request. The secret is returned once, at creation; listings show the metadata
 * only. A user lists and revokes their own tokens; an admin may revoke anyone's.
 */
import {
  countUsableApiTokens,
  getApiToken,
  insertApiToken,
  listApiTokensOfUser,
  revokeApiToken,
  type ApiToken,
  type PrismaClient,
} from '@kisjobs/db';
import { ConflictError, newId, NotFoundError, ValidationError, type ApiTokenInput } from '@kisjobs/protocol';
import type { Clock } from '../registry/ports.js';
import type { CredentialChanges } from './principal-cache.js';
import type { Principal } from './principal.js';
import { newApiTokenSecret } from './secrets.js';
import type { AuthSettings } from './settings.js';

export interface TokenDeps {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly settings: AuthSettings;
  /** Told when a token is revoked, so that cached lookups of it stop at once. */
  readonly credentials: CredentialChanges;
}

export async function createApiToken(
  deps: TokenDeps,
  principal: Principal,
  input: ApiTokenInput,
): Promise<{ readonly token: ApiToken; readonly secret: string }> {
  const now = deps.clock.now();
  const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
  if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
    throw new ValidationError([{ path: 'expiresAt', message: 'Must be in the future' }]);
  }
  const usable = await countUsableApiTokens(deps.prisma, principal.userId, now);
  if (usable >= deps.settings.maxApiTokensPerUser) {
    throw new ConflictError(
      `A user may hold ${deps.settings.maxApiTokensPerUser} usable tokens: revoke one first`,
    );
  }
  const issued = newApiTokenSecret();
  const token = await insertApiToken(deps.prisma, {
    id: newId('tok', now),
    name: input.name,
    tokenHash: issued.hash,
    userId: principal.userId,
    now,
    expiresAt,
  });
  return { token, secret: issued.secret };
}

export function listOwnApiTokens(deps: TokenDeps, principal: Principal): Promise<ApiToken[]> {
  return listApiTokensOfUser(deps.prisma, principal.userId);
}

/**
 * Revokes a token of the principal's (any token, for an admin). Someone else's token answers 404 like a
 * missing one, so token ids cannot be probed. Revoking twice is not an error.
 */
export async function revokeOwnApiToken(
  deps: TokenDeps,
  principal: Principal,
  id: string,
): Promise<ApiToken> {
  const token = await getApiToken(deps.prisma, id);
  if (token === null || (token.userId !== principal.userId && principal.role !== 'admin')) {
    throw new NotFoundError('token', id);
  }
  try {
    await revokeApiToken(deps.prisma, id, deps.clock.now());
  } finally {
    deps.credentials.tokenRevoked(id);
  }
  const after = await getApiToken(deps.prisma, id);
  if (after === null) throw new NotFoundError('token', id);
  return after;
}
