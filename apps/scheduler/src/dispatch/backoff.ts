import type { RetryBackoff } from '@kisjobs/protocol';

export type { RetryBackoff };

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  readonly maxAttempts: number;
  readonly backoff: RetryBackoff;
  readonly delayMs: number;
  /** Upper bound for exponential backoff. Default 1 hour. */
  readonly maxDelayMs?: number;
}

/**
 * The delay before attempt `nextAttempt` (2 = the first retry), or undefined when no attempt is left.
 * Exponential: delay, 2·delay, 4·delay, … capped at maxDelayMs.
 */
export function retryDelay(policy: RetryPolicy, nextAttempt: number): number | undefined {
  if (nextAttempt > policy.maxAttempts || nextAttempt < 2) return undefined;
  if (policy.backoff === 'fixed') return policy.delayMs;
  const cap = policy.maxDelayMs ?? 3_600_000;
  const exponent = Math.min(nextAttempt - 2, 40);
  return Math.min(cap, policy.delayMs * 2 ** exponent);
}
