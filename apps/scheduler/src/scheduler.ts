/**
 * `createScheduler`: the composition of the scheduler's services on one Postgres and one Redis, and the
 * service API that tests and the HTTP API use.
 *
 *   registry ──onExecutorsOffline──▶ dispatcher.handleExecutorsOffline (reroute direct queues)
 *            └────────────────────▶ lostDetector.handleExecutorsOffline (their running runs)
 *   ingestor ──onRunsFinalized───▶ dispatcher.handleFinalized (retries, child jobs, serial queue)
 *   lost     ──onRunsLost────────▶ dispatcher.handleLost (mark lost, retry)
 *            └─onRunsStranded────▶ dispatcher.handleExecutorsOffline
 *
 * `start()` brings the registry up first (token mirror, who is online), then ingestion, the lost-run
 * detector and the dispatcher's sweep. `close()` stops the services that call the dispatcher first: the
 * detector, ingestion (it finishes its batch and acknowledges only what it committed, so an interrupted
 * follow-up is found again by the sweep), the registry; then the dispatcher finishes what is under way and
 * closes its queues; a Redis connection the scheduler opened itself is closed last.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Page, PageRequest, PrismaClient, Run, RunFilter, RunLogLine, Scene } from '@kisjobs/db';
import { createKeyspace, DEFAULT_KEY_PREFIX, type Job, type Keyspace } from '@kisjobs/protocol';
import type { ConfigSource } from '@kisjobs/flow';
import { putConfigDocuments, type SavedConfigDocument } from './configs/store.js';
import type { TerminateRequest, TerminateResult, TriggerInput, TriggerResult } from './dispatch/context.js';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher.js';
import type { SweepOptions } from './dispatch/redispatch.js';
import { createAlertNotifier, type AlertNotifier, type AlertNotifierOptions } from './alerts/notifier.js';
import { createIngestor, type Ingestor } from './ingest/index.js';
import { createRetention, type Retention, type RetentionOptions } from './maintenance/retention.js';
import { createLostRunDetector, type LostRunDetector } from './lost/index.js';
import {
  createExecutorRegistry,
  type CreateGroupInput,
  type ExecutorInfo,
  type ExecutorRegistryService,
  type RemoveExecutorResult,
} from './registry/index.js';
import { errorMessage, systemClock, type Clock, type Logger } from './registry/ports.js';
import { createJob } from './service/jobs.js';
import { getRun, listRunsPage, runLogs } from './service/runs.js';
import { createScene } from './service/scenes.js';
// [schedule engine, issue #4] the engine and the Redis reset watch.
import {
  createBatchFireDispatcher,
  createScheduleEngine,
  watchRedisReset,
  type ScheduleEngine,
  type ScheduleEngineOptions,
} from './schedule/index.js';

export interface SchedulerOptions {
  readonly prisma: PrismaClient;
  /** A shared connection (`maxRetriesPerRequest: null`) the caller closes... */
  readonly redis?: Redis;
  /** ...or a URL: the scheduler opens the connection and closes it in `close()`. */
  readonly redisUrl?: string;
  /** Keyspace prefix (default `kisjobs`). */
  readonly prefix?: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Unique per replica (default `<host>-<pid>`). */
  readonly consumerName?: string;
  readonly dispatch?: {
    readonly sweepIntervalMs?: number;
    readonly firstSweepAfterMs?: number;
    readonly sweep?: SweepOptions;
  };
  /** Registry liveness scan period (default the registry's). */
  readonly registryScanIntervalMs?: number;
  /** Lost-run detector sweep period (default the detector's). */
  readonly lostSweepIntervalMs?: number;
  /** Retention of finished runs and audit events (defaults in maintenance/retention.ts; `false`: off). */
  readonly retention?: false | Partial<Omit<RetentionOptions, 'prisma' | 'clock' | 'logger'>>;
  /** Job alerts: tuning, and the SMTP server of e-mail alerts (`smtp`); defaults in alerts/notifier.ts. */
  readonly alerts?: Partial<Omit<AlertNotifierOptions, 'prisma' | 'clock' | 'logger'>>;
  /** [schedule engine] Its tuning (defaults: schedule/fire-loop.ts); `enabled: false` never fires by itself. */
  readonly schedule?: Partial<Omit<ScheduleEngineOptions, 'prisma' | 'dispatcher' | 'clock' | 'logger'>> & {
    readonly enabled?: boolean;
    /** How often to look for a Redis that lost its data (default 1000 ms). */
    readonly redisResetCheckMs?: number;
  };
}

export interface Scheduler {
  readonly keyspace: Keyspace;
  readonly redis: Redis;
  readonly registry: ExecutorRegistryService;
  readonly ingestor: Ingestor;
  readonly lostDetector: LostRunDetector;
  readonly dispatcher: Dispatcher;
  /** Sends job alerts (webhooks, e-mail) for failed, timed-out and lost runs. */
  readonly alerts: AlertNotifier;
  /** Deletes old finished runs and audit events. */
  readonly retention: Retention;
  /** [schedule engine] Fires schedules; pause/resume/enable/disable/recompute jobs; preview fire times. */
  readonly schedule: ScheduleEngine;
  start(): Promise<void>;
  close(): Promise<void>;

  trigger(jobId: string, input: TriggerInput): Promise<TriggerResult>;
  terminate(runId: string, request: TerminateRequest): Promise<TerminateResult>;
  createGroup(input: CreateGroupInput): ReturnType<ExecutorRegistryService['createGroup']>;
  rotateGroupToken(name: string): Promise<{ token: string }>;
  removeExecutor(instanceId: string, by: { readonly requestedBy: string }): Promise<RemoveExecutorResult>;
  listExecutors(filter?: {
    readonly group?: string;
    readonly includeRemoved?: boolean;
  }): Promise<ExecutorInfo[]>;
  getRun(runId: string): Promise<Run>;
  listRuns(filter?: RunFilter, page?: PageRequest): Promise<Page<Run>>;
  runLogs(
    runId: string,
    options?: { readonly afterSeq?: number; readonly limit?: number },
  ): Promise<RunLogLine[]>;
  createScene(input: { readonly name: string; readonly description?: string }): Promise<Scene>;
  putConfigDocuments(
    sources: readonly ConfigSource[],
    by?: { readonly createdById?: string },
  ): Promise<SavedConfigDocument[]>;
  /** The body is a `JobInput` (protocol DTO); invalid fields are reported by name. */
  createJob(input: unknown, by?: { readonly createdById?: string }): Promise<Job>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  if (options.redis === undefined && options.redisUrl === undefined) {
    throw new Error('createScheduler needs redis or redisUrl');
  }
  const ownRedis = options.redis === undefined;
  const redis = options.redis ?? new Redis(options.redisUrl ?? '', { maxRetriesPerRequest: null });
  if (ownRedis) redis.on('error', () => undefined); // every caller sees its own failure
  const keyspace = createKeyspace(options.prefix ?? DEFAULT_KEY_PREFIX);
  const clock = options.clock ?? systemClock;
  const { prisma, logger } = options;
  const consumerName = options.consumerName ?? `${hostname()}-${process.pid}`;
  const base = { prisma, redis, keyspace, clock };

  // The callbacks reach services created after the registry; they only run once start() has run.
  let dispatcher: Dispatcher | undefined;
  let lostDetector: LostRunDetector | undefined;
  const registry = createExecutorRegistry({
    ...base,
    logger: child(logger, 'registry'),
    consumerName,
    ...(options.registryScanIntervalMs === undefined
      ? {}
      : { scanIntervalMs: options.registryScanIntervalMs }),
    onExecutorsOffline: async (instanceIds) => {
      await Promise.all([
        dispatcher?.handleExecutorsOffline(instanceIds),
        lostDetector?.handleExecutorsOffline(instanceIds),
      ]);
    },
  });
  dispatcher = createDispatcher({
    ...base,
    logger: child(logger, 'dispatch'),
    registry,
    ...(options.dispatch?.sweepIntervalMs === undefined
      ? {}
      : { sweepIntervalMs: options.dispatch.sweepIntervalMs }),
    ...(options.dispatch?.firstSweepAfterMs === undefined
      ? {}
      : { firstSweepAfterMs: options.dispatch.firstSweepAfterMs }),
    ...(options.dispatch?.sweep === undefined ? {} : { sweep: options.dispatch.sweep }),
  });
  const dispatch = dispatcher;
  const retention = createRetention({
    ...(options.retention === false ? { runsDays: 0, auditDays: 0, executorsDays: 0 } : options.retention),
    prisma,
    clock,
    logger: child(logger, 'retention'),
  });
  const alerts = createAlertNotifier({ ...options.alerts, prisma, clock, logger: child(logger, 'alerts') });
  /** Alerts never hold up ingestion or the detector: a failure to record them is logged. */
  const alertOn = async (runIds: readonly string[]): Promise<void> => {
    await alerts
      .enqueue(runIds)
      .catch((error: unknown) =>
        logger.error('recording alerts failed', { error: errorMessage(error), runs: runIds.length }),
      );
  };
  const ingestor = createIngestor({
    ...base,
    logger: child(logger, 'ingest'),
    consumerName,
    onRunsFinalized: async (runs) => {
      await dispatch.handleFinalized(runs);
      await alertOn(runs.filter((r) => r.status !== 'succeeded').map((r) => r.runId));
    },
  });
  lostDetector = createLostRunDetector({
    ...base,
    logger: child(logger, 'lost'),
    registry,
    ...(options.lostSweepIntervalMs === undefined ? {} : { intervalMs: options.lostSweepIntervalMs }),
    onRunsLost: async (runs) => {
      await dispatch.handleLost(runs);
      await alertOn(runs.map((r) => r.runId));
    },
    onRunsStranded: (runs) =>
      dispatch.handleExecutorsOffline([...new Set(runs.map((r) => r.executorInstanceId))]),
  });
  const lost = lostDetector;
  // [schedule engine] Fires reach the dispatcher through its port; a Redis that lost its data gets its
  // token mirror and its queued runs back at once (the schedules themselves live in Postgres).
  const { enabled: scheduleEnabled = true, redisResetCheckMs, ...scheduleTuning } = options.schedule ?? {};
  const fires = createBatchFireDispatcher({
    ...base,
    logger: child(logger, 'schedule'),
    registry,
    dispatcher: dispatch,
  });
  const schedule = createScheduleEngine({
    instanceId: consumerName, // stable per replica: a restart frees its previous leases at once
    ...scheduleTuning,
    prisma,
    clock,
    logger: child(logger, 'schedule'),
    dispatcher: fires,
  });
  const resetWatch = watchRedisReset({
    redis,
    keyspace,
    logger: child(logger, 'schedule'),
    ...(redisResetCheckMs === undefined ? {} : { intervalMs: redisResetCheckMs }),
    onReset: async () => {
      await registry.syncTokens();
      await dispatch.redispatch();
    },
  });

  let started = false;
  let closing: Promise<void> | undefined;
  return {
    keyspace,
    redis,
    registry,
    ingestor,
    lostDetector: lost,
    dispatcher: dispatch,
    alerts,
    retention,
    schedule,
    async start() {
      if (started) return;
      started = true;
      await registry.start();
      await ingestor.start();
      await lost.start();
      dispatch.start();
      alerts.start();
      if (options.retention !== false) retention.start();
      resetWatch.start(); // [schedule engine]
      if (scheduleEnabled) schedule.start(); // [schedule engine]
      logger.info('scheduler started', { prefix: keyspace.prefix, consumerName });
    },
    close() {
      closing ??= (async () => {
        const steps: [string, () => Promise<void>][] = [
          ['schedule engine', () => schedule.close()], // [schedule engine] first: it calls the dispatcher
          ['redis reset watch', () => resetWatch.close()], // [schedule engine]
          ['schedule fire queues', () => fires.close()], // [schedule engine]
          ['lost-run detector', () => lost.close()],
          ['alerts', () => alerts.close()],
          ['retention', () => retention.close()],
          ['ingestor', () => ingestor.close()],
          ['registry', () => registry.close()],
          ['dispatcher', () => dispatch.close()],
        ];
        for (const [name, step] of steps) {
          try {
            await step();
          } catch (error) {
            logger.error(`closing the ${name} failed`, { error: errorMessage(error) });
          }
        }
        if (ownRedis) await redis.quit().catch(() => redis.disconnect());
        logger.info('scheduler closed');
      })();
      return closing;
    },

    trigger: (jobId, input) => dispatch.trigger(jobId, input),
    terminate: (runId, request) => dispatch.terminate(runId, request),
    createGroup: (input) => registry.createGroup(input),
    rotateGroupToken: (name) => registry.rotateGroupToken(name),
    removeExecutor: (instanceId, by) => registry.removeExecutor(instanceId, by),
    listExecutors: (filter) => registry.listExecutors(filter),
    getRun: (runId) => getRun(prisma, runId),
    listRuns: (filter, page) => listRunsPage(prisma, filter, page),
    runLogs: (runId, opts) => runLogs(prisma, runId, opts),
    createScene: (input) => createScene(prisma, input, clock.now()),
    async putConfigDocuments(sources, by) {
      const saved = await putConfigDocuments(prisma, sources, { createdById: by?.createdById ?? null });
      dispatch.flows.invalidate();
      return saved;
    },
    createJob: (input, by) =>
      createJob(prisma, input, { now: clock.now(), createdById: by?.createdById ?? null }),
  };
}

function child(logger: Logger, component: string): Logger {
  const add = (fields?: Readonly<Record<string, unknown>>) => ({ component, ...fields });
  return {
    debug: (msg, fields) => logger.debug(msg, add(fields)),
    info: (msg, fields) => logger.info(msg, add(fields)),
    warn: (msg, fields) => logger.warn(msg, add(fields)),
    error: (msg, fields) => logger.error(msg, add(fields)),
  };
}
