/**
 * Timing helpers shared by the registry, the ingestor and the lost-run detector: capped backoff, a sleep
 * that `close()` can cut short, a periodic task that never overlaps itself and never throws, and a log
 * limiter so an outage writes one line when it starts (and a reminder now and then), not one per retry.
 */
import { errorMessage, type Logger } from './ports.js';

/** Capped exponential backoff with ±20 % jitter: ~200 ms, 400 ms, 800 ms ... up to `maxMs`. */
export function backoffMs(failures: number, baseMs = 200, maxMs = 5_000): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 20);
  const raw = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/** Sleeps that end early when the owner closes. */
export class Sleeper {
  readonly #waiting = new Set<() => void>();
  #closed = false;

  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiting.add(done);
    });
  }

  /** Ends every sleep now and every later one at once. */
  close(): void {
    this.#closed = true;
    for (const done of [...this.#waiting]) done();
  }
}

/** Logs the first failure of a streak, then at most one reminder per `everyMs`, then the recovery. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #what: string;
  readonly #everyMs: number;
  #failures = 0;
  #lastLoggedAt = 0;

  constructor(logger: Logger, what: string, everyMs = 30_000) {
    this.#logger = logger;
    this.#what = what;
    this.#everyMs = everyMs;
  }

  get failures(): number {
    return this.#failures;
  }

  failed(error: unknown, fields: Readonly<Record<string, unknown>> = {}): void {
    this.#failures += 1;
    const now = Date.now();
    if (this.#failures === 1 || now - this.#lastLoggedAt >= this.#everyMs) {
      this.#lastLoggedAt = now;
      this.#logger.warn(`${this.#what} failed; retrying`, {
        ...fields,
        failures: this.#failures,
        error: errorMessage(error),
      });
    }
  }

  succeeded(): void {
    if (this.#failures > 0) {
      this.#logger.info(`${this.#what} works again`, { failures: this.#failures });
    }
    this.#failures = 0;
  }
}

/**
 * Runs `tick` every `intervalMs`, measured from the end of the previous tick (so a slow tick never
 * overlaps the next). A failing tick is logged through a FailureLog and retried with backoff; it never
 * rejects and never stops the loop.
 */
export class PeriodicTask {
  readonly #tick: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #failures: FailureLog;
  readonly #sleeper = new Sleeper();
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(what: string, intervalMs: number, tick: () => Promise<void>, logger: Logger) {
    this.#tick = tick;
    this.#intervalMs = intervalMs;
    this.#failures = new FailureLog(logger, what);
  }

  /** Runs the first tick after `initialDelayMs` (default: at once). */
  start(initialDelayMs = 0): void {
    this.#loop ??= this.#run(initialDelayMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sleeper.close();
    await this.#loop;
  }

  async #run(initialDelayMs: number): Promise<void> {
    if (initialDelayMs > 0) await this.#sleeper.sleep(initialDelayMs);
    while (!this.#stopped) {
      let delay = this.#intervalMs;
      try {
        await this.#tick();
        this.#failures.succeeded();
      } catch (error) {
        this.#failures.failed(error);
        delay = Math.max(this.#intervalMs, backoffMs(this.#failures.failures, this.#intervalMs));
      }
      await this.#sleeper.sleep(delay);
    }
  }
}

/**
 * Waits for `work`, but at most `ms`: a close() must not hang because Redis or Postgres stopped answering
 * (commands then wait in a client's offline queue). Resolves false on the timeout.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a service's close() waits for its loops before it gives up on them. */
export const CLOSE_TIMEOUT_MS = 10_000;
