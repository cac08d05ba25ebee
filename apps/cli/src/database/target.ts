/**
 * Which database the database commands (migrate, admin create, groups ensure) use: `--database-url`, else
 * `DATABASE_URL`, else `--pglite <dir>` (the dev stack's embedded Postgres, e.g. `.kisjobs/pgdata`, while the
 * dev stack is stopped: PGlite allows one process at a time).
 */
import { resolve } from 'node:path';
import { createDb, type Db, type DbTarget } from '@kisjobs/db';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

export interface DatabaseOptions {
  readonly databaseUrl?: string;
  readonly pglite?: string;
}

export function databaseTarget(
  ctx: CliContext,
  opts: DatabaseOptions,
): DbTarget & { readonly label: string } {
  const url = opts.databaseUrl ?? ctx.env['DATABASE_URL'];
  if (url !== undefined && url !== '') {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new CliError(
        'USAGE',
        `${opts.databaseUrl === undefined ? 'DATABASE_URL' : '--database-url'}: expected a postgres:// URL`,
        {
          exitCode: EXIT.usage,
        },
      );
    }
    return { url, label: new URL(url).host + new URL(url).pathname };
  }
  if (opts.pglite !== undefined) {
    const dir = resolve(ctx.cwd, opts.pglite);
    return { pgliteDir: dir, label: `PGlite ${dir}` };
  }
  throw new CliError('USAGE', 'no database: set DATABASE_URL (or pass --database-url, or --pglite <dir>)', {
    exitCode: EXIT.usage,
  });
}

/** Opens the database, runs `work`, closes it; connection failures exit 10 with the reason. */
export async function withDatabase<T>(
  target: DbTarget & { label: string },
  work: (db: Db) => Promise<T>,
): Promise<T> {
  let db: Db;
  try {
    const { label: _label, ...dbTarget } = target;
    db = createDb(dbTarget as DbTarget);
  } catch (error) {
    throw new CliError('DATABASE_UNAVAILABLE', `${target.label}: ${String(error)}`, {
      exitCode: EXIT.database,
    });
  }
  try {
    return await work(db);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/ECONNREFUSED|ENOTFOUND|does not exist|password authentication|Can't reach|connect/i.test(message)) {
      throw new CliError('DATABASE_UNAVAILABLE', `${target.label}: ${message.split('\n')[0]}`, {
        exitCode: EXIT.database,
      });
    }
    throw error;
  } finally {
    await db.close();
  }
}
