/** A job row as the API returns it (`Job` in @kisjobs/protocol), and the stored alert settings. */
import type { z } from 'zod';
import type { Job as JobRow } from '@kisjobs/db';
import { alertsView, JobAlerts, type Job, type JobSchedule } from '@kisjobs/protocol';

/** The stored alert settings; a row written before alerts existed (`{}`) reads as the defaults. */
export function storedAlerts(value: unknown): JobAlerts {
  const parsed = JobAlerts.safeParse(value ?? {});
  return parsed.success ? parsed.data : JobAlerts.parse({});
}

export function jobDto(row: JobRow, groupName: string): Job {
  const schedule: z.input<typeof JobSchedule> =
    row.scheduleType === 'cron'
      ? { type: 'cron', expr: row.cronExpr ?? '', timezone: row.timezone }
      : row.scheduleType === 'fixed_rate'
        ? { type: 'fixed_rate', everyMs: row.fixedRateMs ?? 0 }
        : row.scheduleType === 'once'
          ? { type: 'once', at: (row.onceAt ?? row.createdAt).toISOString() }
          : { type: 'manual' };
  const window =
    row.startAt === null && row.endAt === null
      ? null
      : {
          ...(row.startAt === null ? {} : { startAt: row.startAt.toISOString() }),
          ...(row.endAt === null ? {} : { endAt: row.endAt.toISOString() }),
        };
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    sceneId: row.sceneId,
    flowName: row.flowName,
    group: groupName,
    schedule: schedule as JobSchedule,
    window,
    misfire: { policy: row.misfirePolicy, catchUpLimit: row.catchUpLimit },
    blockStrategy: row.blockStrategy,
    routing: {
      strategy: row.routing,
      ...(row.routingKey === null ? {} : { key: row.routingKey }),
      ...(row.pinnedExecutor === null ? {} : { executorInstanceId: row.pinnedExecutor }),
    },
    timeoutMs: row.timeoutMs ?? 0,
    retry: { attempts: row.retryAttempts, backoff: row.retryBackoff, delayMs: row.retryDelayMs },
    params: (row.params ?? {}) as Record<string, string>,
    childJobIds: row.childJobIds,
    enabled: row.enabled,
    alerts: alertsView(storedAlerts(row.alertSettings)),
    paused: row.paused,
    version: row.version,
    lastFireAt: row.lastFireAt?.toISOString() ?? null,
    nextFireAt: row.nextFireAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
