/**
 * One executor as a real child process of the runnable (`kisjobs-executor`), started the way an operator
 * would: flags for the group, functions module, concurrency, Redis and prefix, the token in KISJOBS_TOKEN.
 * Its JSON log lines are kept for assertions.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, spawnService, stopChild, waitFor } from '@kisjobs/testing';

const BIN = fileURLToPath(new URL('../../packages/executor/src/bin/kisjobs-executor.mjs', import.meta.url));

export interface SpawnExecutorOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly group: string;
  readonly token: string;
  readonly functions: string;
  readonly concurrency: number;
  readonly instanceId: string;
  readonly extraArgs?: readonly string[];
  /** Node options before the script (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecutorLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface ExecutorChild {
  readonly instanceId: string;
  readonly child: ChildProcess;
  readonly lines: ExecutorLine[];
  output(): string;
  /** Resolves with the "executor started" line. */
  started(timeoutMs?: number): Promise<ExecutorLine>;
  waitForLine(match: (line: ExecutorLine) => boolean, timeoutMs?: number): Promise<ExecutorLine>;
  exit(): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Sends a signal to the executor's process group and waits for it to end (SIGKILL after 30 s). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnExecutorChild(options: SpawnExecutorOptions): ExecutorChild {
  const args = [
    ...(options.nodeArgs ?? []),
    BIN,
    '--group',
    options.group,
    '--functions',
    options.functions,
    '--concurrency',
    String(options.concurrency),
    '--redis',
    options.redisUrl,
    '--prefix',
    options.prefix,
    '--instance-id',
    options.instanceId,
    ...(options.extraArgs ?? []),
  ];
  const { child, output } = spawnService(process.execPath, args, {
    env: { ...process.env, KISJOBS_TOKEN: options.token, ...options.env },
  });
  const lines: ExecutorLine[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      try {
        lines.push(JSON.parse(text) as ExecutorLine);
      } catch {
        lines.push({ level: 'raw', msg: text });
      }
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (match: (line: ExecutorLine) => boolean, timeoutMs = 20_000): Promise<ExecutorLine> =>
    waitFor(
      () => {
        const found = lines.find(match);
        if (found === undefined && child.exitCode !== null) {
          throw new Error(`executor ${options.instanceId} exited (${child.exitCode}): ${output()}`);
        }
        return found;
      },
      { timeoutMs, intervalMs: 25, message: `executor ${options.instanceId} log line` },
    );
  return {
    instanceId: options.instanceId,
    child,
    lines,
    output,
    started: (timeoutMs = 30_000) => waitForLine((l) => l.msg === 'executor started', timeoutMs),
    waitForLine,
    exit: () => exit,
    async kill(signal = 'SIGTERM') {
      await stopChild(child, signal, 30_000);
      await exited(child);
    },
  };
}
