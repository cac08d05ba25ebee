import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Services are spawned detached, in a process group of their own: signal the whole group, as a host or
    // container death would.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test process that dies must not leave servers behind.
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

/** Spawns a long-running service in its own process group and keeps its recent output for errors. */
export function spawnService(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): { child: ChildProcess; output: () => string } {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let buffer = '';
  const keep = (chunk: Buffer): void => {
    buffer = (buffer + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => buffer };
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Sends `signal` to the child's process group, then SIGKILL if it is still alive after `graceMs`.
 * With SIGKILL every process of the group dies at once, as in a host crash.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, signal);
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}
