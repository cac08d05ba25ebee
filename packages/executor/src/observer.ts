/**
 * What an executor tells an observer (metrics, typically: see metrics.ts): runs started and finished, and
 * heartbeats that did not keep the executor's record alive. Every hook is optional and called synchronously;
 * a hook that throws is logged and otherwise ignored, so an observer can never break a run.
 */
import type { ExecutorOutcome } from '@kisjobs/protocol';
import { errorMessage, type ExecutorLogger } from './logger.js';

export interface RunStartedEvent {
  readonly runId: string;
  readonly flow: string;
  readonly attempt: number;
  /**
   * How long the run waited from being ready in its queue (added, or its retry delay over) to its start
   * here; undefined when the queue did not say when it was added. The time on the enqueuing host's clock
   * enters it, so clock skew between hosts does too.
   */
  readonly waitedMs: number | undefined;
}

export interface RunFinishedEvent {
  readonly runId: string;
  readonly flow: string;
  readonly status: ExecutorOutcome;
  /** From `started` to the end; undefined for a run that ended before it started (terminated while queued). */
  readonly durationMs: number | undefined;
}

/**
 * Why a heartbeat did not keep the record alive: Redis answered with an error (`error`), the record was gone
 * and registering again was refused (`refused`), the previous beat was still waiting for Redis when the
 * next one was due (`stalled`: Redis unreachable), or the beat was withheld because the executor's main
 * event loop had not answered the heartbeat thread for `mainStallLimitMs` (`withheld`: counted once the main
 * thread runs again).
 */
export const HEARTBEAT_FAILURES = ['error', 'refused', 'stalled', 'withheld'] as const;
export type HeartbeatFailure = (typeof HEARTBEAT_FAILURES)[number];

export interface ExecutorObserver {
  runStarted?(event: RunStartedEvent): void;
  runFinished?(event: RunFinishedEvent): void;
  heartbeatFailed?(reason: HeartbeatFailure): void;
}

/** Every hook present, each guarded so that an observer's error is logged and never propagates. */
export type GuardedObserver = Required<ExecutorObserver>;

export function guardObserver(
  observer: ExecutorObserver | undefined,
  logger: ExecutorLogger,
): GuardedObserver {
  const guarded = (hook: keyof ExecutorObserver, call: () => void): void => {
    try {
      call();
    } catch (error) {
      logger.warn('executor observer failed', { hook, error: errorMessage(error) });
    }
  };
  return {
    runStarted: (event) => guarded('runStarted', () => observer?.runStarted?.(event)),
    runFinished: (event) => guarded('runFinished', () => observer?.runFinished?.(event)),
    heartbeatFailed: (reason) => guarded('heartbeatFailed', () => observer?.heartbeatFailed?.(reason)),
  };
}
