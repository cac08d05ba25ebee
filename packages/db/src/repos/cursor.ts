import { DbError } from '../errors.js';

/**
 * Keyset paging over `(time DESC, id DESC)`. The cursor is the last row's key, opaque to clients
 * (base64url JSON); keyset paging stays stable when rows are inserted while a client pages, and its cost does
 * not grow with the page number.
 */
export interface PageKey {
  readonly at: Date;
  readonly id: string;
}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.at.toISOString(), key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): PageKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [at, id] = parsed as [unknown, unknown];
      const date = typeof at === 'string' ? new Date(at) : undefined;
      if (date !== undefined && !Number.isNaN(date.getTime()) && typeof id === 'string' && id !== '') {
        return { at: date, id };
      }
    }
  } catch {
    // Reported below.
  }
  throw new DbError('DB_INVALID_CURSOR', 'the cursor is not one this API returned');
}

/** The page size a caller asked for, bounded to [1, max]. */
export function pageSize(requested: number | undefined, fallback = 50, max = 500): number {
  if (requested === undefined || !Number.isFinite(requested)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(requested)));
}

/**
 * The conditions that start a page right after `cursor` on `(field DESC, id DESC)`, written as
 * `field <= t AND (field < t OR id < i)` so that the index range starts at the cursor; none on the first page.
 */
export function afterCursor<W>(field: string, cursor: string | null | undefined): W[] {
  if (cursor === undefined || cursor === null) return [];
  const key = decodeCursor(cursor);
  return [{ [field]: { lte: key.at } }, { OR: [{ [field]: { lt: key.at } }, { id: { lt: key.id } }] }] as W[];
}

/** A page from the `limit + 1` rows read: the first `limit`, and the next cursor when more followed. */
export function pageFrom<T extends { readonly id: string }>(
  rows: readonly T[],
  limit: number,
  at: (row: T) => Date,
): { readonly items: T[]; readonly nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > limit && last !== undefined ? encodeCursor({ at: at(last), id: last.id }) : null,
  };
}
