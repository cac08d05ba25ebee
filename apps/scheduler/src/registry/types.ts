/** The executor registry's public shapes: options, the service, and what its queries return. */
import type { Redis } from 'ioredis';
import type { ExecutorStatus, Heartbeat, Keyspace } from '@kisjobs/protocol';
import type { ExecutorEvent, ExecutorGroup, PrismaClient } from '@kisjobs/db';
import type { Clock, Logger } from './ports.js';
import type { CreateGroupInput, TokenSyncResult } from './tokens.js';

export interface ExecutorRegistryOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Liveness scan period (default 1000 ms). */
  readonly scanIntervalMs?: number;
  /**
   * Executors that went offline (heartbeat expired, or deregistered), once each across replicas: the ids
   * whose Postgres status this replica changed. Re-route their direct queues; find their runs.
   */
  readonly onExecutorsOffline?: (instanceIds: string[]) => Promise<void>;
  /** Registry stream consumer name, unique per replica (default `<host>-<pid>-<random>`). */
  readonly consumerName?: string;
  /** Token mirror repair period (default 30 s). */
  readonly tokenSyncIntervalMs?: number;
  /**
   * How often live executors' `last_heartbeat_at` is written to Postgres, in one statement for all, and
   * Postgres is reconciled with Redis (executors Postgres has online but that are not live) (default 10 s).
   */
  readonly heartbeatFlushMs?: number;
  /** A live member unknown to Postgres (its stream entry was missed) is recorded after this (default 3 s). */
  readonly unknownMemberGraceMs?: number;
  /** Registry stream entries idle this long in a dead consumer are taken over (default 30 s). */
  readonly claimMinIdleMs?: number;
}

/** An executor that can take runs now: live heartbeat, not draining, not removed. */
export interface OnlineExecutor {
  readonly instanceId: string;
  readonly group: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly functions: string[];
  readonly connectorTypes: string[];
  readonly concurrency: number;
  /** When the executor process started (its record's `startedAt`), ms: a stable order for failover. */
  readonly registeredAt: number;
  readonly activeRuns: number;
  readonly load: number;
  readonly runIds: string[];
  /** Always false here (draining executors are left out); kept so one shape serves every list. */
  readonly draining: boolean;
}

/** An executor as the API lists it: its Postgres row and history status, plus its live state. */
export interface ExecutorInfo {
  readonly id: string;
  readonly instanceId: string;
  readonly group: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly functions: string[];
  readonly concurrency: number;
  /** Postgres status: online, offline, draining or removed. */
  readonly status: ExecutorStatus;
  readonly registeredAt: Date;
  readonly lastHeartbeatAt: Date;
  readonly offlineAt: Date | null;
  /** Has a live heartbeat in Redis now. */
  readonly live: boolean;
  /** An operator drained it, or its heartbeat says it is draining. */
  readonly draining: boolean;
  readonly heartbeat: Heartbeat | null;
}

export interface RemoveExecutorResult {
  readonly instanceId: string;
  /** `draining` for a live executor (it finishes its runs, then deregisters); `removed` for a dead one. */
  readonly status: 'draining' | 'removed';
}

export interface RegistryStats {
  readonly members: number;
  readonly live: number;
  readonly lastScanMs: number;
  readonly lastScanAt: Date | null;
  readonly offlineDetected: number;
  readonly registrations: number;
  readonly rejections: number;
  readonly deregistrations: number;
}

export interface ExecutorRegistryService {
  /** Syncs tokens, loads what Postgres knows, starts the stream consumer and the liveness scan. */
  start(): Promise<void>;
  close(): Promise<void>;

  createGroup(input: CreateGroupInput): Promise<{ group: ExecutorGroup; token: string }>;
  rotateGroupToken(name: string): Promise<{ token: string }>;
  syncTokens(): Promise<TokenSyncResult>;

  onlineExecutors(group: string): Promise<OnlineExecutor[]>;
  heartbeatOf(instanceId: string): Promise<Heartbeat | undefined>;
  /** Live heartbeats of many executors in one round trip (undefined = not live). */
  heartbeatsOf(instanceIds: readonly string[]): Promise<Map<string, Heartbeat | undefined>>;
  /** The last heartbeat this replica saw, kept for a while after the executor went offline. */
  lastKnownHeartbeat(instanceId: string): Heartbeat | undefined;
  listExecutors(filter?: {
    readonly group?: string;
    readonly includeRemoved?: boolean;
  }): Promise<ExecutorInfo[]>;
  executorHistory(instanceId: string, limit?: number): Promise<ExecutorEvent[]>;

  /** DRAIN (see RemoveExecutorResult). Routing stops choosing it at once. */
  removeExecutor(instanceId: string, by: { readonly requestedBy: string }): Promise<RemoveExecutorResult>;
  stats(): RegistryStats;
}
