/** Rows → API DTOs for identity: never a password hash or a token hash. */
import type { ApiToken as ApiTokenRow, UserWithGrants } from '@kisjobs/db';
import type { ApiToken, User } from '@kisjobs/protocol';

export function userDto(user: UserWithGrants): User {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabled: user.disabled,
    sceneIds: [...user.sceneIds],
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

export function apiTokenDto(token: ApiTokenRow): ApiToken {
  return {
    id: token.id,
    name: token.name,
    userId: token.userId,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}
