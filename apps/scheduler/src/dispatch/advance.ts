/**
 * The serial queue. A `serial` job's triggers that arrive while it has an active run are recorded pending but
 * not dispatched (held, `dispatched_at` null). When a run of the job becomes final, `advanceJob` dispatches
 * the oldest held run (with the other shards of its fire, for broadcast) once nothing of the job is
 * dispatched and unfinished. It runs under the job's row lock, so concurrent advances and triggers of one
 * job decide one after the other, and it is idempotent: with nothing to do it does nothing.
 */
import { errorMessage } from '../registry/ports.js';
import type { DispatchContext } from './context.js';
import { placeExisting } from './existing.js';
import type { QueuedRun } from './queues.js';
import { activeRunsOfJob, claimDispatch, failPendingRuns, lockJob } from './run-store.js';

/** Returns the ids of held runs that had to be failed (no executor, flow gone): their follow-up is due. */
export async function advanceJob(ctx: DispatchContext, jobId: string): Promise<string[]> {
  const preview = await activeRunsOfJob(ctx.prisma, jobId);
  if (!preview.some((r) => r.dispatchedAt === null && r.status === 'pending')) return [];
  if (preview.some((r) => r.status === 'running' || r.dispatchedAt !== null)) return [];

  const oldest = preview[0];
  if (oldest === undefined) return [];
  // Place outside the lock (it asks the registry), then claim under it; a lost race claims nothing.
  const fire = preview.filter(
    (r) =>
      r.dispatchedAt === null &&
      r.triggeredAt.getTime() === oldest.triggeredAt.getTime() &&
      r.scheduledAt.getTime() === oldest.scheduledAt.getTime(),
  );
  const placed = await placeExisting(ctx, fire);
  const now = ctx.clock.now();
  const result = await ctx.prisma.$transaction(async (tx) => {
    await lockJob(tx, jobId);
    const active = await activeRunsOfJob(tx, jobId);
    if (active.some((r) => r.status === 'running' || r.dispatchedAt !== null)) return undefined;
    const stillHeld = new Set(active.map((r) => r.id));
    const toQueue = placed.filter((p) => p.kind === 'queue' && stillHeld.has(p.run.id));
    const claimed = await claimDispatch(
      tx,
      toQueue.flatMap((p) =>
        p.kind === 'queue' ? [{ id: p.run.id, targetQueue: p.queue, expected: null }] : [],
      ),
      now,
    );
    const failedIds: string[] = [];
    for (const p of placed) {
      if (p.kind !== 'fail' || !stillHeld.has(p.run.id)) continue;
      failedIds.push(...(await failPendingRuns(tx, [p.run.id], { code: p.code, message: p.message }, now)));
    }
    return { claimed, failedIds };
  });
  if (result === undefined) return [];

  const byQueue = new Map<string, QueuedRun[]>();
  for (const p of placed) {
    if (p.kind !== 'queue' || !result.claimed.has(p.run.id)) continue;
    byQueue.set(p.queue, [...(byQueue.get(p.queue) ?? []), { request: p.request, delayMs: p.delayMs }]);
  }
  for (const [queue, runs] of byQueue) {
    try {
      await ctx.queues.add(queue, runs);
    } catch (error) {
      ctx.logger.warn('enqueue of an advanced serial run failed; the sweep will deliver it', {
        jobId,
        queue,
        error: errorMessage(error),
      });
    }
  }
  if (result.claimed.size > 0) {
    ctx.logger.debug('serial queue advanced', { jobId, runIds: [...result.claimed] });
  }
  return result.failedIds;
}
