/**
 * The engine's public types: function definitions and their context, connectors, hooks, run options and
 * run results.
 */
import type { z } from 'zod';
import type { ConnConfig, FunctionMode, Params } from '../config/model.js';
import type { FlowAction, FlowActionKind } from './actions.js';
import type { FlowErrorCode, FlowRunError } from './errors.js';

export type LogFields = Readonly<Record<string, unknown>>;

export interface FlowLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Metadata maps: per run, or long-lived per function and per connector within one registry. */
export type MetaMap = Map<string, unknown>;

/** Who is running: handed to every function as `ctx.run`. */
export interface RunIdentity {
  readonly runId: string;
  readonly flowName: string;
  readonly funcName: string;
  readonly mode: FunctionMode;
  /** The position of this function instance in the flow, from 0. */
  readonly step: number;
}

// ---------------------------------------------------------------------------------------------------------
// Connectors

export interface Connector {
  close(): Promise<void>;
}

export interface ConnectorHelpers {
  /** Aborted when the registry closes or the initialisation times out. */
  readonly signal: AbortSignal;
  readonly logger: FlowLogger;
}

export type ConnectorFactory<C extends Connector = Connector> = (
  conf: ConnConfig,
  helpers: ConnectorHelpers,
) => Promise<C>;

/** A connector implementation: the `type` a `kistype: conn` document names, and how to build one. */
export interface ConnectorType<C extends Connector = Connector> {
  readonly type: string;
  readonly factory: ConnectorFactory<C>;
}

// ---------------------------------------------------------------------------------------------------------
// Functions

/**
 * What a handler gets. `commit`, `commitMany` and `param` are methods: call them on the context
 * (`ctx.commit(row)`); to pass one around, wrap it (`rows.forEach((r) => ctx.commit(r))`).
 */
export interface FunctionContext<Row = unknown, Conn extends Connector = Connector> {
  /** The input rows: the previous function's committed rows (parsed by `input` when the definition has one). */
  readonly rows: readonly Row[];
  /** Adds one output row. */
  commit(row: unknown): void;
  commitMany(rows: Iterable<unknown>): void;
  /** Effective params: func `default_params` < flow step `params` < run-level `params`. */
  readonly params: Params;
  param(name: string): string | undefined;
  param(name: string, fallback: string): string;
  /** The initialised connector named by `option.cname`; throws CONNECTOR_NOT_FOUND when there is none. */
  readonly connector: Conn;
  /** Per-run metadata, seeded by the run's `metadata` option. */
  readonly meta: MetaMap;
  /** Metadata of this function name, kept across runs in this registry. */
  readonly funcMeta: MetaMap;
  /** Metadata of this function's connector, kept across runs; throws CONNECTOR_NOT_FOUND without one. */
  readonly connMeta: MetaMap;
  readonly logger: FlowLogger;
  /** Aborted when the run is cancelled or this attempt times out. Pass it to every I/O call. */
  readonly signal: AbortSignal;
  readonly run: RunIdentity;
}

export type FunctionResult = FlowAction | undefined | void;

export type FunctionHandler<Row = unknown, Conn extends Connector = Connector> = (
  ctx: FunctionContext<Row, Conn>,
) => FunctionResult | Promise<FunctionResult>;

/** Any schema of zod 4 (classic or mini) whose output is `Row`. */
export type RowSchema<Row = unknown> = z.core.$ZodType<Row>;

export interface FunctionDefinition<Row = unknown, Conn extends Connector = Connector> {
  /** The `fname` this implementation serves. */
  readonly name: string;
  /** Validates (and parses) every input row; a failure ends the run with INPUT_INVALID. */
  readonly input?: RowSchema<Row>;
  /** Set false to skip the `source.must` check of this function's config. Default true. */
  readonly checkSourceMust?: boolean;
  /** The connector type this function expects; checked against the connector's config at run time. */
  readonly connector?: ConnectorType<Conn>;
  // Method syntax on purpose: it makes every FunctionDefinition<Row, Conn> a FunctionDefinition (of unknown
  // rows), so catalogs of differently typed functions can be listed and registered together. The engine
  // upholds the narrower type: it parses rows with `input` and checks the connector's type.
  handler(ctx: FunctionContext<Row, Conn>): FunctionResult | Promise<FunctionResult>;
}

/** Any function definition, whatever its row and connector types. */
export type AnyFunctionDefinition = FunctionDefinition<unknown, Connector>;

// ---------------------------------------------------------------------------------------------------------
// Hooks

export interface FunctionEndEvent {
  readonly runId: string;
  readonly flow: string;
  readonly function: string;
  readonly mode: FunctionMode;
  readonly step: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly durationMs: number;
  readonly attempts: number;
  readonly action?: FlowActionKind;
  readonly error?: { readonly code: FlowErrorCode; readonly message: string };
}

export interface FlowEndEvent {
  readonly runId: string;
  readonly flow: string;
  readonly status: RunStatus;
  readonly endedBy?: EndedBy;
  readonly durationMs: number;
  /** Source rows the run started with. */
  readonly rows: number;
  /** Output rows of a succeeded run (0 otherwise). */
  readonly rowsOut: number;
  readonly steps: number;
  readonly error?: FlowRunError;
}

/** Engine events. A hook that throws is logged and ignored: hooks never change a run's outcome. */
export interface FlowHooks {
  readonly onFunctionEnd?: (event: FunctionEndEvent) => void;
  readonly onFlowEnd?: (event: FlowEndEvent) => void;
}

// ---------------------------------------------------------------------------------------------------------
// Registry and runs

export interface FlowRegistryOptions {
  /** Step guard: executed steps per run before STEP_LIMIT_EXCEEDED, unless the flow sets `maxSteps`. */
  readonly maxSteps?: number;
  readonly hooks?: FlowHooks;
  readonly logger?: FlowLogger;
  /** Upper bound on one connector initialisation (the factory call). Default 10 s. */
  readonly connectorInitTimeoutMs?: number;
}

export interface RunOptions {
  readonly rows: readonly unknown[];
  readonly signal?: AbortSignal;
  readonly logger?: FlowLogger;
  /** Default: `run_<uuid>`. */
  readonly runId?: string;
  /** Merged over every step's effective params. */
  readonly params?: Readonly<Record<string, string>>;
  /** Initial per-run metadata (`ctx.meta`). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * - completed: every step ran (the last one may have committed nothing);
 * - abort_action: a function returned Abort;
 * - no_rows: a function that was not last committed nothing, so the next one did not run.
 */
export type EndedBy = 'completed' | 'abort_action' | 'no_rows';
export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

export interface FunctionSummary {
  readonly step: number;
  readonly funcName: string;
  readonly mode: FunctionMode;
  readonly rowsIn: number;
  /** Rows this function committed (DataReuse passes its input on, but its commits are what it made). */
  readonly rowsOut: number;
  readonly durationMs: number;
  /** Handler calls made; 0 when the step failed before its handler (source.must, input, connector). */
  readonly attempts: number;
  readonly action?: FlowActionKind;
  readonly error?: { readonly code: FlowErrorCode; readonly message: string };
}

interface RunResultBase {
  readonly runId: string;
  readonly flowName: string;
  readonly functions: readonly FunctionSummary[];
  /** Steps executed (handler reached or attempted), counting repeats through JumpFunc. */
  readonly steps: number;
  readonly durationMs: number;
}

export interface FlowRunSuccess extends RunResultBase {
  readonly ok: true;
  readonly status: 'succeeded';
  readonly endedBy: EndedBy;
  readonly output: unknown[];
}

export interface FlowRunFailure extends RunResultBase {
  readonly ok: false;
  readonly status: 'failed' | 'cancelled';
  readonly error: FlowRunError;
}

export type FlowRunResult = FlowRunSuccess | FlowRunFailure;

export interface RegistryDescription {
  readonly functions: readonly string[];
  readonly connectorTypes: readonly string[];
  readonly flows: readonly { readonly name: string; readonly enabled: boolean }[];
}
