/**
 * The batch form of the dispatcher's `trigger` for scheduled fires (a `FireDispatcher`): the fires that
 * come due together cost a few statements in all, not a few per fire. At 1,000 fires/s the one-fire
 * `trigger` spends about 1-2.5 ms of scheduler CPU per fire (job read, block-strategy transaction, insert,
 * add), more than this 2-core machine has; batched, the same work is one job read, one transaction and
 * one bulk add per batch.
 *
 * It is built only from the dispatcher's own parts (job specs, flow resolver, the block decision and its
 * rows from block-decision.ts, `insertDispatchRuns`, `deliver`), for the common shape of job: routing `any`
 * and block strategy `parallel`, `serial` or `discard`. Every other job (other routings, `replace`,
 * disabled, a flow that cannot run) goes through `trigger` itself, one fire at a time. Block strategies
 * are decided by the same `decideBlock` that `trigger` calls, under the jobs' row locks, at the moment the
 * fire is made (its instant: the engine fires nothing ahead of time).
 * schedule-batch.test.ts holds it to the same rows as `trigger` for every shape it handles.
 */
import type { Redis } from 'ioredis';
import type { PrismaClient } from '@kisjobs/db';
import { fireRunId, NotFoundError, type Keyspace } from '@kisjobs/protocol';
import { FlowUnavailableError, type ResolvedFlow } from '../configs/resolve.js';
import type {
  DispatchContext,
  ExecutorDirectory,
  TerminateRequest,
  TerminateResult,
  TriggerInput,
} from '../dispatch/context.js';
import { activeAfter, blockRows, decideBlock, type BlockRows } from '../dispatch/block-decision.js';
import { deliver, type PreparedRun } from '../dispatch/deliver.js';
import type { FlowConfigResolver } from '../configs/resolve.js';
import { loadJobSpecs, type JobSpec } from '../dispatch/job-spec.js';
import { RunQueues } from '../dispatch/queues.js';
import { insertDispatchRuns } from '../dispatch/run-store.js';
import type { Clock, Logger } from '../registry/ports.js';
import {
  fireThroughTrigger,
  outcomeOfError,
  SCHEDULER_ACTOR,
  type FireDispatcher,
  type FireOutcome,
  type ScheduledFire,
} from './fire-port.js';

/** The dispatcher operations the batch path falls back on (`createDispatcher(...)` has them all). */
export interface DispatcherPort {
  readonly flows: FlowConfigResolver;
  trigger(jobId: string, input: TriggerInput): Promise<unknown>;
  terminate(runId: string, request: TerminateRequest): Promise<TerminateResult>;
  handleFinalized(runs: readonly { readonly runId: string }[]): Promise<void>;
}

export interface BatchFireDispatcherOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: ExecutorDirectory;
  readonly dispatcher: DispatcherPort;
}

export interface BatchFireDispatcher extends FireDispatcher {
  /** Closes its queue connections (the Redis connection is the caller's). */
  close(): Promise<void>;
}

interface FastJob {
  readonly spec: JobSpec;
  readonly flow: ResolvedFlow;
  readonly fires: { readonly index: number; readonly fire: ScheduledFire }[];
}

const ONE_SHARD = [{ target: { kind: 'group' as const }, shardIndex: 0, shardTotal: 1 }];

export function createBatchFireDispatcher(options: BatchFireDispatcherOptions): BatchFireDispatcher {
  const { prisma, dispatcher } = options;
  const queues = new RunQueues(options.redis, options.keyspace);
  const ctx: DispatchContext = {
    prisma,
    redis: options.redis,
    keyspace: options.keyspace,
    logger: options.logger,
    clock: options.clock,
    directory: options.registry,
    queues,
    flows: dispatcher.flows,
    ops: {
      trigger: async () => {
        throw new Error('not used by the batch path');
      },
      terminate: (runId, request) => dispatcher.terminate(runId, request),
      followUp: (runIds) => dispatcher.handleFinalized(runIds.map((runId) => ({ runId }))),
    },
  };
  const oneByOne = fireThroughTrigger(dispatcher);

  /** The rows one fire may record, as `trigger` builds them for a scheduled fire of an `any` job. */
  const rowsOf = (job: FastJob, fire: ScheduledFire): BlockRows =>
    blockRows(ctx, {
      job: job.spec,
      flow: job.flow,
      targets: ONE_SHARD,
      idOf: (shard) => fireRunId(job.spec.id, fire.scheduledAt, shard, 1),
      triggerType: fire.triggerType,
      triggeredBy: SCHEDULER_ACTOR,
      scheduledAt: fire.scheduledAt,
      attempt: 1,
      params: { ...job.spec.params },
    });

  /** Parallel jobs: no lock, one insert, one bulk add. */
  const fireParallel = async (jobs: readonly FastJob[]): Promise<void> => {
    const prepared = jobs.flatMap((job) =>
      job.fires.flatMap(({ fire }) => decideBlock(job.spec.blockStrategy, [], rowsOf(job, fire)).insert),
    );
    const inserted = await insertDispatchRuns(
      prisma,
      prepared.map((p) => p.insert),
    );
    await deliver(ctx, prepared, inserted);
  };

  /**
   * Serial and discard jobs: decided under the jobs' row locks, fire by fire in instant order. (`replace`
   * goes one by one through `trigger`, which terminates the runs it replaces; none is decided here.)
   */
  const fireGuarded = async (jobs: readonly FastJob[]): Promise<void> => {
    const { prepared, inserted } = await prisma.$transaction(async (tx) => {
      const ids = JSON.stringify(jobs.map((job) => job.spec.id).sort());
      // Locks in id order, so two replicas locking overlapping sets cannot deadlock.
      await tx.$queryRawUnsafe(
        `SELECT id FROM jobs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY id FOR UPDATE`,
        ids,
      );
      const active = await tx.$queryRawUnsafe<{ id: string; job_id: string }[]>(
        `SELECT id, job_id FROM runs
         WHERE job_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND status IN ('pending', 'running')
         ORDER BY triggered_at, id`,
        ids,
      );
      const activeOf = new Map<string, string[]>();
      for (const run of active) {
        const list = activeOf.get(run.job_id);
        if (list === undefined) activeOf.set(run.job_id, [run.id]);
        else list.push(run.id);
      }
      const decided: PreparedRun[] = [];
      for (const job of jobs) {
        const runs = activeOf.get(job.spec.id) ?? [];
        for (const { fire } of job.fires) {
          const decision = decideBlock(job.spec.blockStrategy, runs, rowsOf(job, fire));
          decided.push(...decision.insert);
          // What the fire leaves active is active for the job's later fires in this batch, as it would be
          // for their triggers one by one.
          runs.push(...activeAfter(decision));
        }
      }
      const ok = await insertDispatchRuns(
        tx,
        decided.map((p) => p.insert),
      );
      return { prepared: decided, inserted: ok };
    });
    await deliver(ctx, prepared, inserted);
  };

  return {
    async fire(fires) {
      const outcomes: FireOutcome[] = fires.map(() => ({ ok: true }));
      const specs = await loadJobSpecs(
        prisma,
        fires.map((fire) => fire.jobId),
      );
      const fast = new Map<string, FastJob>();
      const slow: number[] = [];
      const resolved = new Map<string, ResolvedFlow | undefined>();
      for (const [index, fire] of fires.entries()) {
        const spec = specs.get(fire.jobId);
        if (spec === undefined) {
          outcomes[index] = outcomeOfError(new NotFoundError('job', fire.jobId));
          continue;
        }
        if (!spec.enabled || spec.routing.strategy !== 'any' || spec.blockStrategy === 'replace') {
          slow.push(index);
          continue;
        }
        if (!resolved.has(spec.flowName)) {
          try {
            resolved.set(spec.flowName, await ctx.flows.resolve(spec.flowName));
          } catch (error) {
            // A flow that cannot run: `trigger` records the failed run with its reason.
            if (!(error instanceof FlowUnavailableError)) throw error;
            resolved.set(spec.flowName, undefined);
          }
        }
        const flow = resolved.get(spec.flowName);
        if (flow === undefined) {
          slow.push(index);
          continue;
        }
        const job = fast.get(spec.id) ?? { spec, flow, fires: [] };
        job.fires.push({ index, fire });
        fast.set(spec.id, job);
      }
      const fastJobs = [...fast.values()];
      // Each group fails alone: its fires are retried, the others' are recorded.
      const group = (jobs: readonly FastJob[], work: (jobs: readonly FastJob[]) => Promise<void>) =>
        jobs.length === 0
          ? Promise.resolve()
          : work(jobs).catch((error: unknown) => {
              for (const job of jobs)
                for (const { index } of job.fires) outcomes[index] = outcomeOfError(error);
            });
      await Promise.all([
        group(
          fastJobs.filter((job) => job.spec.blockStrategy === 'parallel'),
          fireParallel,
        ),
        group(
          fastJobs.filter((job) => job.spec.blockStrategy !== 'parallel'),
          fireGuarded,
        ),
        (async () => {
          if (slow.length === 0) return;
          const results = await oneByOne.fire(slow.map((index) => fires[index] as ScheduledFire));
          results.forEach((outcome, i) => {
            outcomes[slow[i] as number] = outcome;
          });
        })(),
      ]);
      return outcomes;
    },
    close: () => queues.close(),
  };
}
