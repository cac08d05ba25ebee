import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { spawnService, stopChild } from './process.js';
import { waitFor } from './wait.js';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Starts (or restarts) the server on the same port and data folder. */
  start(): Promise<void>;
  /** Clean shutdown (SIGTERM). */
  stop(): Promise<void>;
  /** Abrupt death (SIGKILL). */
  kill(): Promise<void>;
  /** Stops the server and removes its data folder. */
  close(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Keep data across restarts with an append-only file (default false: data is lost on restart). */
  readonly persistent?: boolean;
}

/** A redis-server of its own on a free port, for tests that stop and restart Redis. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kj-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = (): string => '';

  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', options.persistent ? 'yes' : 'no');
    const spawned = spawnService('redis-server', args);
    child = spawned.child;
    output = spawned.output;
    await waitFor(
      async () => {
        if (child?.exitCode !== null) throw new Error(`redis-server exited: ${output()}`);
        const probe = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => undefined); // refused probes are expected while the server starts
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, message: 'private redis-server to accept connections' },
    );
  };

  await start();
  return {
    port,
    url,
    start,
    async stop() {
      if (child) await stopChild(child, 'SIGTERM');
    },
    async kill() {
      if (child) await stopChild(child, 'SIGKILL');
    },
    async close() {
      if (child) await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
