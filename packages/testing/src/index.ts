/**
 * Test helpers shared by every package's integration tests. Everything here talks to real services:
 * - `useTestRedis`: the shared Redis, with a key prefix unique to the test;
 * - `createTestDatabase` / `ensureTemplateDatabase`: a Postgres database per test file, cloned from a
 *   migrated template;
 * - `startPrivateRedis` / `startPrivatePostgres`: service instances of a test's own, on free ports, that it
 *   may stop, kill and restart without disturbing other tests.
 */
export { testServiceUrls, type TestServiceUrls } from './env.js';
export { uniqueToken } from './ids.js';
export { freePort } from './ports.js';
export { waitFor, sleep, type WaitForOptions } from './wait.js';
export { spawnService, exited, stopChild } from './process.js';
export { useTestRedis, deleteByPattern, type TestRedis } from './redis.js';
export {
  createTestDatabase,
  ensureTemplateDatabase,
  databaseUrl,
  type TestDatabase,
  type CreateTestDatabaseOptions,
} from './postgres.js';
export { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-redis.js';
export { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
export { migratedTemplate, createMigratedDatabase } from './kisjobs-db.js';
