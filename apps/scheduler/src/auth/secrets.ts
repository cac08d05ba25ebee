/**
 * The two kinds of bearer secret the API accepts, told apart by their prefix (and by length, so a typo is
 * refused before any lookup):
 *
 *   kjs_sess_<43 base64url>   a login session (POST /api/auth/login)
 *   kjs_api_<43 base64url>    an API token (POST /api/tokens)
 *
 * Both carry 256 random bits from the platform CSPRNG (`newSecretToken`) and keep the `kjs_` marker that
 * secret scanners look for. Only `tokenHash(secret)` (SHA-256 hex) is stored: a fast hash is right for 256-bit
 * secrets, and the lookup is an equality match on the hash, so no secret is compared byte by byte in our code.
 */
import { newSecretToken, SECRET_TOKEN_PREFIX, tokenHash } from '@kisjobs/protocol';

export const SESSION_TOKEN_PREFIX = `${SECRET_TOKEN_PREFIX}sess_`;
export const API_TOKEN_PREFIX = `${SECRET_TOKEN_PREFIX}api_`;

const BODY = '[A-Za-z0-9_-]{43}';
const SESSION_PATTERN = new RegExp(`^${SESSION_TOKEN_PREFIX}${BODY}$`);
const API_PATTERN = new RegExp(`^${API_TOKEN_PREFIX}${BODY}$`);

export type BearerKind = 'session' | 'token';

export interface IssuedSecret {
  readonly secret: string;
  readonly hash: string;
}

export function newSessionSecret(): IssuedSecret {
  return issue(SESSION_TOKEN_PREFIX);
}

export function newApiTokenSecret(): IssuedSecret {
  return issue(API_TOKEN_PREFIX);
}

function issue(prefix: string): IssuedSecret {
  const secret = `${prefix}${newSecretToken().slice(SECRET_TOKEN_PREFIX.length)}`;
  return { secret, hash: tokenHash(secret) };
}

/** Which kind of secret this is, or undefined for text that is neither. */
export function bearerKind(secret: string): BearerKind | undefined {
  if (SESSION_PATTERN.test(secret)) return 'session';
  if (API_PATTERN.test(secret)) return 'token';
  return undefined;
}

/** The secret of an `Authorization: Bearer <secret>` header; undefined when the header has another form. */
export function bearerSecret(header: string): string | undefined {
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return match?.[1];
}
