/**
 * Executors for tests: in-process (`startInProcess`, for the SDK) and as real child processes of the
 * runnable (`spawnExecutor`, for the tests that signal or kill them).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, spawnService, stopChild, waitFor } from '@kisjobs/testing';
import { createExecutor, type Executor, type ExecutorLogger, type LogFields } from '../../src/index.js';
import { GROUP } from './scheduler-side.js';

export const FUNCTIONS_MODULE = fileURLToPath(new URL('../fixtures/functions.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/bin/kisjobs-executor.mjs', import.meta.url));

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export function capturingLogger(lines: LogLine[]): ExecutorLogger {
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void =>
      void lines.push({ ...fields, level, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface InProcessExecutor {
  readonly executor: Executor;
  readonly logs: LogLine[];
}

export interface ExecutorSetup {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly token: string;
  readonly group?: string;
  readonly concurrency?: number;
}

/** Creates and starts an executor in this process; `close()` it in the test. */
export async function startInProcess(
  setup: ExecutorSetup,
  extra: Partial<Parameters<typeof createExecutor>[0]> = {},
): Promise<InProcessExecutor> {
  const logs: LogLine[] = [];
  const executor = createExecutor({
    redisUrl: setup.redisUrl,
    prefix: setup.prefix,
    group: setup.group ?? GROUP,
    token: setup.token,
    functions: FUNCTIONS_MODULE,
    concurrency: setup.concurrency ?? 2,
    logger: capturingLogger(logs),
    ...extra,
  });
  await executor.start();
  return { executor, logs };
}

export interface ExecutorChild {
  readonly child: ChildProcess;
  /** Parsed JSON lines written to stdout so far. */
  readonly lines: LogLine[];
  output(): string;
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The instance id, from the "executor started" line. */
  started(timeoutMs?: number): Promise<string>;
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function spawnExecutor(
  setup: ExecutorSetup,
  options: {
    /** Extra flags after the defaults. */
    args?: string[];
    /** Replaces every flag (the defaults included). */
    rawArgs?: string[];
    env?: Record<string, string>;
    withToken?: boolean;
  } = {},
): ExecutorChild {
  const env: Record<string, string | undefined> = {
    ...process.env,
    KISJOBS_REDIS_URL: setup.redisUrl,
    KISJOBS_PREFIX: setup.prefix,
    ...(options.withToken === false ? {} : { KISJOBS_TOKEN: setup.token }),
    ...options.env,
  };
  const flags = options.rawArgs ?? [
    '--group',
    setup.group ?? GROUP,
    '--functions',
    FUNCTIONS_MODULE,
    '--concurrency',
    String(setup.concurrency ?? 2),
    ...(options.args ?? []),
  ];
  const args = [BIN, ...flags];
  const { child, output } = spawnService(process.execPath, args, { env });
  const lines: LogLine[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        lines.push({ level: 'raw', msg: text });
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    waitFor(
      () => {
        if (child.exitCode !== null && !lines.some(match)) throw new Error(`executor exited: ${output()}`);
        return lines.find(match);
      },
      { timeoutMs, intervalMs: 25, message: 'executor log line' },
    );
  return {
    child,
    lines,
    output,
    waitForLine,
    async started(timeoutMs = 30_000) {
      const line = await waitForLine((l) => l.msg === 'executor started', timeoutMs);
      return String(line['instanceId']);
    },
    exit: () => exit,
    signal: (signal) => void child.kill(signal),
    async stop() {
      await stopChild(child, 'SIGKILL');
      await exited(child);
    },
  };
}
