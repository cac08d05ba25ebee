/**
 * Aggregates over runs for the reports API. Parameterised SQL; the time range is the leading condition, so
 * the `(scene_id | job_id | triggered_at, ...)` indexes bound the scan.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { DbClient } from '../client.js';

export interface ReportScope {
  readonly from: Date;
  readonly to: Date;
  /** Only these scenes (undefined: every scene). */
  readonly sceneIds?: readonly string[];
  readonly jobId?: string;
}

const FAILED = ['failed', 'timed_out', 'lost'] as const;
const FINAL = ['succeeded', 'failed', 'timed_out', 'terminated', 'lost'] as const;

function where(scope: ReportScope): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`r.triggered_at >= ${scope.from} AND r.triggered_at < ${scope.to}`];
  if (scope.sceneIds !== undefined) {
    parts.push(
      scope.sceneIds.length === 0
        ? Prisma.sql`FALSE`
        : Prisma.sql`r.scene_id IN (${Prisma.join([...scope.sceneIds])})`,
    );
  }
  if (scope.jobId !== undefined) parts.push(Prisma.sql`r.job_id = ${scope.jobId}`);
  return Prisma.join(parts, ' AND ');
}

export interface DailyCount {
  readonly day: string;
  readonly status: string;
  readonly count: number;
}

/** Runs per day (in `timezone`) and status. */
export async function dailyRunCounts(
  db: DbClient,
  scope: ReportScope,
  timezone: string,
): Promise<DailyCount[]> {
  const rows = await db.$queryRaw<{ day: string; status: string; count: bigint }[]>`
    SELECT to_char(r.triggered_at AT TIME ZONE ${timezone}, 'YYYY-MM-DD') AS day, r.status::text AS status,
           count(*) AS count
    FROM runs r
    WHERE ${where(scope)}
    GROUP BY 1, 2
    ORDER BY 1, 2`;
  return rows.map((r) => ({ day: r.day, status: r.status, count: Number(r.count) }));
}

export interface SlowJobRow {
  readonly jobId: string;
  readonly name: string;
  readonly sceneId: string;
  readonly runs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/** Jobs by the 95th percentile of their finished runs' durations, slowest first. */
export async function slowestJobs(db: DbClient, scope: ReportScope, limit: number): Promise<SlowJobRow[]> {
  const rows = await db.$queryRaw<
    { job_id: string; name: string; scene_id: string; runs: bigint; p50: number; p95: number; max: number }[]
  >`
    SELECT r.job_id, j.name, j.scene_id, count(*) AS runs,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p95,
           max(r.duration_ms)::float8 AS max
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${where(scope)} AND r.duration_ms IS NOT NULL
    GROUP BY r.job_id, j.name, j.scene_id
    ORDER BY p95 DESC, r.job_id
    LIMIT ${limit}`;
  return rows.map((r) => ({
    jobId: r.job_id,
    name: r.name,
    sceneId: r.scene_id,
    runs: Number(r.runs),
    p50Ms: r.p50,
    p95Ms: r.p95,
    maxMs: r.max,
  }));
}

export interface FailingJobRow {
  readonly jobId: string;
  readonly name: string;
  readonly sceneId: string;
  readonly finished: number;
  readonly failures: number;
}

/** Jobs by how many of their runs failed, timed out or were lost, most first. */
export async function mostFailingJobs(
  db: DbClient,
  scope: ReportScope,
  limit: number,
): Promise<FailingJobRow[]> {
  const rows = await db.$queryRaw<
    { job_id: string; name: string; scene_id: string; finished: bigint; failures: bigint }[]
  >`
    SELECT r.job_id, j.name, j.scene_id,
           count(*) FILTER (WHERE r.status::text IN (${Prisma.join([...FINAL])})) AS finished,
           count(*) FILTER (WHERE r.status::text IN (${Prisma.join([...FAILED])})) AS failures
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${where(scope)}
    GROUP BY r.job_id, j.name, j.scene_id
    HAVING count(*) FILTER (WHERE r.status::text IN (${Prisma.join([...FAILED])})) > 0
    ORDER BY failures DESC, r.job_id
    LIMIT ${limit}`;
  return rows.map((r) => ({
    jobId: r.job_id,
    name: r.name,
    sceneId: r.scene_id,
    finished: Number(r.finished),
    failures: Number(r.failures),
  }));
}
