/**
 * Runs flows in isolation threads: a ThreadPool whose threads start at thread-main.ts. One run at a time
 * per thread (short runs may queue behind a flowing thread's run; see ThreadPool); a stop request
 * (terminate, timeout) is first cooperative (the run's AbortSignal), then kills the thread after
 * `cancelGraceMs`, which ends even a function stuck in `while (true) {}`.
 */
import { fileURLToPath } from 'node:url';
import type { LogLevel } from '@kisjobs/protocol';
import {
  ThreadPool,
  type StopReason,
  type TaskOutcome,
  type ThreadPoolStats,
} from './isolation/thread-pool.js';
import type { RunTaskInput, RunTaskOutput, RunThreadData, RunThreadEvent } from './run-task.js';

export interface FlowRunnerOptions {
  /** `file:` URL of the functions module. */
  readonly functionsUrl: string;
  /** Runs at once (threads). */
  readonly size: number;
  readonly cancelGraceMs: number;
  readonly maxLogLinesPerRun: number;
  readonly runLogLevel: LogLevel;
}

export interface FlowRunOptions {
  readonly onEvent?: (event: RunThreadEvent) => void;
  /** Counted from the moment the run has its thread. */
  readonly timeoutMs?: number;
}

export type FlowRunOutcome = TaskOutcome<RunTaskOutput>;

const threadEntry = fileURLToPath(new URL('./thread-main.ts', import.meta.url));

export class FlowRunner {
  readonly #pool: ThreadPool<RunTaskInput, RunThreadEvent, RunTaskOutput>;

  constructor(options: FlowRunnerOptions) {
    const data: RunThreadData = {
      functionsUrl: options.functionsUrl,
      maxLogLinesPerRun: options.maxLogLinesPerRun,
      runLogLevel: options.runLogLevel,
    };
    this.#pool = new ThreadPool({
      entry: threadEntry,
      size: options.size,
      cancelGraceMs: options.cancelGraceMs,
      data,
    });
  }

  /** Starts `count` threads ahead of the first runs. Rejects if a thread cannot start (bad module...). */
  warm(count: number): Promise<void> {
    return this.#pool.warm(count);
  }

  /**
   * Runs one flow. The run is known to the pool (and stoppable) as soon as this returns its promise. Never
   * rejects for a run's own failure: every ending is a TaskOutcome.
   */
  run(input: RunTaskInput, options: FlowRunOptions = {}): Promise<FlowRunOutcome> {
    return this.#pool.run(input.runId, input, options);
  }

  /** Stops a run; false when it is not running here. */
  stop(runId: string, reason: StopReason): boolean {
    return this.#pool.stop(runId, reason);
  }

  isRunning(runId: string): boolean {
    return this.#pool.isRunning(runId);
  }

  stats(): ThreadPoolStats {
    return this.#pool.stats();
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
