/**
 * The states and kinds stored in the database, as string unions (DESIGN: states are string unions, not TS
 * enums). They are defined here, locally, until `@kisjobs/protocol` publishes the shared ones; the
 * compile-time checks at the bottom fail if a list here and the Postgres enum in schema.prisma diverge.
 */
import type * as Generated from './generated/prisma/enums.js';

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
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run in one of these states never changes state again. */
export const FINAL_RUN_STATUSES = [
  'succeeded',
  'failed',
  'timed_out',
  'terminated',
  'lost',
  'skipped',
] as const satisfies readonly RunStatus[];
export type FinalRunStatus = (typeof FINAL_RUN_STATUSES)[number];

/** The final states an executor or the scheduler reports when a run ends (skipping has its own event). */
export type EndedRunStatus = Exclude<FinalRunStatus, 'skipped'>;

export const ACTIVE_RUN_STATUSES = ['pending', 'running'] as const satisfies readonly RunStatus[];
export type ActiveRunStatus = (typeof ACTIVE_RUN_STATUSES)[number];

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  return (FINAL_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

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
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const RUN_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type RunLogLevel = (typeof RUN_LOG_LEVELS)[number];

export const EXECUTOR_STATUSES = ['online', 'offline', 'draining', 'removed'] as const;
export type ExecutorStatus = (typeof EXECUTOR_STATUSES)[number];

export const EXECUTOR_EVENT_TYPES = [
  'registered',
  'online',
  'offline',
  'draining',
  'removed',
  'deregistered',
] as const;
export type ExecutorEventType = (typeof EXECUTOR_EVENT_TYPES)[number];

// Compile-time agreement with the Postgres enums generated from schema.prisma.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<RunStatus, Generated.RunStatus>>();
agree<Same<TriggerType, Generated.TriggerType>>();
agree<Same<RunLogLevel, Generated.RunLogLevel>>();
agree<Same<ExecutorStatus, Generated.ExecutorStatus>>();
agree<Same<ExecutorEventType, Generated.ExecutorEventType>>();
