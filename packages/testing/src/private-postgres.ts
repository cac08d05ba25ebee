import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { spawnService, stopChild } from './process.js';
import { waitFor } from './wait.js';

export interface PrivatePostgres {
  readonly port: number;
  /** URL of the `postgres` database as the `postgres` superuser (trust auth). */
  readonly url: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT). */
  stop(): Promise<void>;
  /** Abrupt death (SIGKILL): a crash. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (version === undefined) throw new Error('no PostgreSQL version under /usr/lib/postgresql');
  return join(base, version, 'bin');
}

function postgresUid(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** A PostgreSQL server of its own (initdb in a temp folder, free port), for outage and crash tests. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kj-pg-'));
  chmodSync(dir, 0o700);
  const owner = postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  // initdb and postgres refuse to run as root: when we are root they run as the postgres user, spawned
  // directly with its uid (no wrapper process, so a SIGKILL reaches the postmaster itself).
  const identity = owner ? { uid: owner.uid, gid: owner.gid } : {};
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync'], {
    stdio: 'pipe',
    cwd: dir,
    ...identity,
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const spawned = spawnService(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { cwd: dir, ...identity },
    );
    child = spawned.child;
    await waitFor(
      async () => {
        if (child?.exitCode !== null) throw new Error(`postgres exited: ${spawned.output()}`);
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 20_000, message: 'private postgres to accept connections' },
    );
  };

  await start();
  return {
    port,
    url,
    start,
    async stop() {
      if (child) await stopChild(child, 'SIGINT', 10_000);
    },
    async kill() {
      if (child) await stopChild(child, 'SIGKILL');
    },
    async close() {
      if (child) await stopChild(child, 'SIGINT', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
