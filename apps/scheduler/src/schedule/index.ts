/**
 * The schedule engine's public surface, for the composition root (`createScheduler`, `main.ts`) and the
 * HTTP handlers: the engine, its dispatcher port and adapter, schedule mapping and validation for job
 * create/update, the preview, and the Redis reset watch.
 */
export { createScheduleEngine, type ScheduleEngine, type ScheduleEngineOptions } from './engine.js';
export type { FireLoopStats } from './fire-loop.js';
export {
  createBatchFireDispatcher,
  type BatchFireDispatcher,
  type BatchFireDispatcherOptions,
  type DispatcherPort,
} from './batch-dispatch.js';
export {
  fireThroughTrigger,
  outcomeOfError,
  SCHEDULER_ACTOR,
  type FireDispatcher,
  type FireOutcome,
  type ScheduledFire,
  type ScheduledTriggerType,
  type TriggerPort,
} from './fire-port.js';
export {
  cronIssues,
  fireQueryOf,
  fireQueryOfRow,
  firstFireAfter,
  parseSchedule,
  scheduleColumns,
  scheduleOfRow,
  ScheduleRowError,
  type JobScheduleRow,
  type ScheduleColumns,
} from './job-schedule.js';
export type { JobLifecycle } from './lifecycle.js';
export {
  DEFAULT_PREVIEW_COUNT,
  MAX_PREVIEW_COUNT,
  previewFireTimes,
  previewSchedule,
  type PreviewRequest,
} from './preview.js';
export {
  epochKey,
  watchRedisReset,
  type RedisResetWatch,
  type RedisResetWatchOptions,
} from './redis-reset.js';
export { checkCron, cronFireTimes, type CronCheck } from './cron.js';
export {
  fireTimesAfter,
  nextFireAfter,
  type FireQuery,
  type FireWindow,
  type ScheduleSpec,
} from './next-fire.js';
export { planDueFires, type MisfireInput, type MisfirePlan, type PlannedFire } from './misfire.js';
