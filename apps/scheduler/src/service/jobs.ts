/**
 * Creating, updating and deleting jobs from the API's DTOs. Bodies are parsed by the protocol's zod schemas
 * (every bad field named), then checked against the world (job-input.ts); nothing is written unless all of
 * it holds. `nextFireAt` is the first fire after now for enabled scheduled jobs (null for manual ones); an
 * update is written over the version it read, and its caller recomputes the schedule (lifecycle.ts).
 */
import type { z } from 'zod';
import { Prisma, updateJobAtVersion, type Job as JobRow, type PrismaClient } from '@kisjobs/db';
import {
  ConflictError,
  JobInput,
  JobPatch,
  NotFoundError,
  ValidationError,
  newId,
  toValidationIssues,
  type Job,
} from '@kisjobs/protocol';
import { nextFireAfter } from '../schedule/next-fire.js';
import { jobDto, storedAlerts } from './job-dto.js';
import { checkJobReferences, jobColumns, scheduleSpecOf } from './job-input.js';

export { jobDto, storedAlerts } from './job-dto.js';

/** The parsed value, or a ValidationError naming every bad field. */
function parseOrThrow<T>(result: z.ZodSafeParseResult<T>): T {
  if (!result.success) throw new ValidationError(toValidationIssues(result.error.issues));
  return result.data;
}

function duplicateName(error: unknown, input: JobInput): never {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    throw new ConflictError(`a job named ${input.name} exists in this scene already`, {
      code: 'ALREADY_EXISTS',
      details: { sceneId: input.sceneId, name: input.name },
    });
  }
  throw error;
}

export async function createJob(
  prisma: PrismaClient,
  body: unknown,
  options: { readonly now: Date; readonly createdById?: string | null },
): Promise<Job> {
  const input = parseOrThrow(JobInput.safeParse(body));
  const { groupId } = await checkJobReferences(prisma, input);
  const columns = jobColumns(input, groupId);
  const spec = scheduleSpecOf(input.schedule);
  const window = {
    ...(columns.startAt === null ? {} : { startAt: columns.startAt }),
    ...(columns.endAt === null ? {} : { endAt: columns.endAt }),
  };
  const nextFireAt =
    input.enabled && spec.type !== 'manual'
      ? (nextFireAfter({ schedule: spec, window, anchor: window.startAt ?? options.now }, options.now) ??
        null)
      : null;
  try {
    const row = await prisma.job.create({
      data: {
        id: newId('job', options.now),
        ...columns,
        nextFireAt,
        createdById: options.createdById ?? null,
      },
    });
    return jobDto(row, input.group);
  } catch (error) {
    return duplicateName(error, input);
  }
}

/** The definition a stored job holds, as a create body would give it (the webhook secret included). */
function currentInput(row: JobRow, groupName: string): Record<string, unknown> {
  const { id, paused, version, lastFireAt, nextFireAt, createdAt, updatedAt, ...definition } = jobDto(
    row,
    groupName,
  );
  void [id, paused, version, lastFireAt, nextFireAt, createdAt, updatedAt];
  return { ...definition, alerts: storedAlerts(row.alertSettings) };
}

/**
 * Applies a patch (each given field replaces the stored one whole) and writes it over the version read (or
 * `expectedVersion`: 409 VERSION_CONFLICT when the job moved on). The schedule is not recomputed here.
 */
export async function updateJob(
  prisma: PrismaClient,
  id: string,
  body: unknown,
  options: { readonly expectedVersion?: number } = {},
): Promise<{ readonly row: JobRow; readonly input: JobInput }> {
  const patch = parseOrThrow(JobPatch.safeParse(body));
  const row = await prisma.job.findUnique({
    where: { id },
    include: { executorGroup: { select: { name: true } } },
  });
  if (row === null) throw new NotFoundError('job', id);
  const version = options.expectedVersion ?? row.version;
  if (version !== row.version) {
    throw new ConflictError(`job ${id} is at version ${row.version}, not ${version}`, {
      code: 'VERSION_CONFLICT',
      details: { id, version: row.version },
    });
  }
  const input = parseOrThrow(JobInput.safeParse({ ...currentInput(row, row.executorGroup.name), ...patch }));
  const { groupId } = await checkJobReferences(prisma, input, id);
  try {
    const written = await updateJobAtVersion(prisma, id, version, jobColumns(input, groupId));
    return { row: written, input };
  } catch (error) {
    return duplicateName(error, input);
  }
}

/**
 * Deletes a job. Its runs keep their history (their job id becomes null); a job that is another job's
 * child cannot go until the parent no longer names it.
 */
export async function deleteJob(prisma: PrismaClient, id: string): Promise<void> {
  const parents = await prisma.job.findMany({
    where: { childJobIds: { has: id } },
    select: { id: true, name: true },
  });
  if (parents.length > 0) {
    throw new ConflictError(`job ${id} is a child of ${parents.map((p) => p.name).join(', ')}`, {
      details: { parentJobIds: parents.map((p) => p.id) },
    });
  }
  const deleted = await prisma.job.deleteMany({ where: { id } });
  if (deleted.count === 0) throw new NotFoundError('job', id);
}
