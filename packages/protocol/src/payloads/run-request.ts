/**
 * RunRequest: scheduler → executor, the `data` of a BullMQ job in a group or direct queue. It carries
 * everything needed to run, so an executor never reads Postgres (DESIGN §1).
 */
import { z } from 'zod';
import { IsoDateTime, Params, ShortText, Traceparent } from '../common.js';
import { RoutingStrategy, TriggerType } from '../domain.js';
import { JobId, RunId } from '../ids.js';
import { GroupName, InstanceId } from '../names.js';

export const MAX_ATTEMPTS_LIMIT = 21;
export const MAX_SHARDS = 10_000;
export const MAX_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;

export const RunRouting = z.object({
  group: GroupName,
  strategy: RoutingStrategy,
  /** Set when the run sits in a direct queue (`exe.<id>`); absent for the shared group queue. */
  targetInstanceId: InstanceId.optional(),
  /** The key a `consistent_hash` run was placed by. */
  key: z.string().max(512).optional(),
});
export type RunRouting = z.infer<typeof RunRouting>;

export const RunRequest = z
  .object({
    runId: RunId,
    jobId: JobId,
    flowName: z.string().min(1).max(256),
    /**
     * The resolved KisFlow flow with its functions and connectors, as JSON. Only its envelope is checked
     * here: the flow package (which this package may not import) validates the contents on the executor.
     */
    flow: z.record(z.string(), z.unknown()),
    /** Job params already merged over the flow's (and any trigger override over those). */
    params: Params,
    /** 1 for the first try; a retry is a new run (trigger type `retry`) with attempt + 1. */
    attempt: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT),
    maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT),
    timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS),
    /** The fire instant the run belongs to (for manual and api runs: when it was triggered). */
    scheduledAt: IsoDateTime,
    triggerType: TriggerType,
    /** Who caused it: `scheduler`, a `usr_…`, a `tok_…`, or the parent's `run_…`. */
    triggeredBy: ShortText,
    shardIndex: z
      .number()
      .int()
      .min(0)
      .max(MAX_SHARDS - 1),
    shardTotal: z.number().int().min(1).max(MAX_SHARDS),
    routing: RunRouting,
    traceparent: Traceparent.optional(),
    enqueuedAt: IsoDateTime,
  })
  .superRefine((value, ctx) => {
    if (value.attempt > value.maxAttempts) {
      ctx.addIssue({ code: 'custom', path: ['attempt'], message: 'attempt must not exceed maxAttempts' });
    }
    if (value.shardIndex >= value.shardTotal) {
      ctx.addIssue({ code: 'custom', path: ['shardIndex'], message: 'shardIndex must be below shardTotal' });
    }
  });
export type RunRequest = z.infer<typeof RunRequest>;
