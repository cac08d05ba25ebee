/**
 * Secret tokens (API tokens, executor registration tokens). A token is shown once at creation; only its
 * hash is stored (DESIGN §2.7): in Postgres, and for registration tokens also at
 * `keyspace.registrationToken(tokenHash(token))`. Tokens carry 256 random bits, so a fast hash is the
 * right tool here (a slow password hash buys nothing against a search space of 2^256).
 */
import { sha256Hex } from './sha256.js';

/** Visible marker so leaked tokens are easy to recognise (and to scan for). */
export const SECRET_TOKEN_PREFIX = 'kjs_';

/** A new secret: `kjs_` + 43 base64url characters (32 random bytes from the platform CSPRNG). */
export function newSecretToken(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const base64url = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${SECRET_TOKEN_PREFIX}${base64url}`;
}

/** The stored form of a token: lower-case hex SHA-256 of its UTF-8 text. */
export function tokenHash(token: string): string {
  return sha256Hex(token);
}
