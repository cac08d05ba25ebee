/**
 * `createExecutor`: the executor SDK. `start()` loads the functions module, starts the isolation threads,
 * registers (refused → ExecutorTokenInvalidError), subscribes to control messages, heartbeats, and only
 * then consumes its group queue and its direct queue. `close()` drains: no new runs, the active ones get
 * `drainTimeoutMs` to finish and are then terminated, events are flushed, the executor deregisters.
 */
import type { Redis } from 'ioredis';
import { isKisJobsError } from '@kisjobs/protocol';
import { ActiveRuns } from './active-runs.js';
import { Consumers } from './consumers.js';
import { ControlSubscriber } from './control.js';
import { ExecutorStateError, ExecutorTokenInvalidError } from './errors.js';
import { EventsWriter } from './events-writer.js';
import { FlowRunner } from './flow-runner.js';
import { describeFunctionsModule, importFunctionsModule } from './functions-module.js';
import { HeartbeatLoop } from './heartbeat.js';
import { heartbeatOf, type HeartbeatSnapshot } from './heartbeat-payload.js';
import { childLogger, errorMessage, type ExecutorLogger } from './logger.js';
import { resolveExecutorOptions, type ExecutorOptions, type ResolvedExecutorOptions } from './options.js';
import { cancelFlagCause } from './outcome.js';
import { RunProcessor } from './processor.js';
import { closeRedis, createRedisClient, withTimeout } from './redis.js';
import { Registrar } from './registration.js';

export type ExecutorState = 'new' | 'starting' | 'running' | 'closing' | 'closed';

export interface ExecutorStats {
  readonly state: ExecutorState;
  readonly activeRuns: number;
  readonly runIds: readonly string[];
  readonly threads: number;
  /** Threads killed (a run that would not stop) or crashed, and replaced. */
  readonly threadsReplaced: number;
  /** Runs queued behind a busy thread that it had not started in time, and moved to another thread. */
  readonly queuedRunsReclaimed: number;
  /** Whether its record is in the registry: from registration until deregistration, unless found gone. */
  readonly registered: boolean;
  /** Whether its Redis connection is up (commands wait in a queue while it is not). */
  readonly redisConnected: boolean;
}

export interface Executor {
  readonly instanceId: string;
  readonly group: string;
  /** Registers and starts consuming. Rejects with ExecutorTokenInvalidError (`EXECUTOR_TOKEN_INVALID`). */
  start(): Promise<void>;
  /** Drains and deregisters (see the module comment). Idempotent; resolves when fully closed. */
  close(reason?: string): Promise<void>;
  /** Resolves once the executor is closed, whatever closed it (close(), a drain request, a failed start). */
  readonly closed: Promise<void>;
  stats(): ExecutorStats;
}

/** Validates the options (throws a ValidationError naming the bad ones); nothing starts before `start()`. */
export function createExecutor(options: ExecutorOptions): Executor {
  return new KisJobsExecutor(resolveExecutorOptions(options));
}

/** Everything `start()` opens, so that `close()` and a failed start can shut it down in order. */
interface Parts {
  redis?: Redis;
  runner?: FlowRunner;
  writer?: EventsWriter;
  active?: ActiveRuns;
  registrar?: Registrar;
  registered?: boolean;
  control?: ControlSubscriber;
  heartbeat?: HeartbeatLoop;
  consumers?: Consumers;
}

class KisJobsExecutor implements Executor {
  readonly closed: Promise<void>;
  readonly #o: ResolvedExecutorOptions;
  readonly #log: ExecutorLogger;
  readonly #parts: Parts = {};
  #state: ExecutorState = 'new';
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #markClosed: () => void = () => undefined;

  constructor(options: ResolvedExecutorOptions) {
    this.#o = options;
    this.#log = childLogger(options.logger, { instanceId: options.instanceId, group: options.group });
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  get instanceId(): string {
    return this.#o.instanceId;
  }

  get group(): string {
    return this.#o.group;
  }

  start(): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(new ExecutorStateError(`executor is ${this.#state}; start() runs once`));
    this.#state = 'starting';
    this.#starting = this.#start().catch(async (error: unknown) => {
      if (!(error instanceof ExecutorTokenInvalidError)) {
        this.#log.error('executor failed to start', {
          error: errorMessage(error),
          ...(isKisJobsError(error) ? { code: error.code } : {}),
        });
      }
      await this.#teardown('start failed');
      throw error;
    });
    return this.#starting;
  }

  close(reason = 'shutdown'): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  stats(): ExecutorStats {
    const pool = this.#parts.runner?.stats();
    const runIds = this.#parts.active?.ids() ?? [];
    return {
      state: this.#state,
      activeRuns: runIds.length,
      runIds,
      threads: pool?.threads ?? 0,
      threadsReplaced: pool?.replaced ?? 0,
      queuedRunsReclaimed: pool?.reclaimed ?? 0,
      registered: this.#parts.registered === true && this.#parts.heartbeat?.registered !== false,
      redisConnected: this.#parts.redis?.status === 'ready',
    };
  }

  async #start(): Promise<void> {
    const o = this.#o;
    const p = this.#parts;
    // The heartbeat thread loads while the functions module and the first isolation threads do; it beats
    // from `start()`, once registered.
    const heartbeat = (p.heartbeat = HeartbeatLoop.load({
      redisUrl: o.redisUrl,
      instanceId: o.instanceId,
      group: o.group,
      tokenSource: o.tokenSource,
      executorKey: o.keyspace.executor(o.instanceId),
      heartbeatKey: o.keyspace.heartbeat(o.instanceId),
      intervalMs: o.heartbeatIntervalMs,
      ttlMs: o.heartbeatTtlMs,
      mainStallLimitMs: o.mainStallLimitMs,
      snapshot: () => this.#snapshot(),
      register: async (heartbeat) => (await p.registrar?.register(heartbeat)) === true,
      afterBeat: () => this.#sweepCancelFlags(),
      onRegisteredAgain: async () => void (await p.writer?.resendRecentFinished()),
      onFailure: (reason) => o.observer.heartbeatFailed(reason),
      logger: this.#log,
    }));
    const module = await importFunctionsModule(o.functionsUrl);
    const description = describeFunctionsModule(module);
    p.runner = new FlowRunner({
      functionsUrl: o.functionsUrl,
      size: o.concurrency,
      cancelGraceMs: o.cancelGraceMs,
      maxLogLinesPerRun: o.maxLogLinesPerRun,
      runLogLevel: o.runLogLevel,
    });
    if (o.warmThreads > 0) await p.runner.warm(Math.min(o.warmThreads, o.concurrency));
    p.redis = createRedisClient(o.redisUrl, `kisjobs-executor-${o.instanceId}`, this.#log);
    p.writer = new EventsWriter({
      redis: p.redis,
      keyspace: o.keyspace,
      instanceId: o.instanceId,
      flushIntervalMs: o.logFlushIntervalMs,
      batchLines: o.logBatchLines,
      logger: this.#log,
    });
    const active = (p.active = new ActiveRuns(p.runner));
    p.registrar = new Registrar({ redis: p.redis, options: o, ...description });
    await heartbeat.ready();
    if (!(await p.registrar.register(heartbeatOf(o.instanceId, this.#snapshot())))) {
      const refused = new ExecutorTokenInvalidError(o.group, o.tokenSource);
      this.#log.error(refused.message, { code: refused.code });
      throw refused;
    }
    p.registered = true;
    p.control = await ControlSubscriber.open({
      redis: p.redis,
      keyspace: o.keyspace,
      instanceId: o.instanceId,
      logger: this.#log,
      handlers: {
        terminate: (m) => {
          if (
            active.requestStop(m.runId, { kind: 'terminate', reason: m.reason, requestedBy: m.requestedBy })
          ) {
            this.#log.info('terminate requested', { runId: m.runId, requestedBy: m.requestedBy });
          }
        },
        drain: (m) => {
          this.#log.info('drain requested', { requestedBy: m.requestedBy });
          void this.close(`drained by ${m.requestedBy}`);
        },
        ping: () => void p.heartbeat?.beat(),
      },
    });
    heartbeat.start();
    const processor = new RunProcessor({
      redis: p.redis,
      keyspace: o.keyspace,
      runner: p.runner,
      active,
      writer: p.writer,
      logger: this.#log,
      observer: o.observer,
    });
    p.consumers = new Consumers({
      redis: p.redis,
      keyspace: o.keyspace,
      options: o,
      processor,
      logger: this.#log,
    });
    this.#state = 'running';
    this.#log.info('executor started', {
      host: o.host,
      pid: o.pid,
      version: o.version,
      concurrency: o.concurrency,
      functions: description.functions,
      connectorTypes: description.connectorTypes,
    });
  }

  async #close(reason: string): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed';
      this.#markClosed();
      return;
    }
    if (this.#starting !== undefined) {
      try {
        await this.#starting;
      } catch {
        return; // a failed start has torn everything down already
      }
    }
    this.#log.info('executor closing', { reason, activeRuns: this.#parts.active?.size ?? 0 });
    await this.#teardown(reason);
  }

  /** Shuts down whatever is open, in order. Safe on a partly started executor. */
  async #teardown(reason: string): Promise<void> {
    const o = this.#o;
    const p = this.#parts;
    this.#state = 'closing';
    void p.heartbeat?.beat(); // tell the scheduler we are draining
    if (p.consumers !== undefined) {
      const drained = p.consumers.close();
      if ((await withTimeout(drained, o.drainTimeoutMs, 'timeout' as const)) === 'timeout') {
        this.#log.warn('drain timeout: terminating the runs still active', { runIds: p.active?.ids() });
        p.active?.stopAll({ kind: 'shutdown' });
        const bound = o.cancelGraceMs + o.closeTimeoutMs;
        if ((await withTimeout(drained, bound, 'timeout' as const)) === 'timeout')
          await p.consumers.close(true);
      }
    }
    await p.heartbeat?.stop();
    if (
      p.writer !== undefined &&
      (await withTimeout(p.writer.close(), o.closeTimeoutMs, 'timeout' as const)) === 'timeout'
    ) {
      this.#log.error('run events could not be flushed before shutdown (Redis unavailable?)');
    }
    if (p.registered === true && p.registrar !== undefined) {
      const deregistered = p.registrar.deregister(reason).then(() => 'ok' as const);
      if ((await withTimeout(deregistered, o.closeTimeoutMs, 'timeout' as const)) === 'timeout') {
        this.#log.error('could not deregister (Redis unavailable?); the heartbeat will expire instead');
      } else {
        p.registered = false;
        this.#log.info('deregistered', { reason });
      }
    }
    await p.control?.close(1_000);
    await p.runner?.close();
    if (p.redis !== undefined) await closeRedis(p.redis, 1_000);
    this.#state = 'closed';
    this.#log.info('executor closed');
    this.#markClosed();
  }

  #snapshot(): HeartbeatSnapshot {
    return { runIds: this.#parts.active?.ids() ?? [], draining: this.#state === 'closing' };
  }

  /** Stops held runs whose durable cancel flag is set (a terminate whose pub/sub message was lost). */
  async #sweepCancelFlags(): Promise<void> {
    const { redis, active } = this.#parts;
    const runIds = active?.ids() ?? [];
    if (redis === undefined || active === undefined || runIds.length === 0) return;
    const flags = await redis.mget(...runIds.map((id) => this.#o.keyspace.cancelFlag(id)));
    flags.forEach((flag, i) => {
      const runId = runIds[i];
      if (flag === null || runId === undefined) return;
      if (active.requestStop(runId, cancelFlagCause(flag))) {
        this.#log.info('terminate found by the cancel-flag sweep', { runId });
      }
    });
  }
}
