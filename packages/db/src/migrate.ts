/**
 * Applies `prisma/migrations` to a database with the wasm schema engine. The history lands in Prisma's own
 * `_prisma_migrations` table, so `prisma migrate deploy` and `prisma migrate status` agree with it wherever
 * the native CLI works.
 *
 * Safe with many concurrent callers (scheduler replicas booting together): on server Postgres the whole run
 * holds a session advisory lock, so one caller applies and the others wait, then find nothing to apply.
 * PGlite is single-process and single-connection, so it needs no lock.
 */
import { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { DbError, messageOf } from './errors.js';
import { defaultMigrationsDir, migrationNames, readMigrations } from './migrations-folder.js';
import { noSchemaFilter, withSchemaEngine } from './schema-engine.js';
import type { EngineLogger, MigrationList } from './schema-engine.js';
import { resolveTarget } from './target.js';
import type { DbTarget } from './target.js';

/** The advisory lock key: the bytes of "kisjobs!" (Prisma's own CLI uses 72707369, so the two never clash). */
export const MIGRATION_LOCK_SQL_KEY = "x'6b69736a6f627321'::bigint";

export interface MigrateOptions {
  /** Default: the repository's `prisma/migrations`. */
  readonly migrationsDir?: string;
  /** Server Postgres: how long to wait for another migrator before failing (default 10 minutes). */
  readonly lockTimeoutMs?: number;
  /** Log lines of the schema engine ("Applying `…`"). */
  readonly onLog?: EngineLogger;
}

export interface MigrateResult {
  /** Migrations applied by this call, oldest first; empty when the database was up to date. */
  readonly applied: readonly string[];
  /** Every migration of the folder. */
  readonly known: readonly string[];
}

const defaultLockTimeoutMs = 10 * 60_000;

/** Applies the migrations that the database has not seen yet. */
export async function migrate(options: DbTarget & MigrateOptions): Promise<MigrateResult> {
  const target = resolveTarget(options);
  const list = await readMigrations(options.migrationsDir ?? defaultMigrationsDir);
  const known = migrationNames(list);
  switch (target.kind) {
    case 'server':
      return { applied: await migrateServer(target.url, list, options), known };
    case 'pglite-dir': {
      const pglite = new PGlite(target.dataDir);
      try {
        return { applied: await applyMigrationList(new PrismaPGlite(pglite), list, options.onLog), known };
      } finally {
        await pglite.close();
      }
    }
    case 'pglite':
      return {
        applied: await applyMigrationList(new PrismaPGlite(target.pglite), list, options.onLog),
        known,
      };
  }
}

async function migrateServer(url: string, list: MigrationList, options: MigrateOptions): Promise<string[]> {
  const lockTimeoutMs = Math.max(1, Math.floor(options.lockTimeoutMs ?? defaultLockTimeoutMs));
  const lockClient = new pg.Client({ connectionString: url });
  lockClient.on('error', () => {
    // A broken lock connection surfaces as a failed query below; this only keeps the process alive.
  });
  await lockClient.connect();
  try {
    await lockClient.query(`SET lock_timeout = ${lockTimeoutMs}`);
    try {
      await lockClient.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_SQL_KEY})`);
    } catch (error) {
      if ((error as { code?: unknown }).code === '55P03') {
        throw new DbError(
          'DB_MIGRATION_LOCK_TIMEOUT',
          `another migrator held the migration lock for more than ${lockTimeoutMs} ms`,
          { cause: error, details: { lockTimeoutMs } },
        );
      }
      throw error;
    }
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => {
      // Reported by the query that uses the connection.
    });
    try {
      return await applyMigrationList(new PrismaPg(pool), list, options.onLog);
    } finally {
      await pool.end();
      await lockClient.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_SQL_KEY})`).catch(() => undefined);
    }
  } finally {
    await lockClient.end();
  }
}

/** Applies the pending migrations of `list` through `adapterFactory`; returns the names applied. */
export async function applyMigrationList(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  list: MigrationList,
  onLog?: EngineLogger,
): Promise<string[]> {
  return withSchemaEngine(
    adapterFactory,
    undefined,
    async (engine) => {
      try {
        const output = await engine.applyMigrations({ migrationsList: list, filters: noSchemaFilter });
        return output.appliedMigrationNames;
      } catch (error) {
        throw new DbError('DB_MIGRATION_FAILED', `applying migrations failed: ${messageOf(error)}`, {
          cause: error,
        });
      }
    },
    onLog,
  );
}
