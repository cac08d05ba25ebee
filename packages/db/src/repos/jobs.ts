import type { DbClient, PrismaClient } from '../client.js';
import { DbError } from '../errors.js';
import type { Job, Prisma } from '../generated/prisma/client.js';

export function getJob(db: DbClient, id: string): Promise<Job | null> {
  return db.job.findUnique({ where: { id } });
}

export interface DueJobsRequest {
  /** Jobs with `nextFireAt <= now` are due. */
  readonly now: Date;
  /** The most jobs to claim at once. */
  readonly limit: number;
}

const claimSql = `
SELECT j.id
FROM jobs AS j
JOIN scenes AS s ON s.id = j.scene_id
WHERE j.enabled AND NOT j.paused AND NOT s.paused AND j.next_fire_at <= $1::timestamptz
ORDER BY j.next_fire_at, j.id
LIMIT $2
FOR UPDATE OF j SKIP LOCKED`;

/**
 * Locks and returns up to `limit` due jobs (enabled, not paused, in a scene that is not paused), oldest fire
 * first. Rows that another scheduler replica holds are skipped, not waited for, so replicas split the work.
 * The locks last until the transaction ends: call it on a transaction client, inside `prisma.$transaction`,
 * or use `withDueJobs`. (On the root client each statement is its own transaction and the locks would be gone
 * before the caller could use them.)
 */
export async function claimDueJobs(tx: Prisma.TransactionClient, request: DueJobsRequest): Promise<Job[]> {
  const limit = Math.max(1, Math.floor(request.limit));
  const ids = await tx.$queryRawUnsafe<{ id: string }[]>(claimSql, request.now.toISOString(), limit);
  if (ids.length === 0) return [];
  const jobs = await tx.job.findMany({ where: { id: { in: ids.map((row) => row.id) } } });
  const byId = new Map(jobs.map((job) => [job.id, job]));
  return ids.flatMap((row) => byId.get(row.id) ?? []);
}

/**
 * Claims due jobs and runs `fn` with them in the same transaction: record their fires and move `nextFireAt`
 * forward there, and commit both together (DESIGN §2.1: persist the enqueue before moving nextFireAt).
 */
export async function withDueJobs<T>(
  prisma: PrismaClient,
  request: DueJobsRequest & { readonly timeoutMs?: number },
  fn: (tx: Prisma.TransactionClient, jobs: Job[]) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => fn(tx, await claimDueJobs(tx, request)), {
    timeout: request.timeoutMs ?? 30_000,
  });
}

export interface JobFireTimes {
  readonly id: string;
  readonly nextFireAt: Date | null;
  readonly lastFireAt: Date | null;
}

/**
 * Stores the scheduler's progress on a job. It does not bump `version`: that guards edits by people, and the
 * scheduler's write never conflicts with one because the scheduler holds the row lock from `claimDueJobs`.
 */
export async function setJobFireTimes(db: DbClient, times: JobFireTimes): Promise<void> {
  await db.job.update({
    where: { id: times.id },
    data: { nextFireAt: times.nextFireAt, lastFireAt: times.lastFireAt },
  });
}

/**
 * Updates a job only if it is still at `expectedVersion`, and bumps the version (optimistic concurrency for
 * edits from the API). Throws `DB_VERSION_CONFLICT` when someone else saved first or the job is gone.
 */
export async function updateJobAtVersion(
  db: DbClient,
  id: string,
  expectedVersion: number,
  data: Omit<Prisma.JobUncheckedUpdateInput, 'id' | 'version'>,
): Promise<Job> {
  const result = await db.job.updateManyAndReturn({
    where: { id, version: expectedVersion },
    data: { ...data, version: { increment: 1 } },
  });
  const job = result[0];
  if (job === undefined) {
    throw new DbError('DB_VERSION_CONFLICT', `job ${id} is not at version ${expectedVersion}`, {
      details: { id, expectedVersion },
    });
  }
  return job;
}
