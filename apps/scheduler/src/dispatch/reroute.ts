/**
 * `rerouteDirectQueue(instanceId)`: when an executor goes offline (heartbeat expired, deregistered, removed),
 * the runs still waiting or delayed in its direct queue `exe.<id>` are routed again, keeping their run id:
 * to another live executor by the job's routing, or, when no candidate is left, to the group queue where the
 * first executor of the group takes them. A `pinned` run has nowhere else to go: it ends `failed`
 * (EXECUTOR_UNAVAILABLE). Runs that were active on the dead executor are the lost-run detector's.
 *
 * Each run is removed from the dead queue before it is added elsewhere: a crash in between leaves a pending
 * run without a BullMQ job, which the redispatch sweep delivers (rather than a copy that could run twice).
 */
import type { JobType } from 'bullmq';
import type { Run } from '@kisjobs/db';
import { isFinalRunStatus, type RunRequest } from '@kisjobs/protocol';
import { errorMessage } from '../registry/ports.js';
import type { DispatchContext } from './context.js';
import { placeExisting } from './existing.js';
import type { QueuedRun } from './queues.js';
import { failPendingRuns, loadRuns, setTargetQueues } from './run-store.js';

const PAGE = 200;
const WAITING_STATES: JobType[] = ['wait', 'delayed', 'prioritized'];

export interface RerouteResult {
  readonly moved: number;
  readonly failed: number;
}

export async function rerouteDirectQueue(ctx: DispatchContext, instanceId: string): Promise<RerouteResult> {
  const queueName = ctx.keyspace.directQueue(instanceId);
  const queue = ctx.queues.queue(queueName);
  const seen = new Set<string>();
  let moved = 0;
  const failed: { id: string; code: string; message: string }[] = [];
  for (;;) {
    const jobs = (await queue.getJobs(WAITING_STATES, 0, PAGE - 1)).filter(
      (job) => job.id !== undefined && !seen.has(job.id),
    );
    if (jobs.length === 0) break;
    for (const job of jobs) seen.add(job.id ?? '');
    const runs = new Map(
      (
        await loadRuns(
          ctx.prisma,
          jobs.map((j) => j.id ?? ''),
        )
      ).map((r) => [r.id, r]),
    );
    const pending: Run[] = [];
    for (const job of jobs) {
      const run = runs.get(job.id ?? '');
      if (run === undefined || isFinalRunStatus(run.status)) await queue.remove(job.id ?? '');
      else pending.push(run);
    }
    const placed = await placeExisting(ctx, pending, { fallbackToGroup: true, exclude: () => instanceId });
    const byQueue = new Map<string, QueuedRun[]>();
    const targets: { id: string; targetQueue: string }[] = [];
    for (const p of placed) {
      if ((await queue.remove(p.run.id)) !== 1) continue; // picked up meanwhile, or gone
      if (p.kind === 'fail') {
        failed.push({ id: p.run.id, code: p.code, message: p.message });
        continue;
      }
      if (p.queue === queueName && p.request.routing.strategy === 'pinned') {
        const message = `executor ${instanceId} went offline and the run is pinned to it`;
        failed.push({ id: p.run.id, code: 'EXECUTOR_UNAVAILABLE', message });
        continue;
      }
      const [target, request] =
        p.queue === queueName
          ? [ctx.keyspace.groupQueue(p.request.routing.group), toGroup(p.request)]
          : [p.queue, p.request];
      byQueue.set(target, [...(byQueue.get(target) ?? []), { request, delayMs: p.delayMs }]);
      targets.push({ id: p.run.id, targetQueue: target });
    }
    await setTargetQueues(ctx.prisma, targets);
    for (const [target, list] of byQueue) {
      try {
        await ctx.queues.add(target, list);
        moved += list.length;
      } catch (error) {
        ctx.logger.warn('reroute enqueue failed; the sweep will deliver the runs', {
          queue: target,
          error: errorMessage(error),
        });
      }
    }
  }
  const ended: string[] = [];
  for (const f of failed) {
    ended.push(
      ...(await failPendingRuns(ctx.prisma, [f.id], { code: f.code, message: f.message }, ctx.clock.now())),
    );
  }
  if (ended.length > 0) await ctx.ops.followUp(ended);
  if (moved > 0 || failed.length > 0) {
    ctx.logger.info('direct queue of an offline executor routed again', {
      instanceId,
      moved,
      failed: failed.length,
    });
  }
  return { moved, failed: failed.length };
}

function toGroup(request: RunRequest): RunRequest {
  const { targetInstanceId: _dropped, ...routing } = request.routing;
  return { ...request, routing };
}
