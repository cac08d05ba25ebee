/**
 * The connectors of one registry: each is initialised lazily, once, at its first use. Concurrent first uses
 * share one initialisation; a failed one is forgotten, so the next use tries again. `close()` closes every
 * connector that was initialised (and any that finish initialising afterwards).
 */
import type { ConnConfig } from '../config/model.js';
import {
  CancelledError,
  ConnectorInitFailedError,
  ConnectorTypeNotRegisteredError,
  messageOf,
} from '../engine/errors.js';
import { raceSignal } from '../engine/timing.js';
import type { Connector, ConnectorFactory, FlowLogger } from '../engine/types.js';

export interface ConnectorPoolOptions {
  readonly factories: ReadonlyMap<string, ConnectorFactory>;
  readonly logger: FlowLogger;
  readonly initTimeoutMs: number;
}

interface Entry {
  conf: ConnConfig;
  readonly ready: Promise<Connector>;
  connector: Connector | undefined;
  readonly controller: AbortController;
}

interface Who {
  readonly funcName: string;
  readonly step: number;
}

export class ConnectorPool {
  readonly #options: ConnectorPoolOptions;
  readonly #entries = new Map<string, Entry>();
  /** Connectors being closed (retired by a config reload, or initialised after their entry went away). */
  readonly #closing = new Set<Promise<void>>();

  constructor(options: ConnectorPoolOptions) {
    this.#options = options;
  }

  /** The connector for `conf`, initialising it on first use. Errors name the function that asked. */
  async acquire(conf: ConnConfig, who: Who, signal: AbortSignal | undefined): Promise<Connector> {
    const entry = this.#entries.get(conf.name);
    if (entry?.connector !== undefined) return entry.connector;
    const ready = entry?.ready ?? this.#start(conf, who).ready;
    const label = `connector "${conf.name}" (type ${conf.type})`;
    try {
      return await raceSignal(
        ready,
        signal,
        () =>
          new CancelledError(`run cancelled while waiting for ${label}`, { ...who, cause: signal?.reason }),
      );
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      throw new ConnectorInitFailedError(
        `function "${who.funcName}" (step ${who.step}): ${label} failed to initialise: ${messageOf(err)}`,
        { ...who, cause: err },
      );
    }
  }

  /** Whether a connector of this name is initialised now. */
  isInitialised(name: string): boolean {
    return this.#entries.get(name)?.connector !== undefined;
  }

  /** After a config load: forget (and close) connectors whose config is gone or changed. */
  retain(keep: (name: string, current: ConnConfig) => ConnConfig | undefined): void {
    for (const [name, entry] of [...this.#entries]) {
      const next = keep(name, entry.conf);
      if (next !== undefined) {
        entry.conf = next;
        continue;
      }
      this.#entries.delete(name);
      this.#retire(entry, 'its config changed');
    }
  }

  async close(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) this.#retire(entry, 'the registry is closing');
    while (this.#closing.size > 0) await Promise.allSettled([...this.#closing]);
  }

  #start(conf: ConnConfig, who: Who): Entry {
    const factory = this.#options.factories.get(conf.type);
    if (factory === undefined) {
      const known = [...this.#options.factories.keys()].join(', ') || 'none';
      throw new ConnectorTypeNotRegisteredError(
        `function "${who.funcName}" (step ${who.step}): connector "${conf.name}" has type "${conf.type}", which is not registered (registered: ${known})`,
        who,
      );
    }
    const controller = new AbortController();
    const entry: Entry = {
      conf,
      controller,
      connector: undefined,
      ready: this.#initialise(conf, factory, controller),
    };
    this.#entries.set(conf.name, entry);
    void entry.ready.then(
      (connector) => {
        if (this.#entries.get(conf.name) === entry) entry.connector = connector;
      },
      (err: unknown) => {
        if (this.#entries.get(conf.name) === entry) this.#entries.delete(conf.name);
        this.#options.logger.warn('connector failed to initialise', {
          connector: conf.name,
          type: conf.type,
          error: messageOf(err),
        });
      },
    );
    return entry;
  }

  async #initialise(
    conf: ConnConfig,
    factory: ConnectorFactory,
    controller: AbortController,
  ): Promise<Connector> {
    const { initTimeoutMs, logger } = this.#options;
    const made = Promise.resolve().then(() => factory(conf, { signal: controller.signal, logger }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`initialisation took longer than ${initTimeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, initTimeoutMs);
    });
    try {
      return await Promise.race([made, timedOut]);
    } catch (err) {
      // A factory that finishes after its timeout still made a connection: close it.
      void made.then(
        (late) => this.#track(closeQuietly(late, logger, conf.name)),
        () => {},
      );
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  #retire(entry: Entry, why: string): void {
    entry.controller.abort(new Error(`connector "${entry.conf.name}" retired: ${why}`));
    const { logger } = this.#options;
    const name = entry.conf.name;
    this.#track(
      entry.ready.then(
        (connector) => closeQuietly(connector, logger, name),
        () => {},
      ),
    );
  }

  #track(closing: Promise<void>): void {
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }
}

async function closeQuietly(connector: Connector, logger: FlowLogger, name: string): Promise<void> {
  try {
    await connector.close();
  } catch (err) {
    logger.warn('connector close failed', { connector: name, error: messageOf(err) });
  }
}
