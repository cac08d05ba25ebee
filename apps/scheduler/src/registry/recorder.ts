/**
 * What the registry decides, written down: registrations and offline transitions in Postgres (with their
 * executor_events history, by the db repositories), the Redis draining mirror kept in step, the drain
 * request to an executor, and the `onExecutorsOffline` notification. Shared by the registry stream
 * consumer and the liveness scan, together with the in-memory view both keep up to date.
 */
import type { Redis } from 'ioredis';
import { encodePayload, type ExecutorRecord, type Heartbeat, type Keyspace } from '@kisjobs/protocol';
import { markExecutorsOffline, registerExecutor, type PrismaClient } from '@kisjobs/db';
import { errorMessage, type Clock, type Logger } from './ports.js';
import { Sleeper, backoffMs } from './timers.js';
import { drainingKey } from './live-state.js';

export interface RecorderOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly onExecutorsOffline?: (instanceIds: string[]) => Promise<void>;
}

/** How long the last heartbeat of an executor that went offline is remembered (for lost-run detection). */
const REMEMBER_OFFLINE_MS = 10 * 60_000;
const GROUP_CACHE_MS = 60_000;
const NOTIFY_ATTEMPTS = 3;

export interface RecorderCounters {
  registrations: number;
  rejections: number;
  deregistrations: number;
  offlineDetected: number;
}

export class ExecutorRecorder {
  /** Executors Postgres has `online` or `draining` (refreshed by the reconciliation). */
  known = new Set<string>();
  readonly counters: RecorderCounters = {
    registrations: 0,
    rejections: 0,
    deregistrations: 0,
    offlineDetected: 0,
  };
  readonly #o: RecorderOptions;
  readonly #lastHeartbeats = new Map<string, { heartbeat: Heartbeat; seenAt: number }>();
  readonly #groupIds = new Map<string, { id: string; at: number }>();
  readonly #sleeper = new Sleeper();
  readonly #background = new Set<Promise<void>>();

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  /** Waits for notifications still under way (their retries end at once). */
  async close(): Promise<void> {
    this.#sleeper.close();
    await Promise.allSettled([...this.#background]);
  }

  rememberHeartbeat(heartbeat: Heartbeat): void {
    this.#lastHeartbeats.set(heartbeat.instanceId, { heartbeat, seenAt: performance.now() });
  }

  lastKnownHeartbeat(instanceId: string): Heartbeat | undefined {
    return this.#lastHeartbeats.get(instanceId)?.heartbeat;
  }

  /** Drops remembered heartbeats of executors not seen for a long while. */
  forgetOld(): void {
    const horizon = performance.now() - REMEMBER_OFFLINE_MS;
    for (const [id, seen] of this.#lastHeartbeats) if (seen.seenAt < horizon) this.#lastHeartbeats.delete(id);
  }

  /**
   * Upserts an executor that registered (`source` says how we learnt of it). An executor an operator
   * drained or removed keeps that status in Postgres; it is kept out of routing and asked to drain again.
   */
  async registered(record: ExecutorRecord, source: 'stream' | 'scan'): Promise<void> {
    const { prisma, redis, keyspace: ks, logger, clock } = this.#o;
    const groupId = await this.#groupId(record.group);
    if (groupId === undefined) {
      logger.warn(
        `executor ${record.instanceId} registered for group ${record.group}, which does not exist`,
        {
          instanceId: record.instanceId,
          group: record.group,
        },
      );
      return;
    }
    const row = await registerExecutor(prisma, {
      instanceId: record.instanceId,
      groupId,
      host: record.host,
      pid: record.pid,
      version: record.version,
      functions: record.functions,
      concurrency: record.concurrency,
      metadata: { connectorTypes: record.connectorTypes, startedAt: record.startedAt, source },
      at: clock.now(),
    });
    this.known.add(record.instanceId);
    this.counters.registrations += 1;
    if (row.status === 'draining' || row.status === 'removed') {
      await redis.sadd(drainingKey(ks), record.instanceId);
      await this.publishDrain(record.instanceId, 'scheduler');
      logger.warn(`executor ${record.instanceId} registered again while ${row.status}; it gets no new runs`, {
        instanceId: record.instanceId,
        group: record.group,
      });
      return;
    }
    await redis.srem(drainingKey(ks), record.instanceId);
    logger.info('executor registered', {
      instanceId: record.instanceId,
      group: record.group,
      host: record.host,
      pid: record.pid,
      version: record.version,
      source,
    });
  }

  /**
   * Marks executors offline (`offline`: heartbeat gone; `deregistered`: clean shutdown) with history, and
   * takes them out of the draining mirror. Returns the ids whose Postgres status changed: across
   * replicas, each transition is returned exactly once.
   */
  async offline(
    instanceIds: readonly string[],
    reason: 'offline' | 'deregistered',
    details: Readonly<Record<string, unknown>>,
  ): Promise<string[]> {
    if (instanceIds.length === 0) return [];
    const { prisma, redis, keyspace: ks, logger, clock } = this.#o;
    const changed = await markExecutorsOffline(prisma, instanceIds, reason, { at: clock.now(), details });
    for (const id of instanceIds) this.known.delete(id);
    await redis.srem(drainingKey(ks), ...instanceIds);
    this.counters.offlineDetected += reason === 'offline' ? changed.length : 0;
    this.counters.deregistrations += reason === 'deregistered' ? 1 : 0;
    if (changed.length > 0) {
      const line = reason === 'offline' ? 'executors went offline' : 'executor deregistered';
      logger[reason === 'offline' ? 'warn' : 'info'](line, {
        instanceIds: changed.slice(0, 50),
        count: changed.length,
        ...details,
      });
    }
    return changed;
  }

  /** Calls `onExecutorsOffline`, retrying a failure a few times; never throws. */
  async notifyOffline(instanceIds: readonly string[]): Promise<void> {
    const callback = this.#o.onExecutorsOffline;
    if (instanceIds.length === 0 || callback === undefined) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await callback([...instanceIds]);
        return;
      } catch (error) {
        if (attempt >= NOTIFY_ATTEMPTS) {
          this.#o.logger.error('onExecutorsOffline failed', {
            instanceIds: instanceIds.slice(0, 50),
            error: errorMessage(error),
          });
          return;
        }
        await this.#sleeper.sleep(backoffMs(attempt, 200, 2_000));
      }
    }
  }

  /** `notifyOffline` without waiting for it, so a slow callback never delays the liveness scan. */
  notifyOfflineInBackground(instanceIds: readonly string[]): void {
    if (instanceIds.length === 0) return;
    const done = this.notifyOffline(instanceIds);
    this.#background.add(done);
    void done.finally(() => this.#background.delete(done));
  }

  /** Asks one executor to drain: stop taking runs, finish the active ones, deregister. */
  async publishDrain(instanceId: string, requestedBy: string): Promise<void> {
    const { redis, keyspace: ks, clock } = this.#o;
    const message = encodePayload('control', {
      type: 'drain',
      instanceId,
      requestedBy,
      at: clock.now().toISOString(),
    });
    await redis.publish(ks.executorControlChannel(instanceId), message);
  }

  async #groupId(name: string): Promise<string | undefined> {
    const cached = this.#groupIds.get(name);
    if (cached !== undefined && performance.now() - cached.at < GROUP_CACHE_MS) return cached.id;
    const group = await this.#o.prisma.executorGroup.findUnique({ where: { name }, select: { id: true } });
    if (group === null) {
      this.#groupIds.delete(name);
      return undefined;
    }
    this.#groupIds.set(name, { id: group.id, at: performance.now() });
    return group.id;
  }
}
