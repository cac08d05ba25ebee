/**
 * Loggers. Built from classes rather than per-call closures: a run creates a few of them, and creating
 * closures is measurably slower (each one is also named at run time under tsx/esbuild's keepNames).
 */
import type { FlowLogger, LogFields } from './types.js';

class NoopLogger implements FlowLogger {
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
}

/** A logger that drops everything: the default when neither the registry nor the run gives one. */
export function createNoopLogger(): FlowLogger {
  return new NoopLogger();
}

class FieldLogger implements FlowLogger {
  readonly #base: FlowLogger;
  readonly #fields: LogFields;

  constructor(base: FlowLogger, fields: LogFields) {
    this.#base = base;
    this.#fields = fields;
  }

  #merge(extra: LogFields | undefined): LogFields {
    return extra === undefined ? this.#fields : { ...this.#fields, ...extra };
  }

  debug(msg: string, fields?: LogFields): void {
    this.#base.debug(msg, this.#merge(fields));
  }
  info(msg: string, fields?: LogFields): void {
    this.#base.info(msg, this.#merge(fields));
  }
  warn(msg: string, fields?: LogFields): void {
    this.#base.warn(msg, this.#merge(fields));
  }
  error(msg: string, fields?: LogFields): void {
    this.#base.error(msg, this.#merge(fields));
  }
}

/**
 * A logger that adds `fields` to every line (the line's own fields win on a clash). Over the no-op logger it
 * is the no-op logger itself, so a run without a logger never builds a field object.
 */
export function withFields(base: FlowLogger, fields: LogFields): FlowLogger {
  return base instanceof NoopLogger ? base : new FieldLogger(base, fields);
}
