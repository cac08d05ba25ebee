/**
 * Domain unions (DESIGN §3). Each is an `as const` tuple (iterable, for tables and UI lists), a zod enum of
 * the same name (for parsing), and the string-union type of the same name.
 */
import { z } from 'zod';

/** Run lifecycle: `pending → running → succeeded | failed | timed_out | terminated | lost`, or `skipped`. */
export const RUN_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'terminated',
  'lost',
  'skipped',
] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;

/** The states a run never leaves. */
export const FINAL_RUN_STATUSES = [
  'succeeded',
  'failed',
  'timed_out',
  'terminated',
  'lost',
  'skipped',
] as const satisfies readonly RunStatus[];
export type FinalRunStatus = (typeof FINAL_RUN_STATUSES)[number];

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  switch (status) {
    case 'pending':
    case 'running':
      return false;
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'terminated':
    case 'lost':
    case 'skipped':
      return true;
  }
}

/** The outcomes an executor reports in a `finished` event (`lost` and `skipped` are decided by the scheduler). */
export const EXECUTOR_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'terminated',
] as const satisfies readonly FinalRunStatus[];
export const ExecutorOutcome = z.enum(EXECUTOR_OUTCOMES);
export type ExecutorOutcome = z.infer<typeof ExecutorOutcome>;

/** Why a run exists. Recorded on every run. */
export const TRIGGER_TYPES = [
  'cron',
  'fixed_rate',
  'once',
  'manual',
  'api',
  'parent',
  'retry',
  'misfire',
] as const;
export const TriggerType = z.enum(TRIGGER_TYPES);
export type TriggerType = z.infer<typeof TriggerType>;

export const SCHEDULE_TYPES = ['cron', 'fixed_rate', 'once', 'manual'] as const;
export const ScheduleType = z.enum(SCHEDULE_TYPES);
export type ScheduleType = z.infer<typeof ScheduleType>;

/** What to do with fires missed while the platform was down or the job paused. Default `skip`. */
export const MISFIRE_POLICIES = ['skip', 'fire_once_now', 'catch_up'] as const;
export const MisfirePolicy = z.enum(MISFIRE_POLICIES);
export type MisfirePolicy = z.infer<typeof MisfirePolicy>;

/** What to do when a trigger arrives while the same job is still running. */
export const BLOCK_STRATEGIES = ['serial', 'discard', 'replace', 'parallel'] as const;
export const BlockStrategy = z.enum(BLOCK_STRATEGIES);
export type BlockStrategy = z.infer<typeof BlockStrategy>;

/** How a run picks an executor within the job's executor group. */
export const ROUTING_STRATEGIES = [
  'any',
  'round_robin',
  'consistent_hash',
  'failover',
  'broadcast',
  'pinned',
] as const;
export const RoutingStrategy = z.enum(ROUTING_STRATEGIES);
export type RoutingStrategy = z.infer<typeof RoutingStrategy>;

export const RETRY_BACKOFFS = ['fixed', 'exponential'] as const;
export const RetryBackoff = z.enum(RETRY_BACKOFFS);
export type RetryBackoff = z.infer<typeof RetryBackoff>;

/** `online` (heartbeating), `offline` (heartbeat expired), `draining` (finishing, takes no new runs), `removed`. */
export const EXECUTOR_STATUSES = ['online', 'offline', 'draining', 'removed'] as const;
export const ExecutorStatus = z.enum(EXECUTOR_STATUSES);
export type ExecutorStatus = z.infer<typeof ExecutorStatus>;

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** Ordered from most to least verbose. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LogLevel = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof LogLevel>;

/** KisFlow function modes, spelled as in the flow package and its YAML. */
export const FUNCTION_MODES = ['Verify', 'Save', 'Load', 'Calculate', 'Expand'] as const;
export const FunctionMode = z.enum(FUNCTION_MODES);
export type FunctionMode = z.infer<typeof FunctionMode>;
