import type { DbClient } from '../client.js';
import type { Prisma, Run } from '../generated/prisma/client.js';
import type { RunStatus, TriggerType } from '../vocabulary.js';
import { afterCursor, pageFrom, pageSize } from './cursor.js';

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
 * Runs, newest first by (triggeredAt, id). Served by the indexes (job_id | scene_id | status, triggered_at
 * DESC, id), (job_id, status, triggered_at DESC, id) and (triggered_at DESC, id): the cursor condition is
 * written as `triggered_at <= t AND (triggered_at < t OR id < i)` so that the index range starts at the
 * cursor.
 */
export async function listRuns(db: DbClient, filter: RunFilter, page: PageRequest = {}): Promise<Page<Run>> {
  const limit = pageSize(page.limit);
  const and: Prisma.RunWhereInput[] = [];
  if (filter.jobId !== undefined) and.push({ jobId: filter.jobId });
  if (filter.sceneIds !== undefined) and.push({ sceneId: { in: [...filter.sceneIds] } });
  if (filter.statuses !== undefined) and.push({ status: { in: [...filter.statuses] } });
  if (filter.triggerTypes !== undefined) and.push({ triggerType: { in: [...filter.triggerTypes] } });
  if (filter.from !== undefined) and.push({ triggeredAt: { gte: filter.from } });
  if (filter.to !== undefined) and.push({ triggeredAt: { lt: filter.to } });
  and.push(...afterCursor<(typeof and)[number]>('triggeredAt', page.cursor));
  const rows = await db.run.findMany({
    where: { AND: and },
    orderBy: [{ triggeredAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return pageFrom(rows, limit, (row) => row.triggeredAt);
}

/** One run by id, or null. */
export function getRunById(db: DbClient, id: string): Promise<Run | null> {
  return db.run.findUnique({ where: { id } });
}
