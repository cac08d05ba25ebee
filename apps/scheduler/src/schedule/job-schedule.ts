/**
 * A job's schedule in its three shapes: the API's `JobSchedule` + `JobWindow` (protocol DTOs), the `jobs`
 * columns, and the engine's `FireQuery`. Validation names the field (`schedule.expr: hour field '25': ...`).
 * Pure.
 */
import {
  JobSchedule,
  JobWindow,
  ValidationError,
  toValidationIssues,
  type MisfirePolicy,
  type ScheduleType,
  type ValidationIssue,
} from '@kisjobs/protocol';
import { checkCron } from './cron.js';
import { nextFireAfter, type FireQuery, type FireWindow, type ScheduleSpec } from './next-fire.js';

/** The columns of `jobs` that say when a job fires (what the engine reads when it claims a job). */
export interface JobScheduleRow {
  readonly id: string;
  readonly scheduleType: ScheduleType;
  readonly cronExpr: string | null;
  readonly timezone: string;
  readonly fixedRateMs: number | null;
  readonly onceAt: Date | null;
  readonly startAt: Date | null;
  readonly endAt: Date | null;
  readonly misfirePolicy: MisfirePolicy;
  readonly catchUpLimit: number;
  readonly createdAt: Date;
  readonly nextFireAt: Date | null;
}

/** The same columns as written by the API (`prisma.job.create({ data: { ...scheduleColumns(...) } })`). */
export interface ScheduleColumns {
  readonly scheduleType: ScheduleType;
  readonly cronExpr: string | null;
  readonly timezone: string;
  readonly fixedRateMs: number | null;
  readonly onceAt: Date | null;
  readonly startAt: Date | null;
  readonly endAt: Date | null;
}

/** A row whose columns contradict its schedule type (written around the API). */
export class ScheduleRowError extends Error {
  constructor(jobId: string, problem: string) {
    super(`job ${jobId}: ${problem}`);
    this.name = 'ScheduleRowError';
  }
}

export function scheduleColumns(schedule: JobSchedule, window: JobWindow | null): ScheduleColumns {
  const base = {
    cronExpr: null,
    timezone: 'UTC',
    fixedRateMs: null,
    onceAt: null,
    startAt: window?.startAt === undefined ? null : new Date(window.startAt),
    endAt: window?.endAt === undefined ? null : new Date(window.endAt),
  };
  switch (schedule.type) {
    case 'cron':
      return { ...base, scheduleType: 'cron', cronExpr: schedule.expr.trim(), timezone: schedule.timezone };
    case 'fixed_rate':
      return { ...base, scheduleType: 'fixed_rate', fixedRateMs: schedule.everyMs };
    case 'once':
      return { ...base, scheduleType: 'once', onceAt: new Date(schedule.at) };
    case 'manual':
      return { ...base, scheduleType: 'manual' };
  }
}

/** The API shapes of stored columns (for responses). */
export function scheduleOfRow(row: Omit<JobScheduleRow, 'misfirePolicy' | 'catchUpLimit' | 'nextFireAt'>): {
  schedule: JobSchedule;
  window: JobWindow | null;
} {
  const spec = specOfRow(row);
  const schedule: JobSchedule =
    spec.type === 'once' ? { type: 'once', at: spec.at.toISOString() } : (spec satisfies JobSchedule);
  const window =
    row.startAt === null && row.endAt === null
      ? null
      : {
          ...(row.startAt === null ? {} : { startAt: row.startAt.toISOString() }),
          ...(row.endAt === null ? {} : { endAt: row.endAt.toISOString() }),
        };
  return { schedule, window };
}

function specOfRow(row: Omit<JobScheduleRow, 'misfirePolicy' | 'catchUpLimit' | 'nextFireAt'>): ScheduleSpec {
  switch (row.scheduleType) {
    case 'cron':
      if (row.cronExpr === null) throw new ScheduleRowError(row.id, 'a cron job without cron_expr');
      return { type: 'cron', expr: row.cronExpr, timezone: row.timezone };
    case 'fixed_rate':
      if (row.fixedRateMs === null || row.fixedRateMs <= 0) {
        throw new ScheduleRowError(row.id, 'a fixed_rate job without a positive fixed_rate_ms');
      }
      return { type: 'fixed_rate', everyMs: row.fixedRateMs };
    case 'once':
      if (row.onceAt === null) throw new ScheduleRowError(row.id, 'a once job without once_at');
      return { type: 'once', at: row.onceAt };
    case 'manual':
      return { type: 'manual' };
  }
}

/** fixed_rate fires on the grid anchored at the window start, else at the job's creation. */
export function fireQueryOfRow(
  row: Omit<JobScheduleRow, 'misfirePolicy' | 'catchUpLimit' | 'nextFireAt'>,
): FireQuery {
  const schedule = specOfRow(row);
  if (schedule.type === 'cron') {
    const check = checkCron(schedule.expr, schedule.timezone);
    if (!check.ok) throw new ScheduleRowError(row.id, `${check.field}: ${check.message}`);
  }
  return { schedule, window: windowOf(row.startAt, row.endAt), anchor: row.startAt ?? row.createdAt };
}

/** The FireQuery of an API schedule (already parsed); `anchor` is the creation time for fixed_rate. */
export function fireQueryOf(schedule: JobSchedule, window: JobWindow | null, anchor: Date): FireQuery {
  const columns = scheduleColumns(schedule, window);
  return fireQueryOfRow({ id: 'preview', ...columns, createdAt: anchor });
}

function windowOf(startAt: Date | null, endAt: Date | null): FireWindow | undefined {
  if (startAt === null && endAt === null) return undefined;
  return { ...(startAt === null ? {} : { startAt }), ...(endAt === null ? {} : { endAt }) };
}

/**
 * Checks what zod cannot: the cron syntax, naming the field (`schedule.expr`, `schedule.timezone`).
 * `path` is where the schedule sits in the body.
 */
export function cronIssues(schedule: JobSchedule, path = 'schedule'): ValidationIssue[] {
  if (schedule.type !== 'cron') return [];
  const check = checkCron(schedule.expr, schedule.timezone);
  return check.ok ? [] : [{ path: `${path}.${check.field}`, message: check.message }];
}

/**
 * Parses an API schedule and window (unknown input) and checks the cron syntax. Throws a ValidationError
 * whose issues name each field: CRON_INVALID when only the expression is wrong. `path` is where the two
 * fields sit in the body (none: top level).
 */
export function parseSchedule(
  input: { readonly schedule: unknown; readonly window?: unknown },
  path: readonly string[] = [],
): { schedule: JobSchedule; window: JobWindow | null } {
  const issues: ValidationIssue[] = [];
  const schedule = JobSchedule.safeParse(input.schedule);
  if (!schedule.success) issues.push(...toValidationIssues(schedule.error.issues, [...path, 'schedule']));
  const window =
    input.window === undefined || input.window === null ? null : JobWindow.safeParse(input.window);
  if (window !== null && !window.success) {
    issues.push(...toValidationIssues(window.error.issues, [...path, 'window']));
  }
  if (!schedule.success || (window !== null && !window.success)) throw new ValidationError(issues);
  const cron = cronIssues(schedule.data, [...path, 'schedule'].join('.'));
  if (cron.length > 0) {
    throw new ValidationError(cron, {
      code: 'CRON_INVALID',
      message: cron.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
    });
  }
  return { schedule: schedule.data, window: window === null ? null : window.data };
}

/**
 * Where a job's schedule starts from `now`: its first instant strictly after `now`, or null when it never
 * fires (manual, a once instant in the past, a window that has ended, a disabled job).
 */
export function firstFireAfter(query: FireQuery, now: Date, enabled = true): Date | null {
  if (!enabled) return null;
  return nextFireAfter(query, now) ?? null;
}
