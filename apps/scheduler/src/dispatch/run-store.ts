/**
 * The dispatcher's SQL on `runs`: inserting runs with their dispatch claim (`dispatched_at`, `target_queue`),
 * reading a job's active runs under the job's row lock (block strategies, the serial queue), claiming held
 * runs, and the scans of the redispatch sweep. Rows travel as one JSON parameter (`jsonb_to_recordset`), as in
 * `@kisjobs/db`'s repositories.
 */
import type { DbClient, Prisma, Run } from '@kisjobs/db';
import type { TriggerType } from '@kisjobs/protocol';

export type InsertStatus = 'pending' | 'skipped' | 'failed';

export interface RunInsert {
  readonly id: string;
  readonly jobId: string;
  readonly sceneId: string;
  readonly flowName: string;
  readonly status: InsertStatus;
  readonly skipReason?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly triggerType: TriggerType;
  readonly triggeredBy: string;
  readonly scheduledAt: Date;
  readonly triggeredAt: Date;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly parentRunId?: string | null;
  readonly executorGroup: string;
  readonly shardIndex: number;
  readonly shardTotal: number;
  readonly params: Readonly<Record<string, string>>;
  /** Null: held (serial queue) or final at once. */
  readonly dispatchedAt: Date | null;
  readonly targetQueue: string | null;
}

const insertSql = `
INSERT INTO runs (
  id, job_id, scene_id, flow_name, status, skip_reason, trigger_type, triggered_by, scheduled_at, triggered_at,
  finished_at, attempt, max_attempts, parent_run_id, executor_group, shard_index, shard_total, params,
  error_code, error_message, dispatched_at, target_queue
)
SELECT
  r.id, r.job_id, r.scene_id, r.flow_name, r.status::run_status, r.skip_reason, r.trigger_type::trigger_type,
  r.triggered_by, r.scheduled_at, r.triggered_at,
  CASE WHEN r.status <> 'pending' THEN r.triggered_at END,
  r.attempt, r.max_attempts, r.parent_run_id, r.executor_group, r.shard_index, r.shard_total, r.params,
  r.error_code, r.error_message, r.dispatched_at, r.target_queue
FROM jsonb_to_recordset($1::jsonb) AS r(
  id text, job_id text, scene_id text, flow_name text, status text, skip_reason text, trigger_type text,
  triggered_by text, scheduled_at timestamptz, triggered_at timestamptz, attempt int, max_attempts int,
  parent_run_id text, executor_group text, shard_index int, shard_total int, params jsonb, error_code text,
  error_message text, dispatched_at timestamptz, target_queue text
)
ON CONFLICT DO NOTHING
RETURNING id`;

/**
 * Inserts runs; an id that exists already, or a scheduled fire whose (job, scheduledAt, shard, attempt)
 * exists already, is left alone. Returns the ids actually inserted: only those may be enqueued.
 */
export async function insertDispatchRuns(db: DbClient, runs: readonly RunInsert[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const rows = runs.map((run) => ({
    id: run.id,
    job_id: run.jobId,
    scene_id: run.sceneId,
    flow_name: run.flowName,
    status: run.status,
    skip_reason: run.skipReason ?? null,
    trigger_type: run.triggerType,
    triggered_by: run.triggeredBy,
    scheduled_at: run.scheduledAt.toISOString(),
    triggered_at: run.triggeredAt.toISOString(),
    attempt: run.attempt,
    max_attempts: run.maxAttempts,
    parent_run_id: run.parentRunId ?? null,
    executor_group: run.executorGroup,
    shard_index: run.shardIndex,
    shard_total: run.shardTotal,
    params: run.params,
    error_code: run.errorCode ?? null,
    error_message: run.errorMessage ?? null,
    dispatched_at: run.dispatchedAt?.toISOString() ?? null,
    target_queue: run.targetQueue,
  }));
  const result = await db.$queryRawUnsafe<{ id: string }[]>(insertSql, JSON.stringify(rows));
  return new Set(result.map((row) => row.id));
}

/** Locks the job row until the transaction ends: triggers and serial advances of one job go one at a time. */
export async function lockJob(tx: Prisma.TransactionClient, jobId: string): Promise<boolean> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM jobs WHERE id = $1 FOR UPDATE`,
    jobId,
  );
  return rows.length > 0;
}

/** The job's pending and running runs, oldest first (index runs_job_active_idx). */
export function activeRunsOfJob(db: DbClient, jobId: string): Promise<Run[]> {
  return db.run.findMany({
    where: { jobId, status: { in: ['pending', 'running'] } },
    orderBy: [{ triggeredAt: 'asc' }, { id: 'asc' }],
  });
}

export interface DispatchClaim {
  readonly id: string;
  readonly targetQueue: string;
}

const claimSql = `
UPDATE runs AS r
SET dispatched_at = $2::timestamptz, target_queue = d.target_queue, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS d(id text, target_queue text, expected timestamptz)
WHERE r.id = d.id AND r.status = 'pending'
  AND r.dispatched_at IS NOT DISTINCT FROM d.expected
RETURNING r.id`;

/**
 * Records that runs are (again) handed to a queue. Each claim succeeds only if the run is still pending and
 * its `dispatched_at` is still `expected` (null for a held run): of two sweeps or replicas, one wins.
 */
export async function claimDispatch(
  db: DbClient,
  claims: readonly (DispatchClaim & { readonly expected: Date | null })[],
  at: Date,
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const rows = claims.map((c) => ({
    id: c.id,
    target_queue: c.targetQueue,
    expected: c.expected?.toISOString() ?? null,
  }));
  const result = await db.$queryRawUnsafe<{ id: string }[]>(claimSql, JSON.stringify(rows), at.toISOString());
  return new Set(result.map((row) => row.id));
}

/** Moves runs to another queue (reroute) without touching `dispatched_at`. */
export async function setTargetQueues(db: DbClient, claims: readonly DispatchClaim[]): Promise<void> {
  if (claims.length === 0) return;
  await db.$executeRawUnsafe(
    `UPDATE runs AS r SET target_queue = d.target_queue, updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS d(id text, target_queue text)
     WHERE r.id = d.id AND r.status = 'pending'`,
    JSON.stringify(claims.map((c) => ({ id: c.id, target_queue: c.targetQueue }))),
  );
}

export function loadRuns(db: DbClient, ids: readonly string[]): Promise<Run[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.run.findMany({ where: { id: { in: [...new Set(ids)] } } });
}

/** Jobs that have held runs (pending, never dispatched) older than `before`: candidates for a serial advance. */
export async function jobsWithHeldRuns(db: DbClient, before: Date, limit: number): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ job_id: string }[]>(
    `SELECT DISTINCT job_id FROM runs
     WHERE status = 'pending' AND dispatched_at IS NULL AND job_id IS NOT NULL AND triggered_at < $1::timestamptz
     LIMIT $2`,
    before.toISOString(),
    limit,
  );
  return rows.map((row) => row.job_id);
}

/** Pending runs handed to a queue before `before`, oldest claim first, after the (at, id) cursor. */
export function dispatchedPendingRuns(
  db: DbClient,
  before: Date,
  after: { readonly at: Date; readonly id: string } | undefined,
  limit: number,
): Promise<Run[]> {
  return db.run.findMany({
    where: {
      status: 'pending',
      dispatchedAt: { lt: before, not: null },
      ...(after === undefined
        ? {}
        : { OR: [{ dispatchedAt: { gt: after.at } }, { dispatchedAt: after.at, id: { gt: after.id } }] }),
    },
    orderBy: [{ dispatchedAt: 'asc' }, { id: 'asc' }],
    take: limit,
  });
}

/**
 * Recently finished runs whose follow-up (a retry, or child job runs) is missing: the live path
 * (`onRunsFinalized`, `handleLost`) normally creates it; this finds the ones a crash in between left out.
 */
export async function runsMissingFollowUp(
  db: DbClient,
  window: { readonly from: Date; readonly to: Date },
  nonRetryableCodes: readonly string[],
  limit: number,
): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT r.id FROM runs AS r JOIN jobs AS j ON j.id = r.job_id
     WHERE r.finished_at >= $1::timestamptz AND r.finished_at < $2::timestamptz
       AND (
         ((r.status IN ('failed', 'timed_out', 'lost')
             OR (r.status = 'terminated' AND r.error_code = 'EXECUTOR_SHUTDOWN'))
           AND r.attempt < r.max_attempts
           AND (r.error_code IS NULL OR NOT (r.error_code = ANY($4::text[]))))
         OR (r.status = 'succeeded' AND cardinality(j.child_job_ids) > 0)
       )
       AND NOT EXISTS (SELECT 1 FROM runs AS c WHERE c.parent_run_id = r.id)
     ORDER BY r.finished_at
     LIMIT $3`,
    window.from.toISOString(),
    window.to.toISOString(),
    limit,
    [...nonRetryableCodes],
  );
  return rows.map((row) => row.id);
}

/** Ends pending runs as `failed` before they ever ran (no executor for a held run...). Returns the ids ended. */
export async function failPendingRuns(
  db: DbClient,
  ids: readonly string[],
  error: { readonly code: string; readonly message: string },
  at: Date,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    `UPDATE runs SET status = 'failed', finished_at = $2::timestamptz, error_code = $3, error_message = $4,
       updated_at = now()
     WHERE id = ANY($1::text[]) AND status = 'pending'
     RETURNING id`,
    [...ids],
    at.toISOString(),
    error.code,
    error.message,
  );
  return rows.map((row) => row.id);
}
