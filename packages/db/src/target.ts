import type { PGlite } from '@electric-sql/pglite';
import { DbError } from './errors.js';

/**
 * Which database to use:
 * - `{ url }`: a server Postgres (`postgres://user@host:5432/db`);
 * - `{ pgliteDir }`: embedded Postgres (PGlite) stored in that folder, opened and closed by us;
 * - `{ pglite }`: a PGlite instance the caller opened and will close.
 */
export type DbTarget =
  { readonly url: string } | { readonly pgliteDir: string } | { readonly pglite: PGlite };

export type ResolvedTarget =
  | { readonly kind: 'server'; readonly url: string }
  | { readonly kind: 'pglite-dir'; readonly dataDir: string }
  | { readonly kind: 'pglite'; readonly pglite: PGlite };

/** Checks that exactly one way of reaching a database was given (the options come from untyped config too). */
export function resolveTarget(target: DbTarget): ResolvedTarget {
  const given = (['url', 'pgliteDir', 'pglite'] as const).filter(
    (key) => key in target && (target as Record<string, unknown>)[key] !== undefined,
  );
  if (given.length !== 1) {
    throw new DbError(
      'DB_INVALID_TARGET',
      `give exactly one of url, pgliteDir or pglite (got ${given.length === 0 ? 'none' : given.join(', ')})`,
    );
  }
  if ('url' in target) {
    if (typeof target.url !== 'string' || !/^postgres(ql)?:\/\//.test(target.url)) {
      throw new DbError('DB_INVALID_TARGET', 'url must be a postgres:// or postgresql:// connection string');
    }
    return { kind: 'server', url: target.url };
  }
  if ('pgliteDir' in target) {
    if (typeof target.pgliteDir !== 'string' || target.pgliteDir === '') {
      throw new DbError('DB_INVALID_TARGET', 'pgliteDir must be a folder path');
    }
    return { kind: 'pglite-dir', dataDir: target.pgliteDir };
  }
  return { kind: 'pglite', pglite: target.pglite };
}
