/**
 * The executor's own logger (not the run logs, which go to Redis): the same four-method shape as the flow
 * engine's `FlowLogger`, so one object can serve both. The runnable writes one JSON object per line.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export interface ExecutorLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type ExecutorLogLevel = keyof ExecutorLogger;
const RANK: Readonly<Record<ExecutorLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface JsonLoggerOptions {
  /** Where lines go: one `write` per line. */
  readonly write: (line: string) => void;
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: ExecutorLogLevel;
  /** Added to every line (a line's own fields win). */
  readonly base?: LogFields;
  readonly now?: () => Date;
}

/** One line of JSON per call: `{"ts":…,"level":…,"msg":…,…fields}`. Errors are written as their message. */
export function createJsonLogger(options: JsonLoggerOptions): ExecutorLogger {
  const min = RANK[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const line = (level: ExecutorLogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const record = { ts: now().toISOString(), level, msg, ...options.base, ...fields };
    options.write(`${safeJson(record)}\n`);
  };
  return {
    debug: (msg, fields) => line('debug', msg, fields),
    info: (msg, fields) => line('info', msg, fields),
    warn: (msg, fields) => line('warn', msg, fields),
    error: (msg, fields) => line('error', msg, fields),
  };
}

export function createSilentLogger(): ExecutorLogger {
  const noop = (): void => undefined;
  return { debug: noop, info: noop, warn: noop, error: noop };
}

/** Fields added to every line of `base`. */
export function childLogger(base: ExecutorLogger, fields: LogFields): ExecutorLogger {
  return {
    debug: (msg, extra) => base.debug(msg, { ...fields, ...extra }),
    info: (msg, extra) => base.info(msg, { ...fields, ...extra }),
    warn: (msg, extra) => base.warn(msg, { ...fields, ...extra }),
    error: (msg, extra) => base.error(msg, { ...fields, ...extra }),
  };
}

/** JSON of anything: errors as `{name, message, code}`, bigints as strings, cycles as "[circular]". */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code;
      return code === undefined
        ? { name: v.name, message: v.message }
        : { name: v.name, message: v.message, code };
    }
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
