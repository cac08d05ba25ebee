/**
 * RunRequest (the BullMQ job data) from a run and its job: everything an executor needs, the resolved flow
 * included, so it never reads Postgres. `queueOf` names the BullMQ queue of a placement.
 */
import type { Keyspace, Params, RunRequest, TriggerType } from '@kisjobs/protocol';
import type { ResolvedFlow } from '../configs/resolve.js';
import type { JobSpec } from './job-spec.js';
import type { Target } from './placement.js';

/** The fields of a run row the request is built from. */
export interface RunFields {
  readonly id: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly scheduledAt: Date;
  readonly triggerType: TriggerType;
  readonly triggeredBy: string;
  readonly shardIndex: number;
  readonly shardTotal: number;
  readonly params: Params;
}

export function buildRunRequest(
  run: RunFields,
  job: JobSpec,
  flow: ResolvedFlow,
  target: Extract<Target, { kind: 'group' | 'direct' }>,
  enqueuedAt: Date,
): RunRequest {
  return {
    runId: run.id,
    jobId: job.id,
    flowName: flow.flowName,
    flow: flow.config as unknown as Record<string, unknown>,
    params: run.params,
    attempt: run.attempt,
    maxAttempts: Math.max(run.attempt, run.maxAttempts),
    timeoutMs: job.timeoutMs,
    scheduledAt: run.scheduledAt.toISOString(),
    triggerType: run.triggerType,
    triggeredBy: run.triggeredBy,
    shardIndex: run.shardIndex,
    shardTotal: run.shardTotal,
    routing: {
      group: job.group,
      strategy: job.routing.strategy,
      ...(target.kind === 'direct' ? { targetInstanceId: target.instanceId } : {}),
      ...(job.routing.strategy === 'consistent_hash' ? { key: job.routing.key } : {}),
    },
    enqueuedAt: enqueuedAt.toISOString(),
  };
}

export function queueOf(
  keyspace: Keyspace,
  group: string,
  target: Extract<Target, { kind: 'group' | 'direct' }>,
): string {
  return target.kind === 'group' ? keyspace.groupQueue(group) : keyspace.directQueue(target.instanceId);
}

/** The delay a run waits in its queue: until its scheduled instant (a retry's backoff), never negative. */
export function delayUntil(scheduledAt: Date, now: Date): number {
  return Math.max(0, scheduledAt.getTime() - now.getTime());
}
