/**
 * The job routes' query strings and small answers: listing filters, write flags, next fire times, the
 * preview of an unsaved schedule, and what a trigger made.
 */
import { z } from 'zod';
import { IsoDateTime, IsoDateTimeInput } from '../common.js';
import { SceneId } from '../ids.js';
import { GroupName } from '../names.js';
import { JobSchedule, JobWindow } from './job.js';
import { pageQueryFields } from './paging.js';
import { QueryBoolean } from './query.js';

/** `GET /api/jobs`: filters and paging. */
export const JobListQuery = z.strictObject({
  sceneId: SceneId.optional(),
  group: GroupName.optional(),
  flowName: z.string().min(1).max(256).optional(),
  enabled: QueryBoolean.optional(),
  paused: QueryBoolean.optional(),
  /** Case-insensitive substring of the name. */
  q: z.string().min(1).max(200).optional(),
  ...pageQueryFields,
});
export type JobListQuery = z.infer<typeof JobListQuery>;

/** `POST /api/jobs` and `PATCH /api/jobs/:id` query. */
export const JobWriteQuery = z.strictObject({
  /** Save even when no online executor of the job's group implements every function of its flow. */
  allowUnimplemented: QueryBoolean.optional(),
  /** PATCH only: update only if the job is still at this version (else 409 VERSION_CONFLICT). */
  version: z.coerce.number().int().min(1).optional(),
});
export type JobWriteQuery = z.infer<typeof JobWriteQuery>;

/** `GET /api/jobs/:id/next-fires?count=`. */
export const NextFiresQuery = z.strictObject({
  count: z.coerce.number().int().min(1).max(100).optional(),
});
export type NextFiresQuery = z.infer<typeof NextFiresQuery>;

export const NextFires = z.object({ fireTimes: z.array(IsoDateTime) });
export type NextFires = z.infer<typeof NextFires>;

/** `POST /api/schedule/preview`: the next fire times of an unsaved schedule. */
export const SchedulePreviewInput = z.strictObject({
  schedule: JobSchedule,
  window: JobWindow.nullable().optional(),
  count: z.number().int().min(1).max(100).default(10),
  /** Instants strictly after this one (default now). */
  after: IsoDateTimeInput.optional(),
});
export type SchedulePreviewInput = z.infer<typeof SchedulePreviewInput>;

/** `POST /api/jobs/:id/trigger` answers with the runs it made. */
export const JobTriggerResult = z.object({
  runIds: z.array(z.string()),
  /** `dispatched`, `held` (serial: waits for the active run), `skipped` (discard), `duplicate`. */
  outcome: z.enum(['dispatched', 'held', 'skipped', 'duplicate']),
  skipReason: z.string().optional(),
});
export type JobTriggerResult = z.infer<typeof JobTriggerResult>;
