/**
 * What follows a run that became final (reported by ingestion, declared lost, terminated before it started,
 * or failed at dispatch). Idempotent, because its callers are at-least-once:
 * - failed / timed_out / lost with attempts left: a retry run (attempt + 1, trigger `retry`, parent_run_id =
 *   the previous attempt) whose id is derived from (previous run id, next attempt), so a repeat inserts
 *   nothing. It waits `retryDelay` in its queue and keeps the job's routing; direct strategies choose again
 *   among live executors, avoiding the one it failed on when another exists. Failures that a retry cannot
 *   fix are not retried (NON_RETRYABLE_CODES). `skipped` is never retried, nor is `terminated`, except
 *   when the executor stopped the run because it was itself shutting down (EXECUTOR_SHUTDOWN).
 * - succeeded: each of the job's child jobs is triggered (trigger `parent`, triggeredBy and parent_run_id =
 *   this run), with run ids derived from (this run, child job).
 * - then the serial queue of each serial job concerned advances.
 */
import type { Run } from '@kisjobs/db';
import { Params } from '@kisjobs/protocol';
import { FlowUnavailableError } from '../configs/resolve.js';
import { errorMessage } from '../registry/ports.js';
import { advanceJob } from './advance.js';
import { retryDelay } from './backoff.js';
import { candidatesFor, nextRoundRobin, type DispatchContext } from './context.js';
import { EXECUTOR_UNAVAILABLE, deliver, prepareRuns } from './deliver.js';
import { loadJobSpecs, type JobSpec } from './job-spec.js';
import { planRun } from './placement.js';
import { childRunSeed, retryRunId } from './run-ids.js';
import { insertDispatchRuns, loadRuns } from './run-store.js';

/** Error codes of failures that a new attempt would repeat: the run ends without a retry. */
export const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  EXECUTOR_UNAVAILABLE,
  'FLOW_NOT_FOUND',
  'FLOW_DISABLED',
  'CONFIG_INVALID',
  'FLOW_INVALID',
  'PAYLOAD_INVALID',
  'JOB_NOT_FOUND',
]);

const RETRIED = new Set(['failed', 'timed_out', 'lost']);
/** A run its executor stopped because the executor itself shut down: nobody asked for it to stop. */
const EXECUTOR_SHUTDOWN = 'EXECUTOR_SHUTDOWN';

export function needsRetry(run: Pick<Run, 'status' | 'attempt' | 'maxAttempts' | 'errorCode'>): boolean {
  const retried =
    RETRIED.has(run.status) || (run.status === 'terminated' && run.errorCode === EXECUTOR_SHUTDOWN);
  return (
    retried &&
    run.attempt < run.maxAttempts &&
    (run.errorCode === null || !NON_RETRYABLE_CODES.has(run.errorCode))
  );
}

export async function followUpRuns(ctx: DispatchContext, runIds: readonly string[]): Promise<void> {
  const runs = (await loadRuns(ctx.prisma, runIds)).filter(
    (r) => r.jobId !== null && r.status !== 'pending' && r.status !== 'running',
  );
  if (runs.length === 0) return;
  const jobs = await loadJobSpecs(
    ctx.prisma,
    runs.map((r) => r.jobId ?? ''),
  );
  const followUps: string[] = [];
  for (const run of runs) {
    const job = jobs.get(run.jobId ?? '');
    if (job === undefined) continue;
    try {
      if (needsRetry(run)) followUps.push(...(await createRetry(ctx, run, job)));
      if (run.status === 'succeeded') await triggerChildren(ctx, run, job);
    } catch (error) {
      // The sweep's follow-up repair finds what is missing and tries again.
      ctx.logger.error('follow-up of a finished run failed', { runId: run.id, error: errorMessage(error) });
    }
  }
  for (const job of jobs.values()) {
    if (job.blockStrategy !== 'serial') continue;
    try {
      followUps.push(...(await advanceJob(ctx, job.id)));
    } catch (error) {
      ctx.logger.error('serial queue advance failed', { jobId: job.id, error: errorMessage(error) });
    }
  }
  if (followUps.length > 0) await followUpRuns(ctx, followUps);
}

/** Records and enqueues the next attempt; returns ids that ended at once (to follow up in turn). */
async function createRetry(ctx: DispatchContext, run: Run, job: JobSpec): Promise<string[]> {
  const nextAttempt = run.attempt + 1;
  const delayMs = retryDelay({ ...job.retry, maxAttempts: run.maxAttempts }, nextAttempt);
  if (delayMs === undefined) return [];
  const now = ctx.clock.now();
  const id = retryRunId(run.id, nextAttempt, run.scheduledAt);
  const params = Params.safeParse(run.params);
  const common = {
    job,
    idOf: () => id,
    triggerType: 'retry' as const,
    triggeredBy: 'scheduler',
    scheduledAt: new Date(now.getTime() + delayMs),
    attempt: nextAttempt,
    maxAttempts: run.maxAttempts,
    parentRunId: run.id,
    params: params.success ? params.data : {},
  };
  const flow = await ctx.flows.resolve(job.flowName).catch((error: unknown) => {
    if (error instanceof FlowUnavailableError) return error;
    throw error;
  });
  const shard = { shardIndex: run.shardIndex, shardTotal: run.shardTotal };
  if (flow instanceof FlowUnavailableError) {
    const unroutable = { kind: 'unroutable' as const, reason: flow.message };
    const [prepared] = prepareRuns(ctx, {
      ...common,
      flow: {
        flowName: job.flowName,
        config: { funcs: {}, flows: {}, conns: {} },
        functions: [],
        connectorTypes: [],
      },
      targets: [{ target: unroutable, ...shard }],
      hold: false,
    });
    if (prepared === undefined) return [];
    const inserted = await insertDispatchRuns(ctx.prisma, [
      { ...prepared.insert, errorCode: flow.reason, errorMessage: flow.message },
    ]);
    return [...inserted];
  }
  const candidates = job.routing.strategy === 'any' ? [] : await candidatesFor(ctx, job.group, flow);
  const counter = job.routing.strategy === 'round_robin' ? await nextRoundRobin(ctx, job.id) : 0;
  const target =
    job.routing.strategy === 'any'
      ? ({ kind: 'group' } as const)
      : planRun(job.routing, candidates, {
          shardIndex: run.shardIndex,
          counter,
          exclude: run.executorInstanceId,
        });
  const prepared = prepareRuns(ctx, { ...common, flow, targets: [{ target, ...shard }], hold: false });
  const inserted = await insertDispatchRuns(
    ctx.prisma,
    prepared.map((p) => p.insert),
  );
  if (inserted.size === 0) return [];
  await deliver(ctx, prepared, inserted);
  ctx.logger.info('retry scheduled', { runId: run.id, retryRunId: id, attempt: nextAttempt, delayMs });
  return prepared
    .filter((p) => inserted.has(p.insert.id) && p.insert.status === 'failed')
    .map((p) => p.insert.id);
}

async function triggerChildren(ctx: DispatchContext, run: Run, job: JobSpec): Promise<void> {
  for (const childJobId of job.childJobIds) {
    try {
      await ctx.ops.trigger(childJobId, {
        triggerType: 'parent',
        triggeredBy: run.id,
        parentRunId: run.id,
        idSeed: childRunSeed(run.id, childJobId),
        // Deterministic, so a repeated follow-up derives the same child run ids.
        scheduledAt: run.finishedAt ?? run.scheduledAt,
      });
    } catch (error) {
      ctx.logger.warn('child job could not be triggered', {
        runId: run.id,
        childJobId,
        error: errorMessage(error),
      });
    }
  }
}
