/**
 * Prisma CLI configuration (Prisma 7: the datasource URL lives here, not in schema.prisma).
 *
 * The URL is only needed by commands that talk to a database (`prisma migrate deploy`, `prisma studio`);
 * `prisma generate` needs none, so a missing DATABASE_URL is not an error here. KisJobs itself migrates
 * through `@kisjobs/db` (`migrate()`), which drives the wasm schema engine and needs no native binary.
 */
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
