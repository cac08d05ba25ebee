/**
 * Schema and migrations must not drift (STYLE: "CI fails when schema and migrations drift"): the migrations
 * replayed into an empty database must build exactly what prisma/schema.prisma describes.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createMigration,
  defaultMigrationsDir,
  defaultSchemaPath,
  diffSchemaAgainstMigrations,
  isDbError,
} from '../src/index.js';

describe('schema.prisma and prisma/migrations', () => {
  test('the migrations build exactly schema.prisma (empty diff)', async () => {
    const diff = await diffSchemaAgainstMigrations();
    expect(diff.sql).toBe('-- This is an empty migration.\n');
    expect(diff.empty).toBe(true);
  });
});

describe('drift detection and migration creation on a copy of the schema', () => {
  let work: string;
  let schemaPath: string;
  let migrationsDir: string;
  let original: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kisjobs-drift-'));
    schemaPath = join(work, 'schema.prisma');
    migrationsDir = join(work, 'migrations');
    original = await readFile(defaultSchemaPath, 'utf8');
    await cp(defaultMigrationsDir, migrationsDir, { recursive: true });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const withField = (schema: string, field: string): string =>
    schema.replace('  skipReason         String?     @map("skip_reason")\n', (line) => `${line}  ${field}\n`);

  test('an edit of schema.prisma without a migration is reported as drift', async () => {
    await writeFile(schemaPath, withField(original, 'note String? @map("note")'));
    const diff = await diffSchemaAgainstMigrations({ schemaPath, migrationsDir });
    expect(diff.empty).toBe(false);
    expect(diff.sql).toContain('ALTER TABLE "runs" ADD COLUMN     "note" TEXT;');
  });

  test('createMigration writes the missing migration, after which the diff is empty again', async () => {
    await writeFile(schemaPath, withField(original, 'note String? @map("note")'));
    const before = await readdir(migrationsDir);
    const created = await createMigration({ name: 'Add run note', schemaPath, migrationsDir });
    expect(created.folder).toMatch(/^\d{14}_add_run_note$/);
    const after = await readdir(migrationsDir);
    expect(after.filter((name) => !before.includes(name))).toEqual([created.folder]);
    expect(await readFile(join(migrationsDir, created.folder ?? '', 'migration.sql'), 'utf8')).toContain(
      '"note" TEXT',
    );
    expect((await diffSchemaAgainstMigrations({ schemaPath, migrationsDir })).empty).toBe(true);
    // Nothing left to create: no folder is written.
    expect((await createMigration({ name: 'again', schemaPath, migrationsDir })).folder).toBeNull();
  });

  test('a partial index predicate Postgres would print differently is refused before anything is written', async () => {
    const sloppy = original.replace(
      `where: raw("status = ANY (ARRAY['pending'::run_status, 'running'::run_status])")`,
      `where: raw("status IN ('pending', 'running')")`,
    );
    expect(sloppy).not.toBe(original);
    await writeFile(schemaPath, withField(sloppy, 'note String? @map("note")'));
    const before = await readdir(migrationsDir);
    const error: unknown = await createMigration({ name: 'sloppy', schemaPath, migrationsDir }).catch(
      (e: unknown) => e,
    );
    expect(isDbError(error, 'DB_SCHEMA_DIFF_FAILED')).toBe(true);
    expect(await readdir(migrationsDir)).toEqual(before);
  });
});
