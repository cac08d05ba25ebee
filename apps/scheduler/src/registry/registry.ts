/**
 * `createExecutorRegistry`: the scheduler's side of executor registration (DESIGN §4). It composes
 * - the token mirror (tokens.ts): group tokens hashed in Postgres, mirrored to Redis, repaired every 30 s;
 * - the registry stream consumer (registry-stream.ts): registrations, refusals, deregistrations;
 * - the liveness scan (liveness.ts): offline within 10 s of a SIGKILL, batched heartbeat writes,
 *   Postgres/Redis reconciliation;
 * and answers the dispatcher's and the API's questions (queries.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { NotFoundError, REGISTRY_CONSUMER_GROUP, type Heartbeat } from '@kisjobs/protocol';
import { listExecutorEvents, setExecutorStatus, type ExecutorEvent } from '@kisjobs/db';
import { ConsumerLoop } from '../ingest/consumer-loop.js';
import { StreamGroup } from '../ingest/stream-group.js';
import { LivenessMonitor } from './liveness.js';
import { drainingKey, readHeartbeats } from './live-state.js';
import { errorMessage } from './ports.js';
import { listExecutors, onlineExecutors } from './queries.js';
import { ExecutorRecorder } from './recorder.js';
import { RegistryStreamHandler } from './registry-stream.js';
import { CLOSE_TIMEOUT_MS, PeriodicTask, settleWithin } from './timers.js';
import { TokenMirror, type CreateGroupInput, type TokenSyncResult } from './tokens.js';
import type {
  ExecutorInfo,
  ExecutorRegistryOptions,
  ExecutorRegistryService,
  OnlineExecutor,
  RegistryStats,
  RemoveExecutorResult,
} from './types.js';

export function createExecutorRegistry(options: ExecutorRegistryOptions): ExecutorRegistryService {
  return new ExecutorRegistry(options);
}

class ExecutorRegistry implements ExecutorRegistryService {
  readonly #o: ExecutorRegistryOptions;
  readonly #tokens: TokenMirror;
  readonly #recorder: ExecutorRecorder;
  readonly #liveness: LivenessMonitor;
  readonly #blocking: Redis;
  readonly #group: StreamGroup;
  readonly #loop: ConsumerLoop;
  readonly #scanTask: PeriodicTask;
  readonly #tokenTask: PeriodicTask;
  #started = false;

  constructor(options: ExecutorRegistryOptions) {
    this.#o = options;
    const { redis, keyspace: ks, logger } = options;
    this.#tokens = new TokenMirror(options);
    this.#recorder = new ExecutorRecorder(options);
    this.#liveness = new LivenessMonitor({
      ...options,
      recorder: this.#recorder,
      heartbeatFlushMs: options.heartbeatFlushMs ?? 10_000,
      unknownMemberGraceMs: options.unknownMemberGraceMs ?? 3_000,
    });
    const consumer = options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#blocking = redis.duplicate({ connectionName: `kisjobs-registry-${consumer}` });
    this.#blocking.on('error', () => undefined); // reported through the loop's failures
    this.#group = new StreamGroup({
      redis,
      blocking: this.#blocking,
      streams: [ks.registryStream()],
      group: REGISTRY_CONSUMER_GROUP,
      consumer,
      count: 100,
      blockMs: 1_000,
      deadLetterStream: ks.deadLetterStream(),
    });
    const handler = new RegistryStreamHandler({ ...options, recorder: this.#recorder, group: this.#group });
    this.#loop = new ConsumerLoop({
      group: this.#group,
      logger,
      what: 'executor registry stream',
      claimMinIdleMs: options.claimMinIdleMs ?? 30_000,
      claimIntervalMs: 5_000,
      maxBackoffMs: 5_000,
      handle: (entries) => handler.handle(entries),
    });
    this.#scanTask = new PeriodicTask(
      'executor liveness scan',
      options.scanIntervalMs ?? 1_000,
      () => this.#liveness.tick(),
      logger,
    );
    const syncEvery = options.tokenSyncIntervalMs ?? 30_000;
    this.#tokenTask = new PeriodicTask(
      'registration token sync',
      syncEvery,
      async () => {
        await this.#tokens.syncTokens();
      },
      logger,
    );
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const syncEvery = this.#o.tokenSyncIntervalMs ?? 30_000;
    try {
      await this.#tokens.syncTokens();
      this.#tokenTask.start(syncEvery);
    } catch (error) {
      this.#o.logger.warn('registration tokens not synced yet; retrying in the background', {
        error: errorMessage(error),
      });
      this.#tokenTask.start();
    }
    try {
      await this.#group.ensureGroups();
    } catch (error) {
      this.#o.logger.warn('registry consumer group not created yet; retrying', {
        error: errorMessage(error),
      });
    }
    this.#loop.start();
    this.#scanTask.start();
  }

  async close(): Promise<void> {
    const stopped = Promise.all([this.#loop.stop(), this.#scanTask.stop(), this.#tokenTask.stop()]);
    this.#blocking.disconnect();
    const done = await settleWithin(
      stopped.then(() => this.#recorder.close()),
      CLOSE_TIMEOUT_MS,
    );
    if (!done) this.#o.logger.warn('registry closed while waiting for Redis or Postgres');
  }

  createGroup(input: CreateGroupInput) {
    return this.#tokens.createGroup(input);
  }

  rotateGroupToken(name: string): Promise<{ token: string }> {
    return this.#tokens.rotateGroupToken(name);
  }

  syncTokens(): Promise<TokenSyncResult> {
    return this.#tokens.syncTokens();
  }

  onlineExecutors(group: string): Promise<OnlineExecutor[]> {
    return onlineExecutors(this.#o.redis, this.#o.keyspace, group);
  }

  async heartbeatOf(instanceId: string): Promise<Heartbeat | undefined> {
    return (await readHeartbeats(this.#o.redis, this.#o.keyspace, [instanceId])).get(instanceId);
  }

  heartbeatsOf(instanceIds: readonly string[]): Promise<Map<string, Heartbeat | undefined>> {
    return readHeartbeats(this.#o.redis, this.#o.keyspace, instanceIds);
  }

  lastKnownHeartbeat(instanceId: string): Heartbeat | undefined {
    return this.#recorder.lastKnownHeartbeat(instanceId);
  }

  listExecutors(filter?: {
    readonly group?: string;
    readonly includeRemoved?: boolean;
  }): Promise<ExecutorInfo[]> {
    return listExecutors(this.#o.prisma, this.#o.redis, this.#o.keyspace, filter);
  }

  async executorHistory(instanceId: string, limit?: number): Promise<ExecutorEvent[]> {
    const row = await this.#o.prisma.executor.findUnique({ where: { instanceId }, select: { id: true } });
    if (row === null) throw new NotFoundError('executor', instanceId);
    return listExecutorEvents(this.#o.prisma, row.id, limit);
  }

  /**
   * A live executor is drained: flagged in Redis first (routing skips it from this moment), `draining` in
   * Postgres with history, and told over its control channel (repeated by the scan until its heartbeat
   * says draining). It finishes its runs and deregisters. An executor that is not live is `removed`.
   */
  async removeExecutor(
    instanceId: string,
    by: { readonly requestedBy: string },
  ): Promise<RemoveExecutorResult> {
    const { prisma, redis, keyspace: ks, clock, logger } = this.#o;
    const row = await prisma.executor.findUnique({ where: { instanceId }, select: { status: true } });
    const live = (await redis.exists(ks.heartbeat(instanceId))) === 1;
    if (row === null && !live) throw new NotFoundError('executor', instanceId);
    const change = { at: clock.now(), details: { requestedBy: by.requestedBy } };
    if (!live) {
      await setExecutorStatus(prisma, instanceId, 'removed', change);
      logger.info('executor removed', { instanceId, requestedBy: by.requestedBy });
      return { instanceId, status: 'removed' };
    }
    await redis.sadd(drainingKey(ks), instanceId);
    if (row !== null) await setExecutorStatus(prisma, instanceId, 'draining', change);
    await this.#recorder.publishDrain(instanceId, by.requestedBy);
    this.#liveness.drainSent(instanceId);
    logger.info('executor draining', { instanceId, requestedBy: by.requestedBy });
    return { instanceId, status: 'draining' };
  }

  stats(): RegistryStats {
    const scan = this.#liveness.stats;
    const counters = this.#recorder.counters;
    return {
      members: scan.members,
      live: scan.live,
      lastScanMs: scan.lastScanMs,
      lastScanAt: scan.lastScanAt,
      offlineDetected: counters.offlineDetected,
      registrations: counters.registrations,
      rejections: counters.rejections,
      deregistrations: counters.deregistrations,
    };
  }
}
