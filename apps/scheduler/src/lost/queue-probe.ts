/**
 * Where a pending run's BullMQ job is: `Queue.getJobState(runId)` (the job id is the run id) on the queue
 * the run was sent to, plus, for an active job, whether its lock is still held. Workers hold a lock key
 * `<queue keys>:<jobId>:lock` while they process a job and renew it; once the worker dies it expires
 * after the worker's lockDuration. (BullMQ's stalled checker would fail such a job, but only a live worker
 * of the same queue runs it, and the direct queue of a dead executor has none.)
 */
import { Queue, type JobState } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keyspace } from '@kisjobs/protocol';
import { errorMessage, type Logger } from '../registry/ports.js';
import type { ActiveRun } from './types.js';

export type ProbedState = JobState | 'missing';

export interface Probe {
  readonly state: ProbedState;
  /** Only for `active`: the processing worker's lock is still there. */
  readonly lockHeld: boolean;
}

/**
 * Default routing → queue: the dispatcher's `target_queue` when recorded (none while a run is held back);
 * else a run with an executor waits in its direct queue, and one without in its group's.
 */
export function defaultTargetQueue(ks: Keyspace, run: ActiveRun): string | null {
  if (run.dispatched === false) return null;
  if (run.targetQueue !== undefined && run.targetQueue !== null) return run.targetQueue;
  if (run.executorInstanceId !== null) return ks.directQueue(run.executorInstanceId);
  if (run.executorGroup !== null) return ks.groupQueue(run.executorGroup);
  return null;
}

const IDLE_QUEUE_MS = 10 * 60_000;

export class QueueProbe {
  readonly #connection: Redis;
  readonly #ks: Keyspace;
  readonly #logger: Logger;
  readonly #queues = new Map<string, { queue: Queue; usedAt: number }>();

  /** `redis` is duplicated into a connection of BullMQ's own (`maxRetriesPerRequest: null`). */
  constructor(redis: Redis, ks: Keyspace, logger: Logger) {
    this.#connection = redis.duplicate({ maxRetriesPerRequest: null });
    this.#connection.on('error', () => undefined); // failures surface as rejected probes
    this.#ks = ks;
    this.#logger = logger;
  }

  async probe(queueName: string, jobId: string): Promise<Probe> {
    const state = await this.#queue(queueName).getJobState(jobId);
    if (state === 'unknown') return { state: 'missing', lockHeld: false };
    if (state !== 'active') return { state, lockHeld: false };
    const lock = `${this.#ks.queueKeyPrefix(queueName)}:${jobId}:lock`;
    return { state, lockHeld: (await this.#connection.exists(lock)) === 1 };
  }

  /** Closes queues not used for a while (direct queues of executors long gone). */
  async prune(): Promise<void> {
    const horizon = performance.now() - IDLE_QUEUE_MS;
    for (const [name, entry] of this.#queues) {
      if (entry.usedAt >= horizon) continue;
      this.#queues.delete(name);
      await entry.queue.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    await Promise.all(queues.map(({ queue }) => queue.close().catch(() => undefined)));
    this.#connection.disconnect();
  }

  #queue(name: string): Queue {
    const entry = this.#queues.get(name);
    if (entry !== undefined) {
      entry.usedAt = performance.now();
      return entry.queue;
    }
    const queue = new Queue(name, { connection: this.#connection, prefix: this.#ks.bullPrefix });
    queue.on('error', (error: unknown) => {
      this.#logger.debug('queue probe connection error', { queue: name, error: errorMessage(error) });
    });
    this.#queues.set(name, { queue, usedAt: performance.now() });
    return queue;
  }
}
