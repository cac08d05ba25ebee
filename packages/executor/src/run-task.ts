/**
 * What crosses between the executor's main thread and an isolation thread for one run (structured clone,
 * both ends in this package, so plain types). Rows never come back, only their count.
 */
import type { FlowRunError, FunctionMode } from '@kisjobs/flow';
import type { LogLevel, RunRequest } from '@kisjobs/protocol';

/**
 * The one source row every run starts with. A flow's first function reads it (`ctx.rows[0]`) to know which
 * fire and shard it serves; a Load function typically ignores it and commits the rows it loads.
 */
export interface RunSourceRow {
  readonly runId: string;
  readonly jobId: string;
  readonly scheduledAt: string;
  readonly attempt: number;
  readonly triggerType: RunRequest['triggerType'];
  readonly shardIndex: number;
  readonly shardTotal: number;
  readonly params: Readonly<Record<string, string>>;
}

export interface RunTaskInput {
  readonly runId: string;
  readonly flowName: string;
  /** The request's resolved KisFlow config JSON; validated and loaded in the thread when it changed. */
  readonly flow: Readonly<Record<string, unknown>>;
  readonly params: Readonly<Record<string, string>>;
  readonly source: RunSourceRow;
}

/** One function of the flow as the engine reported it (durations in fractional ms, attempts may be 0). */
export interface StepSummary {
  readonly step: number;
  readonly funcName: string;
  readonly mode: FunctionMode;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly durationMs: number;
  readonly attempts: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export type RunThreadEvent =
  | {
      readonly type: 'log';
      readonly level: LogLevel;
      readonly message: string;
      readonly funcName?: string;
      readonly fields?: Readonly<Record<string, unknown>>;
    }
  | { readonly type: 'progress'; readonly summary: StepSummary };

export type RunTaskOutput =
  | {
      readonly kind: 'flow';
      readonly ok: true;
      readonly functions: readonly StepSummary[];
      readonly outputRows: number;
    }
  | {
      readonly kind: 'flow';
      readonly ok: false;
      readonly status: 'failed' | 'cancelled';
      readonly error: FlowRunError;
      readonly functions: readonly StepSummary[];
    }
  /** The request's `flow` did not validate or load; nothing ran. */
  | { readonly kind: 'flow-invalid'; readonly message: string };

/** What an isolation thread is started with (`ThreadPoolOptions.data`). */
export interface RunThreadData {
  readonly functionsUrl: string;
  readonly maxLogLinesPerRun: number;
  readonly runLogLevel: LogLevel;
}

export function sourceRowOf(request: RunRequest): RunSourceRow {
  return {
    runId: request.runId,
    jobId: request.jobId,
    scheduledAt: request.scheduledAt,
    attempt: request.attempt,
    triggerType: request.triggerType,
    shardIndex: request.shardIndex,
    shardTotal: request.shardTotal,
    params: request.params,
  };
}

export function taskInputOf(request: RunRequest): RunTaskInput {
  return {
    runId: request.runId,
    flowName: request.flowName,
    flow: request.flow,
    params: request.params,
    source: sourceRowOf(request),
  };
}
