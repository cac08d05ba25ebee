/**
 * `kisjobs dev` on a machine without Redis: with no REDIS_URL and no redis-server on PATH it stops before
 * touching anything, exits 1 and says exactly how to install Redis or point REDIS_URL at one.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { EXIT, runCli } from '@kisjobs/cli';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const devDir = mkdtempSync(join(tmpdir(), 'kisjobs-dev-noredis-'));
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

it('refuses to start without Redis and prints the install commands', async () => {
  let out = '';
  let err = '';
  const code = await runCli(['dev'], {
    env: { PATH: '/nonexistent-bin', KISJOBS_DEV_DIR: devDir, KISJOBS_HTTP_PORT: '0' },
    cwd: repo,
    io: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      readStdin: () => Promise.resolve(''),
      interactive: false,
    },
  });
  expect(code).toBe(EXIT.failure);
  expect(err).toContain('REDIS_URL is not set and there is no redis-server on PATH (REDIS_NOT_FOUND)');
  expect(err).toContain('sudo apt-get install -y redis-server');
  expect(err).toContain('brew install redis');
  expect(out).not.toContain('dev stack is up');
  expect(existsSync(join(devDir, 'pgdata'))).toBe(false);
  expect(existsSync(join(devDir, 'dev.pid'))).toBe(false);
});
