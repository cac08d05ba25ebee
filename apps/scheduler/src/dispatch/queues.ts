/**
 * The dispatcher's BullMQ side: one `Queue` per queue name, created on first use and cached, all on the
 * shared ioredis connection and the keyspace's BullMQ prefix. Job data is a RunRequest validated on the way
 * in (`encodePayload` throws on our own bug); the BullMQ job id is the run id, so adding a run twice while
 * BullMQ holds it is a no-op.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { encodePayload, type Keyspace, type RunRequest } from '@kisjobs/protocol';
import { Coalescer } from './coalesce.js';

/** Finished BullMQ jobs are kept this long / this many per queue (the run's truth is in Postgres). */
const KEEP_COMPLETED = { age: 3_600, count: 10_000 } as const;
const KEEP_FAILED = { age: 24 * 3_600, count: 10_000 } as const;

export interface QueuedRun {
  readonly request: RunRequest;
  readonly delayMs?: number;
}

/** A BullMQ job state in which no executor holds the run yet. */
const NOT_PICKED = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']);

export class RunQueues {
  readonly #redis: Redis;
  readonly #keyspace: Keyspace;
  readonly #queues = new Map<string, Queue>();
  /** Adds to one queue within one event-loop turn go out as one bulk add. */
  readonly #adders = new Map<string, Coalescer<readonly QueuedRun[], void>>();
  #closed = false;

  constructor(redis: Redis, keyspace: Keyspace) {
    this.#redis = redis;
    this.#keyspace = keyspace;
  }

  queue(name: string): Queue {
    if (this.#closed) throw new Error('run queues are closed');
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.#redis, prefix: this.#keyspace.bullPrefix });
      queue.on('error', () => undefined); // surfaced by the failing call itself
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds runs to one queue (validated first). Concurrent adds to the same queue are coalesced into one
   * bulk add (one round trip); each call resolves once its runs are in BullMQ.
   */
  async add(queueName: string, runs: readonly QueuedRun[]): Promise<void> {
    if (runs.length === 0) return;
    for (const run of runs) encodePayload('runRequest', run.request);
    let adder = this.#adders.get(queueName);
    if (adder === undefined) {
      adder = new Coalescer<readonly QueuedRun[], void>(async (calls) => {
        await this.#addNow(queueName, calls.flat());
        return calls.map(() => undefined);
      }, 200);
      this.#adders.set(queueName, adder);
    }
    await adder.submit(runs);
  }

  async #addNow(queueName: string, runs: readonly QueuedRun[]): Promise<void> {
    const jobs = runs.map((run) => {
      return {
        name: 'run',
        data: run.request,
        opts: {
          jobId: run.request.runId,
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_FAILED,
          ...(run.delayMs !== undefined && run.delayMs > 0 ? { delay: Math.round(run.delayMs) } : {}),
        },
      };
    });
    const queue = this.queue(queueName);
    if (jobs.length === 1 && jobs[0] !== undefined) await queue.add(jobs[0].name, jobs[0].data, jobs[0].opts);
    else await queue.addBulk(jobs);
  }

  /**
   * Removes a run that no executor has picked up yet. True when it was waiting or delayed and is now gone;
   * false when it is active (an executor holds it), finished, or not there.
   */
  async removeIfNotPicked(queueName: string, runId: string): Promise<boolean> {
    const queue = this.queue(queueName);
    const state = await queue.getJobState(runId);
    if (!NOT_PICKED.has(state)) return false;
    return (await queue.remove(runId)) === 1;
  }

  /** Which of these runs have no BullMQ job in their queue (one pipelined EXISTS per run). */
  async missing(runs: readonly { readonly id: string; readonly queue: string }[]): Promise<Set<string>> {
    if (runs.length === 0) return new Set();
    const pipeline = this.#redis.pipeline();
    for (const run of runs) pipeline.exists(`${this.#keyspace.queueKeyPrefix(run.queue)}:${run.id}`);
    const results = (await pipeline.exec()) ?? [];
    const out = new Set<string>();
    for (const [i, run] of runs.entries()) {
      const [error, count] = results[i] ?? [new Error('no reply'), 0];
      if (error !== null) throw error;
      if (count === 0) out.add(run.id);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const queues = [...this.#queues.values()];
    this.#queues.clear();
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}
