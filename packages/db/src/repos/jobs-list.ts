import type { DbClient } from '../client.js';
import type { Job, Prisma } from '../generated/prisma/client.js';
import { afterCursor, pageFrom, pageSize } from './cursor.js';
import type { Page, PageRequest } from './runs-list.js';

export interface JobFilter {
  /** Restricts to these scenes (an operator's grants). An empty list matches nothing. */
  readonly sceneIds?: readonly string[];
  readonly groupId?: string;
  readonly flowName?: string;
  readonly enabled?: boolean;
  readonly paused?: boolean;
  /** Case-insensitive substring of the name. */
  readonly nameContains?: string;
}

export type JobWithGroup = Job & { readonly executorGroup: { readonly name: string } };

/** Jobs, newest first by (createdAt, id), with their executor group's name. */
export async function listJobs(
  db: DbClient,
  filter: JobFilter,
  page: PageRequest = {},
): Promise<Page<JobWithGroup>> {
  const limit = pageSize(page.limit);
  const and: Prisma.JobWhereInput[] = [];
  if (filter.sceneIds !== undefined) and.push({ sceneId: { in: [...filter.sceneIds] } });
  if (filter.groupId !== undefined) and.push({ executorGroupId: filter.groupId });
  if (filter.flowName !== undefined) and.push({ flowName: filter.flowName });
  if (filter.enabled !== undefined) and.push({ enabled: filter.enabled });
  if (filter.paused !== undefined) and.push({ paused: filter.paused });
  if (filter.nameContains !== undefined)
    and.push({ name: { contains: filter.nameContains, mode: 'insensitive' } });
  and.push(...afterCursor<(typeof and)[number]>('createdAt', page.cursor));
  const rows = await db.job.findMany({
    where: { AND: and },
    include: { executorGroup: { select: { name: true } } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return pageFrom(rows, limit, (row) => row.createdAt);
}

/** One job with its executor group's name, or null. */
export function getJobWithGroup(db: DbClient, id: string): Promise<JobWithGroup | null> {
  return db.job.findUnique({ where: { id }, include: { executorGroup: { select: { name: true } } } });
}
