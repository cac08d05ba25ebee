/**
 * Compiles a KisConfig once, at load, into what runs need: per flow, the steps with their function config
 * and their static effective params (func `defaultParams` < flow step `params`), and where a JumpFunc
 * lands. Also checks that the config holds together, so a load is all-or-nothing.
 */
import {
  FUNCTION_MODES,
  type ConnConfig,
  type FuncConfig,
  type KisConfig,
  type Params,
} from '../config/model.js';
import { compileSourceMust, type SourceMustCheck } from './rows.js';

export interface StepPlan {
  readonly index: number;
  readonly func: FuncConfig;
  /** Frozen: shared by every run of this flow. */
  readonly params: Params;
  /** The function's `source.must` check, compiled once. */
  readonly checkSourceMust: SourceMustCheck;
}

export interface FlowPlan {
  readonly name: string;
  readonly enabled: boolean;
  readonly maxSteps: number | undefined;
  readonly steps: readonly StepPlan[];
  /** Function name -> index of the first step running it (the JumpFunc target). */
  readonly firstStepOf: ReadonlyMap<string, number>;
  /** The function name of each step. */
  readonly stepNames: readonly string[];
}

export interface LoadedConfig {
  readonly config: KisConfig;
  readonly flows: ReadonlyMap<string, FlowPlan>;
  readonly conns: ReadonlyMap<string, ConnConfig>;
}

export type CompileResult =
  | { readonly ok: true; readonly loaded: LoadedConfig }
  | { readonly ok: false; readonly issues: readonly string[] };

const isNonNegativeInt = (n: number): boolean => Number.isInteger(n) && n >= 0;
const isPositiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;

function checkFunc(key: string, func: FuncConfig, conns: KisConfig['conns'], issues: string[]): void {
  const at = `func "${key}"`;
  if (func.name !== key) issues.push(`${at}: keyed under "${key}" but named "${func.name}"`);
  if (!FUNCTION_MODES.includes(func.mode)) issues.push(`${at}: unknown mode "${String(func.mode)}"`);
  if (!isNonNegativeInt(func.retryTimes)) issues.push(`${at}: retryTimes must be an integer >= 0`);
  if (!(Number.isFinite(func.retryDelayMs) && func.retryDelayMs >= 0)) {
    issues.push(`${at}: retryDelayMs must be a number >= 0`);
  }
  if (func.timeoutMs !== undefined && !(Number.isFinite(func.timeoutMs) && func.timeoutMs > 0)) {
    issues.push(`${at}: timeoutMs must be a number > 0`);
  }
  if (func.connectorName !== undefined && !Object.hasOwn(conns, func.connectorName)) {
    issues.push(`${at}: option.cname names connector "${func.connectorName}", which is not in the config`);
  }
}

function compileFlow(
  key: string,
  config: KisConfig,
  checks: Map<string, SourceMustCheck>,
  issues: string[],
): FlowPlan | undefined {
  const flow = config.flows[key];
  if (flow === undefined) return undefined;
  const at = `flow "${key}"`;
  const before = issues.length;
  if (flow.name !== key) issues.push(`${at}: keyed under "${key}" but named "${flow.name}"`);
  if (flow.maxSteps !== undefined && !isPositiveInt(flow.maxSteps)) {
    issues.push(`${at}: maxSteps must be an integer > 0`);
  }
  const steps: StepPlan[] = [];
  const firstStepOf = new Map<string, number>();
  flow.steps.forEach((step, index) => {
    const func = Object.hasOwn(config.funcs, step.funcName) ? config.funcs[step.funcName] : undefined;
    if (func === undefined) {
      issues.push(`${at}: step ${index} names function "${step.funcName}", which is not in the config`);
      return;
    }
    if (!firstStepOf.has(func.name)) firstStepOf.set(func.name, index);
    const params = Object.freeze({ ...func.defaultParams, ...step.params });
    let checkSourceMust = checks.get(func.name);
    if (checkSourceMust === undefined) {
      checkSourceMust = compileSourceMust(func.source.must);
      checks.set(func.name, checkSourceMust);
    }
    steps.push({ index, func, params, checkSourceMust });
  });
  if (issues.length > before) return undefined;
  return {
    name: flow.name,
    enabled: flow.enabled,
    maxSteps: flow.maxSteps,
    steps,
    firstStepOf,
    stepNames: steps.map((s) => s.func.name),
  };
}

export function compileConfig(config: KisConfig): CompileResult {
  const issues: string[] = [];
  for (const [key, func] of Object.entries(config.funcs)) checkFunc(key, func, config.conns, issues);
  const conns = new Map<string, ConnConfig>();
  for (const [key, conn] of Object.entries(config.conns)) {
    if (conn.name !== key) issues.push(`conn "${key}": keyed under "${key}" but named "${conn.name}"`);
    if (typeof conn.type !== 'string' || conn.type === '') issues.push(`conn "${key}": type is required`);
    conns.set(key, conn);
  }
  const flows = new Map<string, FlowPlan>();
  const checks = new Map<string, SourceMustCheck>();
  for (const key of Object.keys(config.flows)) {
    const plan = compileFlow(key, config, checks, issues);
    if (plan !== undefined) flows.set(key, plan);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, loaded: { config, flows, conns } };
}

/** Run-level params over a step's static params (a fresh frozen object only when there are any). */
export function effectiveParams(step: StepPlan, runParams: Params | undefined): Params {
  if (runParams === undefined) return step.params;
  return Object.freeze({ ...step.params, ...runParams });
}

/** Whether two connector configs would build the same connector (the descriptive load/save lists aside). */
export function sameConnector(a: ConnConfig, b: ConnConfig): boolean {
  if (a.type !== b.type || a.addrs !== b.addrs || a.key !== b.key) return false;
  const ak = Object.keys(a.params);
  const bk = Object.keys(b.params);
  return (
    ak.length === bk.length && ak.every((k) => Object.hasOwn(b.params, k) && b.params[k] === a.params[k])
  );
}
