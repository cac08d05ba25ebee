/**
 * Run events → Redis streams (DESIGN §2.3: no result lost). Lifecycle events (started, progress, finished)
 * are XADDed to the events stream without waiting for a timer: those appended within one turn of the event
 * loop (the events of all the runs that moved at once) go out as ONE pipeline, one socket write instead of
 * one per event (a write is a system call and a wake-up of Redis, the executor's largest cost per run).
 * Log lines are batched (one pipeline per flush, every `flushIntervalMs` or `batchLines` lines) to the logs
 * stream, and each line is also PUBLISHed to the run's live tail channel (best effort). Every entry is
 * `kind runEvent payload <RunEvent JSON>`; nothing is ever trimmed. All writes share one connection and
 * leave in the order they were made, and while Redis is down they wait in ioredis' offline queue rather
 * than being dropped.
 *
 * A `finished` event Redis took can still be destroyed before the scheduler ingests it, when Redis loses its
 * data (FLUSHALL, a failover to an empty replica). The writer therefore keeps the `finished` events of the last
 * `keepFinishedMs` and sends them again when the executor registers again after such a loss
 * (`resendRecentFinished`); ingestion ignores a `finished` event for a run that has already ended.
 */
import type { Redis } from 'ioredis';
import {
  STREAM_FIELDS,
  encodePayload,
  newId,
  type FunctionSummary,
  type Keyspace,
  type RedisPayloadInput,
  type RunEvent,
} from '@kisjobs/protocol';
import { errorMessage, type ExecutorLogger } from './logger.js';
import { EXECUTOR_RUN_ERROR_CODES } from '@kisjobs/protocol';
import type { FinishedFields } from './outcome.js';
import type { RunThreadEvent } from './run-task.js';

export interface EventsWriterOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly instanceId: string;
  readonly flushIntervalMs: number;
  readonly batchLines: number;
  readonly logger: ExecutorLogger;
  /** How long a sent `finished` event is kept to be sent again after a Redis data loss (default 120 s). */
  readonly keepFinishedMs?: number;
}

interface SentFinished {
  readonly at: number;
  readonly stream: string;
  readonly payload: string;
}

const KEEP_FINISHED_MS = 120_000;
const KEEP_FINISHED_MAX = 10_000;

type EventInput = RedisPayloadInput<'runEvent'>;

/** A lifecycle event waiting for the end of the event-loop turn to be sent with the others. */
interface PendingEvent {
  readonly stream: string;
  readonly payload: string;
  readonly event: EventInput;
  readonly tries: number;
  readonly resolve: (written: boolean) => void;
}
type LogLine = Extract<RunThreadEvent, { type: 'log' }>;

/** A finished event that Redis refused is tried again this many times (connection loss is not a refusal). */
const FINISHED_TRIES = 5;
const FINISHED_RETRY_MS = 500;

export class EventsWriter {
  readonly #o: EventsWriterOptions;
  #batch: { readonly runId: string; readonly payload: string }[] = [];
  #events: PendingEvent[] = [];
  #eventsScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Oldest first; entries before `#finishedHead` are dropped (compacted now and then, not on every event). */
  #recentFinished: SentFinished[] = [];
  #finishedHead = 0;

  constructor(options: EventsWriterOptions) {
    this.#o = options;
  }

  /**
   * Sends again the `finished` events of the last `keepFinishedMs` (after a Redis data loss destroyed those
   * not ingested yet). Resolves with how many were sent.
   */
  async resendRecentFinished(): Promise<number> {
    this.#pruneFinished(Date.now());
    const kept = this.#recentFinished.slice(this.#finishedHead);
    if (kept.length === 0) return 0;
    const pipeline = this.#o.redis.pipeline();
    for (const sent of kept) {
      pipeline.xadd(sent.stream, '*', STREAM_FIELDS.kind, 'runEvent', STREAM_FIELDS.payload, sent.payload);
    }
    const results = await this.#track(pipeline.exec());
    const failed = (results ?? []).filter(([error]) => error !== null).length;
    this.#o.logger.warn('finished events of recent runs sent again after the Redis data loss', {
      events: kept.length,
      failed,
    });
    return kept.length - failed;
  }

  /** Drops what is older than the keep window or beyond the cap: O(1) amortized per event. */
  #pruneFinished(now: number): void {
    const keepMs = this.#o.keepFinishedMs ?? KEEP_FINISHED_MS;
    const list = this.#recentFinished;
    let head = Math.max(this.#finishedHead, list.length - KEEP_FINISHED_MAX);
    while (head < list.length && now - (list[head]?.at ?? now) > keepMs) head++;
    this.#finishedHead = head;
    if (head > 1_024 && head * 2 > list.length) {
      this.#recentFinished = list.slice(head);
      this.#finishedHead = 0;
    }
  }

  /** The events of one delivery of a run: `seq` counts from 0 across all its events. */
  open(runId: string, attempt: number): RunEvents {
    return new RunEvents(this, { runId, attempt, instanceId: this.#o.instanceId });
  }

  /** Appends one lifecycle event now. Resolves true once Redis has it; never rejects. */
  append(event: EventInput, tries = 1): Promise<boolean> {
    let payload: string;
    try {
      payload = encodePayload('runEvent', event);
    } catch (error) {
      this.#o.logger.error('run event failed validation; not sent', {
        runId: event.runId,
        error: errorMessage(error),
      });
      return Promise.resolve(false);
    }
    return this.appendEncoded(event, payload, tries);
  }

  /** `append` for an event already encoded (and so validated) by the caller. */
  appendEncoded(event: EventInput, payload: string, tries = 1): Promise<boolean> {
    const stream = this.#o.keyspace.streamForRunEvent(event.type);
    const written = new Promise<boolean>((resolve) => {
      this.#events.push({ stream, payload, event, tries, resolve });
    });
    if (!this.#eventsScheduled) {
      this.#eventsScheduled = true;
      setImmediate(() => this.#sendEvents());
    }
    return this.#track(written);
  }

  /**
   * Sends the lifecycle events of this turn as one pipeline. An event Redis refused is tried again on its
   * own (with its remaining tries); a pipeline that failed as a whole is retried event by event.
   */
  #sendEvents(): void {
    this.#eventsScheduled = false;
    const events = this.#events;
    this.#events = [];
    if (events.length === 0) return;
    const pipeline = this.#o.redis.pipeline();
    for (const e of events) {
      pipeline.xadd(e.stream, '*', STREAM_FIELDS.kind, 'runEvent', STREAM_FIELDS.payload, e.payload);
    }
    pipeline.exec().then(
      (results) => {
        for (const [i, e] of events.entries()) {
          const error = results?.[i]?.[0] ?? (results === null ? new Error('pipeline discarded') : null);
          if (error === null) {
            this.#sent(e);
            e.resolve(true);
          } else this.#retry(e, error);
        }
      },
      (error: unknown) => {
        for (const e of events) this.#retry(e, error);
      },
    );
  }

  #sent(e: Pick<PendingEvent, 'event' | 'stream' | 'payload'>): void {
    if (e.event.type !== 'finished') return;
    const now = Date.now();
    this.#recentFinished.push({ at: now, stream: e.stream, payload: e.payload });
    this.#pruneFinished(now);
  }

  #retry(e: PendingEvent, error: unknown): void {
    const last = e.tries <= 1;
    this.#o.logger.error(
      last ? 'run event could not be written; lost' : 'run event refused by Redis; retrying',
      {
        runId: e.event.runId,
        type: e.event.type,
        attempt: 1,
        error: errorMessage(error),
      },
    );
    if (last) {
      e.resolve(false);
      return;
    }
    const again = new Promise((resolve) => setTimeout(resolve, FINISHED_RETRY_MS)).then(() =>
      this.#xadd(e.stream, e.payload, e.event, e.tries - 1, 2),
    );
    void this.#track(again).then(e.resolve);
  }

  /** Queues a log line for the next batch. */
  queueLog(event: EventInput): void {
    let payload: string;
    try {
      payload = encodePayload('runEvent', event);
    } catch (error) {
      this.#o.logger.warn('run log line failed validation; dropped', {
        runId: event.runId,
        error: errorMessage(error),
      });
      return;
    }
    this.#batch.push({ runId: event.runId, payload });
    if (this.#batch.length >= this.#o.batchLines) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#o.flushIntervalMs);
  }

  /** Sends the queued log lines as one pipeline; resolves when Redis has them. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return Promise.resolve();
    this.#batch = [];
    const ks = this.#o.keyspace;
    // The lifecycle events of this turn go first: a run's `finished` comes after its lines anyway (it is
    // appended after this flush), and events appended earlier must not be overtaken by later lines.
    this.#sendEvents();
    const pipeline = this.#o.redis.pipeline();
    for (const line of batch) {
      pipeline.xadd(
        ks.runLogsStream(),
        '*',
        STREAM_FIELDS.kind,
        'runEvent',
        STREAM_FIELDS.payload,
        line.payload,
      );
      pipeline.publish(ks.liveLogChannel(line.runId), line.payload);
    }
    const sent = pipeline.exec().then(
      (results) => {
        const failed = (results ?? []).filter(([error], i) => error !== null && i % 2 === 0);
        if (failed.length > 0) {
          this.#o.logger.error('run log lines were refused by Redis', {
            lines: failed.length,
            error: errorMessage(failed[0]?.[0]),
          });
        }
      },
      (error: unknown) =>
        this.#o.logger.error('run log lines could not be written', {
          lines: batch.length,
          error: errorMessage(error),
        }),
    );
    return this.#track(sent);
  }

  /** Flushes the log lines and waits for every write under way. */
  async close(): Promise<void> {
    await this.flush();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** XADDs one event on its own, up to `tries` times; `firstAttempt` numbers the attempts in the log. */
  async #xadd(
    stream: string,
    payload: string,
    event: EventInput,
    tries: number,
    firstAttempt = 1,
  ): Promise<boolean> {
    for (let attempt = firstAttempt; ; attempt++) {
      try {
        await this.#o.redis.xadd(stream, '*', STREAM_FIELDS.kind, 'runEvent', STREAM_FIELDS.payload, payload);
        this.#sent({ event, stream, payload });
        return true;
      } catch (error) {
        const last = attempt - firstAttempt + 1 >= tries;
        this.#o.logger.error(
          last ? 'run event could not be written; lost' : 'run event refused by Redis; retrying',
          {
            runId: event.runId,
            type: event.type,
            attempt,
            error: errorMessage(error),
          },
        );
        if (last) return false;
        await new Promise((resolve) => setTimeout(resolve, FINISHED_RETRY_MS));
      }
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    const done = promise.then(() => undefined);
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
    return promise;
  }
}

interface RunIdentity {
  readonly runId: string;
  readonly attempt: number;
  readonly instanceId: string;
}

export class RunEvents {
  readonly #writer: EventsWriter;
  readonly #id: RunIdentity;
  readonly #pending: Promise<boolean>[] = [];
  #seq = 0;

  constructor(writer: EventsWriter, id: RunIdentity) {
    this.#writer = writer;
    this.#id = id;
  }

  get runId(): string {
    return this.#id.runId;
  }

  started(): void {
    this.#pending.push(this.#writer.append({ ...this.#base(), type: 'started' }));
  }

  log(line: LogLine): void {
    this.#writer.queueLog({
      ...this.#base(),
      type: 'log',
      level: line.level,
      message: line.message,
      ...(line.funcName === undefined ? {} : { funcName: line.funcName }),
      ...(line.fields === undefined ? {} : { fields: line.fields }),
    });
  }

  progress(summary: FunctionSummary): void {
    this.#pending.push(this.#writer.append({ ...this.#base(), type: 'progress', summary }));
  }

  /**
   * Flushes the run's log lines, appends `finished`, and resolves once Redis holds every event of the run
   * (true) or a write was refused for good (false).
   */
  async finished(fields: FinishedFields): Promise<boolean> {
    // Stamped now (when the run ended), not when Redis answers: during an outage that can be much later.
    const base = this.#base();
    // Queued before `finished` on the same connection, so the run's lines reach Redis first.
    const lines = this.#writer.flush();
    const event: EventInput = { ...base, type: 'finished', ...fields };
    let written: Promise<boolean>;
    try {
      written = this.#writer.appendEncoded(event, encodePayload('runEvent', event), FINISHED_TRIES);
    } catch (error) {
      // Our own bug (a field out of the protocol's bounds): still end the run, without the details.
      written = this.#writer.append(
        {
          ...base,
          type: 'finished',
          status: 'failed',
          summary: [],
          outputRows: 0,
          error: {
            code: EXECUTOR_RUN_ERROR_CODES.internal,
            message: `finished event invalid: ${errorMessage(error)}`.slice(0, 8_000),
          },
        },
        FINISHED_TRIES,
      );
    }
    const results = await Promise.all([...this.#pending, written]);
    await lines;
    return results.every(Boolean);
  }

  #base(): Omit<Extract<RunEvent, { type: 'started' }>, 'type'> {
    return { eventId: newId('evt'), ...this.#id, seq: this.#seq++, at: new Date().toISOString() };
  }
}
