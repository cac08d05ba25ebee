/**
 * The heartbeat, main-thread side. The beats are written by a thread of their own (heartbeat-thread.ts,
 * heartbeat-beater.ts) on its own Redis connection, so a busy main event loop (say, a burst of runs on a
 * saturated host) cannot let the heartbeat key expire under a live executor. This side:
 * - starts the thread (`load`: it loads while the executor starts), then `start()`s the beats once the
 *   executor is registered;
 * - ticks the thread every few hundred ms, with the snapshot (active runs, draining) whenever it changed:
 *   the thread beats the latest snapshot it has, and withholds beats once the ticks have stopped for
 *   `mainStallLimitMs`, so a wedged executor still goes offline and its runs are retried elsewhere;
 * - acts on what the thread reports, since that needs the main thread's state: the heartbeat key is only
 *   rewritten while the executor's record exists, and when the record has vanished (Redis lost its data, an
 *   operator removed it) the executor registers again, unless it is draining (a drained executor is on its
 *   way out and must not come back); after each beat that reached Redis, `afterBeat`; each beat that did not
 *   keep the record alive to `onFailure`; the thread's log lines to the logger;
 * - starts the thread again if it dies; `stop()` stops it and closes its connection.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RedisPayloadInput } from '@kisjobs/protocol';
import type { FromHeartbeatThread, HeartbeatThreadData, ToHeartbeatThread } from './heartbeat-messages.js';
import { heartbeatOf, sameSnapshot, type HeartbeatSnapshot } from './heartbeat-payload.js';
import { errorMessage, type ExecutorLogger } from './logger.js';
import type { HeartbeatFailure } from './observer.js';
import { withTimeout } from './redis.js';

export interface HeartbeatLoopOptions {
  readonly redisUrl: string;
  readonly instanceId: string;
  readonly group: string;
  readonly tokenSource: string;
  /** The executor's record key and its heartbeat key. */
  readonly executorKey: string;
  readonly heartbeatKey: string;
  readonly intervalMs: number;
  readonly ttlMs: number;
  /** The thread withholds beats once the main thread has been silent for longer than this. */
  readonly mainStallLimitMs: number;
  readonly snapshot: () => HeartbeatSnapshot;
  /** Registers again (the record vanished): true when registered, false when the token was refused. */
  readonly register: (heartbeat: RedisPayloadInput<'heartbeat'>) => Promise<boolean>;
  /** Called after every beat that reached Redis (e.g. to sweep the cancel flags of active runs). */
  readonly afterBeat?: () => Promise<void>;
  /** Called after the executor registered again because its record had vanished (e.g. Redis lost its data). */
  readonly onRegisteredAgain?: () => Promise<void>;
  /** Called for each beat that did not keep the record alive (observer.ts says why). */
  readonly onFailure?: (reason: HeartbeatFailure) => void;
  readonly logger: ExecutorLogger;
  /** How long the thread may take to load before `ready()` rejects. Default 30 s. */
  readonly startTimeoutMs?: number;
}

const BOOTSTRAP = new URL('./isolation/thread-bootstrap.mjs', import.meta.url);
// heartbeat-thread.ts from source (tsx, vitest), heartbeat-thread.js once compiled.
const THREAD_ENTRY = fileURLToPath(
  new URL(`./heartbeat-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/** A thread that died is started again after this long. */
const RESTART_DELAY_MS = 1_000;
/** Bound on the thread's own stop (it cuts an unresponsive Redis off after 1 s), then it is terminated. */
const STOP_TIMEOUT_MS = 3_000;

export class HeartbeatLoop {
  readonly #o: HeartbeatLoopOptions;
  readonly #tickMs: number;
  readonly #ready: Promise<void>;
  #readyState: 'loading' | 'ready' | 'failed' = 'loading';
  #settleReady: (error?: Error) => void = () => undefined;
  #thread: Worker | undefined;
  #threadStopped: (() => void) | undefined;
  #started = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #registered = true;
  #refused = false;
  #tickTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastTickAt = 0;
  /** The snapshot the thread has. */
  #sent: HeartbeatSnapshot | undefined;
  #nextRequestId = 1;
  readonly #requests = new Map<number, () => void>();
  /** The latest beat outcome not acted on yet, and the beat requests waiting for it. */
  #pending: { readonly state: 'ok' | 'missing'; readonly requestIds: readonly number[] } | undefined;
  #acting: Promise<void> | undefined;

  private constructor(options: HeartbeatLoopOptions) {
    this.#o = options;
    this.#tickMs = Math.max(20, Math.min(500, options.intervalMs / 2, options.mainStallLimitMs / 4));
    this.#ready = new Promise<void>((resolve, reject) => {
      const timeoutMs = options.startTimeoutMs ?? 30_000;
      const timer = setTimeout(
        () => this.#settleReady(new Error(`the heartbeat thread did not start within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#settleReady = (error) => {
        if (this.#readyState !== 'loading') return;
        clearTimeout(timer);
        this.#readyState = error === undefined ? 'ready' : 'failed';
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    this.#ready.catch(() => undefined); // `ready()` hands the rejection to whoever waits for it
  }

  /** Starts the heartbeat thread; it does not beat before `start()`. */
  static load(options: HeartbeatLoopOptions): HeartbeatLoop {
    const loop = new HeartbeatLoop(options);
    loop.#spawn();
    return loop;
  }

  /** Resolves once the thread is up; rejects when it failed to load (or did not within the start timeout). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Beats every interval from now on (call once registered). */
  start(): this {
    if (this.#started || this.#stopped) return this;
    this.#started = true;
    this.#sent = this.#o.snapshot();
    this.#post({ type: 'start', snapshot: this.#sent });
    this.#lastTickAt = performance.now();
    this.#tickTimer = setInterval(() => this.#tick(), this.#tickMs);
    return this;
  }

  /** False once the record was found gone and could not be written again (until it is). */
  get registered(): boolean {
    return this.#registered;
  }

  /**
   * Beats now with a fresh snapshot, and resolves once the outcome has been acted on; a beat already under
   * way (e.g. waiting for Redis) is joined rather than doubled. A no-op before `start()` and after `stop()`.
   */
  beat(): Promise<void> {
    const thread = this.#thread;
    if (this.#stopped || !this.#started || thread === undefined) return Promise.resolve();
    const requestId = this.#nextRequestId++;
    const snapshot = this.#o.snapshot();
    this.#sent = snapshot;
    return new Promise<void>((resolve) => {
      this.#requests.set(requestId, resolve);
      this.#post({ type: 'beat', requestId, snapshot });
    });
  }

  /**
   * Stops beating, waits for a beat under way and what follows it, and ends the thread (its connection
   * closed). The key then expires by its TTL unless deregistered.
   */
  stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      clearInterval(this.#tickTimer);
      clearTimeout(this.#restartTimer);
      this.#stopping = this.#stopThread();
    }
    return this.#stopping ?? Promise.resolve();
  }

  async #stopThread(): Promise<void> {
    const thread = this.#thread;
    if (thread !== undefined) {
      if (this.#readyState === 'ready') {
        const stopped = new Promise<void>((resolve) => (this.#threadStopped = resolve));
        this.#post({ type: 'stop' });
        await withTimeout(stopped, STOP_TIMEOUT_MS, undefined);
      }
      this.#settleReady(new Error('the heartbeat was stopped while its thread was loading'));
      await thread.terminate();
    }
    await this.#acting;
    this.#answer([...this.#requests.keys()]);
  }

  #spawn(): void {
    const o = this.#o;
    const data: HeartbeatThreadData = {
      redisUrl: o.redisUrl,
      connectionName: `kisjobs-executor-${o.instanceId}-heartbeat`,
      instanceId: o.instanceId,
      group: o.group,
      executorKey: o.executorKey,
      heartbeatKey: o.heartbeatKey,
      intervalMs: o.intervalMs,
      ttlMs: o.ttlMs,
      mainStallLimitMs: o.mainStallLimitMs,
    };
    const thread = new Worker(BOOTSTRAP, { workerData: { entry: THREAD_ENTRY, data } });
    this.#thread = thread;
    thread.on('message', (message: FromHeartbeatThread) => this.#onMessage(message));
    thread.on('error', (error: unknown) => {
      o.logger.error('heartbeat thread failed', { error: errorMessage(error) });
      this.#settleReady(new Error(`the heartbeat thread failed to start: ${errorMessage(error)}`));
    });
    thread.on('exit', (code) => this.#onExit(thread, code));
    if (this.#started) {
      this.#sent = o.snapshot();
      this.#post({ type: 'start', snapshot: this.#sent });
    }
  }

  #onExit(thread: Worker, code: number): void {
    if (this.#thread !== thread) return;
    this.#thread = undefined;
    this.#threadStopped?.();
    this.#answer([...this.#requests.keys()]); // nothing will answer them now
    if (this.#stopped) return;
    if (this.#readyState !== 'ready') {
      this.#settleReady(new Error(`the heartbeat thread exited with code ${code} while starting`));
      return;
    }
    this.#o.logger.error('heartbeat thread exited; starting it again', { code });
    this.#o.onFailure?.('error');
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) this.#spawn();
    }, RESTART_DELAY_MS);
  }

  #post(message: ToHeartbeatThread): void {
    this.#thread?.postMessage(message);
  }

  #tick(): void {
    const now = performance.now();
    const blockedMs = Math.round(now - this.#lastTickAt - this.#tickMs);
    this.#lastTickAt = now;
    if (blockedMs >= this.#o.ttlMs) {
      this.#o.logger.warn('the main event loop was blocked', {
        blockedMs,
        heartbeatTtlMs: this.#o.ttlMs,
        mainStallLimitMs: this.#o.mainStallLimitMs,
      });
    }
    const snapshot = this.#o.snapshot();
    if (sameSnapshot(snapshot, this.#sent)) {
      this.#post({ type: 'tick' });
      return;
    }
    this.#sent = snapshot;
    this.#post({ type: 'tick', snapshot });
  }

  #onMessage(message: FromHeartbeatThread): void {
    const o = this.#o;
    switch (message.type) {
      case 'ready':
        this.#settleReady();
        return;
      case 'beaten':
        this.#report(message.state, message.requestIds);
        return;
      case 'failed':
        o.logger.warn('heartbeat failed', { error: message.message });
        o.onFailure?.('error');
        this.#answer(message.requestIds);
        return;
      case 'stalled':
        o.onFailure?.('stalled');
        return;
      case 'withheld':
        if (message.first) {
          o.logger.error(
            'heartbeats withheld: the main event loop had not answered for longer than mainStallLimitMs; ' +
              'the scheduler declares this executor offline when its heartbeat expires, and retries its runs',
            { silentForMs: message.silentForMs, mainStallLimitMs: o.mainStallLimitMs },
          );
        }
        o.onFailure?.('withheld');
        return;
      case 'resumed':
        o.logger.warn('heartbeats resumed: the main event loop answers again', {
          silentForMs: message.silentForMs,
          withheldBeats: message.withheldBeats,
        });
        return;
      case 'log':
        o.logger[message.level](message.msg, message.fields);
        return;
      case 'stopped':
        this.#threadStopped?.();
        return;
    }
  }

  /** Acts on a beat's outcome; outcomes arriving meanwhile are coalesced into the latest one. */
  #report(state: 'ok' | 'missing', requestIds: readonly number[]): void {
    this.#pending = { state, requestIds: [...(this.#pending?.requestIds ?? []), ...requestIds] };
    this.#acting ??= this.#act();
  }

  async #act(): Promise<void> {
    try {
      for (let next = this.#pending; next !== undefined; next = this.#pending) {
        this.#pending = undefined;
        await this.#actOn(next.state);
        this.#answer(next.requestIds);
      }
    } finally {
      this.#acting = undefined;
    }
  }

  async #actOn(state: 'ok' | 'missing'): Promise<void> {
    const o = this.#o;
    try {
      if (state === 'ok') this.#registered = true;
      else if (!this.#stopped) await this.#recover();
      await o.afterBeat?.();
    } catch (error) {
      o.logger.warn('heartbeat failed', { error: errorMessage(error) });
      o.onFailure?.('error');
    }
  }

  #answer(requestIds: readonly number[]): void {
    for (const id of requestIds) {
      this.#requests.get(id)?.();
      this.#requests.delete(id);
    }
  }

  async #recover(): Promise<void> {
    const o = this.#o;
    this.#registered = false;
    const snapshot = o.snapshot();
    if (snapshot.draining) {
      o.logger.warn('executor record was removed while draining; not registering again');
      return;
    }
    const registered = await o.register(heartbeatOf(o.instanceId, snapshot));
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
