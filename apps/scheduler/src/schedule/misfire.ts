/**
 * Misfire resolution (DESIGN §3): what to fire for a job whose fires were missed while the platform was
 * down or the job paused. Pure.
 */
import { fireTimesAfter, type FireQuery } from './next-fire.js';

export type MisfirePolicy = 'skip' | 'fire_once_now' | 'catch_up';

export interface MisfireInput {
  readonly query: FireQuery;
  readonly policy: MisfirePolicy;
  /** The job's stored next fire instant (the first fire not yet made). */
  readonly nextFireAt: Date;
  readonly now: Date;
  /** A fire this late is a misfire; a fire less late is simply fired (normal scheduling jitter). */
  readonly thresholdMs: number;
  /** catch_up: the most missed fires to make (the oldest are dropped beyond it). */
  readonly catchUpLimit: number;
}

export interface PlannedFire {
  /** The instant the fire belongs to (its identity: one run per (job, scheduledAt)). */
  readonly scheduledAt: Date;
  readonly misfire: boolean;
}

export interface MisfirePlan {
  readonly fires: readonly PlannedFire[];
  /** Missed fire instants dropped by the policy (for the log/metrics). */
  readonly skipped: number;
  /** Where scheduling continues: the first fire strictly after `now`, if any. */
  readonly nextFireAt: Date | undefined;
}

/** The fires due at `now`, given the stored `nextFireAt`. Enumeration of missed fires is bounded. */
export function planDueFires(input: MisfireInput, enumerateLimit = 100_000): MisfirePlan {
  const { query, now, nextFireAt } = input;
  if (nextFireAt.getTime() > now.getTime()) return { fires: [], skipped: 0, nextFireAt };
  // Every fire instant in [nextFireAt, now].
  const due: Date[] = [nextFireAt];
  for (;;) {
    const last = due[due.length - 1] as Date;
    const more = fireTimesAfter(query, last, Math.min(1_000, enumerateLimit - due.length));
    const inRange = more.filter((d) => d.getTime() <= now.getTime());
    due.push(...inRange);
    if (inRange.length < more.length || more.length === 0 || due.length >= enumerateLimit) break;
  }
  const after = fireTimesAfter(query, due[due.length - 1] as Date, 1)[0];
  const next =
    after !== undefined && after.getTime() <= now.getTime() ? fireTimesAfter(query, now, 1)[0] : after;
  const cutoff = now.getTime() - input.thresholdMs;
  const onTime = due.filter((d) => d.getTime() >= cutoff).map((d) => ({ scheduledAt: d, misfire: false }));
  const missed = due.filter((d) => d.getTime() < cutoff);
  if (missed.length === 0) return { fires: onTime, skipped: 0, nextFireAt: next };
  switch (input.policy) {
    case 'skip':
      return { fires: onTime, skipped: missed.length, nextFireAt: next };
    case 'fire_once_now': {
      // One fire for all that was missed, identified by the latest missed instant, unless an on-time fire
      // is happening anyway.
      if (onTime.length > 0) return { fires: onTime, skipped: missed.length, nextFireAt: next };
      const latest = missed[missed.length - 1] as Date;
      return {
        fires: [{ scheduledAt: latest, misfire: true }],
        skipped: missed.length - 1,
        nextFireAt: next,
      };
    }
    case 'catch_up': {
      const kept = missed.slice(Math.max(0, missed.length - input.catchUpLimit));
      return {
        fires: [...kept.map((d) => ({ scheduledAt: d, misfire: true })), ...onTime],
        skipped: missed.length - kept.length,
        nextFireAt: next,
      };
    }
  }
}
