/**
 * The context one handler attempt sees. One object per attempt (never per row); its commit buffer belongs to
 * that attempt alone, so a retried or timed-out attempt leaves nothing behind. `commit` is a prototype
 * method on purpose: it is the per-row hot path, and a method shared by every context is what the JIT
 * inlines into a handler's loop.
 */
import type { Params } from '../config/model.js';
import { ConnectorNotFoundError } from './errors.js';
import type { Connector, FlowLogger, FunctionContext, MetaMap, RunIdentity } from './types.js';

/** Where a context gets its signal: the run's, created on first use when the caller gave none. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

export interface StepContextInit {
  readonly rows: readonly unknown[];
  readonly params: Params;
  readonly connector: Connector | undefined;
  readonly connMeta: MetaMap | undefined;
  readonly meta: MetaMap;
  readonly funcMeta: MetaMap;
  readonly logger: FlowLogger;
  /** This attempt's own signal (timeouts), else undefined to use the run's. */
  readonly signal: AbortSignal | undefined;
  readonly signalSource: SignalSource;
  readonly run: RunIdentity;
}

export class StepContext implements FunctionContext<unknown, Connector> {
  readonly rows: readonly unknown[];
  readonly params: Params;
  readonly meta: MetaMap;
  readonly funcMeta: MetaMap;
  readonly logger: FlowLogger;
  readonly run: RunIdentity;
  /** This attempt's output; after `seal()`, an unreachable sink for late commits. */
  #out: unknown[] = [];
  readonly #committed: unknown[];
  readonly #connector: Connector | undefined;
  readonly #connMeta: MetaMap | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #signalSource: SignalSource;

  constructor(init: StepContextInit) {
    this.rows = init.rows;
    this.params = init.params;
    this.meta = init.meta;
    this.funcMeta = init.funcMeta;
    this.logger = init.logger;
    this.run = init.run;
    this.#committed = this.#out;
    this.#connector = init.connector;
    this.#connMeta = init.connMeta;
    this.#signal = init.signal;
    this.#signalSource = init.signalSource;
  }

  commit(row: unknown): void {
    this.#out.push(row);
  }

  commitMany(rows: Iterable<unknown>): void {
    const out = this.#out;
    if (Array.isArray(rows)) {
      for (let i = 0; i < rows.length; i++) out.push(rows[i]);
      return;
    }
    for (const row of rows) out.push(row);
  }

  param(name: string): string | undefined;
  param(name: string, fallback: string): string;
  param(name: string, fallback?: string): string | undefined {
    const value = Object.hasOwn(this.params, name) ? this.params[name] : undefined;
    return value ?? fallback;
  }

  get signal(): AbortSignal {
    return this.#signal ?? this.#signalSource.signal;
  }

  get connector(): Connector {
    if (this.#connector === undefined) throw this.#noConnector();
    return this.#connector;
  }

  get connMeta(): MetaMap {
    if (this.#connMeta === undefined) throw this.#noConnector();
    return this.#connMeta;
  }

  /** Ends the attempt and returns its commits; later commits (a handler outliving its timeout) are dropped. */
  seal(): unknown[] {
    this.#out = [];
    return this.#committed;
  }

  #noConnector(): ConnectorNotFoundError {
    return new ConnectorNotFoundError(
      `function "${this.run.funcName}" has no connector (set option.cname in its config)`,
      { funcName: this.run.funcName, step: this.run.step },
    );
  }
}
