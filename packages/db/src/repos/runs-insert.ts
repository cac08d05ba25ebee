import type { DbClient } from '../client.js';
import type { TriggerType } from '../vocabulary.js';
import { chunks, defaultBatchSize, jsonRows } from './batches.js';

/** A run to record. Only `id`, the job, the flow, the trigger and `scheduledAt` are required. */
export interface NewRun {
  /**
   * For a scheduled fire, derive it from (jobId, scheduledAt, shardIndex, attempt) so that enqueuing the same
   * fire twice inserts one row; for api/manual triggers it doubles as the idempotency key.
   */
  readonly id: string;
  readonly jobId: string | null;
  readonly sceneId: string | null;
  readonly flowName: string;
  readonly triggerType: TriggerType;
  readonly scheduledAt: Date;
  /** Default: the transaction's `now()`. */
  readonly triggeredAt?: Date;
  readonly triggeredBy?: string | null;
  /** `skipped` records a fire that the block strategy discarded; it is final at once. Default `pending`. */
  readonly status?: 'pending' | 'skipped';
  readonly skipReason?: string | null;
  readonly attempt?: number;
  readonly maxAttempts?: number;
  readonly parentRunId?: string | null;
  readonly executorGroup?: string | null;
  readonly executorInstanceId?: string | null;
  readonly shardIndex?: number;
  readonly shardTotal?: number;
  readonly params?: Readonly<Record<string, unknown>>;
}

const insertSql = `
INSERT INTO runs (
  id, job_id, scene_id, flow_name, status, skip_reason, trigger_type, triggered_by, scheduled_at,
  triggered_at, finished_at, attempt, max_attempts, parent_run_id, executor_group, executor_instance_id,
  shard_index, shard_total, params
)
SELECT
  r.id, r.job_id, r.scene_id, r.flow_name, r.status::run_status, r.skip_reason, r.trigger_type::trigger_type,
  r.triggered_by, r.scheduled_at, COALESCE(r.triggered_at, now()),
  CASE WHEN r.status = 'skipped' THEN COALESCE(r.triggered_at, now()) END,
  r.attempt, r.max_attempts, r.parent_run_id, r.executor_group, r.executor_instance_id,
  r.shard_index, r.shard_total, r.params
FROM jsonb_to_recordset($1::jsonb) AS r(
  id text, job_id text, scene_id text, flow_name text, status text, skip_reason text, trigger_type text,
  triggered_by text, scheduled_at timestamptz, triggered_at timestamptz, attempt int, max_attempts int,
  parent_run_id text, executor_group text, executor_instance_id text, shard_index int, shard_total int,
  params jsonb
)
ON CONFLICT DO NOTHING
RETURNING id`;

/**
 * Inserts runs; a run whose id exists already, or a scheduled fire (cron, fixed_rate, once, misfire) whose
 * (job, scheduledAt, shard, attempt) exists already, is left alone. Returns the ids actually inserted, in no
 * particular order. Pass a transaction client to make it atomic with other writes (for example, moving the
 * job's `nextFireAt` forward only once its fires are recorded).
 */
export async function insertRuns(db: DbClient, runs: readonly NewRun[]): Promise<string[]> {
  const inserted: string[] = [];
  for (const batch of chunks(runs, defaultBatchSize)) {
    const rows = batch.map((run) => ({
      id: run.id,
      job_id: run.jobId,
      scene_id: run.sceneId,
      flow_name: run.flowName,
      status: run.status ?? 'pending',
      skip_reason: run.skipReason ?? null,
      trigger_type: run.triggerType,
      triggered_by: run.triggeredBy ?? null,
      scheduled_at: run.scheduledAt.toISOString(),
      triggered_at: run.triggeredAt?.toISOString() ?? null,
      attempt: run.attempt ?? 1,
      max_attempts: run.maxAttempts ?? 1,
      parent_run_id: run.parentRunId ?? null,
      executor_group: run.executorGroup ?? null,
      executor_instance_id: run.executorInstanceId ?? null,
      shard_index: run.shardIndex ?? 0,
      shard_total: run.shardTotal ?? 1,
      params: run.params ?? {},
    }));
    const result = await db.$queryRawUnsafe<{ id: string }[]>(insertSql, jsonRows(rows));
    for (const row of result) inserted.push(row.id);
  }
  return inserted;
}
