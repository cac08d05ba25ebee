/**
 * The states and kinds stored in the database, as string unions (DESIGN: states are string unions, not TS
 * enums). The shared ones come from `@kisjobs/protocol`; the compile-time checks at the bottom fail if a
 * union and the Postgres enum in schema.prisma diverge.
 */
import {
  EXECUTOR_STATUSES,
  FINAL_RUN_STATUSES,
  LOG_LEVELS,
  RUN_STATUSES,
  TRIGGER_TYPES,
  isFinalRunStatus,
  type ExecutorStatus,
  type FinalRunStatus,
  type LogLevel,
  type RunStatus,
  type TriggerType,
} from '@kisjobs/protocol';
import type * as Generated from './generated/prisma/enums.js';

export { EXECUTOR_STATUSES, FINAL_RUN_STATUSES, RUN_STATUSES, TRIGGER_TYPES, isFinalRunStatus };
export type { ExecutorStatus, FinalRunStatus, RunStatus, TriggerType };

/** The final states an executor or the scheduler reports when a run ends (skipping has its own event). */
export type EndedRunStatus = Exclude<FinalRunStatus, 'skipped'>;

export const ACTIVE_RUN_STATUSES = ['pending', 'running'] as const satisfies readonly RunStatus[];
export type ActiveRunStatus = (typeof ACTIVE_RUN_STATUSES)[number];

export const RUN_LOG_LEVELS = LOG_LEVELS;
export type RunLogLevel = LogLevel;

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
