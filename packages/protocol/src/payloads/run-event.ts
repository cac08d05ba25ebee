/**
 * RunEvent: executor → scheduler, appended to a durable Redis stream (`log` events to the logs stream,
 * the others to the events stream; see keyspace.ts) and ingested into Postgres by a consumer group that
 * acknowledges only after the commit (DESIGN §2.3).
 *
 * Idempotent ingestion: every event carries an `eventId` (a `newId('evt')`, made once when the event is
 * created, so a repeated XADD or a re-read stream entry holds the same id); ingestion inserts with
 * "on conflict do nothing". `seq` orders the events of one delivery of a run (`started` is 0, then +1 per
 * event); `instanceId` says which executor sent it, so events from a delivery the scheduler has already
 * given up on (the run was declared lost, or re-delivered elsewhere) can be recognised and dropped.
 */
import { z } from 'zod';
import { Count, DurationMs, IsoDateTime } from '../common.js';
import { ExecutorOutcome, FunctionMode, LogLevel } from '../domain.js';
import { EventId, RunId } from '../ids.js';
import { InstanceId } from '../names.js';

export const MAX_LOG_MESSAGE_CHARS = 16_384;
export const MAX_ERROR_MESSAGE_CHARS = 8_192;

/** How one function of the flow did (DESIGN §3: rows in and out, duration). */
export const FunctionSummary = z.object({
  /** 0-based position in the flow's chain. A JumpFunc can revisit a step, so steps may repeat. */
  step: z.number().int().min(0),
  funcName: z.string().min(1).max(256),
  mode: FunctionMode,
  rowsIn: Count,
  rowsOut: Count,
  durationMs: DurationMs,
  /** 1 when the function succeeded first time; more when its own retry (`retry_times`) kicked in. */
  /** 0 when the step failed before its handler ran (e.g. a `source.must` check). */
  attempts: z.number().int().min(0),
  error: z.string().max(MAX_ERROR_MESSAGE_CHARS).optional(),
});
export type FunctionSummary = z.infer<typeof FunctionSummary>;

/** A run's failure: a short stable code (e.g. `FUNCTION_FAILED`, `TIMEOUT`, `FLOW_INVALID`) and text. */
export const RunError = z.object({
  code: z.string().min(1).max(100),
  message: z.string().max(MAX_ERROR_MESSAGE_CHARS),
});
export type RunError = z.infer<typeof RunError>;

const RunEventBase = z.object({
  eventId: EventId,
  runId: RunId,
  attempt: z.number().int().min(1),
  instanceId: InstanceId,
  seq: z.number().int().min(0),
  at: IsoDateTime,
});

export const RunStartedEvent = RunEventBase.extend({
  type: z.literal('started'),
});
export type RunStartedEvent = z.infer<typeof RunStartedEvent>;

export const RunLogEvent = RunEventBase.extend({
  type: z.literal('log'),
  level: LogLevel,
  funcName: z.string().min(1).max(256).optional(),
  /** Executors truncate longer lines to this bound before sending. */
  message: z.string().max(MAX_LOG_MESSAGE_CHARS),
  fields: z.record(z.string(), z.unknown()).optional(),
});
export type RunLogEvent = z.infer<typeof RunLogEvent>;

/** Sent as each function of the flow completes. */
export const RunProgressEvent = RunEventBase.extend({
  type: z.literal('progress'),
  summary: FunctionSummary,
});
export type RunProgressEvent = z.infer<typeof RunProgressEvent>;

export const RunFinishedEvent = RunEventBase.extend({
  type: z.literal('finished'),
  status: ExecutorOutcome,
  summary: z.array(FunctionSummary),
  error: RunError.optional(),
  /** Rows committed by the last function that ran. */
  outputRows: Count,
}).superRefine((value, ctx) => {
  if (value.status !== 'succeeded' && value.error === undefined) {
    ctx.addIssue({ code: 'custom', path: ['error'], message: `A ${value.status} run must report an error` });
  }
});
export type RunFinishedEvent = z.infer<typeof RunFinishedEvent>;

export const RunEvent = z.discriminatedUnion('type', [
  RunStartedEvent,
  RunLogEvent,
  RunProgressEvent,
  RunFinishedEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;

export const RUN_EVENT_TYPES = [
  'started',
  'log',
  'progress',
  'finished',
] as const satisfies readonly RunEvent['type'][];
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/**
 * The `RunError.code` values an executor reports in a `finished` event, besides the flow engine's own codes
 * (FUNCTION_FAILED, FUNCTION_TIMEOUT, FLOW_NOT_FOUND..., passed through unchanged).
 */
export const EXECUTOR_RUN_ERROR_CODES = {
  /** The RunRequest failed schema validation (the message names the fields). */
  payloadInvalid: 'PAYLOAD_INVALID',
  /** The request's `flow` is not a valid resolved KisFlow config. */
  flowInvalid: 'FLOW_INVALID',
  /** The run outlived the request's `timeoutMs`. Status `timed_out`. */
  timeout: 'TIMEOUT',
  /** A terminate request (pub/sub or the durable cancel flag). Status `terminated`. */
  terminated: 'TERMINATED',
  /** The executor shut down before the run finished within its drain timeout. Status `terminated`. */
  shutdown: 'EXECUTOR_SHUTDOWN',
  /** The isolation thread died under the run (uncaught error, out of memory, exit). Status `failed`. */
  threadCrashed: 'EXECUTOR_THREAD_CRASHED',
  /** A bug in the executor itself. Status `failed`. */
  internal: 'EXECUTOR_INTERNAL',
} as const;
export type ExecutorRunErrorCode = (typeof EXECUTOR_RUN_ERROR_CODES)[keyof typeof EXECUTOR_RUN_ERROR_CODES];
