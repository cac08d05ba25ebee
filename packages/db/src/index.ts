/**
 * @kisjobs/db: the Prisma client factory (server Postgres or embedded PGlite), the migration runner, and
 * small repositories for the hot paths of the scheduler (run ingestion, log lines, executors, due jobs).
 *
 * Words: a *job* is a scheduled flow; a *run* is one execution of a job (one per fire, shard and attempt);
 * an *executor* is a registered worker process; a *scene* groups jobs for access control.
 */
export { DbError, isDbError, type DbErrorCode } from './errors.js';
export type { DbTarget } from './target.js';
export { createDb, type Db, type DbClient, type CreateDbOptions, type PrismaClient } from './client.js';
export { migrate, MIGRATION_LOCK_SQL_KEY, type MigrateOptions, type MigrateResult } from './migrate.js';
export {
  createMigration,
  diffSchemaAgainstMigrations,
  type CreateMigrationOptions,
  type CreatedMigration,
  type SchemaDiff,
  type SchemaDiffOptions,
} from './schema-diff.js';
export {
  defaultMigrationsDir,
  defaultSchemaPath,
  readMigrations,
  migrationNames,
  migrationsFingerprint,
} from './migrations-folder.js';
export { schemaEngineVersion, type EngineLogLine, type EngineLogger } from './schema-engine.js';
export { newId } from './ids.js';
export * from './vocabulary.js';

export { insertRuns, type NewRun } from './repos/runs-insert.js';
export {
  applyRunEvents,
  type RunEvent,
  type RunEventType,
  type RunTransition,
  type ApplyRunEventsResult,
} from './repos/run-events.js';
export {
  dailyRunCounts,
  mostFailingJobs,
  slowestJobs,
  type DailyCount,
  type FailingJobRow,
  type ReportScope,
  type SlowJobRow,
} from './repos/reports.js';
export { getJobWithGroup, listJobs, type JobFilter, type JobWithGroup } from './repos/jobs-list.js';
export { getRunById, listRuns, type RunFilter, type PageRequest, type Page } from './repos/runs-list.js';
export { insertRunLogLines, listRunLogLines, type NewRunLogLine } from './repos/run-logs.js';
export {
  registerExecutor,
  recordExecutorHeartbeats,
  markExecutorsOffline,
  setExecutorStatus,
  listExecutorEvents,
  type ExecutorRegistration,
  type ExecutorChange,
} from './repos/executors.js';
export {
  getJob,
  claimDueJobs,
  withDueJobs,
  setJobFireTimes,
  updateJobAtVersion,
  type DueJobsRequest,
  type JobFireTimes,
} from './repos/jobs.js';

export {
  insertUser,
  getUser,
  findUserByUsername,
  countUsers,
  listUsers,
  updateUser,
  deleteUser,
  lockActiveAdmins,
  isUniqueViolation,
  type NewUser,
  type InsertUserResult,
  type UserWithGrants,
  type UserChange,
} from './repos/users.js';
export { grantedSceneIds, replaceSceneGrants, existingSceneIds } from './repos/scene-grants.js';
export {
  insertSession,
  findSessionByTokenHash,
  touchSession,
  deleteSession,
  deleteSessionsOfUser,
  deleteExpiredSessions,
  type NewSession,
  type SessionWithUser,
} from './repos/sessions.js';
export {
  insertApiToken,
  findApiTokenByHash,
  getApiToken,
  listApiTokensOfUser,
  countUsableApiTokens,
  revokeApiToken,
  touchApiToken,
  type NewApiToken,
  type ApiTokenWithUser,
} from './repos/api-tokens.js';
export {
  insertScene,
  getScene,
  listScenes,
  updateScene,
  deleteScene,
  type NewScene,
  type SceneFilter,
  type SceneChange,
  type SceneWriteResult,
  type DeleteSceneResult,
} from './repos/scenes.js';
export { insertAuditEvent, listAuditEvents, type NewAuditEvent, type AuditFilter } from './repos/audit.js';

/** Model types and the `Prisma` namespace of the generated client, for callers that query directly. */
export { Prisma } from './generated/prisma/client.js';
export type {
  User,
  Session,
  ApiToken,
  Scene,
  SceneGrant,
  ExecutorGroup,
  Executor,
  ExecutorEvent,
  ConfigDocument,
  ConfigVersion,
  Job,
  Run,
  RunLogLine,
  AlertDelivery,
  AuditEvent,
} from './generated/prisma/client.js';
