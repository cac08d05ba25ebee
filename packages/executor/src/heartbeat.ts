/**
 * The heartbeat loop: every interval, rewrite the heartbeat key with a TTL (only while the executor's record
 * exists). When the record has vanished (Redis lost its data, an operator removed it) the executor registers
 * again, unless it is draining: a drained executor is on its way out and must not come back.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { RedisPayloadInput } from '@kisjobs/protocol';
import { errorMessage, type ExecutorLogger } from './logger.js';
import type { HeartbeatFailure } from './observer.js';
import type { Registrar } from './registration.js';

export interface HeartbeatSnapshot {
  readonly runIds: readonly string[];
  readonly draining: boolean;
}

export interface HeartbeatLoopOptions {
  readonly registrar: Registrar;
  readonly instanceId: string;
  readonly group: string;
  readonly tokenSource: string;
  readonly intervalMs: number;
  readonly snapshot: () => HeartbeatSnapshot;
  /** Called after every beat that reached Redis (e.g. to sweep the cancel flags of active runs). */
  readonly afterBeat?: () => Promise<void>;
  /** Called after the executor registered again because its record had vanished (e.g. Redis lost its data). */
  readonly onRegisteredAgain?: () => Promise<void>;
  /** Called for each beat that did not keep the record alive (observer.ts says why). */
  readonly onFailure?: (reason: HeartbeatFailure) => void;
  readonly logger: ExecutorLogger;
}

/** The heartbeat payload for a snapshot, now. */
export function heartbeatOf(instanceId: string, snapshot: HeartbeatSnapshot): RedisPayloadInput<'heartbeat'> {
  const load = (loadavg()[0] ?? 0) / Math.max(1, availableParallelism());
  return {
    instanceId,
    at: new Date().toISOString(),
    activeRuns: snapshot.runIds.length,
    load: Math.round(Math.max(0, load) * 1000) / 1000,
    runIds: snapshot.runIds.slice(0, 10_000),
    draining: snapshot.draining,
  };
}

export class HeartbeatLoop {
  readonly #options: HeartbeatLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #refused = false;
  #stopped = false;
  #registered = true;

  constructor(options: HeartbeatLoopOptions) {
    this.#options = options;
  }

  start(): this {
    this.#timer ??= setInterval(() => {
      if (this.#inFlight !== undefined) this.#options.onFailure?.('stalled');
      void this.beat();
    }, this.#options.intervalMs);
    return this;
  }

  /** False once the record was found gone and could not be written again (until it is). */
  get registered(): boolean {
    return this.#registered;
  }

  /** Beats now; a beat already under way (e.g. waiting for Redis) is joined rather than doubled. */
  beat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#inFlight ??= this.#beatOnce().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops beating and waits for a beat under way. The key then expires by its TTL unless deregistered. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  async #beatOnce(): Promise<void> {
    const o = this.#options;
    const snapshot = o.snapshot();
    const payload = heartbeatOf(o.instanceId, snapshot);
    try {
      const state = await o.registrar.heartbeat(payload);
      if (state === 'ok') this.#registered = true;
      else if (!this.#stopped) await this.#recover(snapshot.draining, payload);
      await o.afterBeat?.();
    } catch (error) {
      o.logger.warn('heartbeat failed', { error: errorMessage(error) });
      o.onFailure?.('error');
    }
  }

  async #recover(draining: boolean, payload: RedisPayloadInput<'heartbeat'>): Promise<void> {
    const o = this.#options;
    this.#registered = false;
    if (draining) {
      o.logger.warn('executor record was removed while draining; not registering again');
      return;
    }
    const registered = await o.registrar.register(payload);
    if (registered) {
      this.#registered = true;
      this.#refused = false;
      o.logger.warn('executor record was missing (Redis data lost or removed); registered again');
      await o
        .onRegisteredAgain?.()
        .catch((error: unknown) => o.logger.error('after registering again', { error: errorMessage(error) }));
      return;
    }
    o.onFailure?.('refused');
    if (!this.#refused) {
      this.#refused = true;
      o.logger.error(
        `registration refused: the token is not valid for group "${o.group}" (${o.tokenSource}); retrying every beat`,
        { code: 'EXECUTOR_TOKEN_INVALID' },
      );
    }
  }
}
