/**
 * Query-string fields: they arrive as text (`?limit=20`), one value, or a list when a name repeats.
 */
import { z } from 'zod';

/** A query flag: `?x=true` / `?x=false` (also `1` / `0`). */
export const QueryBoolean = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** A query list: `?status=failed&status=lost` or `?status=failed,lost`, at most `max` items. */
export function queryList<T extends z.ZodType<unknown, string>>(item: T, max = 50) {
  return z
    .union([z.string(), z.array(z.string()).max(max)])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).filter((part) => part !== ''))
    .pipe(z.array(item).max(max));
}
