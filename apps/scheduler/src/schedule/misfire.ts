/**
 * Misfire resolution (DESIGN §3): which fires to make for a job whose stored `nextFireAt` has come, given
 * how late each due instant is. Pure.
 *
 * - A due instant at most `thresholdMs` late is an ordinary fire (scheduling jitter, a replica taking over
 *   from a dead one); it keeps its schedule's trigger type.
 * - An instant later than that was missed (the platform was down, the job or its scene paused). The policy
 *   decides: `skip` drops them; `fire_once_now` makes one fire for the lot, identified by the latest missed
 *   instant, unless an ordinary fire is being made now anyway; `catch_up` makes the latest `catchUpLimit`
 *   of them. These fires carry the trigger type `misfire`.
 * - With a `horizon` after `now`, instants up to the horizon are planned too (fired when they come).
 * Work is bounded whatever the length of the outage (see `lastFireTimesBetween`).
 */
import type { MisfirePolicy } from '@kisjobs/protocol';
import { fireTimesAfter, lastFireTimesBetween, nextFireAfter, type FireQuery } from './next-fire.js';

export type { MisfirePolicy };

export interface MisfireInput {
  readonly query: FireQuery;
  readonly policy: MisfirePolicy;
  /** The job's stored next fire instant: every instant before it has been handled already. */
  readonly nextFireAt: Date;
  readonly now: Date;
  /** Plan the instants up to this one (inclusive) as well. Default: `now`. Never before `now`. */
  readonly horizon?: Date;
  /** A fire this late is a misfire; a fire less late is simply fired (normal scheduling jitter). */
  readonly thresholdMs: number;
  /** catch_up: the most missed fires to make (the newest are kept). */
  readonly catchUpLimit: number;
}

export interface PlannedFire {
  /** The instant the fire belongs to (its identity: one run per (job, scheduledAt)). */
  readonly scheduledAt: Date;
  readonly misfire: boolean;
}

export interface MisfirePlan {
  /** In instant order. */
  readonly fires: readonly PlannedFire[];
  /** Missed instants the policy dropped (a lower bound after a very long outage; for logs and metrics). */
  readonly skipped: number;
  /** Where scheduling continues: the first instant after the horizon, if the schedule has one. */
  readonly nextFireAt: Date | undefined;
}

/** The most ordinary fires one plan makes; the rest wait for the next plan. */
export const MAX_PLANNED_FIRES = 10_000;

export function planDueFires(input: MisfireInput): MisfirePlan {
  const { query, now, nextFireAt } = input;
  const horizon = input.horizon !== undefined && input.horizon > now ? input.horizon : now;
  if (nextFireAt.getTime() > horizon.getTime()) return { fires: [], skipped: 0, nextFireAt };

  const cutoffMs = now.getTime() - Math.max(0, input.thresholdMs);
  const onTimeFromMs = Math.max(nextFireAt.getTime(), cutoffMs);
  const onTime = fireTimesAfter(
    query,
    new Date(onTimeFromMs - 1),
    MAX_PLANNED_FIRES,
    new Date(horizon.getTime() + 1),
  ).map((scheduledAt) => ({ scheduledAt, misfire: false }));
  const lastOnTime = onTime[onTime.length - 1];
  const next =
    onTime.length === MAX_PLANNED_FIRES && lastOnTime !== undefined
      ? nextFireAfter(query, lastOnTime.scheduledAt)
      : nextFireAfter(query, horizon);

  if (nextFireAt.getTime() >= cutoffMs) return { fires: onTime, skipped: 0, nextFireAt: next };
  const missedFrom = nextFireAt;
  const missedTo = new Date(cutoffMs);
  switch (input.policy) {
    case 'skip': {
      const missed = lastFireTimesBetween(query, missedFrom, missedTo, 1);
      return { fires: onTime, skipped: missed.count, nextFireAt: next };
    }
    case 'fire_once_now': {
      const missed = lastFireTimesBetween(query, missedFrom, missedTo, 1);
      const latest = missed.last[missed.last.length - 1];
      // An ordinary fire made now (a late one within the threshold) stands for the missed ones too.
      const firingNow = onTime.some((fire) => fire.scheduledAt.getTime() <= now.getTime());
      if (latest === undefined || firingNow)
        return { fires: onTime, skipped: missed.count, nextFireAt: next };
      return {
        fires: [{ scheduledAt: latest, misfire: true }, ...onTime],
        skipped: missed.count - 1,
        nextFireAt: next,
      };
    }
    case 'catch_up': {
      const missed = lastFireTimesBetween(query, missedFrom, missedTo, Math.max(0, input.catchUpLimit));
      return {
        fires: [...missed.last.map((scheduledAt) => ({ scheduledAt, misfire: true })), ...onTime],
        skipped: missed.count - missed.last.length,
        nextFireAt: next,
      };
    }
  }
}
