/**
 * Runs as the API returns them, the run listing's filters, and run log lines (paged by seq, and tailed over
 * Server-Sent Events: each line is an event whose `id` is its seq, so `Last-Event-ID` resumes exactly).
 */
import { z } from 'zod';
import { IsoDateTime, IsoDateTimeInput, Params } from '../common.js';
import { LogLevel, RunStatus, TriggerType } from '../domain.js';
import { JobId, RunId, SceneId } from '../ids.js';
import { FunctionSummary } from '../payloads/run-event.js';
import { pageQueryFields } from './paging.js';
import { queryList } from './query.js';

export const Run = z.object({
  id: RunId,
  jobId: JobId.nullable(),
  sceneId: SceneId.nullable(),
  flowName: z.string(),
  status: RunStatus,
  skipReason: z.string().nullable(),
  triggerType: TriggerType,
  triggeredBy: z.string().nullable(),
  scheduledAt: IsoDateTime,
  triggeredAt: IsoDateTime,
  startedAt: IsoDateTime.nullable(),
  finishedAt: IsoDateTime.nullable(),
  durationMs: z.number().int().nullable(),
  attempt: z.number().int(),
  maxAttempts: z.number().int(),
  parentRunId: RunId.nullable(),
  executorInstanceId: z.string().nullable(),
  executorGroup: z.string().nullable(),
  shardIndex: z.number().int(),
  shardTotal: z.number().int(),
  params: Params,
  /** Per function of the flow: rows in and out, duration, attempts (empty until the run reported). */
  functions: z.array(FunctionSummary),
  error: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
});
export type Run = z.infer<typeof Run>;

export const RunListQuery = z.strictObject({
  jobId: JobId.optional(),
  sceneId: SceneId.optional(),
  status: queryList(RunStatus, 20).optional(),
  triggerType: queryList(TriggerType, 20).optional(),
  /** `triggeredAt >= from` */
  from: IsoDateTimeInput.optional(),
  /** `triggeredAt < to` */
  to: IsoDateTimeInput.optional(),
  ...pageQueryFields,
});
export type RunListQuery = z.infer<typeof RunListQuery>;

export const RunLogLine = z.object({
  seq: z.number().int().min(0),
  at: IsoDateTime,
  level: LogLevel,
  funcName: z.string().nullable(),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()).nullable(),
});
export type RunLogLine = z.infer<typeof RunLogLine>;

export const MAX_LOG_PAGE = 1_000;

export const RunLogQuery = z.strictObject({
  /** Lines with a seq above this one (omit for the first line on). */
  afterSeq: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE).optional(),
});
export type RunLogQuery = z.infer<typeof RunLogQuery>;

export const RunLogPage = z.object({
  items: z.array(RunLogLine),
  /** Pass as `afterSeq` for the next page: the last seq returned (or the request's when none was). */
  nextAfterSeq: z.number().int(),
  /** Whether the run has ended (no line will be added once a finished run's lines are all read). */
  runFinished: z.boolean(),
});
export type RunLogPage = z.infer<typeof RunLogPage>;

export const RunTerminateInput = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
});
export type RunTerminateInput = z.infer<typeof RunTerminateInput>;

export const RunTerminateResult = z.object({
  runId: RunId,
  /** `terminated`: it had not started and is final now; `requested`: its executor was told to stop it. */
  outcome: z.enum(['terminated', 'requested']),
});
export type RunTerminateResult = z.infer<typeof RunTerminateResult>;
