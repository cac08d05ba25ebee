/**
 * The resolved KisFlow configuration model: what the loader produces from YAML (either dialect) and what
 * the engine consumes. Plain JSON-serialisable data, so a resolved config can travel inside a run request.
 *
 * Naming: the YAML dialects say `fname`/`fid`, `flow_name`/`flow_id`, `cname`/`cid`; the model says `name`
 * (the key everything is looked up by) and `id` (kept only when the document gave an id distinct from the
 * name, so export can write it back).
 */

export const FUNCTION_MODES = ['Verify', 'Save', 'Load', 'Calculate', 'Expand'] as const;
export type FunctionMode = (typeof FUNCTION_MODES)[number];

/** Params are strings: YAML scalars keep their literal text (`5` -> "5", `true` -> "true", `~` -> ""). */
export type Params = Readonly<Record<string, string>>;

export interface FuncConfig {
  readonly kind: 'func';
  readonly name: string;
  readonly id?: string;
  readonly mode: FunctionMode;
  readonly source: { readonly name: string; readonly must: readonly string[] };
  /** `option.cname` (or `cid`): the connector this function reaches through `ctx.connector`. */
  readonly connectorName?: string;
  /** `option.retry_times`: extra attempts after a throw (0 = no retry). */
  readonly retryTimes: number;
  /** `option.return_duration` (newer) or `option.retry_duration` (older): delay between attempts, ms. */
  readonly retryDelayMs: number;
  /** `option.timeout_ms` (KisJobs extension): per-attempt time limit, ms; undefined = none. */
  readonly timeoutMs?: number;
  readonly defaultParams: Params;
}

export interface FlowStep {
  readonly funcName: string;
  /** Flow-level params for this position; they win over the function's `defaultParams`. */
  readonly params: Params;
}

export interface FlowConfig {
  readonly kind: 'flow';
  readonly name: string;
  readonly id?: string;
  /** `status: 1` (or missing) = enabled, `status: 0` = disabled. */
  readonly enabled: boolean;
  readonly steps: readonly FlowStep[];
  /** `max_steps` (KisJobs extension): the step guard for JumpFunc loops; undefined = registry default. */
  readonly maxSteps?: number;
}

export interface ConnConfig {
  readonly kind: 'conn';
  readonly name: string;
  readonly id?: string;
  /** Connector implementation type: `redis`, `mysql`, `kafka`, `tidb`, `es`, or anything registered. */
  readonly type: string;
  readonly addrs: string;
  readonly key: string;
  readonly params: Params;
  /** Descriptive lists of function names, de-duplicated. */
  readonly load: readonly string[];
  readonly save: readonly string[];
}

export interface GlobalConfig {
  readonly kind: 'global';
  readonly prometheusEnable: boolean;
  readonly prometheusListen: boolean;
  /** host:port to serve `/metrics` on when enable and listen are both true. */
  readonly prometheusServe?: string;
}

/** A whole, validated configuration. Records are keyed by `name`. */
export interface KisConfig {
  readonly funcs: Readonly<Record<string, FuncConfig>>;
  readonly flows: Readonly<Record<string, FlowConfig>>;
  readonly conns: Readonly<Record<string, ConnConfig>>;
  readonly global?: GlobalConfig;
}

export type ConfigDocument = FuncConfig | FlowConfig | ConnConfig | GlobalConfig;
