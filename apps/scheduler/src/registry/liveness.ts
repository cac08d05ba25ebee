/**
 * The liveness scan (every `scanIntervalMs`): every member of every group in `groups()`, heartbeat keys
 * read with MGET. A member without a heartbeat (the TTL of 3 beats expired) is taken out of Redis
 * atomically (see `expireMembers`), marked offline in Postgres with history, and reported through
 * `onExecutorsOffline`: with a 6 s TTL and a 1 s scan that is within ~7 s of a SIGKILL.
 *
 * Every `heartbeatFlushMs` (10 s) it also writes `last_heartbeat_at` of all live executors in one
 * statement (not every beat of thousands of executors), and reconciles Postgres with Redis: executors
 * Postgres has online or draining but without a live heartbeat (their Redis state was lost, or a replica
 * died between the Redis removal and the Postgres write) are marked offline and reported too.
 *
 * A live member that Postgres does not know (its registration entry was missed) is recorded from its
 * Redis record once it has been unknown for `unknownMemberGraceMs`, which leaves the stream consumer time
 * to record it first.
 */
import type { Redis } from 'ioredis';
import type { Heartbeat, Keyspace } from '@kisjobs/protocol';
import { recordExecutorHeartbeats, type PrismaClient } from '@kisjobs/db';
import type { Clock, Logger } from './ports.js';
import type { ExecutorRecorder } from './recorder.js';
import {
  decodeHeartbeat,
  drainingKey,
  expireMembers,
  mgetChunked,
  readMembers,
  readRecords,
} from './live-state.js';

export interface LivenessOptions {
  readonly recorder: ExecutorRecorder;
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly heartbeatFlushMs: number;
  readonly unknownMemberGraceMs: number;
}

/** A drain request is sent again this often until the executor's heartbeat says it is draining. */
const DRAIN_RESEND_MS = 5_000;

export interface ScanStats {
  members: number;
  live: number;
  lastScanMs: number;
  lastScanAt: Date | null;
}

export class LivenessMonitor {
  readonly stats: ScanStats = { members: 0, live: 0, lastScanMs: 0, lastScanAt: null };
  readonly #o: LivenessOptions;
  /** Removed from Redis, not yet recorded offline in Postgres (kept across failed ticks). */
  readonly #pendingOffline = new Set<string>();
  readonly #unknownSince = new Map<string, number>();
  readonly #drainSentAt = new Map<string, number>();
  #lastFlushAt = Number.NEGATIVE_INFINITY;

  constructor(options: LivenessOptions) {
    this.#o = options;
  }

  async tick(): Promise<void> {
    const started = performance.now();
    const { redis, keyspace: ks, recorder } = this.#o;
    const members = await readMembers(redis, ks);
    const ids = [...members.keys()];
    const raw = await mgetChunked(
      redis,
      ids.map((id) => ks.heartbeat(id)),
    );
    const live = new Map<string, Heartbeat | undefined>();
    const missing: { instanceId: string; group: string }[] = [];
    ids.forEach((id, i) => {
      const value = raw[i];
      if (value === null || value === undefined) {
        missing.push({ instanceId: id, group: members.get(id) ?? '' });
        return;
      }
      const heartbeat = decodeHeartbeat(value);
      live.set(id, heartbeat);
      if (heartbeat !== undefined) recorder.rememberHeartbeat(heartbeat);
    });
    for (const id of await expireMembers(redis, ks, missing)) this.#pendingOffline.add(id);
    this.stats.members = ids.length;
    this.stats.live = live.size;
    this.stats.lastScanAt = this.#o.clock.now();

    // Postgres from here on: a failure leaves #pendingOffline for the next tick.
    await this.#recordOffline();
    if (performance.now() - this.#lastFlushAt >= this.#o.heartbeatFlushMs) {
      await this.#reconcile();
      await recordExecutorHeartbeats(this.#o.prisma, [...live.keys()], this.#o.clock.now());
      this.#lastFlushAt = performance.now();
    }
    await this.#recordUnknown([...live.keys()]);
    await this.#resendDrains(live);
    recorder.forgetOld();
    this.stats.lastScanMs = Math.round(performance.now() - started);
  }

  async #recordOffline(): Promise<void> {
    if (this.#pendingOffline.size === 0) return;
    const ids = [...this.#pendingOffline];
    const changed = await this.#o.recorder.offline(ids, 'offline', { reason: 'heartbeat expired' });
    for (const id of ids) this.#pendingOffline.delete(id);
    this.#o.recorder.notifyOfflineInBackground(changed);
  }

  /** Postgres online/draining but not live in Redis → offline; Postgres draining → Redis draining mirror. */
  async #reconcile(): Promise<void> {
    const { prisma, redis, keyspace: ks, recorder } = this.#o;
    const rows = await prisma.executor.findMany({
      where: { status: { in: ['online', 'draining'] } },
      select: { instanceId: true, status: true },
    });
    const beats = await mgetChunked(
      redis,
      rows.map((row) => ks.heartbeat(row.instanceId)),
    );
    const dead: string[] = [];
    const draining: string[] = [];
    rows.forEach((row, i) => {
      if (beats[i] === null || beats[i] === undefined) dead.push(row.instanceId);
      else if (row.status === 'draining') draining.push(row.instanceId);
    });
    recorder.known = new Set(rows.map((row) => row.instanceId));
    if (draining.length > 0) await redis.sadd(drainingKey(ks), ...draining);
    if (dead.length === 0) return;
    const changed = await recorder.offline(dead, 'offline', { reason: 'no live heartbeat in Redis' });
    recorder.notifyOfflineInBackground(changed);
  }

  async #recordUnknown(liveIds: readonly string[]): Promise<void> {
    const { prisma, redis, keyspace: ks, recorder, unknownMemberGraceMs } = this.#o;
    const now = performance.now();
    const unknown = new Set(liveIds.filter((id) => !recorder.known.has(id)));
    for (const id of this.#unknownSince.keys()) if (!unknown.has(id)) this.#unknownSince.delete(id);
    const due: string[] = [];
    for (const id of unknown) {
      const since = this.#unknownSince.get(id);
      if (since === undefined) this.#unknownSince.set(id, now);
      else if (now - since >= unknownMemberGraceMs) due.push(id);
    }
    if (due.length === 0) return;
    const rows = await prisma.executor.findMany({
      where: { instanceId: { in: due } },
      select: { instanceId: true, status: true },
    });
    const status = new Map(rows.map((row) => [row.instanceId, row.status]));
    const toRecord: string[] = [];
    for (const id of due) {
      const current = status.get(id);
      if (current === 'online' || current === 'draining') recorder.known.add(id);
      else toRecord.push(id);
    }
    const records = await readRecords(redis, ks, toRecord);
    for (const [id, record] of records) {
      this.#unknownSince.delete(id);
      if (record === undefined) continue;
      this.#o.logger.info('recording a live executor whose registration entry was missed', {
        instanceId: id,
      });
      await recorder.registered(record, 'scan');
    }
  }

  /** Pub/sub can miss: repeat the drain request to executors that do not report draining yet. */
  async #resendDrains(live: ReadonlyMap<string, Heartbeat | undefined>): Promise<void> {
    const { redis, keyspace: ks, recorder } = this.#o;
    const draining = await redis.smembers(drainingKey(ks));
    const now = performance.now();
    const current = new Set(draining);
    for (const id of this.#drainSentAt.keys()) if (!current.has(id)) this.#drainSentAt.delete(id);
    for (const id of draining) {
      const heartbeat = live.get(id);
      if (heartbeat === undefined || heartbeat.draining) continue;
      const sentAt = this.#drainSentAt.get(id);
      if (sentAt !== undefined && now - sentAt < DRAIN_RESEND_MS) continue;
      this.#drainSentAt.set(id, now);
      await recorder.publishDrain(id, 'scheduler');
    }
  }

  /** The operator's drain was just published: do not send it again for a while. */
  drainSent(instanceId: string): void {
    this.#drainSentAt.set(instanceId, performance.now());
  }
}
