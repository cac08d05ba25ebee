/**
 * `terminate(runId, { requestedBy, reason })` (DESIGN §2.4):
 * - a pending run no executor holds yet (held by the serial queue, or waiting / delayed in BullMQ and
 *   removed from there now) is ended `terminated` at once;
 * - otherwise the durable cancel flag is set (an executor checks it when it picks a run up) and a
 *   TerminateMessage is published to the executor that holds the run, or to every executor when that is
 *   not known yet; the executor stops the run (killing its thread if it must) and reports `terminated`.
 *   If that executor is dead, the lost-run detector ends the run instead.
 * The flag is set in the first case too: it closes the race with a sweep that re-enqueues the run.
 */
import { applyRunEvents } from '@kisjobs/db';
import {
  CANCEL_FLAG_TTL_MS,
  NotFoundError,
  encodePayload,
  isFinalRunStatus,
  type TerminateMessage,
} from '@kisjobs/protocol';
import type { DispatchContext, TerminateRequest, TerminateResult } from './context.js';

/** The run error code of a terminated run. */
export const TERMINATED = 'TERMINATED';

export async function terminateRun(
  ctx: DispatchContext,
  runId: string,
  request: TerminateRequest,
): Promise<TerminateResult> {
  const run = await ctx.prisma.run.findUnique({ where: { id: runId } });
  if (run === null) throw new NotFoundError('run', runId);
  if (isFinalRunStatus(run.status)) return { runId, outcome: 'already_finished' };
  const now = ctx.clock.now();
  const message: TerminateMessage = {
    type: 'terminate',
    runId,
    reason: request.reason.slice(0, 1_000) || 'terminated',
    requestedBy: request.requestedBy.slice(0, 200) || 'unknown',
    at: now.toISOString(),
  };
  await ctx.redis.set(
    ctx.keyspace.cancelFlag(runId),
    encodePayload('cancelFlag', message),
    'PX',
    CANCEL_FLAG_TTL_MS,
  );

  if (run.status === 'pending') {
    const notPicked =
      run.dispatchedAt === null ||
      (run.targetQueue !== null && (await ctx.queues.removeIfNotPicked(run.targetQueue, runId)));
    if (notPicked) {
      const result = await applyRunEvents(ctx.prisma, [
        {
          type: 'finished',
          runId,
          at: now,
          status: 'terminated',
          errorCode: TERMINATED,
          errorMessage: `terminated before it started by ${message.requestedBy}: ${message.reason}`,
        },
      ]);
      if (result.applied.length > 0) {
        ctx.logger.info('run terminated before it started', { runId, requestedBy: message.requestedBy });
        await ctx.ops.followUp([runId]);
        return { runId, outcome: 'terminated' };
      }
      // It changed state meanwhile: if it is running now, tell its executor below.
    }
  }
  const holder = run.executorInstanceId ?? directTarget(run.targetQueue);
  const channel =
    holder === undefined ? ctx.keyspace.controlChannel() : ctx.keyspace.executorControlChannel(holder);
  await ctx.redis.publish(channel, encodePayload('control', message));
  ctx.logger.info('terminate requested', {
    runId,
    executor: holder ?? 'all',
    requestedBy: message.requestedBy,
  });
  return { runId, outcome: 'requested' };
}

function directTarget(queue: string | null): string | undefined {
  return queue?.startsWith('exe.') === true ? queue.slice(4) : undefined;
}
