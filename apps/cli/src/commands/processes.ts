/**
 * `kisjobs scheduler start` and `kisjobs executor start`: the long-running processes, in a child process with
 * the TypeScript loader, taking their settings from the environment (docs/configuration.md) and, for the
 * executor, its flags (`kisjobs executor start --help`). Signals are passed on, and the exit code comes back.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** The file a workspace's entry sits beside (`@kisjobs/scheduler` → apps/scheduler/src). */
function sourceDirOf(specifier: string): string {
  return dirname(fileURLToPath(import.meta.resolve(specifier)));
}

export function schedulerEntry(): string {
  return join(sourceDirOf('@kisjobs/scheduler'), 'main.ts');
}

export function executorEntry(): string {
  return join(sourceDirOf('@kisjobs/executor'), 'bin', 'kisjobs-executor.mjs');
}

function runChild(ctx: CliContext, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], {
      stdio: 'inherit',
      env: { ...ctx.env },
      cwd: ctx.cwd,
    });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 1 : 128 + 2));
    });
  });
}

export function registerProcesses(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('scheduler')
    .description('the control plane')
    .command('start')
    .description('run the scheduler and the HTTP API (settings from the environment: docs/configuration.md)')
    .action(async () => setExitCode(await runChild(ctx, ['--import', 'tsx', schedulerEntry()])));
  program
    .command('executor')
    .description('executors')
    .command('start')
    .description('run an executor (flags and environment: `kisjobs executor start --help`)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[args...]', 'the executor flags (--group, --functions, --redis, --concurrency ...)')
    .action(async (args: string[]) => setExitCode(await runChild(ctx, [executorEntry(), ...args])));
}
