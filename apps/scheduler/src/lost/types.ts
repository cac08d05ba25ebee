/** The lost-run detector's shapes: what it reports and what it needs. */
import type { Redis } from 'ioredis';
import type { Heartbeat, Keyspace } from '@kisjobs/protocol';
import type { PrismaClient } from '@kisjobs/db';
import type { Clock, Logger } from '../registry/ports.js';

/** Why a run is considered lost. */
export type LostCause =
  /** Its executor has no live heartbeat: the run was running there, or the executor had taken it. */
  | 'executor_offline'
  /** Running on a live executor whose heartbeats stopped listing it (the executor lost it). */
  | 'not_in_heartbeat'
  /** Pending past the threshold and its BullMQ job does not exist. */
  | 'queue_job_missing'
  /** Pending and BullMQ failed its job (stalled: the worker died before the run's `started`). */
  | 'queue_job_failed'
  /** Pending and BullMQ completed its job, yet no result ever arrived. */
  | 'queue_job_completed'
  /** Pending, active in BullMQ, but the job's lock expired: the worker that took it is gone. */
  | 'queue_job_abandoned';

export interface LostRun {
  readonly runId: string;
  readonly jobId: string | null;
  readonly status: 'pending' | 'running';
  readonly attempt: number;
  readonly executorGroup: string | null;
  readonly executorInstanceId: string | null;
  readonly cause: LostCause;
  /** One human line, fit for the run's error message. */
  readonly reason: string;
  readonly detectedAt: Date;
}

/** A pending run still waiting in the direct queue of an executor that is offline: route it again. */
export interface StrandedRun {
  readonly runId: string;
  readonly jobId: string | null;
  readonly executorGroup: string | null;
  readonly executorInstanceId: string;
  readonly queue: string;
  readonly detectedAt: Date;
}

/** A run that is not final, as the detector reads it. */
export interface ActiveRun {
  readonly id: string;
  readonly jobId: string | null;
  readonly status: 'pending' | 'running';
  readonly attempt: number;
  readonly executorGroup: string | null;
  readonly executorInstanceId: string | null;
  readonly triggeredAt: Date;
  readonly startedAt: Date | null;
  /**
   * The queue the dispatcher put it on (`runs.target_queue`), when that column exists; `dispatched` is
   * false for a run held back (serial) and not yet on any queue. Undefined: the column does not exist.
   */
  readonly targetQueue?: string | null;
  readonly dispatched?: boolean;
}

export interface HeartbeatSource {
  heartbeatsOf(instanceIds: readonly string[]): Promise<Map<string, Heartbeat | undefined>>;
  lastKnownHeartbeat(instanceId: string): Heartbeat | undefined;
}

export interface LostRunDetectorOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The executor registry (its `heartbeatsOf` and `lastKnownHeartbeat`). */
  readonly registry: HeartbeatSource;
  /** Sweep period (default 1000 ms). */
  readonly intervalMs?: number;
  /** The dispatcher marks them `lost` or retries them; it must treat a repeat as a no-op. */
  readonly onRunsLost: (runs: LostRun[]) => Promise<void>;
  /** Pending runs stuck in an offline executor's direct queue; without it they are only logged. */
  readonly onRunsStranded?: (runs: StrandedRun[]) => Promise<void>;
  /** A pending run is checked against BullMQ once it is this old (default 30 s after triggeredAt). */
  readonly pendingThresholdMs?: number;
  /** Consecutive heartbeats that must omit a running run (default 2)... */
  readonly missedBeats?: number;
  /** ...spanning at least this long by the executor's clock (default 1500 ms; pings beat in between). */
  readonly minMissSpanMs?: number;
  /** A pending suspect is confirmed by a second look this much later (default 2000 ms). */
  readonly confirmMs?: number;
  /** The BullMQ state of one pending run is read at most this often (default 5 s). */
  readonly probeIntervalMs?: number;
  /** BullMQ state reads per sweep, at most (default 200); a waiting job is read less and less often. */
  readonly maxProbesPerSweep?: number;
  /** A reported run still not final is reported again after this (default 30 s). */
  readonly reportAgainMs?: number;
  /**
   * After a Redis reset (its epoch key vanished or changed) nothing is judged for this long (default one
   * heartbeat TTL plus 4 s): live executors re-register at their next beat, and queued runs are enqueued
   * again by the dispatcher's redispatch.
   */
  readonly resetGraceMs?: number;
  /** Active runs read per sweep (default 20,000). */
  readonly maxRunsPerSweep?: number;
  /**
   * The BullMQ queue a pending run waits in; `null` = not dispatched yet (held back, e.g. a serial queue),
   * so never "missing". Default: `runs.target_queue` (and `dispatched_at` null = held) when those columns
   * exist; otherwise the direct queue of `executorInstanceId`, else the group queue.
   */
  readonly targetQueueOf?: (run: ActiveRun) => string | null;
  /** Replica id for the sweep lease (default `<host>-<pid>-<random>`). */
  readonly ownerId?: string;
}

export interface LostRunDetectorStats {
  readonly sweeps: number;
  readonly leaseHeld: boolean;
  readonly reported: number;
  readonly stranded: number;
  /** Decisions postponed because older run events were not ingested yet. */
  readonly deferred: number;
  readonly suspects: number;
  readonly lastSweepMs: number;
}

export interface LostRunDetector {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Call from the registry's onExecutorsOffline: their runs are looked at at once. */
  handleExecutorsOffline(instanceIds: readonly string[]): Promise<void>;
  /** One sweep now (the periodic one runs on the lease holder only). */
  sweep(): Promise<void>;
  stats(): LostRunDetectorStats;
}
