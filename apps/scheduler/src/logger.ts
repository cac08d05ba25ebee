/**
 * The JSON-lines logger `main.ts` gives every service, and a silent one for tests that do not read logs.
 * The `Logger` and `Clock` ports themselves live in registry/ports.ts (shared by every scheduler service).
 */
import type { LogFields, Logger } from './registry/ports.js';

export const LOGGER_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LoggerLevel = (typeof LOGGER_LEVELS)[number];

/** One JSON object per line: `{"at":…,"level":…,"msg":…,...base,...fields}`. */
export function createJsonLogger(
  options: {
    readonly level?: LoggerLevel;
    readonly write?: (line: string) => void;
    readonly base?: LogFields;
  } = {},
): Logger {
  const min = LOGGER_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const at =
    (level: LoggerLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (LOGGER_LEVELS.indexOf(level) < min) return;
      write(`${safeStringify({ at: new Date().toISOString(), level, msg, ...options.base, ...fields })}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Error ? { name: v.name, message: v.message } : typeof v === 'bigint' ? v.toString() : v,
    );
  } catch {
    return JSON.stringify({ msg: 'unserialisable log line' });
  }
}
