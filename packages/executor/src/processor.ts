/**
 * One queued run, from dequeue to its `finished` event: decode the RunRequest (a bad one fails the run,
 * or goes to the dead-letter stream, and never crashes the executor); check the durable cancel flag; emit
 * `started`; run the flow in an isolation thread under the request's timeout; map how it ended to
 * `finished` with the per-function summary. Resolves only once Redis holds the run's events, so BullMQ
 * completes the job after the result is safe.
 */
import type { Redis } from 'ioredis';
import { CancelFlagReader } from './cancel-flags.js';
import {
  MAX_ATTEMPTS_LIMIT,
  RunId,
  RunRequest,
  STREAM_FIELDS,
  toValidationIssues,
  type ExecutorOutcome,
  type Keyspace,
} from '@kisjobs/protocol';
import type { ActiveRun, ActiveRuns } from './active-runs.js';
import type { EventsWriter, RunEvents } from './events-writer.js';
import type { FlowRunner } from './flow-runner.js';
import type { GuardedObserver } from './observer.js';
import { EXECUTOR_RUN_ERROR_CODES as CODES } from '@kisjobs/protocol';
import { errorMessage, safeJson, type ExecutorLogger } from './logger.js';
import {
  cancelFlagCause,
  finishedFieldsOf,
  runError,
  stoppedBeforeStart,
  toFunctionSummary,
  type StopCause,
} from './outcome.js';
import { taskInputOf, type StepSummary } from './run-task.js';

export interface RunProcessorOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly runner: FlowRunner;
  readonly active: ActiveRuns;
  readonly writer: EventsWriter;
  readonly logger: ExecutorLogger;
  /** Told when a run starts and ends (metrics). */
  readonly observer: GuardedObserver;
}

/** What the BullMQ job returns (its `returnvalue`); the run's real outcome is in its events. */
export type ProcessResult = ExecutorOutcome | 'duplicate' | 'invalid';

/** When the run started (set once it has), for its duration. */
interface RunClock {
  startedAt?: number;
}

export interface JobRef {
  readonly queue: string;
  readonly jobId: string | undefined;
  /** When the run became ready in its queue (epoch ms): added, or its delay over. */
  readonly readyAt?: number;
}

export class RunProcessor {
  readonly #o: RunProcessorOptions;
  readonly #cancelFlags: CancelFlagReader;

  constructor(options: RunProcessorOptions) {
    this.#o = options;
    this.#cancelFlags = new CancelFlagReader(options.redis, options.keyspace);
  }

  async process(data: unknown, job: JobRef): Promise<ProcessResult> {
    const parsed = RunRequest.safeParse(data);
    if (!parsed.success) {
      await this.#reject(data, job, toValidationIssues(parsed.error.issues));
      return 'invalid';
    }
    const request = parsed.data;
    const { active, logger } = this.#o;
    const run = active.claim(request.runId);
    if (run === undefined) {
      logger.warn('run delivered twice to this executor; the second delivery is ignored', {
        runId: request.runId,
        queue: job.queue,
        jobId: job.jobId,
      });
      return 'duplicate';
    }
    const events = this.#o.writer.open(request.runId, request.attempt);
    const clock: RunClock = {};
    let status: ExecutorOutcome = 'failed';
    try {
      status = await this.#execute(request, run, events, clock, job.readyAt);
      return status;
    } catch (error) {
      logger.error('run failed inside the executor', { runId: request.runId, error: errorMessage(error) });
      await events.finished({
        status: 'failed',
        summary: [],
        outputRows: 0,
        error: runError(CODES.internal, `executor error: ${errorMessage(error)}`),
      });
      return 'failed';
    } finally {
      active.release(run);
      this.#o.observer.runFinished({
        runId: request.runId,
        flow: request.flowName,
        status,
        durationMs: clock.startedAt === undefined ? undefined : Date.now() - clock.startedAt,
      });
    }
  }

  async #execute(
    request: RunRequest,
    run: ActiveRun,
    events: RunEvents,
    clock: RunClock,
    readyAt: number | undefined,
  ): Promise<ExecutorOutcome> {
    const { runner, active, logger } = this.#o;
    const flagged = await this.#cancelFlag(request.runId);
    if (flagged !== undefined) run.stopCause ??= flagged;
    if (run.stopCause !== undefined) {
      logger.info('run terminated before it started', { runId: request.runId });
      await events.finished(stoppedBeforeStart(run.stopCause));
      return 'terminated';
    }
    const startedAt = Date.now();
    clock.startedAt = startedAt;
    events.started();
    this.#o.observer.runStarted({
      runId: request.runId,
      flow: request.flowName,
      attempt: request.attempt,
      waitedMs: readyAt === undefined ? undefined : Math.max(0, startedAt - readyAt),
    });
    const progress: StepSummary[] = [];
    const running = runner.run(taskInputOf(request), {
      timeoutMs: request.timeoutMs,
      onEvent: (event) => {
        if (event.type === 'log') {
          events.log(event);
          return;
        }
        progress.push(event.summary);
        events.progress(toFunctionSummary(event.summary));
      },
    });
    active.enteredPool(run);
    const outcome = await running;
    const fields = finishedFieldsOf({
      outcome,
      stopCause: run.stopCause,
      progress,
      timeoutMs: request.timeoutMs,
    });
    const durable = await events.finished(fields);
    logger.info('run finished', {
      runId: request.runId,
      flow: request.flowName,
      status: fields.status,
      durationMs: Date.now() - startedAt,
      ...(fields.error === undefined ? {} : { error: fields.error.code }),
      ...(durable ? {} : { eventsLost: true }),
    });
    return fields.status;
  }

  /** The stop cause of a durable cancel flag, if one is set for the run. */
  async #cancelFlag(runId: string): Promise<StopCause | undefined> {
    const raw = await this.#cancelFlags.read(runId);
    return raw === null ? undefined : cancelFlagCause(raw);
  }

  /**
   * A RunRequest that failed validation: a `finished` failed PAYLOAD_INVALID when a run id can be read from
   * it (or from the job id, which is the run id), else an entry in the dead-letter stream.
   */
  async #reject(
    data: unknown,
    job: JobRef,
    issues: readonly { path: string; message: string }[],
  ): Promise<void> {
    const fields = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
    const message = `invalid run request: ${fields}`;
    const raw = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    const runId = [raw['runId'], job.jobId].find((v): v is string => RunId.safeParse(v).success);
    const { logger } = this.#o;
    if (runId !== undefined) {
      const attempt = raw['attempt'];
      const validAttempt =
        typeof attempt === 'number' &&
        Number.isInteger(attempt) &&
        attempt >= 1 &&
        attempt <= MAX_ATTEMPTS_LIMIT
          ? attempt
          : 1;
      logger.warn('run request failed validation; run reported failed', { runId, ...job, error: message });
      await this.#o.writer.open(runId, validAttempt).finished({
        status: 'failed',
        summary: [],
        outputRows: 0,
        error: runError(CODES.payloadInvalid, message),
      });
      return;
    }
    logger.warn('run request failed validation and names no run; sent to the dead-letter stream', {
      ...job,
      error: message,
    });
    try {
      await this.#o.redis.xadd(
        this.#o.keyspace.deadLetterStream(),
        '*',
        STREAM_FIELDS.kind,
        'runRequest',
        STREAM_FIELDS.payload,
        safeJson(data) ?? 'undefined',
        'error',
        message,
        'queue',
        job.queue,
        'jobId',
        job.jobId ?? '',
      );
    } catch (error) {
      logger.error('dead-letter entry could not be written', { ...job, error: errorMessage(error) });
    }
  }
}
