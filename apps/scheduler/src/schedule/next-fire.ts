/**
 * Fire times for every schedule type, within the job's optional [startAt, endAt] window. Pure.
 */
import { cronFireTimes } from './cron.js';

export type ScheduleSpec =
  | { readonly type: 'cron'; readonly expr: string; readonly timezone: string }
  | { readonly type: 'fixed_rate'; readonly everyMs: number }
  | { readonly type: 'once'; readonly at: Date }
  | { readonly type: 'manual' };

export interface FireWindow {
  readonly startAt?: Date;
  readonly endAt?: Date;
}

export interface FireQuery {
  readonly schedule: ScheduleSpec;
  readonly window?: FireWindow;
  /** fixed_rate fires at anchor + k·everyMs (the window start, else the job's creation time). */
  readonly anchor: Date;
}

/** Up to `limit` fire instants strictly after `after`, in order. */
export function fireTimesAfter(query: FireQuery, after: Date, limit: number): Date[] {
  const { schedule, window } = query;
  if (limit <= 0) return [];
  const startMs = window?.startAt?.getTime();
  // Fires before the window start do not exist: search from just before it.
  const fromMs = startMs === undefined ? after.getTime() : Math.max(after.getTime(), startMs - 1);
  const endMs = window?.endAt?.getTime();
  switch (schedule.type) {
    case 'manual':
      return [];
    case 'once': {
      const at = schedule.at.getTime();
      const inWindow = (startMs === undefined || at >= startMs) && (endMs === undefined || at <= endMs);
      return at > after.getTime() && inWindow ? [new Date(at)] : [];
    }
    case 'fixed_rate': {
      const every = schedule.everyMs;
      const anchor = query.anchor.getTime();
      const k = fromMs < anchor ? 0 : Math.floor((fromMs - anchor) / every) + 1;
      const out: Date[] = [];
      for (let i = k; out.length < limit; i++) {
        const t = anchor + i * every;
        if (endMs !== undefined && t > endMs) break;
        if (t > after.getTime()) out.push(new Date(t));
      }
      return out;
    }
    case 'cron':
      return cronFireTimes(
        schedule.expr,
        schedule.timezone,
        new Date(fromMs),
        limit,
        endMs === undefined ? undefined : new Date(endMs),
      );
  }
}

export function nextFireAfter(query: FireQuery, after: Date): Date | undefined {
  return fireTimesAfter(query, after, 1)[0];
}
