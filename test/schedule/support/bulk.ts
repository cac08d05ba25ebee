/**
 * Bulk job creation for the scale test and the benchmark: many cron (or fixed-rate) jobs in multi-row SQL
 * inserts, with `next_fire_at` computed by the scheduler's own schedule code (once per distinct
 * schedule), as the API would store it.
 */
import type { PrismaClient } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import { fireQueryOfRow, nextFireAfter } from '@kisjobs/scheduler';

export interface BulkJobs {
  readonly count: number;
  /** The schedule of job i: a cron expression, or `{ everyMs }` for a fixed rate. */
  readonly expr: (i: number) => string | { readonly everyMs: number };
  readonly timezone?: string;
  /** The window of job i (a fixed rate is anchored at its start). */
  readonly startAt?: Date | ((i: number) => Date);
  readonly endAt?: Date;
  readonly flowName?: string;
  readonly blockStrategy?: 'serial' | 'parallel' | 'discard';
  /** Names are `<prefix><i>`; default `bulk-`. */
  readonly namePrefix?: string;
}

const insertSql = `
INSERT INTO jobs (id, scene_id, name, flow_name, schedule_type, cron_expr, timezone, fixed_rate_ms, start_at,
  end_at, executor_group_id, block_strategy, next_fire_at)
SELECT r.id, r.scene_id, r.name, r.flow_name, r.schedule_type::schedule_type, r.cron_expr, r.timezone,
  r.fixed_rate_ms, r.start_at, r.end_at, r.group_id, r.block_strategy::block_strategy, r.next_fire_at
FROM jsonb_to_recordset($1::jsonb) AS r(id text, scene_id text, name text, flow_name text, schedule_type text,
  cron_expr text, timezone text, fixed_rate_ms int, start_at timestamptz, end_at timestamptz, group_id text,
  block_strategy text, next_fire_at timestamptz)`;

export async function insertCronJobs(
  target: { readonly prisma: PrismaClient; readonly sceneId: string; readonly group: string },
  spec: BulkJobs,
): Promise<string[]> {
  const group = await target.prisma.executorGroup.findUniqueOrThrow({ where: { name: target.group } });
  const now = new Date();
  const nextOf = new Map<string, Date | null>();
  const ids: string[] = [];
  let rows: Record<string, unknown>[] = [];
  const flush = async (): Promise<void> => {
    if (rows.length === 0) return;
    await target.prisma.$executeRawUnsafe(insertSql, JSON.stringify(rows));
    rows = [];
  };
  for (let i = 0; i < spec.count; i++) {
    const schedule = spec.expr(i);
    const startAt = typeof spec.startAt === 'function' ? spec.startAt(i) : (spec.startAt ?? null);
    const endAt = spec.endAt ?? null;
    const timezone = spec.timezone ?? 'UTC';
    const columns =
      typeof schedule === 'string'
        ? { scheduleType: 'cron' as const, cronExpr: schedule, fixedRateMs: null }
        : { scheduleType: 'fixed_rate' as const, cronExpr: null, fixedRateMs: schedule.everyMs };
    const key = `${JSON.stringify(columns)}|${startAt?.getTime()}|${endAt?.getTime()}|${timezone}`;
    let next = nextOf.get(key);
    if (next === undefined) {
      const query = fireQueryOfRow({
        id: 'bulk',
        ...columns,
        timezone,
        onceAt: null,
        startAt,
        endAt,
        createdAt: now,
      });
      next = nextFireAfter(query, now) ?? null;
      nextOf.set(key, next);
    }
    const id = newId('job');
    ids.push(id);
    rows.push({
      id,
      scene_id: target.sceneId,
      name: `${spec.namePrefix ?? 'bulk-'}${i}`,
      flow_name: spec.flowName ?? 'noop',
      schedule_type: columns.scheduleType,
      cron_expr: columns.cronExpr,
      timezone,
      fixed_rate_ms: columns.fixedRateMs,
      start_at: startAt?.toISOString() ?? null,
      end_at: endAt?.toISOString() ?? null,
      group_id: group.id,
      block_strategy: spec.blockStrategy ?? 'serial',
      next_fire_at: next?.toISOString() ?? null,
    });
    if (rows.length >= 5_000) await flush();
  }
  await flush();
  return ids;
}
