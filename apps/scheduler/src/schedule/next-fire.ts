/**
 * Fire times for every schedule type, within the job's optional window [startAt, endAt) (the end is
 * exclusive, as the API's `JobWindow` says). Pure.
 */
import type { ScheduleType } from '@kisjobs/protocol';
import { cronFireTimes } from './cron.js';

export type ScheduleSpec =
  | { readonly type: 'cron'; readonly expr: string; readonly timezone: string }
  | { readonly type: 'fixed_rate'; readonly everyMs: number }
  | { readonly type: 'once'; readonly at: Date }
  | { readonly type: 'manual' };

// Every schedule type of the protocol has a spec here, and nothing else.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const covers: Same<ScheduleSpec['type'], ScheduleType> = true;
void covers;

export interface FireWindow {
  readonly startAt?: Date;
  /** Exclusive: a fire exactly at `endAt` does not happen. */
  readonly endAt?: Date;
}

export interface FireQuery {
  readonly schedule: ScheduleSpec;
  readonly window?: FireWindow;
  /** fixed_rate fires at anchor + k·everyMs (the window start, else the job's creation time). */
  readonly anchor: Date;
}

/**
 * Up to `limit` fire instants strictly after `after`, in order; with `before`, only instants strictly
 * before it.
 */
export function fireTimesAfter(query: FireQuery, after: Date, limit: number, before?: Date): Date[] {
  const { schedule, window } = query;
  if (limit <= 0) return [];
  const startMs = window?.startAt?.getTime();
  // Fires before the window start do not exist: search from just before it.
  const fromMs = startMs === undefined ? after.getTime() : Math.max(after.getTime(), startMs - 1);
  // The first instant that is excluded: the window end or `before`, whichever comes first.
  const ends = [window?.endAt?.getTime(), before?.getTime()].filter((v): v is number => v !== undefined);
  const stopMs = ends.length === 0 ? undefined : Math.min(...ends);
  switch (schedule.type) {
    case 'manual':
      return [];
    case 'once': {
      const at = schedule.at.getTime();
      const inRange = at > fromMs && (stopMs === undefined || at < stopMs);
      return inRange ? [new Date(at)] : [];
    }
    case 'fixed_rate': {
      const every = schedule.everyMs;
      const anchor = query.anchor.getTime();
      const k = fromMs < anchor ? 0 : Math.floor((fromMs - anchor) / every) + 1;
      const out: Date[] = [];
      for (let i = k; out.length < limit; i++) {
        const t = anchor + i * every;
        if (stopMs !== undefined && t >= stopMs) break;
        out.push(new Date(t));
      }
      return out;
    }
    case 'cron':
      return cronFireTimes(
        schedule.expr,
        schedule.timezone,
        new Date(fromMs),
        limit,
        stopMs === undefined ? undefined : new Date(stopMs - 1),
      );
  }
}

export function nextFireAfter(query: FireQuery, after: Date): Date | undefined {
  return fireTimesAfter(query, after, 1)[0];
}

/** The first fire at or after `at` (the fire instants are whole milliseconds). */
export function nextFireAtOrAfter(query: FireQuery, at: Date): Date | undefined {
  return fireTimesAfter(query, new Date(at.getTime() - 1), 1)[0];
}

export interface FiresBetween {
  /** The latest `limit` instants of [from, to), oldest first. */
  readonly last: readonly Date[];
  /** How many instants [from, to) holds: exact when `exact`, else a lower bound. */
  readonly count: number;
  readonly exact: boolean;
}

/**
 * The latest `limit` fire instants in [from, to) and how many there are, with bounded work whatever the
 * span (a job paused for a year on a per-second schedule): fixed_rate is arithmetic; cron is enumerated
 * over windows that end at `to` and grow 16-fold until they hold `limit` instants or reach `from`.
 */
export function lastFireTimesBetween(
  query: FireQuery,
  from: Date,
  to: Date,
  limit: number,
  enumerateLimit = 100_000,
): FiresBetween {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  if (toMs <= fromMs || limit <= 0) return { last: [], count: 0, exact: true };
  const { schedule } = query;
  if (schedule.type === 'fixed_rate') {
    const first = nextFireAtOrAfter(query, from);
    if (first === undefined || first.getTime() >= toMs) return { last: [], count: 0, exact: true };
    const endMs = Math.min(toMs, query.window?.endAt?.getTime() ?? Number.POSITIVE_INFINITY);
    const count = Math.floor((endMs - 1 - first.getTime()) / schedule.everyMs) + 1;
    const kept = Math.min(limit, count);
    const lastMs = first.getTime() + (count - 1) * schedule.everyMs;
    const last = Array.from({ length: kept }, (_, i) => new Date(lastMs - (kept - 1 - i) * schedule.everyMs));
    return { last, count, exact: true };
  }
  const within = (span: number) => {
    const startMs = Math.max(fromMs, toMs - span);
    const found = fireTimesAfter(query, new Date(startMs - 1), enumerateLimit, to);
    return { found, reachesFrom: startMs === fromMs, truncated: found.length >= enumerateLimit };
  };
  let short = 0; // a span known to hold fewer than `limit` instants
  let span = 60_000;
  for (;;) {
    const probe = within(span);
    if (probe.truncated) {
      // Too dense to enumerate whole: narrow the span between `short` and `span` (a few halvings).
      if (span - short <= 1_000) return result(probe.found.slice(0, limit), probe.found.length, false);
      span = short + Math.floor((span - short) / 2);
      continue;
    }
    if (probe.found.length >= limit || probe.reachesFrom) {
      const { found } = probe;
      return result(found.slice(Math.max(0, found.length - limit)), found.length, probe.reachesFrom);
    }
    short = span;
    span *= 16;
  }
}

function result(last: readonly Date[], count: number, exact: boolean): FiresBetween {
  return { last, count, exact };
}
