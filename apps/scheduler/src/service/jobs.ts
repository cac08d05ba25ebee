/**
 * Creating a job from the API's `JobInput` DTO (the minimal service the end-to-end tests and the later HTTP
 * API use). The body is parsed by the protocol's zod schema (every bad field named), the cron expression
 * and time zone by the scheduler's cron core, the scene, the executor group and the child jobs must
 * exist; nothing is written unless all of it holds. `nextFireAt` is the first fire after now for enabled
 * scheduled jobs (null for manual ones).
 */
import type { z } from 'zod';
import { Prisma, type Job as JobRow, type PrismaClient } from '@kisjobs/db';
import {
  alertsView,
  ConflictError,
  JobAlerts,
  JobInput,
  NotFoundError,
  ValidationError,
  newId,
  toValidationIssues,
  type Job,
  type JobSchedule,
} from '@kisjobs/protocol';
import { checkCron } from '../schedule/cron.js';
import { nextFireAfter, type ScheduleSpec } from '../schedule/next-fire.js';

export async function createJob(
  prisma: PrismaClient,
  body: unknown,
  options: { readonly now: Date; readonly createdById?: string | null },
): Promise<Job> {
  const parsed = JobInput.safeParse(body);
  if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error.issues));
  const input = parsed.data;
  if (input.schedule.type === 'cron') {
    const check = checkCron(input.schedule.expr, input.schedule.timezone);
    if (!check.ok) {
      throw new ValidationError([{ path: `schedule.${check.field}`, message: check.message }], {
        code: check.field === 'timezone' ? 'TIMEZONE_INVALID' : 'CRON_INVALID',
      });
    }
  }
  const scene = await prisma.scene.findUnique({ where: { id: input.sceneId }, select: { id: true } });
  if (scene === null) throw new NotFoundError('scene', input.sceneId);
  const group = await prisma.executorGroup.findUnique({ where: { name: input.group }, select: { id: true } });
  if (group === null) throw new NotFoundError('group', input.group);
  if (input.childJobIds.length > 0) {
    const found = new Set(
      (await prisma.job.findMany({ where: { id: { in: input.childJobIds } }, select: { id: true } })).map(
        (j) => j.id,
      ),
    );
    const issues = input.childJobIds.flatMap((id, i) =>
      found.has(id) ? [] : [{ path: `childJobIds[${i}]`, message: `job ${id} does not exist` }],
    );
    if (issues.length > 0) throw new ValidationError(issues);
  }

  const id = newId('job', options.now);
  const spec = scheduleSpecOf(input.schedule);
  const window = {
    ...(input.window?.startAt === undefined ? {} : { startAt: new Date(input.window.startAt) }),
    ...(input.window?.endAt === undefined ? {} : { endAt: new Date(input.window.endAt) }),
  };
  const nextFireAt =
    input.enabled && spec.type !== 'manual'
      ? (nextFireAfter({ schedule: spec, window, anchor: window.startAt ?? options.now }, options.now) ??
        null)
      : null;
  try {
    const row = await prisma.job.create({
      data: {
        id,
        sceneId: input.sceneId,
        name: input.name,
        description: input.description,
        flowName: input.flowName,
        enabled: input.enabled,
        scheduleType: input.schedule.type,
        cronExpr: input.schedule.type === 'cron' ? input.schedule.expr : null,
        timezone: input.schedule.type === 'cron' ? input.schedule.timezone : 'UTC',
        fixedRateMs: input.schedule.type === 'fixed_rate' ? input.schedule.everyMs : null,
        onceAt: input.schedule.type === 'once' ? new Date(input.schedule.at) : null,
        startAt: window.startAt ?? null,
        endAt: window.endAt ?? null,
        misfirePolicy: input.misfire.policy,
        catchUpLimit: input.misfire.catchUpLimit,
        blockStrategy: input.blockStrategy,
        routing: input.routing.strategy,
        routingKey: input.routing.key ?? null,
        pinnedExecutor: input.routing.executorInstanceId ?? null,
        executorGroupId: group.id,
        timeoutMs: input.timeoutMs,
        retryAttempts: input.retry.attempts,
        retryBackoff: input.retry.backoff,
        retryDelayMs: input.retry.delayMs,
        params: input.params,
        childJobIds: input.childJobIds,
        alertSettings: input.alerts,
        nextFireAt,
        createdById: options.createdById ?? null,
      },
    });
    return jobDto(row, input.group);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ConflictError(`a job named ${input.name} exists in this scene already`, {
        code: 'ALREADY_EXISTS',
        details: { sceneId: input.sceneId, name: input.name },
      });
    }
    throw error;
  }
}

function scheduleSpecOf(schedule: JobSchedule): ScheduleSpec {
  switch (schedule.type) {
    case 'cron':
      return { type: 'cron', expr: schedule.expr, timezone: schedule.timezone };
    case 'fixed_rate':
      return { type: 'fixed_rate', everyMs: schedule.everyMs };
    case 'once':
      return { type: 'once', at: new Date(schedule.at) };
    case 'manual':
      return { type: 'manual' };
  }
}

/** A job row as the API returns it. */
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
    nextFireAt: row.nextFireAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The stored alert settings; a row written before alerts existed (`{}`) reads as the defaults. */
export function storedAlerts(value: unknown): JobAlerts {
  const parsed = JobAlerts.safeParse(value ?? {});
  return parsed.success ? parsed.data : JobAlerts.parse({});
}
