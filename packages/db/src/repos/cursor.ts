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
