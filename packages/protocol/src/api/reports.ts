/**
 * Reports over runs: per-day counts by status with the success ratio, and the slowest and most-failing
 * jobs, over a time range, for the caller's scenes (or one scene, or one job).
 */
import { z } from 'zod';
import { IsoDateTimeInput } from '../common.js';
import { RunStatus } from '../domain.js';
import { JobId, SceneId } from '../ids.js';
import { Timezone } from './job.js';

export const MAX_REPORT_DAYS = 366;

const range = {
  /** `triggeredAt >= from` (default: 30 days before `to`). */
  from: IsoDateTimeInput.optional(),
  /** `triggeredAt < to` (default: now). */
  to: IsoDateTimeInput.optional(),
  sceneId: SceneId.optional(),
};

export const DailyReportQuery = z.strictObject({
  ...range,
  jobId: JobId.optional(),
  /** The time zone days are counted in (default UTC). */
  timezone: Timezone.optional(),
});
export type DailyReportQuery = z.infer<typeof DailyReportQuery>;

export const DailyReportRow = z.object({
  /** `YYYY-MM-DD` in the report's time zone. */
  day: z.string(),
  counts: z.partialRecord(RunStatus, z.number().int()),
  total: z.number().int(),
  /** Succeeded / finished (succeeded, failed, timed out, terminated, lost); null when none finished. */
  successRatio: z.number().min(0).max(1).nullable(),
});
export type DailyReportRow = z.infer<typeof DailyReportRow>;

export const DailyReport = z.object({
  timezone: z.string(),
  days: z.array(DailyReportRow),
  totals: DailyReportRow.omit({ day: true }),
});
export type DailyReport = z.infer<typeof DailyReport>;

export const JobsReportQuery = z.strictObject({
  ...range,
  limit: z.coerce.number().int().min(1).max(100).optional(),
});
export type JobsReportQuery = z.infer<typeof JobsReportQuery>;

export const SlowJob = z.object({
  jobId: JobId,
  name: z.string(),
  sceneId: SceneId,
  runs: z.number().int(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  maxMs: z.number(),
});
export const FailingJob = z.object({
  jobId: JobId,
  name: z.string(),
  sceneId: SceneId,
  finished: z.number().int(),
  failures: z.number().int(),
  failureRatio: z.number().min(0).max(1),
});
export const JobsReport = z.object({ slowest: z.array(SlowJob), mostFailing: z.array(FailingJob) });
export type JobsReport = z.infer<typeof JobsReport>;
