/** Hand-built KisConfig documents for engine tests (no YAML, no loader). */
import type {
  ConnConfig,
  FlowConfig,
  FuncConfig,
  FunctionMode,
  KisConfig,
  Params,
} from '../../src/config/model.js';
import { FlowRegistry } from '../../src/engine/registry.js';
import type {
  FlowLogger,
  FlowRunFailure,
  FlowRunResult,
  FlowRunSuccess,
  FunctionDefinition,
} from '../../src/engine/types.js';

export interface FuncInit {
  mode?: FunctionMode;
  must?: readonly string[];
  connectorName?: string;
  retryTimes?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  defaultParams?: Params;
}

export function func(name: string, init: FuncInit = {}): FuncConfig {
  return {
    kind: 'func',
    name,
    mode: init.mode ?? 'Calculate',
    source: { name: `${name}-source`, must: init.must ?? [] },
    connectorName: init.connectorName,
    retryTimes: init.retryTimes ?? 0,
    retryDelayMs: init.retryDelayMs ?? 0,
    timeoutMs: init.timeoutMs,
    defaultParams: init.defaultParams ?? {},
  };
}

export type StepInit = string | { funcName: string; params?: Params };

export function flow(
  name: string,
  steps: readonly StepInit[],
  extra: { enabled?: boolean; maxSteps?: number } = {},
): FlowConfig {
  return {
    kind: 'flow',
    name,
    enabled: extra.enabled ?? true,
    maxSteps: extra.maxSteps,
    steps: steps.map((s) => (typeof s === 'string' ? { funcName: s, params: {} } : { params: {}, ...s })),
  };
}

export function conn(
  name: string,
  type: string,
  init: Partial<Omit<ConnConfig, 'kind' | 'name' | 'type'>> = {},
): ConnConfig {
  return {
    kind: 'conn',
    name,
    type,
    addrs: init.addrs ?? '127.0.0.1:6379',
    key: init.key ?? name,
    params: init.params ?? {},
    load: init.load ?? [],
    save: init.save ?? [],
  };
}

export function kisConfig(parts: {
  funcs?: readonly FuncConfig[];
  flows?: readonly FlowConfig[];
  conns?: readonly ConnConfig[];
}): KisConfig {
  const byName = <T extends { name: string }>(items: readonly T[] = []): Record<string, T> =>
    Object.fromEntries(items.map((i) => [i.name, i]));
  return { funcs: byName(parts.funcs), flows: byName(parts.flows), conns: byName(parts.conns) };
}

/** A logger that keeps its lines, for assertions. */
export function memoryLogger(): {
  lines: { level: string; msg: string; fields: Readonly<Record<string, unknown>> | undefined }[];
  logger: FlowLogger;
} {
  const lines: { level: string; msg: string; fields: Readonly<Record<string, unknown>> | undefined }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Readonly<Record<string, unknown>>): void => {
      lines.push({ level, msg, fields });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** The failed result, or a thrown error saying the run succeeded. */
export function expectFailure(result: FlowRunResult): FlowRunFailure {
  if (result.ok) throw new Error(`expected the run to fail; it succeeded (${result.endedBy})`);
  return result;
}

/** The succeeded result, or a thrown error with the run's error. */
export function expectSuccess(result: FlowRunResult): FlowRunSuccess {
  if (!result.ok)
    throw new Error(`expected the run to succeed: ${result.error.code} ${result.error.message}`);
  return result;
}

/** A registry with one function and a one-step flow `f` running it. */
export function single<Row>(
  def: FunctionDefinition<Row>,
  init: FuncInit = {},
  registry = new FlowRegistry(),
) {
  registry.registerFunction(def);
  registry.loadConfig(kisConfig({ funcs: [func(def.name, init)], flows: [flow('f', [def.name])] }));
  return registry;
}
