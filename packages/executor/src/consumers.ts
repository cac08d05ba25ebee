/**
 * The BullMQ side: one Worker on the group queue and one on this executor's direct queue, both calling the
 * same RunProcessor. Each worker may hold `concurrency` jobs; the isolation pool (size `concurrency`) is
 * the real limit, so a job taken beyond it waits for a thread (its timeout starts when it gets one).
 * A stalled job (its executor died) is failed by BullMQ, never run again by it: a retry is a new run that
 * the scheduler creates.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keyspace } from '@kisjobs/protocol';
import { errorMessage, type ExecutorLogger } from './logger.js';
import type { ResolvedExecutorOptions } from './options.js';
import type { ProcessResult, RunProcessor } from './processor.js';

export interface ConsumersOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly options: ResolvedExecutorOptions;
  readonly processor: RunProcessor;
  readonly logger: ExecutorLogger;
}

export class Consumers {
  readonly #workers: Worker<unknown, ProcessResult>[];

  constructor(init: ConsumersOptions) {
    const { keyspace, options: o, processor, logger } = init;
    const keep = { count: o.keepCompletedJobs, age: Math.ceil(o.keepCompletedForMs / 1000) };
    const queues = [keyspace.groupQueue(o.group), keyspace.directQueue(o.instanceId)];
    this.#workers = queues.map((queue) => {
      const worker = new Worker<unknown, ProcessResult>(
        queue,
        // Ready at: added, plus its delay (a retry's backoff). `opts.delay`, not `delay`: BullMQ zeroes the
        // latter when it moves the job to active.
        (job) =>
          processor.process(job.data, {
            queue,
            jobId: job.id,
            readyAt: job.timestamp + (job.opts.delay ?? 0),
          }),
        {
          connection: init.redis,
          prefix: keyspace.bullPrefix,
          name: o.instanceId,
          concurrency: o.concurrency,
          maxStalledCount: 0,
          lockDuration: o.lockDurationMs,
          stalledInterval: o.stalledIntervalMs,
          removeOnComplete: keep,
          removeOnFail: keep,
        },
      );
      let failing = false;
      worker.on('error', (error) => {
        if (failing) return;
        failing = true;
        logger.warn('queue worker error', { queue, error: errorMessage(error) });
        setTimeout(() => (failing = false), 5_000).unref();
      });
      worker.on('failed', (job, error) => {
        logger.warn('queue job failed', { queue, jobId: job?.id, error: errorMessage(error) });
      });
      return worker;
    });
  }

  /** Stops taking jobs and waits for the processors under way (`force`: do not wait). */
  async close(force = false): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close(force)));
  }
}
