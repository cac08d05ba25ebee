/**
 * `kisjobs scheduler start` and `kisjobs executor start` run the real entry points in a child process (the
 * binary as installed in node_modules/.bin): flags reach the executor, settings errors come back as the child's
 * exit code, naming the variable.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const kisjobs = join(repo, 'node_modules', '.bin', 'kisjobs');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(kisjobs, args, {
    cwd: repo,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

it('passes executor flags through: --help prints the executor usage', () => {
  const help = run(['executor', 'start', '--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: kisjobs-executor --group <group> --functions <module>');
  expect(help.stdout).toContain('--metrics-port');
});

it('returns the executor exit code for bad settings (64), naming the setting', () => {
  const bad = run(['executor', 'start', '--concurrency', 'lots'], { KISJOBS_GROUP: 'g', KISJOBS_TOKEN: 'x' });
  expect(bad.status).toBe(64);
  expect(bad.stdout + bad.stderr).toContain('concurrency');
});

it('returns the scheduler exit code for bad settings (64), naming the variable', () => {
  const bad = run(['scheduler', 'start'], { DATABASE_URL: 'mysql://nope', KISJOBS_HTTP_PORT: '99999' });
  expect(bad.status).toBe(64);
  expect(bad.stdout).toContain('DATABASE_URL');
  expect(bad.stdout).toContain('KISJOBS_HTTP_PORT');
});
