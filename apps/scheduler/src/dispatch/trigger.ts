/**
 * `trigger(jobId, ...)`: creates a job's runs and dispatches them by its routing and block strategy.
 *
 * - The flow is resolved from `config_documents`. A flow that cannot run (missing, disabled, broken
 *   references) is the caller's error for manual and api triggers (nothing is recorded, the caller gets the
 *   typed error); for the others (scheduled fires, child jobs) there is no caller to tell, so a `failed` run
 *   is recorded with the reason as its error code, where operators see it.
 * - Routing is planned before the job lock is taken (it asks the registry and, for round robin, Redis).
 * - Block strategies look at the job's active (pending or running) runs under the job's row lock, so two
 *   triggers of one job decide one after the other: `parallel` goes; `discard` records the new run
 *   `skipped`; `serial` records it pending but not dispatched (held; the serial queue); `replace`
 *   dispatches it and then terminates the active runs. The rules and the rows they record live in
 *   block-decision.ts, which the batch fire path (schedule/batch-dispatch.ts) calls too.
 * - Run ids: scheduled fires use `fireRunId` (a repeated fire inserts nothing and enqueues nothing), child
 *   job runs derive theirs from the parent run, manual and api runs get a new id.
 */
import { ConflictError, NotFoundError, fireRunId, newId, type TriggerType } from '@kisjobs/protocol';
import { FlowUnavailableError, type ResolvedFlow } from '../configs/resolve.js';
import { errorMessage } from '../registry/ports.js';
import {
  candidatesFor,
  nextRoundRobin,
  type DispatchContext,
  type InternalTriggerInput,
  type TriggerResult,
} from './context.js';
import { blockRows, decideBlock, needsJobLock } from './block-decision.js';
import { deliver, type PreparedRun } from './deliver.js';
import { finalRun } from './final-run.js';
import { loadJobSpec, type JobSpec } from './job-spec.js';
import { planFire, type ShardTarget } from './placement.js';
import { seededRunId } from './run-ids.js';
import { activeRunsOfJob, insertDispatchRuns, lockJob, type RunInsert } from './run-store.js';

const SCHEDULED: ReadonlySet<TriggerType> = new Set(['cron', 'fixed_rate', 'once', 'misfire']);
const CALLER_FACING: ReadonlySet<TriggerType> = new Set(['manual', 'api']);
const ONE_SHARD: readonly ShardTarget[] = [{ target: { kind: 'group' }, shardIndex: 0, shardTotal: 1 }];

export async function triggerJob(
  ctx: DispatchContext,
  jobId: string,
  input: InternalTriggerInput,
): Promise<TriggerResult> {
  const job = await loadJob(ctx, jobId);
  const now = ctx.clock.now();
  const scheduledAt = input.scheduledAt ?? now;
  const idOf = (shardIndex: number): string =>
    input.idSeed !== undefined
      ? seededRunId(input.idSeed, shardIndex, scheduledAt)
      : SCHEDULED.has(input.triggerType)
        ? fireRunId(job.id, scheduledAt, shardIndex, 1)
        : newId('run', now);
  const callerFacing = CALLER_FACING.has(input.triggerType);
  const params = { ...job.params, ...input.params };
  const common = {
    job,
    idOf,
    triggerType: input.triggerType,
    triggeredBy: input.triggeredBy,
    scheduledAt,
    attempt: 1,
    params,
    ...(input.parentRunId === undefined ? {} : { parentRunId: input.parentRunId }),
  };

  if (!job.enabled) {
    if (callerFacing) throw new ConflictError(`job ${job.id} is disabled`, { code: 'JOB_DISABLED' });
    return recordFinal(
      ctx,
      finalRun(common, ctx.clock.now(), { status: 'skipped', skipReason: 'the job is disabled' }),
    );
  }
  let flow: ResolvedFlow;
  try {
    flow = await ctx.flows.resolve(job.flowName);
  } catch (error) {
    if (callerFacing || !(error instanceof FlowUnavailableError)) throw error;
    return recordFinal(
      ctx,
      finalRun(common, ctx.clock.now(), {
        status: 'failed',
        errorCode: error.reason,
        errorMessage: error.message,
      }),
    );
  }

  const targets = await planTargets(ctx, job, flow);
  const rows = blockRows(ctx, { ...common, flow, targets });
  if (!needsJobLock(job.blockStrategy)) {
    const { insert } = decideBlock(job.blockStrategy, [], rows);
    const inserted = await insertOutsideTransaction(
      ctx,
      insert.map((p) => p.insert),
    );
    return finish(ctx, insert, inserted, []);
  }

  const decided = await ctx.prisma.$transaction(async (tx) => {
    await lockJob(tx, job.id);
    const active = await activeRunsOfJob(tx, job.id);
    const decision = decideBlock(
      job.blockStrategy,
      active.map((run) => run.id),
      rows,
    );
    const inserted = await insertDispatchRuns(
      tx,
      decision.insert.map((p) => p.insert),
    );
    return { ...decision, inserted };
  });
  return finish(ctx, decided.insert, decided.inserted, decided.replace);
}

async function loadJob(ctx: DispatchContext, jobId: string): Promise<JobSpec> {
  if (ctx.batch === undefined) return loadJobSpec(ctx.prisma, jobId);
  const job = await ctx.batch.jobs.submit(jobId);
  if (job === undefined) throw new NotFoundError('job', jobId);
  return job;
}

async function planTargets(ctx: DispatchContext, job: JobSpec, flow: ResolvedFlow): Promise<ShardTarget[]> {
  if (job.routing.strategy === 'any') return [...ONE_SHARD];
  const candidates = await candidatesFor(ctx, job.group, flow);
  const counter = job.routing.strategy === 'round_robin' ? await nextRoundRobin(ctx, job.id) : 0;
  return planFire(job.routing, candidates, counter);
}

/**
 * Inserts rows that need no job lock: coalesced with the concurrent triggers' rows into one statement when
 * the context batches (the dispatcher's does), else one statement. Returns the ids that were inserted.
 */
function insertOutsideTransaction(
  ctx: DispatchContext,
  rows: readonly RunInsert[],
): Promise<ReadonlySet<string>> {
  return ctx.batch === undefined ? insertDispatchRuns(ctx.prisma, rows) : ctx.batch.inserts.submit(rows);
}

async function recordFinal(ctx: DispatchContext, prepared: PreparedRun[]): Promise<TriggerResult> {
  const inserted = await insertOutsideTransaction(
    ctx,
    prepared.map((p) => p.insert),
  );
  return finish(ctx, prepared, inserted, []);
}

async function finish(
  ctx: DispatchContext,
  prepared: readonly PreparedRun[],
  inserted: ReadonlySet<string>,
  replaced: readonly string[],
): Promise<TriggerResult> {
  const runIds = prepared.map((p) => p.insert.id);
  if (inserted.size === 0) return { runIds, outcome: 'duplicate' };
  await deliver(ctx, prepared, inserted);
  const newRunId = runIds[0] ?? '';
  for (const runId of replaced) {
    await ctx.ops
      .terminate(runId, {
        requestedBy: 'scheduler',
        reason: `replaced by run ${newRunId} (block strategy replace)`,
      })
      .catch((error: unknown) =>
        ctx.logger.warn('terminating a replaced run failed', { runId, error: errorMessage(error) }),
      );
  }
  const rows = prepared.filter((p) => inserted.has(p.insert.id)).map((p) => p.insert);
  const failed = rows.filter((r) => r.status === 'failed');
  if (failed.length > 0) await ctx.ops.followUp(failed.map((r) => r.id));
  const first = rows[0];
  if (rows.every((r) => r.status === 'skipped')) {
    return { runIds, outcome: 'skipped', skipped: { reason: first?.skipReason ?? '' } };
  }
  if (rows.every((r) => r.status === 'failed')) {
    return {
      runIds,
      outcome: 'failed',
      error: { code: first?.errorCode ?? 'FAILED', message: first?.errorMessage ?? '' },
    };
  }
  return { runIds, outcome: rows.some((r) => r.dispatchedAt !== null) ? 'dispatched' : 'held' };
}
