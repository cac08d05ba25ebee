/**
 * ControlMessage: scheduler → executors over pub/sub (`controlChannel()` for all, `executorControlChannel`
 * for one). Pub/sub is fire-and-forget, so a terminate is also written as a durable cancel flag
 * (`cancelFlag(runId)`, value = the same terminate message) that an executor checks when it picks a run
 * up: that closes the race where the run was dequeued just after the publish (DESIGN §4).
 */
import { z } from 'zod';
import { IsoDateTime, ShortText } from '../common.js';
import { RunId } from '../ids.js';
import { InstanceId } from '../names.js';

export const TerminateMessage = z.object({
  type: z.literal('terminate'),
  runId: RunId,
  reason: z.string().min(1).max(1_000),
  /** A `usr_…`, a `tok_…`, or `scheduler` (timeouts, `replace` block strategy). */
  requestedBy: ShortText,
  at: IsoDateTime,
});
export type TerminateMessage = z.infer<typeof TerminateMessage>;

/** Stop taking new runs, finish the running ones, then deregister. */
export const DrainMessage = z.object({
  type: z.literal('drain'),
  instanceId: InstanceId,
  requestedBy: ShortText,
  at: IsoDateTime,
});
export type DrainMessage = z.infer<typeof DrainMessage>;

/** Liveness probe: executors answer with an immediate heartbeat. */
export const PingMessage = z.object({
  type: z.literal('ping'),
  at: IsoDateTime,
});
export type PingMessage = z.infer<typeof PingMessage>;

export const ControlMessage = z.discriminatedUnion('type', [TerminateMessage, DrainMessage, PingMessage]);
export type ControlMessage = z.infer<typeof ControlMessage>;
