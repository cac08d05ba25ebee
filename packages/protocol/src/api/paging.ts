/**
 * Keyset paging shared by every API listing: `?limit=&cursor=` in, `{ items, nextCursor }` out. The cursor is
 * opaque (the server encodes the last row's key); `nextCursor` is null on the last page.
 */
import { z } from 'zod';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

/** `?limit=`: 1..500 (query strings are text, so it is coerced). */
export const PageLimit = z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT);
/** `?cursor=`: the `nextCursor` of the previous page. */
export const PageCursor = z.string().min(1).max(512);

/** The query fields of a paged listing, to spread into a listing's query schema. */
export const pageQueryFields = {
  limit: PageLimit.optional(),
  cursor: PageCursor.optional(),
};

/** `{ items, nextCursor }` of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
