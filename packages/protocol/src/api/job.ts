/**
 * Job definition DTOs for the HTTP API (DESIGN §3). `JobInput` is the create body; parsing it yields the
 * resolved job with every default filled in. `JobPatch` is the update body: every field optional, NO
 * defaults (a patch that leaves `enabled` out must not re-enable the job), and a present field replaces
 * the stored value whole (`retry: {attempts: 3}` also resets `backoff` and `delayMs` to their defaults).
 * API objects are strict: an unknown field (a typo such as `enable`) is reported, not ignored.
 *
 * The cron expression's syntax is checked by the scheduler (cron-parser, CRON_INVALID naming
 * `schedule.expr`); here only its shape: 5 fields, or 6 with seconds first, or an alias (`@hourly`...).
 */
import { z } from 'zod';
import { JobAlerts, JobAlertsView } from './alerts.js';
import { IsoDateTime, IsoDateTimeInput, Params } from '../common.js';
import { BlockStrategy, MisfirePolicy, RetryBackoff, RoutingStrategy } from '../domain.js';
import { JobId, SceneId } from '../ids.js';
import { GroupName, InstanceId } from '../names.js';
import { MAX_TIMEOUT_MS } from '../payloads/run-request.js';

export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_JOB_TIMEOUT_MS = 60 * 60 * 1000;
export const MIN_FIXED_RATE_MS = 100;
export const MAX_RETRY_ATTEMPTS = 20;
export const MAX_CATCH_UP_LIMIT = 1_000;
export const DEFAULT_CATCH_UP_LIMIT = 100;
export const MAX_CHILD_JOBS = 100;

/** True when `name` is a time zone this runtime knows (IANA names and their aliases, e.g. `UTC`). */
export function isValidTimezone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const Timezone = z.string().max(64).refine(isValidTimezone, {
  message: 'Unknown time zone: expected an IANA name such as "Europe/Berlin" or "UTC"',
});
export type Timezone = z.infer<typeof Timezone>;

export const CronExpression = z
  .string()
  .max(256)
  .refine(
    (expr) => {
      if (/^@[a-z]+$/.test(expr.trim())) return true; // an alias: the scheduler knows which (cron.ts)
      const fields = expr.trim().split(/\s+/).filter(Boolean).length;
      return fields === 5 || fields === 6;
    },
    {
      message:
        'Expected a cron expression with 5 fields, or 6 with seconds first, or an alias such as @hourly',
    },
  );
export type CronExpression = z.infer<typeof CronExpression>;

export const CronSchedule = z.strictObject({
  type: z.literal('cron'),
  expr: CronExpression,
  timezone: Timezone.default(DEFAULT_TIMEZONE),
});
export const FixedRateSchedule = z.strictObject({
  type: z.literal('fixed_rate'),
  everyMs: z.number().int().min(MIN_FIXED_RATE_MS).max(MAX_TIMEOUT_MS),
});
export const OnceSchedule = z.strictObject({
  type: z.literal('once'),
  at: IsoDateTimeInput,
});
export const ManualSchedule = z.strictObject({
  type: z.literal('manual'),
});
export const JobSchedule = z.discriminatedUnion('type', [
  CronSchedule,
  FixedRateSchedule,
  OnceSchedule,
  ManualSchedule,
]);
export type JobSchedule = z.infer<typeof JobSchedule>;

/** Fires only inside [startAt, endAt). */
export const JobWindow = z
  .strictObject({
    startAt: IsoDateTimeInput.optional(),
    endAt: IsoDateTimeInput.optional(),
  })
  .superRefine((window, ctx) => {
    if (window.startAt === undefined || window.endAt === undefined) return;
    if (Date.parse(window.endAt) <= Date.parse(window.startAt)) {
      ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be after startAt' });
    }
  });
export type JobWindow = z.infer<typeof JobWindow>;

export const JobMisfire = z.strictObject({
  policy: MisfirePolicy.default('skip'),
  /** `catch_up` fires at most this many missed instants (the most recent ones). */
  catchUpLimit: z.number().int().min(1).max(MAX_CATCH_UP_LIMIT).default(DEFAULT_CATCH_UP_LIMIT),
});
export type JobMisfire = z.infer<typeof JobMisfire>;

export const JobRouting = z
  .strictObject({
    strategy: RoutingStrategy.default('any'),
    /** `consistent_hash` only: the stickiness key (default: the job id). */
    key: z.string().min(1).max(512).optional(),
    /** `pinned` only, and required there. */
    executorInstanceId: InstanceId.optional(),
  })
  .superRefine((routing, ctx) => {
    if (routing.strategy === 'pinned' && routing.executorInstanceId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['executorInstanceId'],
        message: 'The pinned strategy needs an executorInstanceId',
      });
    }
    if (routing.strategy !== 'pinned' && routing.executorInstanceId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['executorInstanceId'],
        message: `executorInstanceId applies to the pinned strategy only, not ${routing.strategy}`,
      });
    }
    if (routing.strategy !== 'consistent_hash' && routing.key !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `key applies to the consistent_hash strategy only, not ${routing.strategy}`,
      });
    }
  });
export type JobRouting = z.infer<typeof JobRouting>;

/** `attempts` retries after the first try (0 = none): a run is tried at most `attempts + 1` times. */
export const JobRetry = z.strictObject({
  attempts: z.number().int().min(0).max(MAX_RETRY_ATTEMPTS).default(0),
  /** `fixed`: `delayMs` every time; `exponential`: `delayMs * 2^(retry - 1)`. */
  backoff: RetryBackoff.default('fixed'),
  delayMs: z
    .number()
    .int()
    .min(0)
    .max(24 * 60 * 60 * 1000)
    .default(1_000),
});
export type JobRetry = z.infer<typeof JobRetry>;

const ChildJobIds = z
  .array(JobId)
  .max(MAX_CHILD_JOBS)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'Duplicate child job id' });

/** The fields of a job as a client writes them, without defaults (the shape `JobPatch` makes optional). */
const jobFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2_000),
  sceneId: SceneId,
  flowName: z.string().min(1).max(256),
  /** The executor group whose executors run it. */
  group: GroupName,
  schedule: JobSchedule,
  /** `null` = no window. */
  window: JobWindow.nullable(),
  misfire: JobMisfire,
  blockStrategy: BlockStrategy,
  routing: JobRouting,
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS),
  retry: JobRetry,
  /** Merged over the flow's params; a trigger's params override these. */
  params: Params,
  /** Triggered (trigger type `parent`) when a run of this job succeeds. */
  childJobIds: ChildJobIds,
  enabled: z.boolean(),
  /** Who hears about failed, timed-out and lost runs (alerts.ts). */
  alerts: JobAlerts,
};

/** The create body. `z.infer` gives the resolved job (defaults filled); `z.input` what a client may send. */
export const JobInput = z.strictObject({
  ...jobFields,
  description: jobFields.description.default(''),
  window: jobFields.window.default(null),
  misfire: JobMisfire.prefault({}),
  blockStrategy: BlockStrategy.default('serial'),
  routing: JobRouting.prefault({}),
  timeoutMs: jobFields.timeoutMs.default(DEFAULT_JOB_TIMEOUT_MS),
  retry: JobRetry.prefault({}),
  params: Params.prefault({}),
  childJobIds: ChildJobIds.prefault([]),
  enabled: z.boolean().default(true),
  alerts: JobAlerts.prefault({}),
});
export type JobInput = z.infer<typeof JobInput>;

/** The update body: any subset of the fields, each replacing the stored value whole. */
export const JobPatch = z.strictObject(jobFields).partial();
export type JobPatch = z.infer<typeof JobPatch>;

/** A job as the API returns it. */
export const Job = JobInput.extend({
  id: JobId,
  alerts: JobAlertsView,
  /** Paused jobs keep their schedule; on resume the misfire policy decides about the instants missed. */
  paused: z.boolean(),
  /** Bumped by every edit; send it back as `?version=` to update only what you read. */
  version: z.number().int().min(1),
  lastFireAt: IsoDateTime.nullable(),
  /** The next instant the schedule fires; null for manual jobs, disabled jobs and finished windows. */
  nextFireAt: IsoDateTime.nullable(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Job = z.infer<typeof Job>;

/** `POST /api/jobs/:id/trigger`: run now, with params overriding the job's. */
export const JobTriggerInput = z.strictObject({
  params: Params.prefault({}),
});
export type JobTriggerInput = z.infer<typeof JobTriggerInput>;
