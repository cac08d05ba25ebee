/**
 * Authentication settings, compiled once: user options → resolved settings with every default filled in.
 */
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './rate-limit.js';
import { DEFAULT_SCRYPT_PARAMS, type ScryptParams } from './password.js';

export interface AuthSettings {
  /** A session ends this long after login, however active (default 12 h). */
  readonly sessionTtlMs: number;
  /** ...or after this long without a request (default 2 h). */
  readonly sessionIdleMs: number;
  /** `lastSeenAt` of sessions and `lastUsedAt` of tokens are written at most this often (default 60 s). */
  readonly touchThrottleMs: number;
  readonly loginLimits: LoginLimits;
  readonly scrypt: ScryptParams;
  /** Usable (unrevoked, unexpired) API tokens a user may hold (default 100). */
  readonly maxApiTokensPerUser: number;
  /**
   * How long a bearer lookup is reused within this process (default 2 s; 0: never). Changes made through this
   * process apply at once; changes made through another replica, within this bound (principal-cache.ts).
   */
  readonly principalCacheTtlMs: number;
}

/** The default of `principalCacheTtlMs`. */
export const DEFAULT_PRINCIPAL_CACHE_TTL_MS = 2_000;

export type AuthOptions = Partial<AuthSettings>;

export function resolveAuthSettings(options: AuthOptions = {}): AuthSettings {
  return {
    sessionTtlMs: options.sessionTtlMs ?? 12 * 3_600_000,
    sessionIdleMs: options.sessionIdleMs ?? 2 * 3_600_000,
    touchThrottleMs: options.touchThrottleMs ?? 60_000,
    loginLimits: options.loginLimits ?? DEFAULT_LOGIN_LIMITS,
    scrypt: options.scrypt ?? DEFAULT_SCRYPT_PARAMS,
    maxApiTokensPerUser: options.maxApiTokensPerUser ?? 100,
    principalCacheTtlMs: options.principalCacheTtlMs ?? DEFAULT_PRINCIPAL_CACHE_TTL_MS,
  };
}
