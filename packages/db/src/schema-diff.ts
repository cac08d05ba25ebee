/**
 * Compares schema.prisma with what the migrations build, without any server: the migrations are replayed into
 * a throwaway in-memory PGlite, and the schema engine diffs that database against the datamodel. Used to
 * create migrations (`npm run db:migration:create`) and by the drift test.
 *
 * (`createMigration` of the engine wants a separate shadow database, and `diff` against server Postgres
 * through adapter-pg fails on the `char` column type; both measured, DESIGN §8.)
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { DbError, messageOf } from './errors.js';
import {
  defaultMigrationsDir,
  defaultSchemaPath,
  migrationTimestamp,
  migrationSlug,
  readMigrations,
  writeMigration,
} from './migrations-folder.js';
import { applyMigrationList } from './migrate.js';
import { noSchemaFilter, withSchemaEngine } from './schema-engine.js';
import type { EngineLogger, MigrationList, SchemaFile } from './schema-engine.js';

export interface SchemaDiffOptions {
  readonly schemaPath?: string;
  readonly migrationsDir?: string;
  readonly onLog?: EngineLogger;
}

export interface SchemaDiff {
  /** True when the migrations build exactly what schema.prisma describes. */
  readonly empty: boolean;
  /** The SQL that would take the migrated database to schema.prisma (a comment only when empty). */
  readonly sql: string;
}

async function diffListAgainstSchema(
  list: MigrationList,
  schema: SchemaFile,
  onLog: EngineLogger | undefined,
): Promise<SchemaDiff> {
  const pglite = new PGlite();
  try {
    const adapter = new PrismaPGlite(pglite);
    await applyMigrationList(adapter, list, onLog);
    return await withSchemaEngine(
      adapter,
      schema,
      async (engine) => {
        const files = [schema];
        try {
          const result = await engine.diff({
            from: { tag: 'schemaDatasource', files, configDir: dirname(schema.path) },
            to: { tag: 'schemaDatamodel', files },
            script: true,
            exitCode: true,
            filters: noSchemaFilter,
          });
          // With `exitCode: true` the engine answers 2 when the diff is not empty.
          return { empty: result.exitCode === 0, sql: result.stdout ?? '' };
        } catch (error) {
          throw new DbError('DB_SCHEMA_DIFF_FAILED', `diffing ${schema.path} failed: ${messageOf(error)}`, {
            cause: error,
          });
        }
      },
      onLog,
    );
  } finally {
    await pglite.close();
  }
}

async function loadSchema(schemaPath: string): Promise<SchemaFile> {
  return { path: schemaPath, content: await readFile(schemaPath, 'utf8') };
}

/** The difference between the database the migrations build and schema.prisma. */
export async function diffSchemaAgainstMigrations(options: SchemaDiffOptions = {}): Promise<SchemaDiff> {
  const list = await readMigrations(options.migrationsDir ?? defaultMigrationsDir);
  return diffListAgainstSchema(
    list,
    await loadSchema(options.schemaPath ?? defaultSchemaPath),
    options.onLog,
  );
}

export interface CreateMigrationOptions extends SchemaDiffOptions {
  /** Free-form; becomes the snake_case suffix of the folder. */
  readonly name: string;
  /** Write an empty migration even when the schema has not changed (for hand-written SQL). */
  readonly allowEmpty?: boolean;
  readonly now?: Date;
}

export interface CreatedMigration {
  /** The folder written under the migrations folder, or null when there was nothing to write. */
  readonly folder: string | null;
  readonly sql: string;
}

/**
 * Writes a new migration that takes the migrated database to schema.prisma. Before writing, it checks that the
 * new migration leaves no diff behind: the engine compares some things textually (for example, a partial
 * index predicate must be written the way Postgres prints it back), and such a migration would otherwise make
 * the drift test fail for ever.
 */
export async function createMigration(options: CreateMigrationOptions): Promise<CreatedMigration> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir;
  const schema = await loadSchema(options.schemaPath ?? defaultSchemaPath);
  const list = await readMigrations(migrationsDir);
  const diff = await diffListAgainstSchema(list, schema, options.onLog);
  if (diff.empty && options.allowEmpty !== true) return { folder: null, sql: '' };
  const sql = diff.empty ? '-- This is an empty migration.\n' : diff.sql;

  const at = nextTimestamp(list, options.now ?? new Date());
  const folder = `${migrationTimestamp(at)}_${migrationSlug(options.name)}`;
  const withNew: MigrationList = {
    ...list,
    migrationDirectories: [
      ...list.migrationDirectories,
      { path: folder, migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: sql } } },
    ],
  };
  const after = await diffListAgainstSchema(withNew, schema, options.onLog);
  if (!after.empty) {
    throw new DbError(
      'DB_SCHEMA_DIFF_FAILED',
      'the generated migration does not reproduce schema.prisma; this is left after applying it:\n' +
        `${after.sql}\nWrite partial index predicates the way Postgres prints them, e.g. ` +
        `raw("status = ANY (ARRAY['pending'::run_status, 'running'::run_status])").`,
      { details: { remaining: after.sql } },
    );
  }
  return { folder: await writeMigration(migrationsDir, options.name, sql, at), sql };
}

/** Now, or one second after the newest migration, so that folder order is creation order. */
function nextTimestamp(list: MigrationList, now: Date): Date {
  const newest = list.migrationDirectories.at(-1)?.path ?? '';
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_/.exec(newest);
  if (m === null) return now;
  const last = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
  return now.getTime() >= last + 1000 ? now : new Date(last + 1000);
}
