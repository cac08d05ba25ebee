/**
 * The engine's SQL on `jobs`: short leases instead of a transaction held open while fires wait for their
 * instant (PGlite has one connection, and a long transaction per tick would pin a pooled connection each).
 *
 * A claim is one statement: it picks due jobs (enabled, not paused, scene not paused, `next_fire_at` within
 * the horizon, no live lease) with FOR UPDATE SKIP LOCKED, so replicas claiming at once split the rows, and
 * stamps them with the claim's token and an expiry. `next_fire_at` stays put until the fires are recorded;
 * then `advance` moves it and drops the lease in one statement that only applies while the token still
 * holds (an edit, pause or disable clears the lease, which voids the claim).
 * A replica that dies leaves its leases to expire; the jobs are claimed again and their instants fired
 * again, which the deterministic run ids make a no-op where they had fired already.
 */
import type { DbClient } from '@kisjobs/db';
import type { MisfirePolicy, ScheduleType } from '@kisjobs/protocol';
import type { JobScheduleRow } from './job-schedule.js';

export interface ClaimedJob extends JobScheduleRow {
  readonly nextFireAt: Date;
  /** The claim's lease token: `lease_owner` while the claim holds. */
  readonly token: string;
}

export interface ClaimRequest {
  /** Jobs with `next_fire_at <= horizon` are due. */
  readonly horizon: Date;
  /** Leases that expired at or before this instant are free. */
  readonly now: Date;
  readonly leaseUntil: Date;
  readonly token: string;
  readonly limit: number;
}

const claimSql = `
WITH due AS (
  SELECT j.id
  FROM jobs AS j
  JOIN scenes AS s ON s.id = j.scene_id
  WHERE j.enabled AND NOT j.paused AND NOT s.paused
    AND j.next_fire_at <= $1::timestamptz
    AND (j.lease_until IS NULL OR j.lease_until <= $2::timestamptz)
  ORDER BY j.next_fire_at, j.id
  LIMIT $3
  FOR UPDATE OF j SKIP LOCKED
)
UPDATE jobs AS j SET lease_owner = $4, lease_until = $5::timestamptz
FROM due
WHERE j.id = due.id
RETURNING j.id, j.schedule_type::text AS schedule_type, j.cron_expr, j.timezone, j.fixed_rate_ms, j.once_at,
  j.start_at, j.end_at, j.misfire_policy::text AS misfire_policy, j.catch_up_limit, j.created_at,
  j.next_fire_at`;

interface ClaimRow {
  id: string;
  schedule_type: ScheduleType;
  cron_expr: string | null;
  timezone: string;
  fixed_rate_ms: number | null;
  once_at: Date | string | null;
  start_at: Date | string | null;
  end_at: Date | string | null;
  misfire_policy: MisfirePolicy;
  catch_up_limit: number;
  created_at: Date | string;
  next_fire_at: Date | string;
}

const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const dateOrNull = (value: Date | string | null): Date | null => (value === null ? null : date(value));

/** Leases up to `limit` due jobs, oldest `next_fire_at` first; rows another replica holds are skipped. */
export async function claimDueJobs(db: DbClient, request: ClaimRequest): Promise<ClaimedJob[]> {
  const rows = await db.$queryRawUnsafe<ClaimRow[]>(
    claimSql,
    request.horizon.toISOString(),
    request.now.toISOString(),
    Math.max(1, Math.floor(request.limit)),
    request.token,
    request.leaseUntil.toISOString(),
  );
  return rows.map((row) => ({
    id: row.id,
    token: request.token,
    scheduleType: row.schedule_type,
    cronExpr: row.cron_expr,
    timezone: row.timezone,
    fixedRateMs: row.fixed_rate_ms === null ? null : Number(row.fixed_rate_ms),
    onceAt: dateOrNull(row.once_at),
    startAt: dateOrNull(row.start_at),
    endAt: dateOrNull(row.end_at),
    misfirePolicy: row.misfire_policy,
    catchUpLimit: Number(row.catch_up_limit),
    createdAt: date(row.created_at),
    nextFireAt: date(row.next_fire_at),
  }));
}

export interface Lease {
  readonly id: string;
  readonly token: string;
}

const renewSql = `
UPDATE jobs AS j SET lease_until = GREATEST(j.lease_until, $2::timestamptz)
FROM jsonb_to_recordset($1::jsonb) AS l(id text, token text), scenes AS s
WHERE j.id = l.id AND j.lease_owner = l.token AND s.id = j.scene_id
  AND j.enabled AND NOT j.paused AND NOT s.paused
RETURNING j.id`;

/**
 * Extends the leases that still hold (to at least `until`) and returns their ids. A lease missing from the
 * result was taken away (the job was edited, paused, disabled or its scene paused) or has run out and been
 * claimed by another replica: the planned fires it covered must not be made by this claim.
 */
export async function renewLeases(db: DbClient, leases: readonly Lease[], until: Date): Promise<Set<string>> {
  if (leases.length === 0) return new Set();
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    renewSql,
    JSON.stringify(leases),
    until.toISOString(),
  );
  return new Set(rows.map((row) => row.id));
}

export interface Advance extends Lease {
  /** Where scheduling continues (null: the schedule has no further instant). */
  readonly nextFireAt: Date | null;
  /** The latest instant fired, if any. */
  readonly lastFireAt: Date | null;
}

const advanceSql = `
UPDATE jobs AS j
SET next_fire_at = a.next_fire_at, last_fire_at = COALESCE(a.last_fire_at, j.last_fire_at),
  lease_owner = NULL, lease_until = NULL
FROM jsonb_to_recordset($1::jsonb) AS a(id text, token text, next_fire_at timestamptz, last_fire_at timestamptz)
WHERE j.id = a.id AND j.lease_owner = a.token`;

/**
 * Moves each job's `next_fire_at` forward and ends its lease, where the lease still holds. Call it only
 * once the fires before `nextFireAt` are recorded. Returns how many jobs moved.
 */
export async function advanceJobs(db: DbClient, advances: readonly Advance[]): Promise<number> {
  if (advances.length === 0) return 0;
  const rows = advances.map((a) => ({
    id: a.id,
    token: a.token,
    next_fire_at: a.nextFireAt?.toISOString() ?? null,
    last_fire_at: a.lastFireAt?.toISOString() ?? null,
  }));
  return db.$executeRawUnsafe(advanceSql, JSON.stringify(rows));
}

const releaseSql = `
UPDATE jobs AS j SET lease_owner = NULL, lease_until = $2::timestamptz
FROM jsonb_to_recordset($1::jsonb) AS l(id text, token text)
WHERE j.id = l.id AND j.lease_owner = l.token`;

/**
 * Gives leases back without moving `next_fire_at`, so the instants are planned again; with `retryAt`, no
 * replica claims the jobs before it (a short backoff after a failed fire).
 */
export async function releaseLeases(db: DbClient, leases: readonly Lease[], retryAt?: Date): Promise<number> {
  if (leases.length === 0) return 0;
  return db.$executeRawUnsafe(releaseSql, JSON.stringify(leases), retryAt?.toISOString() ?? null);
}

const staleSql = `
UPDATE jobs SET lease_owner = NULL, lease_until = NULL
WHERE lease_owner IS NOT NULL
  AND left(lease_owner, length($1) + 1) = $1 || '.'
  AND left(lease_owner, length($2) + 1) <> $2 || '.'`;

/**
 * At start, a replica takes back at once the leases its previous incarnation (same instance id, another
 * boot) left behind when it died, instead of waiting for them to run out. Harmless if two live replicas
 * were given one id: their fires stay exactly once (deterministic run ids); only work is repeated.
 */
export async function releaseStaleLeases(
  db: DbClient,
  instanceId: string,
  bootPrefix: string,
): Promise<number> {
  return db.$executeRawUnsafe(staleSql, instanceId, bootPrefix);
}
