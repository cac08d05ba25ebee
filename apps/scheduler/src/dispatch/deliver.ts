/**
 * New run rows and their delivery. ORDER (DESIGN §2.1): the row is inserted first, with its dispatch claim
 * (`dispatched_at`, `target_queue`); only the rows that were actually inserted are then added to BullMQ. A
 * duplicate fire therefore enqueues nothing, and an add that fails leaves a pending, dispatched row without
 * a BullMQ job, which the redispatch sweep enqueues later.
 */
import type { Params, RunRequest, TriggerType } from '@kisjobs/protocol';
import type { ResolvedFlow } from '../configs/resolve.js';
import { errorMessage } from '../registry/ports.js';
import type { DispatchContext } from './context.js';
import type { JobSpec } from './job-spec.js';
import type { ShardTarget } from './placement.js';
import { buildRunRequest, delayUntil, queueOf } from './run-request.js';
import type { RunInsert } from './run-store.js';

/** The run error code of a run no executor could take (pinned executor offline, nobody implements the flow). */
export const EXECUTOR_UNAVAILABLE = 'EXECUTOR_UNAVAILABLE';

export interface PreparedRun {
  readonly insert: RunInsert;
  /** Absent for held, skipped and failed runs. */
  readonly queue?: string;
  readonly request?: RunRequest;
  readonly delayMs?: number;
}

export interface NewRunsSpec {
  readonly job: JobSpec;
  readonly flow: ResolvedFlow;
  readonly targets: readonly ShardTarget[];
  readonly idOf: (shardIndex: number) => string;
  readonly triggerType: TriggerType;
  readonly triggeredBy: string;
  readonly scheduledAt: Date;
  readonly attempt: number;
  /** Default: the job's retry policy (a retry keeps the first attempt's). */
  readonly maxAttempts?: number;
  readonly parentRunId?: string;
  readonly params: Params;
  /** Serial block strategy: record the runs, dispatch them when the job's active run ends. */
  readonly hold: boolean;
}

/** What every new run row of a trigger shares, whatever becomes of it (dispatched, held or final). */
export type RunBaseSpec = Pick<
  NewRunsSpec,
  | 'job'
  | 'idOf'
  | 'triggerType'
  | 'triggeredBy'
  | 'scheduledAt'
  | 'attempt'
  | 'maxAttempts'
  | 'parentRunId'
  | 'params'
>;

/** The fields of one shard's row that do not depend on its fate. */
export function runBase(
  spec: RunBaseSpec,
  shard: Pick<ShardTarget, 'shardIndex' | 'shardTotal'>,
  triggeredAt: Date,
) {
  return {
    id: spec.idOf(shard.shardIndex),
    jobId: spec.job.id,
    sceneId: spec.job.sceneId,
    flowName: spec.job.flowName,
    triggerType: spec.triggerType,
    triggeredBy: spec.triggeredBy,
    scheduledAt: spec.scheduledAt,
    triggeredAt,
    attempt: spec.attempt,
    maxAttempts: Math.max(spec.attempt, spec.maxAttempts ?? spec.job.retry.maxAttempts),
    parentRunId: spec.parentRunId ?? null,
    executorGroup: spec.job.group,
    shardIndex: shard.shardIndex,
    shardTotal: shard.shardTotal,
    params: spec.params,
  };
}

export function prepareRuns(ctx: DispatchContext, spec: NewRunsSpec): PreparedRun[] {
  const now = ctx.clock.now();
  return spec.targets.map((shard): PreparedRun => {
    const base = runBase(spec, shard, now);
    const target = shard.target;
    if (spec.hold) {
      return { insert: { ...base, status: 'pending', dispatchedAt: null, targetQueue: null } };
    }
    if (target.kind === 'unroutable') {
      return {
        insert: {
          ...base,
          status: 'failed',
          errorCode: EXECUTOR_UNAVAILABLE,
          errorMessage: target.reason,
          dispatchedAt: null,
          targetQueue: null,
        },
      };
    }
    const queue = queueOf(ctx.keyspace, spec.job.group, target);
    return {
      insert: { ...base, status: 'pending', dispatchedAt: now, targetQueue: queue },
      queue,
      request: buildRunRequest(base, spec.job, spec.flow, target, now),
      delayMs: delayUntil(spec.scheduledAt, now),
    };
  });
}

/**
 * Adds the inserted runs to their queues, one bulk add per queue. A failure is logged, not thrown: the
 * rows are recorded and the sweep delivers them. Returns the ids that reached BullMQ.
 */
export async function deliver(
  ctx: DispatchContext,
  prepared: readonly PreparedRun[],
  inserted: ReadonlySet<string>,
): Promise<Set<string>> {
  const byQueue = new Map<string, { request: RunRequest; delayMs?: number }[]>();
  for (const run of prepared) {
    if (run.queue === undefined || run.request === undefined || !inserted.has(run.insert.id)) continue;
    const list = byQueue.get(run.queue) ?? [];
    list.push({ request: run.request, ...(run.delayMs === undefined ? {} : { delayMs: run.delayMs }) });
    byQueue.set(run.queue, list);
  }
  const delivered = new Set<string>();
  await Promise.all(
    [...byQueue].map(async ([queue, runs]) => {
      try {
        await ctx.queues.add(queue, runs);
        for (const run of runs) delivered.add(run.request.runId);
      } catch (error) {
        ctx.logger.warn('enqueue failed; the redispatch sweep will deliver the runs', {
          queue,
          runIds: runs.map((r) => r.request.runId),
          error: errorMessage(error),
        });
      }
    }),
  );
  return delivered;
}
