/**
 * Reads of runs that are not final, over the partial index `runs_active_idx` (the literal status list
 * matches the index predicate). The dispatcher's `target_queue` / `dispatched_at` columns are read when
 * the database has them (checked once a minute), so this works before and after that migration.
 */
import type { PrismaClient } from '@kisjobs/db';
import type { ActiveRun } from './types.js';

interface Row {
  id: string;
  jobId: string | null;
  status: string;
  attempt: number;
  executorGroup: string | null;
  executorInstanceId: string | null;
  triggeredAt: Date | string;
  startedAt: Date | string | null;
  targetQueue?: string | null;
  dispatchedAt?: Date | string | null;
}

interface Columns {
  readonly targetQueue: boolean;
  readonly dispatchedAt: boolean;
}

const COLUMNS_TTL_MS = 60_000;

export class ActiveRunsReader {
  readonly #prisma: PrismaClient;
  #columns: { value: Columns; at: number } | undefined;

  constructor(prisma: PrismaClient) {
    this.#prisma = prisma;
  }

  /** Every active run, oldest trigger first, at most `limit`. */
  all(limit: number): Promise<ActiveRun[]> {
    return this.#select('', [], limit);
  }

  ofExecutors(instanceIds: readonly string[]): Promise<ActiveRun[]> {
    if (instanceIds.length === 0) return Promise.resolve([]);
    return this.#select('AND executor_instance_id = ANY($1::text[])', [[...instanceIds]], 100_000);
  }

  byIds(runIds: readonly string[]): Promise<ActiveRun[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return this.#select('AND id = ANY($1::text[])', [[...runIds]], runIds.length);
  }

  async #select(where: string, params: unknown[], limit: number): Promise<ActiveRun[]> {
    const columns = await this.#optionalColumns();
    const extra = [
      columns.targetQueue ? ', target_queue AS "targetQueue"' : '',
      columns.dispatchedAt ? ', dispatched_at AS "dispatchedAt"' : '',
    ].join('');
    const sql = `SELECT id, job_id AS "jobId", status::text AS status, attempt, executor_group AS "executorGroup",
        executor_instance_id AS "executorInstanceId", triggered_at AS "triggeredAt", started_at AS "startedAt"${extra}
      FROM runs WHERE status IN ('pending', 'running') ${where}
      ORDER BY triggered_at LIMIT ${Math.max(1, Math.floor(limit))}`;
    const rows = await this.#prisma.$queryRawUnsafe<Row[]>(sql, ...params);
    return rows.map((row) => toActiveRun(row, columns));
  }

  async #optionalColumns(): Promise<Columns> {
    const cached = this.#columns;
    if (cached !== undefined && performance.now() - cached.at < COLUMNS_TTL_MS) return cached.value;
    const rows = await this.#prisma.$queryRawUnsafe<{ column_name: string }[]>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'runs' AND column_name IN ('target_queue', 'dispatched_at')`,
    );
    const names = new Set(rows.map((row) => row.column_name));
    const value = { targetQueue: names.has('target_queue'), dispatchedAt: names.has('dispatched_at') };
    this.#columns = { value, at: performance.now() };
    return value;
  }
}

const toDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

function toActiveRun(row: Row, columns: Columns): ActiveRun {
  return {
    id: row.id,
    jobId: row.jobId,
    status: row.status === 'running' ? 'running' : 'pending',
    attempt: Number(row.attempt),
    executorGroup: row.executorGroup,
    executorInstanceId: row.executorInstanceId,
    triggeredAt: toDate(row.triggeredAt),
    startedAt: row.startedAt === null ? null : toDate(row.startedAt),
    ...(columns.targetQueue ? { targetQueue: row.targetQueue ?? null } : {}),
    ...(columns.dispatchedAt
      ? { dispatched: row.dispatchedAt !== null && row.dispatchedAt !== undefined }
      : {}),
  };
}
