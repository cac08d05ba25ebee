/**
 * The executor registry's durable side: who registered, their status, and a history of status changes. The
 * live registry (heartbeats with a TTL) is in Redis; the scheduler writes here what it decides.
 */
import type { DbClient } from '../client.js';
import type { Executor, ExecutorEvent } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import type { ExecutorStatus } from '../vocabulary.js';
import { jsonRows } from './batches.js';

export interface ExecutorRegistration {
  readonly instanceId: string;
  readonly groupId: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly functions: readonly string[];
  readonly concurrency: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

const registerSql = `
WITH up AS (
  INSERT INTO executors (
    id, instance_id, group_id, host, pid, version, functions, concurrency, status,
    registered_at, last_heartbeat_at, offline_at, metadata, updated_at
  )
  VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, 'online', $9::timestamptz, $9::timestamptz, NULL, $10::jsonb, now())
  ON CONFLICT (instance_id) DO UPDATE SET
    group_id = EXCLUDED.group_id, host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version,
    functions = EXCLUDED.functions, concurrency = EXCLUDED.concurrency,
    status = CASE WHEN executors.status IN ('draining', 'removed') THEN executors.status ELSE 'online' END,
    registered_at = EXCLUDED.registered_at, last_heartbeat_at = EXCLUDED.last_heartbeat_at,
    offline_at = NULL, metadata = EXCLUDED.metadata, updated_at = now()
  RETURNING id
), event AS (
  INSERT INTO executor_events (id, executor_id, type, at, details)
  SELECT $11, up.id, 'registered', $9::timestamptz, $12::jsonb FROM up
)
SELECT id FROM up`;

/**
 * Records a registration: inserts the executor, or refreshes the one with the same instance id and brings it
 * back online. An executor an operator is draining or has removed keeps that status. Appends a `registered`
 * event in the same statement.
 */
export async function registerExecutor(db: DbClient, registration: ExecutorRegistration): Promise<Executor> {
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    registerSql,
    newId('exe'),
    registration.instanceId,
    registration.groupId,
    registration.host,
    registration.pid,
    registration.version,
    [...registration.functions],
    registration.concurrency,
    registration.at.toISOString(),
    JSON.stringify(registration.metadata ?? {}),
    newId('xev'),
    JSON.stringify({ host: registration.host, pid: registration.pid, version: registration.version }),
  );
  const id = rows[0]?.id;
  return db.executor.findUniqueOrThrow({
    where: id === undefined ? { instanceId: registration.instanceId } : { id },
  });
}

/** Moves `lastHeartbeatAt` forward (never back) for executors that are online or draining; returns the count. */
export async function recordExecutorHeartbeats(
  db: DbClient,
  instanceIds: readonly string[],
  at: Date,
): Promise<number> {
  if (instanceIds.length === 0) return 0;
  return db.$executeRawUnsafe(
    `UPDATE executors SET last_heartbeat_at = GREATEST(last_heartbeat_at, $2::timestamptz), updated_at = now()
     WHERE instance_id = ANY($1::text[]) AND status IN ('online', 'draining')`,
    [...instanceIds],
    at.toISOString(),
  );
}

export interface ExecutorChange {
  readonly at: Date;
  readonly details?: Readonly<Record<string, unknown>>;
}

const offlineSql = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(instance_id text, event_id text)
), changed AS (
  UPDATE executors AS e
  SET status = 'offline', offline_at = $3::timestamptz, updated_at = now()
  FROM input AS i
  WHERE e.instance_id = i.instance_id AND e.status IN ('online', 'draining')
  RETURNING e.id, e.instance_id, i.event_id
), event AS (
  INSERT INTO executor_events (id, executor_id, type, at, details)
  SELECT c.event_id, c.id, $2::executor_event_type, $3::timestamptz, $4::jsonb FROM changed AS c
)
SELECT instance_id FROM changed`;

/**
 * Marks executors offline, either because their heartbeat stopped (`offline`) or because they shut down
 * cleanly (`deregistered`), with one history event each. Executors already offline or removed are left
 * alone. Returns the instance ids that changed, whose runs the caller must now route again or mark lost.
 */
export async function markExecutorsOffline(
  db: DbClient,
  instanceIds: readonly string[],
  reason: 'offline' | 'deregistered',
  change: ExecutorChange,
): Promise<string[]> {
  if (instanceIds.length === 0) return [];
  const input = [...new Set(instanceIds)].map((instanceId) => ({
    instance_id: instanceId,
    event_id: newId('xev'),
  }));
  const rows = await db.$queryRawUnsafe<{ instance_id: string }[]>(
    offlineSql,
    jsonRows(input),
    reason,
    change.at.toISOString(),
    JSON.stringify(change.details ?? {}),
  );
  return rows.map((row) => row.instance_id);
}

const statusSql = `
WITH changed AS (
  UPDATE executors SET status = $2::executor_status, updated_at = now()
  WHERE instance_id = $1 AND status <> $2::executor_status AND status <> 'removed'
  RETURNING id
), event AS (
  INSERT INTO executor_events (id, executor_id, type, at, details)
  SELECT $3, changed.id, $2::text::executor_event_type, $4::timestamptz, $5::jsonb FROM changed
)
SELECT id FROM changed`;

/**
 * An operator's decision: drain an executor (it finishes its runs and takes no new ones), put it back
 * online, or remove it. `removed` is final. Returns false when nothing changed.
 */
export async function setExecutorStatus(
  db: DbClient,
  instanceId: string,
  status: Exclude<ExecutorStatus, 'offline'>,
  change: ExecutorChange,
): Promise<boolean> {
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    statusSql,
    instanceId,
    status,
    newId('xev'),
    change.at.toISOString(),
    JSON.stringify(change.details ?? {}),
  );
  return rows.length > 0;
}

/** An executor's history, newest first. */
export async function listExecutorEvents(
  db: DbClient,
  executorId: string,
  limit = 100,
): Promise<ExecutorEvent[]> {
  return db.executorEvent.findMany({
    where: { executorId },
    orderBy: [{ at: 'desc' }, { id: 'desc' }],
    take: Math.min(1000, Math.max(1, Math.floor(limit))),
  });
}
