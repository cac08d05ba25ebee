import { migrate, migrationsFingerprint, readMigrations } from '@kisjobs/db';
import { createTestDatabase, ensureTemplateDatabase, type TestDatabase } from './postgres.js';

/**
 * The name of a template database holding every migration of prisma/migrations, built once per migration
 * history (keyed by its fingerprint) across parallel test processes.
 */
export async function migratedTemplate(serverUrl?: string): Promise<string> {
  const key = `db_${migrationsFingerprint(await readMigrations())}`;
  return ensureTemplateDatabase(
    key,
    async (url) => {
      await migrate({ url });
    },
    serverUrl,
  );
}

/** A new database with the KisJobs schema, for one test file; cloned from the template in milliseconds. */
export async function createMigratedDatabase(label = 'db', serverUrl?: string): Promise<TestDatabase> {
  return createTestDatabase({ label, template: await migratedTemplate(serverUrl), serverUrl });
}
