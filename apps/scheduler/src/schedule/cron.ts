/**
 * Cron expressions: validation with messages that name the faulty field, and fire times in an IANA time
 * zone. Pure; cron-parser does the calendar work.
 *
 * DST (cron-parser's behaviour, pinned by table tests): a fixed wall-clock time inside a skipped hour
 * fires once, an hour later; a fixed time inside a repeated hour fires once, at its first occurrence;
 * expressions with a wildcard hour follow real time, so they keep firing through both occurrences.
 */
import { isValidTimezone } from '@kisjobs/protocol';
import { CronExpressionParser, type CronExpression } from 'cron-parser';

const FIELDS_5 = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const FIELDS_6 = ['second', ...FIELDS_5] as const;
const ALIASES = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@hourly',
  '@minutely',
  '@secondly',
  '@weekdays',
  '@weekends',
]);

export type CronCheck =
  | { readonly ok: true; readonly seconds: boolean }
  | { readonly ok: false; readonly field: 'expr' | 'timezone'; readonly message: string };

export { isValidTimezone };

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function tryParse(expr: string, timezone: string): string | undefined {
  try {
    CronExpressionParser.parse(expr, { tz: timezone, currentDate: new Date(0), strict: false });
    return undefined;
  } catch (error) {
    return errorText(error);
  }
}

/** Checks an expression and a time zone; the message says which field is wrong and why. */
export function checkCron(expr: string, timezone: string): CronCheck {
  if (!isValidTimezone(timezone)) {
    return { ok: false, field: 'timezone', message: `unknown IANA time zone '${timezone}'` };
  }
  const trimmed = expr.trim();
  if (ALIASES.has(trimmed.toLowerCase())) return { ok: true, seconds: trimmed.toLowerCase() === '@secondly' };
  const parts = trimmed.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length !== 5 && parts.length !== 6) {
    return {
      ok: false,
      field: 'expr',
      message: `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), got ${parts.length}`,
    };
  }
  const names = parts.length === 6 ? FIELDS_6 : FIELDS_5;
  // Find the faulty field by parsing it alone, with every other field a wildcard.
  for (let i = 0; i < parts.length; i++) {
    const probe = parts.map((p, j) => (j === i ? p : '*'));
    const error = tryParse(probe.join(' '), timezone);
    if (error !== undefined) {
      return { ok: false, field: 'expr', message: `${names[i]} field '${parts[i]}': ${error}` };
    }
  }
  const whole = tryParse(parts.join(' '), timezone);
  if (whole !== undefined) return { ok: false, field: 'expr', message: whole };
  return { ok: true, seconds: parts.length === 6 };
}

/**
 * Up to `limit` fire instants strictly after `after` and not after `until`. Throws on an invalid
 * expression: validate with `checkCron` at the edge.
 */
export function cronFireTimes(
  expr: string,
  timezone: string,
  after: Date,
  limit: number,
  until?: Date,
): Date[] {
  const iterator = parsed(expr.trim(), timezone, after);
  const out: Date[] = [];
  let last = after.getTime();
  while (out.length < limit) {
    let next: Date;
    try {
      next = iterator.next().toDate();
    } catch {
      break; // no further occurrence (e.g. Feb 30 never comes)
    }
    if (until !== undefined && next.getTime() > until.getTime()) break;
    // Fire instants strictly increase: a DST shift never yields the same instant twice.
    if (next.getTime() <= last) continue;
    last = next.getTime();
    out.push(next);
  }
  return out;
}

/**
 * Parsed expressions, reused: parsing costs about as much as two `next()` calls, and the engine asks for the
 * next fire of the same few expressions thousands of times a second. An entry is an iterator with a current
 * date; every use resets it first and runs synchronously to the end, so sharing one is safe. Bounded (LRU).
 */
const CACHE_SIZE = 2_000;
const cache = new Map<string, CronExpression>();

function parsed(expr: string, timezone: string, after: Date): CronExpression {
  const key = `${timezone}\n${expr}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    hit.reset(after);
    return hit;
  }
  const fresh = CronExpressionParser.parse(expr, { tz: timezone, currentDate: after });
  cache.set(key, fresh);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  return fresh;
}
