/**
 * FlowRegistry: function implementations, connector types, the loaded config and the connectors built from
 * it, for one process or worker thread. An instance, never a global. Runs are re-entrant: they share only
 * the long-lived per-function and per-connector metadata maps and the initialised connectors.
 */
import { randomUUID } from 'node:crypto';
import type { KisConfig } from '../config/model.js';
import { ConnectorPool } from '../connectors/pool.js';
import {
  DuplicateRegistrationError,
  FlowConfigError,
  FlowDisabledError,
  FlowNotFoundError,
  statusForCode,
  type FlowError,
} from './errors.js';
import type { ConnectorAccess, ErasedFunction } from './invoke.js';
import { createNoopLogger } from './logger.js';
import { compileConfig, sameConnector, type LoadedConfig } from './plan.js';
import { executeRun, type RunServices } from './run.js';
import type {
  Connector,
  ConnectorFactory,
  ConnectorType,
  FlowLogger,
  FlowRegistryOptions,
  FlowRunResult,
  AnyFunctionDefinition,
  MetaMap,
  RegistryDescription,
  RunOptions,
} from './types.js';

export const DEFAULT_MAX_STEPS = 1000;
export const DEFAULT_CONNECTOR_INIT_TIMEOUT_MS = 10_000;

interface ResolvedRegistryOptions {
  readonly maxSteps: number;
  readonly hooks: FlowRegistryOptions['hooks'];
  readonly logger: FlowLogger;
  readonly connectorInitTimeoutMs: number;
}

function resolveOptions(options: FlowRegistryOptions): ResolvedRegistryOptions {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const initTimeout = options.connectorInitTimeoutMs ?? DEFAULT_CONNECTOR_INIT_TIMEOUT_MS;
  const issues: string[] = [];
  if (!Number.isInteger(maxSteps) || maxSteps <= 0) issues.push('maxSteps must be an integer > 0');
  if (!(Number.isFinite(initTimeout) && initTimeout > 0)) issues.push('connectorInitTimeoutMs must be > 0');
  if (issues.length > 0) throw new FlowConfigError(issues);
  return {
    maxSteps,
    hooks: options.hooks,
    logger: options.logger ?? createNoopLogger(),
    connectorInitTimeoutMs: initTimeout,
  };
}

function metaOf(maps: Map<string, MetaMap>, name: string): MetaMap {
  let map = maps.get(name);
  if (map === undefined) {
    map = new Map();
    maps.set(name, map);
  }
  return map;
}

export class FlowRegistry {
  readonly #options: ResolvedRegistryOptions;
  readonly #functions = new Map<string, ErasedFunction>();
  readonly #factories = new Map<string, ConnectorFactory>();
  readonly #funcMeta = new Map<string, MetaMap>();
  readonly #connMeta = new Map<string, MetaMap>();
  readonly #pool: ConnectorPool;
  readonly #services: RunServices;
  #loaded: LoadedConfig | undefined;

  constructor(options: FlowRegistryOptions = {}) {
    this.#options = resolveOptions(options);
    this.#pool = new ConnectorPool({
      factories: this.#factories,
      logger: this.#options.logger,
      initTimeoutMs: this.#options.connectorInitTimeoutMs,
    });
    const connectors: ConnectorAccess = {
      acquire: (conf, who, signal) => this.#pool.acquire(conf, who, signal),
      meta: (name) => metaOf(this.#connMeta, name),
      config: (name) => this.#loaded?.conns.get(name),
    };
    this.#services = {
      functions: this.#functions,
      funcMeta: (name) => metaOf(this.#funcMeta, name),
      connectors,
      hooks: this.#options.hooks,
      maxSteps: this.#options.maxSteps,
    };
  }

  /** Registers the implementation of function `def.name`. A name can be registered once. */
  registerFunction(def: AnyFunctionDefinition): this {
    if (typeof def.name !== 'string' || def.name === '') throw new TypeError('a function needs a name');
    if (typeof def.handler !== 'function') throw new TypeError(`function "${def.name}" needs a handler`);
    if (this.#functions.has(def.name)) {
      throw new DuplicateRegistrationError(`function "${def.name}" is already registered`);
    }
    this.#functions.set(def.name, def);
    return this;
  }

  /** Registers a connector implementation for `kistype: conn` documents of this `type`. */
  registerConnectorType<C extends Connector>(type: ConnectorType<C>): this;
  registerConnectorType<C extends Connector>(type: string, factory: ConnectorFactory<C>): this;
  registerConnectorType<C extends Connector>(
    typeOrDef: string | ConnectorType<C>,
    factory?: ConnectorFactory<C>,
  ): this {
    const type = typeof typeOrDef === 'string' ? typeOrDef : typeOrDef.type;
    const make = typeof typeOrDef === 'string' ? factory : typeOrDef.factory;
    if (typeof type !== 'string' || type === '') throw new TypeError('a connector type needs a name');
    if (typeof make !== 'function') throw new TypeError(`connector type "${type}" needs a factory`);
    if (this.#factories.has(type)) {
      throw new DuplicateRegistrationError(`connector type "${type}" is already registered`);
    }
    this.#factories.set(type, make);
    return this;
  }

  /**
   * Replaces the loaded config, all or nothing: it is checked first (steps name known functions, functions
   * name known connectors, numbers in range) and a FlowConfigError lists every problem. Loading never
   * connects; initialised connectors whose config changed or went away are closed.
   */
  loadConfig(config: KisConfig): void {
    const compiled = compileConfig(config);
    if (!compiled.ok) throw new FlowConfigError(compiled.issues);
    const loaded = compiled.loaded;
    this.#loaded = loaded;
    this.#pool.retain((name, current) => {
      const next = loaded.conns.get(name);
      return next !== undefined && sameConnector(current, next) ? next : undefined;
    });
  }

  /** The loaded config, if any. */
  get config(): KisConfig | undefined {
    return this.#loaded?.config;
  }

  /** Runs flow `flowName` over `options.rows`. Never throws: every outcome is a FlowRunResult. */
  async run(flowName: string, options: RunOptions): Promise<FlowRunResult> {
    const runId = options.runId ?? `run_${randomUUID()}`;
    const plan = this.#loaded?.flows.get(flowName);
    if (plan === undefined || !plan.enabled) {
      const error: FlowError =
        plan === undefined
          ? new FlowNotFoundError(`flow "${flowName}" is not in the loaded config`)
          : new FlowDisabledError(`flow "${flowName}" is disabled (status: 0)`);
      return {
        ok: false,
        status: statusForCode(error.code),
        error: error.toJSON(),
        runId,
        flowName,
        functions: [],
        steps: 0,
        durationMs: 0,
      };
    }
    return executeRun(this.#services, plan, {
      runId,
      rows: options.rows,
      signal: options.signal,
      logger: options.logger ?? this.#options.logger,
      params: options.params,
      metadata: options.metadata,
    });
  }

  /** What this registry implements, for executor registration. */
  describe(): RegistryDescription {
    const flows = [...(this.#loaded?.flows.values() ?? [])].map((f) => ({
      name: f.name,
      enabled: f.enabled,
    }));
    return {
      functions: [...this.#functions.keys()].sort(),
      connectorTypes: [...this.#factories.keys()].sort(),
      flows: flows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }

  /** Whether connector `name` has been initialised (and not closed since). */
  isConnectorInitialised(name: string): boolean {
    return this.#pool.isInitialised(name);
  }

  /**
   * Closes every initialised connector (and any still initialising). The registry stays usable: a later
   * run initialises its connectors again.
   */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
