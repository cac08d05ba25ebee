/**
 * The heartbeat thread's loop: every interval, write a beat of the latest snapshot the main thread sent,
 * and report the outcome to it. Only one beat is under way at a time; a beat due while one still waits for
 * Redis is reported `stalled`, and a beat asked for meanwhile joins the one under way.
 *
 * The watchdog: every message of the main thread counts as a sign of life (it ticks every few hundred ms).
 * Once it has been silent for longer than `mainStallLimitMs`, beats are withheld, so a wedged main thread
 * still ends with the executor declared offline and its runs retried elsewhere; the first withheld beat of
 * a stall is also written at once through `alarm` (the main thread's logger cannot run). The next message
 * of the main thread ends the stall: the thread beats at once.
 */
import type { RedisPayloadInput } from '@kisjobs/protocol';
import type { FromHeartbeatThread, ToHeartbeatThread } from './heartbeat-messages.js';
import { heartbeatOf, type HeartbeatSnapshot } from './heartbeat-payload.js';
import { errorMessage } from './logger.js';

export interface HeartbeatBeaterOptions {
  readonly instanceId: string;
  readonly intervalMs: number;
  readonly mainStallLimitMs: number;
  /** Writes one beat: `ok`, or `missing` when the executor's record is gone. */
  readonly write: (heartbeat: RedisPayloadInput<'heartbeat'>) => Promise<'ok' | 'missing'>;
  /** To the main thread. */
  readonly post: (message: FromHeartbeatThread) => void;
  /** Written synchronously, for when the main thread cannot log: beats are being withheld. */
  readonly alarm: (message: string, fields: Readonly<Record<string, unknown>>) => void;
}

export class HeartbeatBeater {
  readonly #o: HeartbeatBeaterOptions;
  #snapshot: HeartbeatSnapshot = { runIds: [], draining: false };
  #lastHeardAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** Beat requests of the main thread answered by the beat under way. */
  #joined: number[] = [];
  #withheld = 0;
  #stopped = false;

  constructor(options: HeartbeatBeaterOptions) {
    this.#o = options;
  }

  /** A message of the main thread (except `stop`: see `stop()`). */
  receive(message: Exclude<ToHeartbeatThread, { type: 'stop' }>): void {
    const silentForMs = performance.now() - this.#lastHeardAt;
    this.#lastHeardAt = performance.now();
    if (message.snapshot !== undefined) this.#snapshot = message.snapshot;
    if (this.#withheld > 0) {
      this.#o.post({ type: 'resumed', silentForMs: Math.round(silentForMs), withheldBeats: this.#withheld });
      this.#withheld = 0;
      if (message.type !== 'beat') void this.#beat([]);
    }
    switch (message.type) {
      case 'start':
        this.#timer ??= setInterval(() => this.#due(), this.#o.intervalMs);
        return;
      case 'tick':
        return;
      case 'beat':
        void this.#beat([message.requestId]);
        return;
    }
  }

  /** Stops beating. The beat under way settles when the connection closes; await `settled()` after. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves once no beat is under way. */
  async settled(): Promise<void> {
    await this.#inFlight;
  }

  #due(): void {
    if (this.#inFlight !== undefined) {
      this.#o.post({ type: 'stalled' });
      return;
    }
    // Timers run before the messages that waited meanwhile: let a tick that is already here land first.
    setImmediate(() => this.#beatOrWithhold());
  }

  #beatOrWithhold(): void {
    if (this.#stopped || this.#inFlight !== undefined) return;
    const silentForMs = Math.round(performance.now() - this.#lastHeardAt);
    if (silentForMs <= this.#o.mainStallLimitMs) {
      void this.#beat([]);
      return;
    }
    this.#withheld++;
    const first = this.#withheld === 1;
    if (first) {
      this.#o.alarm(
        'heartbeats withheld: the main thread has not answered for longer than mainStallLimitMs',
        {
          silentForMs,
          mainStallLimitMs: this.#o.mainStallLimitMs,
        },
      );
    }
    this.#o.post({ type: 'withheld', silentForMs, first });
  }

  #beat(requestIds: readonly number[]): Promise<void> {
    if (this.#stopped) return Promise.resolve(); // the main thread answers its own requests at stop
    this.#joined.push(...requestIds);
    this.#inFlight ??= this.#beatOnce().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #beatOnce(): Promise<void> {
    let outcome: FromHeartbeatThread;
    try {
      const state = await this.#o.write(heartbeatOf(this.#o.instanceId, this.#snapshot));
      outcome = { type: 'beaten', state, requestIds: this.#joined };
    } catch (error) {
      outcome = { type: 'failed', message: errorMessage(error), requestIds: this.#joined };
    }
    this.#joined = [];
    this.#o.post(outcome);
  }
}
