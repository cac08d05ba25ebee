/**
 * The thread side of a run: one FlowRegistry built from the functions module, reused across the runs of
 * its thread (so connectors initialise once per thread), with the request's flow config loaded only when
 * it changed (compared by hash). Runs one task at a time, as its thread does. Plain class, no thread APIs,
 * so it also runs in-process (tests, the isolation benchmark's baseline).
 */
import { createHash } from 'node:crypto';
import {
  FlowConfigError,
  type FlowLogger,
  type FlowRegistry,
  type FunctionEndEvent,
  type LogFields,
} from '@kisjobs/flow';
import { MAX_LOG_MESSAGE_CHARS, type LogLevel } from '@kisjobs/protocol';
import { parseFlowConfig } from './flow-config.js';
import { buildFlowRegistry, type FunctionsModule } from './functions-module.js';
import { safeJson } from './logger.js';
import type { RunTaskInput, RunTaskOutput, RunThreadEvent, StepSummary } from './run-task.js';

export interface FlowHostOptions {
  readonly maxLogLinesPerRun: number;
  readonly runLogLevel: LogLevel;
}

export interface RunHelpers {
  readonly signal: AbortSignal;
  readonly emit: (event: RunThreadEvent) => void;
}

interface CurrentRun {
  readonly runId: string;
  readonly emit: (event: RunThreadEvent) => void;
  lines: number;
  dropped: number;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Fields the engine adds to every line that the log event already carries (runId) or that add nothing. */
const ENGINE_FIELDS = new Set(['runId', 'flow', 'func']);

export class FlowHost {
  readonly #registry: FlowRegistry;
  readonly #options: FlowHostOptions;
  #loadedHash: string | undefined;
  #current: CurrentRun | undefined;

  constructor(module: FunctionsModule, options: FlowHostOptions) {
    this.#options = options;
    this.#registry = buildFlowRegistry(module, {
      hooks: {
        onFunctionEnd: (event) => {
          const current = this.#current;
          if (current?.runId === event.runId)
            current.emit({ type: 'progress', summary: stepSummaryOf(event) });
        },
      },
      // Registry-level lines (connector initialisation...) belong to the run that caused them.
      logger: this.#logger(() => this.#current),
    });
  }

  async run(input: RunTaskInput, helpers: RunHelpers): Promise<RunTaskOutput> {
    if (this.#current !== undefined) throw new Error('FlowHost runs one task at a time');
    const loaded = this.#ensureConfig(input.flow);
    if (loaded !== undefined) return loaded;
    const current: CurrentRun = { runId: input.runId, emit: helpers.emit, lines: 0, dropped: 0 };
    this.#current = current;
    try {
      const result = await this.#registry.run(input.flowName, {
        rows: [input.source],
        signal: helpers.signal,
        logger: this.#logger(() => current),
        runId: input.runId,
        params: input.params,
      });
      if (current.dropped > 0) {
        helpers.emit({
          type: 'log',
          level: 'warn',
          message: `${current.dropped} log lines of this run were dropped (limit ${this.#options.maxLogLinesPerRun} per run)`,
        });
      }
      const functions = result.functions.map(stepSummaryOf);
      if (result.ok) return { kind: 'flow', ok: true, functions, outputRows: result.output.length };
      return { kind: 'flow', ok: false, status: result.status, error: result.error, functions };
    } finally {
      this.#current = undefined;
    }
  }

  close(): Promise<void> {
    return this.#registry.close();
  }

  /** Loads `flow` unless it is the config already loaded; returns the failure output when it is invalid. */
  #ensureConfig(flow: Readonly<Record<string, unknown>>): RunTaskOutput | undefined {
    const hash = createHash('sha256').update(JSON.stringify(flow)).digest('hex');
    if (hash === this.#loadedHash) return undefined;
    const parsed = parseFlowConfig(flow);
    if (!parsed.ok) {
      const fields = parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      return { kind: 'flow-invalid', message: `the request's flow config is invalid: ${fields}` };
    }
    try {
      this.#registry.loadConfig(parsed.config);
    } catch (error) {
      if (!(error instanceof FlowConfigError)) throw error;
      return {
        kind: 'flow-invalid',
        message: `the request's flow config does not load: ${error.issues.join('; ')}`,
      };
    }
    this.#loadedHash = hash;
    return undefined;
  }

  #logger(target: () => CurrentRun | undefined): FlowLogger {
    const min = LEVEL_RANK[this.#options.runLogLevel];
    const max = this.#options.maxLogLinesPerRun;
    const line = (level: LogLevel, msg: string, fields?: LogFields): void => {
      const run = target();
      if (run === undefined || LEVEL_RANK[level] < min) return;
      if (run.lines >= max) {
        run.dropped++;
        return;
      }
      run.lines++;
      run.emit(logEventOf(level, msg, fields));
    };
    return {
      debug: (msg, fields) => line('debug', msg, fields),
      info: (msg, fields) => line('info', msg, fields),
      warn: (msg, fields) => line('warn', msg, fields),
      error: (msg, fields) => line('error', msg, fields),
    };
  }
}

/** A log line made safe to clone and to encode: bounded text, JSON-only fields. */
function logEventOf(level: LogLevel, msg: string, fields: LogFields | undefined): RunThreadEvent {
  const message = String(msg).slice(0, MAX_LOG_MESSAGE_CHARS);
  const func = fields?.['func'];
  const funcName = typeof func === 'string' && func !== '' ? func.slice(0, 256) : undefined;
  let rest: Record<string, unknown> | undefined;
  if (fields !== undefined) {
    const own = Object.fromEntries(Object.entries(fields).filter(([key]) => !ENGINE_FIELDS.has(key)));
    if (Object.keys(own).length > 0) {
      try {
        rest = JSON.parse(safeJson(own)) as Record<string, unknown>;
      } catch {
        rest = { fieldsError: 'log fields could not be serialised' };
      }
    }
  }
  return {
    type: 'log',
    level,
    message,
    ...(funcName === undefined ? {} : { funcName }),
    ...(rest === undefined ? {} : { fields: rest }),
  };
}

function stepSummaryOf(event: FunctionEndEvent | StepSummaryLike): StepSummary {
  const funcName = 'function' in event ? event.function : event.funcName;
  return {
    step: event.step,
    funcName,
    mode: event.mode,
    rowsIn: event.rowsIn,
    rowsOut: event.rowsOut,
    durationMs: event.durationMs,
    attempts: event.attempts,
    ...(event.error === undefined ? {} : { error: { code: event.error.code, message: event.error.message } }),
  };
}

type StepSummaryLike = Omit<StepSummary, 'error'> & { readonly error?: { code: string; message: string } };
