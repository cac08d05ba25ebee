/**
 * Identity DTOs for the HTTP API: login, the current user, users with their roles and scene grants, and API
 * tokens. Secrets travel in exactly two places, each shown once: the session token a login returns and the
 * secret of a new API token. No DTO ever carries a password hash or a token hash.
 */
import { z } from 'zod';
import { IsoDateTime, IsoDateTimeInput } from '../common.js';
import { Role } from '../domain.js';
import { SceneId, TokenId, UserId } from '../ids.js';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1_024;
export const MAX_GRANTS = 1_000;

/** A login name: letters, digits, `.`, `_`, `@`, `-`; stored and compared in lower case. */
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._@-]*$/, {
    message: 'Invalid username: use a-z, 0-9, ".", "_", "@" and "-", starting with a letter or digit',
  });
export type Username = z.infer<typeof Username>;

/** A password being set: at least 12 characters (length is what makes a password strong). */
export const NewPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(MAX_PASSWORD_LENGTH);
export type NewPassword = z.infer<typeof NewPassword>;

/** A password being checked: any non-empty text (the rules that apply when setting one may have changed). */
export const LoginPassword = z.string().min(1).max(MAX_PASSWORD_LENGTH);

const SceneIds = z
  .array(SceneId)
  .max(MAX_GRANTS)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'Duplicate scene id' });

/** `POST /api/auth/login` */
export const LoginInput = z.strictObject({ username: Username, password: LoginPassword });
export type LoginInput = z.infer<typeof LoginInput>;

/** `POST /api/auth/password`: change one's own password (ends one's other sessions). */
export const PasswordChangeInput = z.strictObject({
  currentPassword: LoginPassword,
  newPassword: NewPassword,
});
export type PasswordChangeInput = z.infer<typeof PasswordChangeInput>;

/** A user as the API returns it. `sceneIds`: the scenes granted (admins see every scene regardless). */
export const User = z.object({
  id: UserId,
  username: z.string(),
  role: Role,
  disabled: z.boolean(),
  sceneIds: z.array(SceneId),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type User = z.infer<typeof User>;

/** `POST /api/users` */
export const UserInput = z.strictObject({
  username: Username,
  password: NewPassword,
  role: Role,
  sceneIds: SceneIds.default([]),
});
export type UserInput = z.infer<typeof UserInput>;

/** `PATCH /api/users/:id`: any of role, disabled, password. A new password or disabling ends the user's sessions. */
export const UserPatch = z
  .strictObject({ role: Role, disabled: z.boolean(), password: NewPassword })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, {
    message: 'Nothing to change: send role, disabled or password',
  });
export type UserPatch = z.infer<typeof UserPatch>;

/** `PUT /api/users/:id/grants`: the complete list of scenes the user may see (and operate, as an operator). */
export const GrantsInput = z.strictObject({ sceneIds: SceneIds });
export type GrantsInput = z.infer<typeof GrantsInput>;

export const AUTH_METHODS = ['session', 'token'] as const;
export const AuthMethod = z.enum(AUTH_METHODS);
export type AuthMethod = z.infer<typeof AuthMethod>;

/** `GET /api/auth/me`: who the bearer is, and how they authenticated. */
export const CurrentUser = z.object({
  user: User,
  authenticatedWith: AuthMethod,
  /** When the session or the API token stops working (null: a token without expiry). */
  expiresAt: IsoDateTime.nullable(),
});
export type CurrentUser = z.infer<typeof CurrentUser>;

/** The answer to a login: a bearer session token, shown once. */
export const LoginResult = z.object({
  token: z.string(),
  expiresAt: IsoDateTime,
  user: User,
});
export type LoginResult = z.infer<typeof LoginResult>;

/** `POST /api/tokens` */
export const ApiTokenInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** When the token stops working; omit for a token that works until it is revoked. */
  expiresAt: IsoDateTimeInput.optional(),
});
export type ApiTokenInput = z.infer<typeof ApiTokenInput>;

/** An API token as listed: never its secret. */
export const ApiToken = z.object({
  id: TokenId,
  name: z.string(),
  userId: UserId,
  createdAt: IsoDateTime,
  lastUsedAt: IsoDateTime.nullable(),
  expiresAt: IsoDateTime.nullable(),
  revokedAt: IsoDateTime.nullable(),
});
export type ApiToken = z.infer<typeof ApiToken>;

/** The answer to `POST /api/tokens`: the only time the secret is shown. */
export const CreatedApiToken = z.object({ token: ApiToken, secret: z.string() });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;
