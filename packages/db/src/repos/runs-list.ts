import type { DbClient } from '../client.js';
import { Prisma, type Run } from '../generated/prisma/client.js';
import type { RunStatus, TriggerType } from '../vocabulary.js';
import { decodeCursor, pageFrom, pageSize } from './cursor.js';

export interface RunFilter {
  readonly jobId?: string;
  /** Restricts to these scenes (an operator's grants). An empty list matches nothing. */
  readonly sceneIds?: readonly string[];
  readonly statuses?: readonly RunStatus[];
  readonly triggerTypes?: readonly TriggerType[];
  /** `triggeredAt >= from` */
  readonly from?: Date;
  /** `triggeredAt < to` */
  readonly to?: Date;
}

export interface PageRequest {
  /** 1..500, default 50. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * Every column of `runs`, named as the `Run` model names it, so that a raw row is a `Run` as it comes (enums as
 * their labels, timestamps as Dates, JSON parsed): no per-row mapping.
 */
const RUN_COLUMNS = Prisma.raw(
  [
    'id',
    'job_id AS "jobId"',
    'scene_id AS "sceneId"',
    'flow_name AS "flowName"',
    'status::text AS status',
    'skip_reason AS "skipReason"',
    'trigger_type::text AS "triggerType"',
    'triggered_by AS "triggeredBy"',
    'scheduled_at AS "scheduledAt"',
    'triggered_at AS "triggeredAt"',
    'started_at AS "startedAt"',
    'finished_at AS "finishedAt"',
    'attempt',
    'max_attempts AS "maxAttempts"',
    'parent_run_id AS "parentRunId"',
    'executor_instance_id AS "executorInstanceId"',
    'executor_group AS "executorGroup"',
    'shard_index AS "shardIndex"',
    'shard_total AS "shardTotal"',
    'params',
    'summary',
    'error_message AS "errorMessage"',
    'error_code AS "errorCode"',
    'duration_ms AS "durationMs"',
    'dispatched_at AS "dispatchedAt"',
    'target_queue AS "targetQueue"',
    'created_at AS "createdAt"',
    'updated_at AS "updatedAt"',
  ].join(', '),
);

/**
 * An instant as a parameter, serialised by Prisma as the ORM serialises it. Prisma's adapter-pg writes and reads
 * timestamps as UTC wall time (it drops the offset), which is right when the session time zone is UTC and at
 * least consistent with every other query of the app when it is not; an ISO string with its `Z` would be
 * "more right" but would then disagree with the rows Prisma reads back (a cursor would never advance).
 */
const instant = (at: Date): Prisma.Sql => Prisma.sql`${at}::timestamptz`;

/**
 * The listing as one parameterised statement (values are bound, never spliced into the text): the filters, the
 * keyset condition after `cursor`, newest first, `limit + 1` rows (the extra one tells whether a page follows).
 * Exported for tests and the benchmark's EXPLAIN; `listRuns` runs it.
 */
export function runListSql(filter: RunFilter, limit: number, cursor?: string | null): Prisma.Sql {
  const where: Prisma.Sql[] = [];
  if (filter.jobId !== undefined) where.push(Prisma.sql`job_id = ${filter.jobId}`);
  if (filter.sceneIds !== undefined) where.push(Prisma.sql`scene_id = ANY(${[...filter.sceneIds]}::text[])`);
  if (filter.statuses !== undefined)
    where.push(Prisma.sql`status = ANY(${[...filter.statuses]}::run_status[])`);
  if (filter.triggerTypes !== undefined)
    where.push(Prisma.sql`trigger_type = ANY(${[...filter.triggerTypes]}::trigger_type[])`);
  if (filter.from !== undefined) where.push(Prisma.sql`triggered_at >= ${instant(filter.from)}`);
  if (filter.to !== undefined) where.push(Prisma.sql`triggered_at < ${instant(filter.to)}`);
  if (cursor !== undefined && cursor !== null) {
    const key = decodeCursor(cursor);
    // `t <= at AND (t < at OR id < key)`, not the row comparison: the index range then starts at the cursor.
    where.push(
      Prisma.sql`triggered_at <= ${instant(key.at)} AND (triggered_at < ${instant(key.at)} OR id < ${key.id})`,
    );
  }
  const condition = where.length === 0 ? Prisma.sql`TRUE` : Prisma.join(where, ' AND ');
  return Prisma.sql`SELECT ${RUN_COLUMNS} FROM runs WHERE ${condition}
    ORDER BY triggered_at DESC, id DESC LIMIT ${limit + 1}`;
}

/**
 * Runs, newest first by (triggeredAt, id). Served by the indexes (job_id | scene_id | status, triggered_at
 * DESC, id), (job_id, status, triggered_at DESC, id) and (triggered_at DESC, id): the cursor condition is
 * written as `triggered_at <= t AND (triggered_at < t OR id < i)` so that the index range starts at the
 * cursor. One raw statement: the hot path of `GET /api/runs` (bench/api), where building and mapping the query
 * through the ORM cost more CPU than the database spends on it.
 */
export async function listRuns(db: DbClient, filter: RunFilter, page: PageRequest = {}): Promise<Page<Run>> {
  const limit = pageSize(page.limit);
  const rows = await db.$queryRaw<Run[]>(runListSql(filter, limit, page.cursor));
  return pageFrom(rows, limit, (row) => row.triggeredAt);
}

/** One run by id, or null. */
export function getRunById(db: DbClient, id: string): Promise<Run | null> {
  return db.run.findUnique({ where: { id } });
}
