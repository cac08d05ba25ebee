/**
 * The read loop around a StreamGroup, shared by the ingestor and the registry: claim idle entries of dead
 * consumers now and then, read own pending entries first (after a start or a failure), then new ones;
 * hand each batch to `handle`, which settles (acknowledges) what it has committed. A failing batch is
 * retried with capped backoff and never ends the loop.
 */
import type { Logger } from '../registry/ports.js';
import { FailureLog, Sleeper, backoffMs } from '../registry/timers.js';
import type { StreamEntry, StreamGroup } from './stream-group.js';

/** Consumers of gone replicas (no pending entries, idle for an hour) are deleted every 10 minutes. */
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_IDLE_MS = 60 * 60_000;

export interface ConsumerLoopOptions {
  readonly group: StreamGroup;
  readonly logger: Logger;
  /** For log lines, e.g. `run event ingestion`. */
  readonly what: string;
  readonly claimMinIdleMs: number;
  readonly claimIntervalMs: number;
  readonly maxBackoffMs: number;
  /** Handles and settles a batch; throws to have the batch read and handled again later. */
  readonly handle: (entries: readonly StreamEntry[]) => Promise<void>;
  readonly onFailure?: (error: unknown) => void;
  readonly onClaimed?: (entries: number) => void;
}

export class ConsumerLoop {
  readonly #o: ConsumerLoopOptions;
  readonly #failures: FailureLog;
  readonly #sleeper = new Sleeper();
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(options: ConsumerLoopOptions) {
    this.#o = options;
    this.#failures = new FailureLog(options.logger, options.what);
  }

  get consecutiveFailures(): number {
    return this.#failures.failures;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Sleeps that end when the loop stops. */
  sleep(ms: number): Promise<void> {
    return this.#sleeper.sleep(ms);
  }

  /** Stops after the batch under way; the owner must also unblock a blocking read (disconnect it). */
  async stop(): Promise<void> {
    this.#closed = true;
    this.#sleeper.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { group, logger } = this.#o;
    let groupsReady = false;
    // Own pending entries first: a restart under the same consumer name picks them up.
    let pendingFirst = true;
    let lastClaimAt = Number.NEGATIVE_INFINITY;
    let lastPruneAt = performance.now();
    while (!this.#closed) {
      try {
        if (!groupsReady) {
          await group.ensureGroups();
          groupsReady = true;
        }
        if (performance.now() - lastPruneAt >= PRUNE_EVERY_MS) {
          lastPruneAt = performance.now();
          await group.pruneConsumers(PRUNE_IDLE_MS);
        }
        if (performance.now() - lastClaimAt >= this.#o.claimIntervalMs) {
          lastClaimAt = performance.now();
          const claimed = await group.claimIdle(this.#o.claimMinIdleMs);
          if (claimed > 0) {
            pendingFirst = true;
            this.#o.onClaimed?.(claimed);
            logger.info(`${this.#o.what}: took over entries left pending by another consumer`, {
              entries: claimed,
            });
          }
        }
        const entries = pendingFirst ? await group.readPending() : await group.readNew();
        if (entries.length === 0) {
          pendingFirst = false;
          continue;
        }
        await this.#o.handle(entries);
        this.#failures.succeeded();
      } catch (error) {
        if (this.#closed) break;
        this.#failures.failed(error);
        this.#o.onFailure?.(error);
        pendingFirst = true;
        groupsReady = groupsReady && !(error instanceof Error && error.message.includes('NOGROUP'));
        await this.#sleeper.sleep(backoffMs(this.#failures.failures, 200, this.#o.maxBackoffMs));
      }
    }
  }
}
