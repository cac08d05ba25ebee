/**
 * `createDispatcher`: turns triggers into run rows and BullMQ jobs, and reacts to runs that end.
 * - `trigger` (trigger.ts): routing, block strategies, deterministic fire ids.
 * - `terminate` (terminate.ts).
 * - `handleFinalized` (the ingestor's `onRunsFinalized`) and `handleLost` (the lost-run detector's
 *   `onRunsLost`): retries, child jobs, the serial queue (follow-up.ts). Both are idempotent.
 * - `handleExecutorsOffline` / `rerouteDirectQueue` (the registry's `onExecutorsOffline`, reroute.ts).
 * - `redispatch`: the periodic repair sweep (redispatch.ts), every `sweepIntervalMs` once started.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { applyRunEvents, type PrismaClient } from '@kisjobs/db';
import {
  JobId,
  Params,
  ShortText,
  TriggerType,
  ValidationError,
  toValidationIssues,
  type Keyspace,
} from '@kisjobs/protocol';
import { createFlowConfigResolver, type FlowConfigResolver } from '../configs/resolve.js';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import { PeriodicTask } from '../registry/timers.js';
import { Coalescer } from './coalesce.js';
import type {
  DispatchBatching,
  DispatchContext,
  DispatchOps,
  ExecutorDirectory,
  TerminateRequest,
  TerminateResult,
  TriggerInput,
  TriggerResult,
} from './context.js';
import { followUpRuns } from './follow-up.js';
import { loadJobSpecs } from './job-spec.js';
import { RunQueues } from './queues.js';
import { RedispatchSweep, type SweepOptions, type SweepStats } from './redispatch.js';
import { rerouteDirectQueue, type RerouteResult } from './reroute.js';
import { insertDispatchRuns, type RunInsert } from './run-store.js';
import { terminateRun } from './terminate.js';
import { triggerJob } from './trigger.js';

/** The run error code of a run whose executor died under it. */
export const EXECUTOR_LOST = 'EXECUTOR_LOST';

export interface DispatcherOptions {
  readonly prisma: PrismaClient;
  /** Shared connection (`maxRetriesPerRequest: null`); the caller closes it. */
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The executor registry (only `onlineExecutors` is used). */
  readonly registry: ExecutorDirectory;
  /** Default 5 s. */
  readonly sweepIntervalMs?: number;
  /** The first sweep after `start()` (repairs soon after a restart). Default the interval, at most 1 s. */
  readonly firstSweepAfterMs?: number;
  readonly sweep?: SweepOptions;
  /** How long a resolved flow config is reused. Default 2 s. */
  readonly flowCacheTtlMs?: number;
}

/** A run the lost-run detector gave up on (only `runId` is required; the executor names it in the error). */
export interface LostRunInput {
  readonly runId: string;
  readonly executorInstanceId?: string | null;
  readonly instanceId?: string | null;
  readonly reason?: string;
}

export interface Dispatcher {
  start(): void;
  close(): Promise<void>;
  trigger(jobId: string, input: TriggerInput): Promise<TriggerResult>;
  terminate(runId: string, request: TerminateRequest): Promise<TerminateResult>;
  handleFinalized(runs: readonly { readonly runId: string }[]): Promise<void>;
  handleLost(runs: readonly LostRunInput[]): Promise<void>;
  handleExecutorsOffline(instanceIds: readonly string[]): Promise<void>;
  rerouteDirectQueue(instanceId: string): Promise<RerouteResult>;
  redispatch(): Promise<SweepStats>;
  readonly flows: FlowConfigResolver;
}

const TriggerInputSchema = z.object({
  params: Params.optional(),
  triggerType: TriggerType,
  triggeredBy: ShortText,
  scheduledAt: z.date().optional(),
});

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const queues = new RunQueues(options.redis, options.keyspace);
  const flows = createFlowConfigResolver({
    prisma: options.prisma,
    clock: options.clock,
    ...(options.flowCacheTtlMs === undefined ? {} : { cacheTtlMs: options.flowCacheTtlMs }),
  });
  const ops: DispatchOps = {
    trigger: (jobId, input) => triggerJob(ctx, jobId, input),
    terminate: (runId, request) => terminateRun(ctx, runId, request),
    followUp: (runIds) => followUpRuns(ctx, runIds),
  };
  const batch: DispatchBatching = {
    jobs: new Coalescer(async (ids: readonly string[]) => {
      const jobs = await loadJobSpecs(options.prisma, ids);
      return ids.map((id) => jobs.get(id));
    }, 200),
    inserts: new Coalescer<readonly RunInsert[], ReadonlySet<string>>(async (calls) => {
      const inserted = await insertDispatchRuns(options.prisma, calls.flat());
      const taken = new Set<string>();
      return calls.map((rows) => {
        const mine = new Set<string>();
        for (const row of rows) {
          if (!inserted.has(row.id) || taken.has(row.id)) continue;
          taken.add(row.id);
          mine.add(row.id);
        }
        return mine;
      });
    }, 500),
  };
  const ctx: DispatchContext = {
    batch,
    prisma: options.prisma,
    redis: options.redis,
    keyspace: options.keyspace,
    logger: options.logger,
    clock: options.clock,
    directory: options.registry,
    queues,
    flows,
    ops,
  };
  const sweeper = new RedispatchSweep(ctx, options.sweep);
  const lease = options.keyspace.lock('dispatch-sweep');
  const sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
  const sweepOnce = async (): Promise<SweepStats> => {
    const token = `${process.pid}-${Math.random()}`;
    const got = await options.redis.set(lease, token, 'PX', Math.max(30_000, sweepIntervalMs * 6), 'NX');
    if (got !== 'OK') return { advancedJobs: 0, redelivered: 0, repaired: 0 };
    try {
      return await sweeper.sweep();
    } finally {
      await options.redis
        .eval(
          `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`,
          1,
          lease,
          token,
        )
        .catch(() => undefined);
    }
  };
  const task = new PeriodicTask(
    'redispatch sweep',
    sweepIntervalMs,
    async () => void (await sweepOnce()),
    options.logger,
  );

  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  const track = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the dispatcher is closed'));
    const promise = work();
    inFlight.add(promise);
    void promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    );
    return promise;
  };

  return {
    flows,
    start() {
      task.start(options.firstSweepAfterMs ?? Math.min(1_000, sweepIntervalMs));
    },
    async close() {
      closed = true;
      await task.stop();
      await Promise.allSettled([...inFlight]);
      await queues.close();
    },
    trigger(jobId, input) {
      const id = JobId.safeParse(jobId);
      const parsed = TriggerInputSchema.safeParse(input);
      if (!id.success || !parsed.success) {
        const issues = [
          ...(id.success ? [] : toValidationIssues(id.error.issues, ['jobId'])),
          ...(parsed.success ? [] : toValidationIssues(parsed.error.issues)),
        ];
        return Promise.reject(new ValidationError(issues));
      }
      return track(() => triggerJob(ctx, id.data, parsed.data));
    },
    terminate(runId, request) {
      return track(() => terminateRun(ctx, runId, request));
    },
    handleFinalized(runs) {
      return track(() =>
        followUpRuns(
          ctx,
          runs.map((r) => r.runId),
        ),
      );
    },
    handleLost(runs) {
      return track(async () => {
        if (runs.length === 0) return;
        const at = options.clock.now();
        const result = await applyRunEvents(
          options.prisma,
          runs.map((run) => {
            const executor = run.executorInstanceId ?? run.instanceId ?? 'unknown';
            return {
              type: 'finished' as const,
              runId: run.runId,
              at,
              status: 'lost' as const,
              errorCode: EXECUTOR_LOST,
              errorMessage: run.reason ?? `executor ${executor} stopped while the run was running`,
            };
          }),
        );
        const lost = result.applied.map((t) => t.runId);
        if (lost.length > 0) options.logger.warn('runs lost with their executor', { runIds: lost });
        await followUpRuns(ctx, lost);
      });
    },
    handleExecutorsOffline(instanceIds) {
      return track(async () => {
        for (const instanceId of instanceIds) {
          try {
            await rerouteDirectQueue(ctx, instanceId);
          } catch (error) {
            // Whatever stays behind is found by the sweep (pending runs whose target executor is gone).
            options.logger.error('rerouting a direct queue failed', {
              instanceId,
              error: errorMessage(error),
            });
          }
        }
      });
    },
    rerouteDirectQueue(instanceId) {
      return track(() => rerouteDirectQueue(ctx, instanceId));
    },
    redispatch() {
      return track(() => sweepOnce());
    },
  };
}
