/**
 * Result ingestion (DESIGN §2.3): reads the run events and run logs streams with the consumer group
 * INGEST_CONSUMER_GROUP and writes them to Postgres; only after the commit are the entries acknowledged
 * and deleted, and only then are the dispatcher's callbacks told which runs started and which finished.
 *
 * - Postgres down: the batch fails and stays pending; it is re-read (own pending entries first, id `0`)
 *   and applied again with capped backoff until Postgres is back. Nothing crashes, nothing is dropped.
 * - Scheduler down: entries wait in Redis. A restarted replica re-reads its own pending entries, and any
 *   replica claims (XAUTOCLAIM) entries another consumer left idle for `claimMinIdleMs`.
 * - Undecodable entries go to the dead-letter stream (and are acknowledged), never crash the loop.
 * - Events for a run already final are ignored by the db repository and counted (`ignoredEvents`).
 */
import type { Redis } from 'ioredis';
import { INGEST_CONSUMER_GROUP, STREAM_FIELDS, decodePayload, type Keyspace } from '@kisjobs/protocol';
import type { PrismaClient } from '@kisjobs/db';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import { CLOSE_TIMEOUT_MS, backoffMs, settleWithin } from '../registry/timers.js';
import {
  applyEntries,
  isConnectionError,
  isDataError,
  type BatchResult,
  type DecodedEntry,
} from './apply.js';
import { ConsumerLoop } from './consumer-loop.js';
import { finalizedRuns, startedRuns, type FinalizedRun, type StartedRun } from './finalized.js';
import { StreamGroup, type DeadLetter, type StreamEntry } from './stream-group.js';

export interface IngestorOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Unique per scheduler replica (e.g. `<host>-<pid>`); a restart may reuse it. */
  readonly consumerName: string;
  /** Entries read per stream per batch (default 500). */
  readonly batchSize?: number;
  /** How long a read waits for new entries (default 1000 ms). */
  readonly blockMs?: number;
  /** Entries idle this long in another consumer's pending list are taken over (default 30 s). */
  readonly claimMinIdleMs?: number;
  /** How often to look for such entries (default 5 s). */
  readonly claimIntervalMs?: number;
  /** Upper bound of the retry backoff while Postgres is down (default 5 s). */
  readonly maxBackoffMs?: number;
  /** At-least-once (see finalized.ts): the dispatcher must make a repeat a no-op. */
  readonly onRunsFinalized?: (runs: FinalizedRun[]) => Promise<void>;
  readonly onRunsStarted?: (runs: StartedRun[]) => Promise<void>;
}

export interface IngestorStats {
  readonly batches: number;
  readonly entries: number;
  /** Lifecycle transitions applied (started + finished). */
  readonly transitions: number;
  readonly finalized: number;
  /** Lifecycle events ignored: run already final (or missing), or repeated within a batch. */
  readonly ignoredEvents: number;
  readonly logLinesInserted: number;
  readonly logLinesSkipped: number;
  readonly progressSkipped: number;
  readonly deadLettered: number;
  /** Entries taken over from other consumers. */
  readonly claimed: number;
  /** Failed attempts in total, and in the current streak. */
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly lastBatchAt: Date | null;
}

export interface Ingestor {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): IngestorStats;
}

type MutableStats = { -readonly [K in keyof IngestorStats]: IngestorStats[K] };

const NOTIFY_ATTEMPTS = 5;
/** After this many failures in a row, an error without a SQLSTATE is suspected to be the content's fault. */
const POISON_SUSPECT_AFTER = 5;

export function createIngestor(options: IngestorOptions): Ingestor {
  return new StreamIngestor(options);
}

class StreamIngestor implements Ingestor {
  readonly #o: IngestorOptions;
  readonly #blocking: Redis;
  readonly #group: StreamGroup;
  readonly #loop: ConsumerLoop;
  readonly #stats: MutableStats = {
    batches: 0,
    entries: 0,
    transitions: 0,
    finalized: 0,
    ignoredEvents: 0,
    logLinesInserted: 0,
    logLinesSkipped: 0,
    progressSkipped: 0,
    deadLettered: 0,
    claimed: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: null,
    lastBatchAt: null,
  };
  #started = false;

  constructor(options: IngestorOptions) {
    this.#o = options;
    this.#blocking = options.redis.duplicate({ connectionName: `kisjobs-ingest-${options.consumerName}` });
    this.#blocking.on('error', () => undefined); // reported through the loop's failures
    const ks = options.keyspace;
    this.#group = new StreamGroup({
      redis: options.redis,
      blocking: this.#blocking,
      streams: [ks.runEventsStream(), ks.runLogsStream()],
      group: INGEST_CONSUMER_GROUP,
      consumer: options.consumerName,
      count: options.batchSize ?? 500,
      blockMs: options.blockMs ?? 1_000,
      deadLetterStream: ks.deadLetterStream(),
    });
    this.#loop = new ConsumerLoop({
      group: this.#group,
      logger: options.logger,
      what: 'run event ingestion',
      claimMinIdleMs: options.claimMinIdleMs ?? 30_000,
      claimIntervalMs: options.claimIntervalMs ?? 5_000,
      maxBackoffMs: options.maxBackoffMs ?? 5_000,
      handle: (entries) => this.#process(entries),
      onFailure: (error) => {
        this.#stats.failures += 1;
        this.#stats.lastError = errorMessage(error);
      },
      onClaimed: (entries) => {
        this.#stats.claimed += entries;
      },
    });
  }

  async start(): Promise<void> {
    if (this.#started || this.#loop.closed) return;
    this.#started = true;
    try {
      await this.#group.ensureGroups();
    } catch (error) {
      this.#o.logger.warn('could not create the ingest consumer group yet; the loop keeps trying', {
        error: errorMessage(error),
      });
    }
    this.#loop.start();
  }

  async close(): Promise<void> {
    const stopped = this.#loop.stop();
    this.#blocking.disconnect();
    if (!(await settleWithin(stopped, CLOSE_TIMEOUT_MS))) {
      this.#o.logger.warn(
        'ingestor closed while a batch still waits for Redis or Postgres; it stays pending',
      );
    }
  }

  stats(): IngestorStats {
    return { ...this.#stats, consecutiveFailures: this.#loop.consecutiveFailures };
  }

  async #process(entries: readonly StreamEntry[]): Promise<void> {
    const decoded: DecodedEntry[] = [];
    const dead: DeadLetter[] = [];
    for (const entry of entries) {
      if (entry.fields === null) continue; // deleted while pending: only acknowledge it
      const kind = entry.fields[STREAM_FIELDS.kind];
      if (kind !== 'runEvent') {
        dead.push({ entry, reason: `unexpected entry kind ${JSON.stringify(kind ?? null)}` });
        continue;
      }
      const result = decodePayload('runEvent', entry.fields[STREAM_FIELDS.payload] ?? '');
      if (result.ok) decoded.push({ entry, event: result.value });
      else dead.push({ entry, reason: result.error.message });
    }
    const { prisma } = this.#o;
    const result = await applyEntries(prisma, decoded, (error) => this.#isPoison(error));
    const poisoned = new Set(result.poison.map(({ entry }) => `${entry.stream}\0${entry.id}`));
    const finalized = await finalizedRuns(prisma, decoded, result.transitions, poisoned);
    const started = startedRuns(decoded, result.transitions);
    this.#count(entries.length, result, finalized.length, dead.length);
    for (const { entry, reason } of [...dead, ...result.poison]) {
      this.#o.logger.warn('run event sent to the dead-letter stream', {
        stream: entry.stream,
        id: entry.id,
        reason,
      });
    }
    await this.#notify(finalized, started);
    await this.#group.settle(entries, [...dead, ...result.poison]);
  }

  async #isPoison(error: unknown): Promise<boolean> {
    if (isDataError(error)) return true;
    if (isConnectionError(error) || this.#loop.consecutiveFailures < POISON_SUSPECT_AFTER) return false;
    try {
      await this.#o.prisma.$queryRawUnsafe('SELECT 1');
      return true; // Postgres answers, yet this batch keeps failing: isolate the entry at fault
    } catch {
      return false;
    }
  }

  #count(entries: number, result: BatchResult, finalized: number, dead: number): void {
    const s = this.#stats;
    s.batches += 1;
    s.entries += entries;
    s.transitions += result.transitions.length;
    s.finalized += finalized;
    s.ignoredEvents += result.ignored;
    s.logLinesInserted += result.logLinesInserted;
    s.logLinesSkipped += result.logLinesSkipped;
    s.progressSkipped += result.progressSkipped;
    s.deadLettered += dead + result.poison.length;
    s.lastBatchAt = this.#o.clock.now();
  }

  /**
   * Callbacks run after the commit and before the acknowledgement, so a crash in between re-delivers the
   * entries and the report is made again. A failing `onRunsFinalized` is retried a few times; if it still
   * fails, the failure is logged with the run ids and ingestion goes on (it must not stall every result).
   */
  async #notify(finalized: FinalizedRun[], started: StartedRun[]): Promise<void> {
    const { onRunsStarted, onRunsFinalized, logger } = this.#o;
    if (started.length > 0 && onRunsStarted !== undefined) {
      try {
        await onRunsStarted(started);
      } catch (error) {
        logger.error('onRunsStarted failed', { runs: started.length, error: errorMessage(error) });
      }
    }
    if (finalized.length === 0 || onRunsFinalized === undefined) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await onRunsFinalized(finalized);
        return;
      } catch (error) {
        // Closing: leave the entries pending, so the report is made again after the restart.
        if (this.#loop.closed) throw error;
        if (attempt >= NOTIFY_ATTEMPTS) {
          logger.error('onRunsFinalized failed; these runs were not reported', {
            runIds: finalized.slice(0, 100).map((r) => r.runId),
            runs: finalized.length,
            error: errorMessage(error),
          });
          return;
        }
        await this.#loop.sleep(backoffMs(attempt, 200, 2_000));
      }
    }
  }
}
