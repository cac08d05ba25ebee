/**
 * What the dispatcher needs of a job, compiled once from its row: the group by name, routing, block
 * strategy, retry policy with `maxAttempts` (= retries + 1), timeout with its default, and params checked
 * as the protocol's string map. The inside of the dispatcher sees only this type.
 */
import type { PrismaClient } from '@kisjobs/db';
import {
  DEFAULT_JOB_TIMEOUT_MS,
  MAX_ATTEMPTS_LIMIT,
  NotFoundError,
  Params,
  type BlockStrategy,
  type RoutingStrategy,
} from '@kisjobs/protocol';
import type { RetryPolicy } from './backoff.js';

export interface JobSpec {
  readonly id: string;
  readonly sceneId: string;
  readonly name: string;
  readonly flowName: string;
  readonly enabled: boolean;
  readonly group: string;
  readonly blockStrategy: BlockStrategy;
  readonly routing: {
    readonly strategy: RoutingStrategy;
    /** consistent_hash: the sticky key (default: the job id). */
    readonly key: string;
    readonly pinnedInstanceId?: string;
  };
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly params: Params;
  readonly childJobIds: readonly string[];
}

const jobsSql = `
SELECT j.id, j.scene_id AS "sceneId", j.name, j.flow_name AS "flowName", j.enabled,
  j.block_strategy::text AS "blockStrategy", j.routing::text AS routing, j.routing_key AS "routingKey",
  j.pinned_executor AS "pinnedExecutor", j.timeout_ms AS "timeoutMs", j.retry_attempts AS "retryAttempts",
  j.retry_backoff::text AS "retryBackoff", j.retry_delay_ms AS "retryDelayMs", j.params,
  j.child_job_ids AS "childJobIds", g.name AS "groupName"
FROM jobs AS j JOIN executor_groups AS g ON g.id = j.executor_group_id
WHERE j.id = ANY($1::text[])`;

type JobRow = {
  id: string;
  sceneId: string;
  name: string;
  flowName: string;
  enabled: boolean;
  blockStrategy: BlockStrategy;
  routing: RoutingStrategy;
  routingKey: string | null;
  pinnedExecutor: string | null;
  timeoutMs: number | null;
  retryAttempts: number;
  retryBackoff: 'fixed' | 'exponential';
  retryDelayMs: number;
  params: unknown;
  childJobIds: string[];
  groupName: string;
};

export function jobSpecOf(row: JobRow): JobSpec {
  const params = Params.safeParse(row.params);
  return {
    id: row.id,
    sceneId: row.sceneId,
    name: row.name,
    flowName: row.flowName,
    enabled: row.enabled,
    group: row.groupName,
    blockStrategy: row.blockStrategy,
    routing: {
      strategy: row.routing,
      key: row.routingKey ?? row.id,
      ...(row.pinnedExecutor === null ? {} : { pinnedInstanceId: row.pinnedExecutor }),
    },
    timeoutMs: row.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    retry: {
      maxAttempts: Math.min(MAX_ATTEMPTS_LIMIT, Math.max(1, row.retryAttempts + 1)),
      backoff: row.retryBackoff,
      delayMs: row.retryDelayMs,
    },
    params: params.success ? params.data : {},
    childJobIds: row.childJobIds,
  };
}

/** The job, or a NotFoundError (JOB_NOT_FOUND, 404). */
export async function loadJobSpec(prisma: PrismaClient, jobId: string): Promise<JobSpec> {
  const job = (await loadJobSpecs(prisma, [jobId])).get(jobId);
  if (job === undefined) throw new NotFoundError('job', jobId);
  return job;
}

/** Several jobs in one statement (a plain join: this is on every trigger's path); missing ones are absent. */
export async function loadJobSpecs(
  prisma: PrismaClient,
  jobIds: readonly string[],
): Promise<Map<string, JobSpec>> {
  if (jobIds.length === 0) return new Map();
  const rows = await prisma.$queryRawUnsafe<JobRow[]>(jobsSql, [...new Set(jobIds)]);
  return new Map(rows.map((row) => [row.id, jobSpecOf(row)]));
}
