/**
 * A job definition checked against the world before it is written: the cron expression and time zone, the
 * scene, the executor group and the child jobs must hold (each bad field named); then the columns it is
 * stored as. Create and update share both, so a job cannot be saved by one path that the other refuses.
 */
import type { PrismaClient } from '@kisjobs/db';
import { NotFoundError, ValidationError, type JobInput, type JobSchedule } from '@kisjobs/protocol';
import { checkCron } from '../schedule/cron.js';
import type { ScheduleSpec } from '../schedule/next-fire.js';

/** Checks what a valid body cannot show on its own; returns the executor group's id. */
export async function checkJobReferences(
  prisma: PrismaClient,
  input: JobInput,
  selfId?: string,
): Promise<{ readonly groupId: string }> {
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
      id === selfId
        ? [{ path: `childJobIds[${i}]`, message: 'a job cannot be its own child' }]
        : found.has(id)
          ? []
          : [{ path: `childJobIds[${i}]`, message: `job ${id} does not exist` }],
    );
    if (issues.length > 0) throw new ValidationError(issues);
  }
  return { groupId: group.id };
}

export function scheduleSpecOf(schedule: JobSchedule): ScheduleSpec {
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

/** The stored columns of a definition (everything a create and an update write alike). */
export function jobColumns(input: JobInput, groupId: string) {
  return {
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
    startAt: input.window?.startAt === undefined ? null : new Date(input.window.startAt),
    endAt: input.window?.endAt === undefined ? null : new Date(input.window.endAt),
    misfirePolicy: input.misfire.policy,
    catchUpLimit: input.misfire.catchUpLimit,
    blockStrategy: input.blockStrategy,
    routing: input.routing.strategy,
    routingKey: input.routing.key ?? null,
    pinnedExecutor: input.routing.executorInstanceId ?? null,
    executorGroupId: groupId,
    timeoutMs: input.timeoutMs,
    retryAttempts: input.retry.attempts,
    retryBackoff: input.retry.backoff,
    retryDelayMs: input.retry.delayMs,
    params: input.params,
    childJobIds: input.childJobIds,
    alertSettings: input.alerts,
  } as const;
}
