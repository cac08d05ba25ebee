/**
 * `npm run db:migration:create -- <name> [--empty]`
 *
 * Writes prisma/migrations/<yyyyMMddHHmmss>_<name>/migration.sql: the SQL that takes a database built by the
 * existing migrations to what prisma/schema.prisma describes. Works offline, without Prisma's native schema
 * engine: the migrations are replayed into an in-memory PGlite and diffed by the wasm schema engine.
 * `--empty` writes an empty migration for hand-written SQL (data fixes) when the schema has not changed.
 * Review the SQL before committing it.
 */
import { relative } from 'node:path';
import { createMigration, defaultMigrationsDir, isDbError } from '@kisjobs/db';

const args = process.argv.slice(2);
const allowEmpty = args.includes('--empty');
const names = args.filter((arg) => !arg.startsWith('--'));
if (names.length !== 1) {
  console.error('usage: npm run db:migration:create -- <name> [--empty]');
  process.exit(2);
}

try {
  const created = await createMigration({ name: names[0] ?? '', allowEmpty });
  if (created.folder === null) {
    console.log(
      'schema.prisma matches the migrations: nothing to create (use --empty for a hand-written one)',
    );
  } else {
    console.log(
      `wrote ${relative(process.cwd(), `${defaultMigrationsDir}/${created.folder}/migration.sql`)}`,
    );
    console.log(created.sql);
  }
} catch (error) {
  console.error(isDbError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
}
