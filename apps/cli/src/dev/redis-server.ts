/**
 * The dev stack's Redis when `REDIS_URL` is unset: a `redis-server` from PATH, started for the session on a
 * free loopback port with its data (append-only file) under `.kisjobs/redis`, in its own process group so a
 * terminal's Ctrl-C reaches the dev stack first, which stops Redis last. Without redis-server on PATH the
 * dev stack stops and says how to install it (docs/getting-started.md explains why there is no embedded
 * queue backend).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';
import { CliError } from '../errors.js';
import { probePort } from './ports.js';

export const REDIS_INSTALL_HINT = [
  'Install Redis, or point REDIS_URL at one:',
  '  Debian/Ubuntu: sudo apt-get install -y redis-server',
  '  Fedora/RHEL:   sudo dnf install -y redis',
  '  macOS:         brew install redis',
  '  Docker:        docker run -d -p 6379:6379 redis:7  (then REDIS_URL=redis://127.0.0.1:6379 npm run dev)',
].join('\n');

export interface LocalRedis {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function findOnPath(
  command: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startLocalRedis(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LocalRedis> {
  const binary = findOnPath('redis-server', env);
  if (binary === undefined) {
    throw new CliError('REDIS_NOT_FOUND', 'REDIS_URL is not set and there is no redis-server on PATH', {
      hint: REDIS_INSTALL_HINT,
    });
  }
  const port = await probePort(0);
  const child = spawn(
    binary,
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--logfile',
      join(dataDir, 'redis.log'),
    ],
    { detached: true, stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new CliError('REDIS_START_FAILED', `redis-server: ${error.message}`)),
    );
    child.once('exit', (code) =>
      reject(
        new CliError(
          'REDIS_START_FAILED',
          `redis-server exited with code ${code} before answering; see ${join(dataDir, 'redis.log')}`,
        ),
      ),
    );
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await Promise.race([ping(port), failed]);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new CliError('REDIS_START_FAILED', `redis-server did not answer on port ${port} within 15 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}
