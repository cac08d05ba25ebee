/**
 * Placing runs that already have a row (a held run of the serial queue, a run the sweep delivers again, a
 * run moved off a dead executor's direct queue): their job and flow are loaded once per job, each run is
 * placed by the job's routing keeping its shard, and its RunRequest is rebuilt from the row.
 */
import type { Run } from '@kisjobs/db';
import { Params, TriggerType, type RunRequest } from '@kisjobs/protocol';
import { FlowUnavailableError, type ResolvedFlow } from '../configs/resolve.js';
import { candidatesFor, nextRoundRobin, type DispatchContext } from './context.js';
import { loadJobSpecs, type JobSpec } from './job-spec.js';
import { planRun, type Target } from './placement.js';
import { buildRunRequest, delayUntil, queueOf, type RunFields } from './run-request.js';

export type ExistingPlacement =
  | {
      readonly kind: 'queue';
      readonly run: Run;
      readonly queue: string;
      readonly request: RunRequest;
      readonly delayMs: number;
    }
  /** Cannot be delivered: the run is to end `failed` with this error. */
  | { readonly kind: 'fail'; readonly run: Run; readonly code: string; readonly message: string };

export interface PlaceExistingOptions {
  /** A direct strategy with no live candidate waits in the group queue (never `pinned`). */
  readonly fallbackToGroup?: boolean;
  /** Per run: an executor to avoid when another candidate exists. */
  readonly exclude?: (run: Run) => string | null | undefined;
}

export function runFieldsOf(run: Run): RunFields {
  const params = Params.safeParse(run.params);
  const trigger = TriggerType.safeParse(run.triggerType);
  return {
    id: run.id,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    scheduledAt: run.scheduledAt,
    triggerType: trigger.success ? trigger.data : 'manual',
    triggeredBy: run.triggeredBy ?? 'scheduler',
    shardIndex: run.shardIndex,
    shardTotal: run.shardTotal,
    params: params.success ? params.data : {},
  };
}

export async function placeExisting(
  ctx: DispatchContext,
  runs: readonly Run[],
  options: PlaceExistingOptions = {},
): Promise<ExistingPlacement[]> {
  const jobs = await loadJobSpecs(
    ctx.prisma,
    runs.flatMap((r) => (r.jobId === null ? [] : [r.jobId])),
  );
  const flows = new Map<string, ResolvedFlow | FlowUnavailableError>();
  const candidates = new Map<string, Awaited<ReturnType<typeof candidatesFor>>>();
  const out: ExistingPlacement[] = [];
  const now = ctx.clock.now();
  for (const run of runs) {
    const job = run.jobId === null ? undefined : jobs.get(run.jobId);
    if (job === undefined) {
      out.push({ kind: 'fail', run, code: 'JOB_NOT_FOUND', message: 'the job of this run was deleted' });
      continue;
    }
    let flow = flows.get(job.flowName);
    if (flow === undefined) {
      flow = await ctx.flows.resolve(job.flowName).catch((error: unknown) => {
        if (error instanceof FlowUnavailableError) return error;
        throw error;
      });
      flows.set(job.flowName, flow);
    }
    if (flow instanceof FlowUnavailableError) {
      out.push({ kind: 'fail', run, code: flow.reason, message: flow.message });
      continue;
    }
    const target = await targetFor(ctx, job, flow, run, candidates, options);
    if (target.kind === 'unroutable') {
      out.push({ kind: 'fail', run, code: 'EXECUTOR_UNAVAILABLE', message: target.reason });
      continue;
    }
    out.push({
      kind: 'queue',
      run,
      queue: queueOf(ctx.keyspace, job.group, target),
      request: buildRunRequest(runFieldsOf(run), job, flow, target, now),
      delayMs: delayUntil(run.scheduledAt, now),
    });
  }
  return out;
}

async function targetFor(
  ctx: DispatchContext,
  job: JobSpec,
  flow: ResolvedFlow,
  run: Run,
  cache: Map<string, Awaited<ReturnType<typeof candidatesFor>>>,
  options: PlaceExistingOptions,
): Promise<Target> {
  if (job.routing.strategy === 'any') return { kind: 'group' };
  const key = `${job.group}\n${flow.flowName}`;
  let candidates = cache.get(key);
  if (candidates === undefined) {
    candidates = await candidatesFor(ctx, job.group, flow);
    cache.set(key, candidates);
  }
  const counter = job.routing.strategy === 'round_robin' ? await nextRoundRobin(ctx, job.id) : 0;
  return planRun(job.routing, candidates, {
    shardIndex: run.shardIndex,
    counter,
    exclude: options.exclude?.(run) ?? null,
    fallbackToGroup: options.fallbackToGroup ?? false,
  });
}
