/**
 * The dev stack's folder (`./.kisjobs/`, or `KISJOBS_DEV_DIR`): embedded Postgres, the session's Redis data,
 * the generated admin credentials and executor token, logs, and a pid lock so two dev stacks never open the
 * same PGlite folder.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../errors.js';

export interface DevPaths {
  readonly root: string;
  readonly pgdata: string;
  readonly redis: string;
  readonly logs: string;
  readonly credentials: string;
  readonly executorToken: string;
  readonly lock: string;
  readonly children: string;
}

export function devPaths(cwd: string, env: Readonly<Record<string, string | undefined>>): DevPaths {
  const root = resolve(cwd, env['KISJOBS_DEV_DIR'] ?? '.kisjobs');
  return {
    root,
    pgdata: join(root, 'pgdata'),
    redis: join(root, 'redis'),
    logs: join(root, 'logs'),
    credentials: join(root, 'admin-credentials.json'),
    executorToken: join(root, 'executor-token'),
    lock: join(root, 'dev.pid'),
    children: join(root, 'children.json'),
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder for this process; refuses when a live dev stack holds it. Returns the release function. */
export function lockDevDir(paths: DevPaths): () => void {
  for (const dir of [paths.root, paths.redis, paths.logs]) mkdirSync(dir, { recursive: true });
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(paths.lock, 'utf8').trim());
  } catch {
    holder = undefined;
  }
  if (holder !== undefined && Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
    throw new CliError('DEV_ALREADY_RUNNING', `a dev stack (pid ${holder}) is already using ${paths.root}`, {
      hint: `Stop it first (Ctrl-C in its terminal, or kill ${holder}), or set KISJOBS_DEV_DIR to another folder.`,
    });
  }
  writeFileSync(paths.lock, `${process.pid}\n`);
  return () => rmSync(paths.lock, { force: true });
}

/** Child processes a dev stack started, so a later start can end those a killed one left behind. */
export function recordChildren(paths: DevPaths, pids: readonly number[]): void {
  writeFileSync(paths.children, `${JSON.stringify(pids)}\n`);
}

export function endLeftoverChildren(paths: DevPaths): number[] {
  let pids: unknown;
  try {
    pids = JSON.parse(readFileSync(paths.children, 'utf8'));
  } catch {
    return [];
  }
  const ended: number[] = [];
  for (const pid of Array.isArray(pids) ? pids : []) {
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 1 && isAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          continue;
        }
      }
      ended.push(pid);
    }
  }
  rmSync(paths.children, { force: true });
  return ended;
}
