/**
 * Preview of the next N fire instants, for a stored job or for a schedule (expression + time zone, fixed
 * rate, once) before it is saved. Invalid input is a ValidationError naming the field
 * (`schedule.expr: hour field '25': ...`).
 */
import type { DbClient } from '@kisjobs/db';
import { NotFoundError, ValidationError } from '@kisjobs/protocol';
import { fireQueryOf, fireQueryOfRow, parseSchedule } from './job-schedule.js';
import { fireTimesAfter, type FireQuery } from './next-fire.js';

export const DEFAULT_PREVIEW_COUNT = 10;
export const MAX_PREVIEW_COUNT = 1_000;

export type PreviewRequest =
  | { readonly jobId: string; readonly after?: Date; readonly count?: number }
  | { readonly schedule: unknown; readonly window?: unknown; readonly after?: Date; readonly count?: number };

function countOf(count: number | undefined): number {
  const n = count ?? DEFAULT_PREVIEW_COUNT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PREVIEW_COUNT) {
    throw new ValidationError([
      { path: 'count', message: `Expected a whole number from 1 to ${MAX_PREVIEW_COUNT}` },
    ]);
  }
  return n;
}

/** The next instants of an unsaved schedule, strictly after `after` (a fixed rate is anchored there). */
export function previewSchedule(
  input: { readonly schedule: unknown; readonly window?: unknown },
  after: Date,
  count?: number,
): Date[] {
  const n = countOf(count);
  const { schedule, window } = parseSchedule(input);
  return fireTimesAfter(fireQueryOf(schedule, window, after), after, n);
}

/** The next instants of a stored job (whether or not it is enabled or paused) or of a schedule. */
export async function previewFireTimes(db: DbClient, request: PreviewRequest, now: Date): Promise<Date[]> {
  const after = request.after ?? now;
  if (!('jobId' in request)) return previewSchedule(request, after, request.count);
  const n = countOf(request.count);
  const job = await db.job.findUnique({ where: { id: request.jobId } });
  if (job === null) throw new NotFoundError('job', request.jobId);
  const query: FireQuery = fireQueryOfRow(job);
  return fireTimesAfter(query, after, n);
}
