import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES, parseExecutorSettings } from '../src/bin/env.js';
import { FUNCTIONS_MODULE, spawnExecutor, type ExecutorChild } from './support/executors.js';

const TOKEN = 'kjs_0123456789abcdef0123';
const io = { cwd: '/srv/app', exists: () => true, readFile: () => `${TOKEN}\n` };
const base = { KISJOBS_GROUP: 'etl', KISJOBS_FUNCTIONS: './fns.js', KISJOBS_TOKEN: TOKEN };

describe('runnable settings (flags and env, parsed once)', () => {
  it('reads env, applies defaults, resolves the functions path against the working directory', () => {
    expect(parseExecutorSettings([], base, io)).toEqual({
      kind: 'ok',
      settings: {
        redisUrl: 'redis://127.0.0.1:6379',
        group: 'etl',
        functions: '/srv/app/fns.js',
        concurrency: 10,
        prefix: 'kisjobs',
        logLevel: 'info',
        token: TOKEN,
        tokenSource: 'KISJOBS_TOKEN',
      },
    });
  });

  it('lets a flag win over its variable', () => {
    const result = parseExecutorSettings(
      ['--group', 'reports', '--concurrency', '4', '--redis', 'redis://r:6380', '--instance-id', 'box-1'],
      { ...base, KISJOBS_CONCURRENCY: '99' },
      io,
    );
    expect(result).toMatchObject({
      kind: 'ok',
      settings: { group: 'reports', concurrency: 4, redisUrl: 'redis://r:6380', instanceId: 'box-1' },
    });
  });

  it('reads how many isolation threads to start ahead, and refuses a bad count naming the setting', () => {
    expect(parseExecutorSettings(['--warm-threads', '8'], base, io)).toMatchObject({
      kind: 'ok',
      settings: { warmThreads: 8 },
    });
    expect(parseExecutorSettings([], { ...base, KISJOBS_WARM_THREADS: '0' }, io)).toMatchObject({
      kind: 'ok',
      settings: { warmThreads: 0 },
    });
    expect(parseExecutorSettings([], { ...base, KISJOBS_WARM_THREADS: '-1' }, io)).toEqual({
      kind: 'invalid',
      issues: [
        {
          path: 'KISJOBS_WARM_THREADS',
          message: 'Expected a whole number from 0 to 1000 (got "-1")',
        },
      ],
    });
  });

  it('reads the token from a file, which wins over KISJOBS_TOKEN', () => {
    const result = parseExecutorSettings(
      ['--token-file', 'token.txt'],
      { ...base, KISJOBS_TOKEN: 'x'.repeat(20) },
      io,
    );
    expect(result).toMatchObject({
      kind: 'ok',
      settings: { token: TOKEN, tokenSource: '--token-file token.txt' },
    });
  });

  it('never takes the token from a flag', () => {
    const result = parseExecutorSettings(['--token', TOKEN], base, io);
    expect(result).toEqual({
      kind: 'invalid',
      issues: [
        {
          path: '--token',
          message: 'the token is never a flag (it would show in ps): set KISJOBS_TOKEN or use --token-file',
        },
      ],
    });
  });

  it('names every bad or missing setting, by the flag or variable that gave it', () => {
    const result = parseExecutorSettings(['--concurrency', 'lots'], { KISJOBS_PREFIX: 'bad prefix!' }, io);
    expect(result.kind).toBe('invalid');
    const paths = result.kind === 'invalid' ? result.issues.map((i) => i.path) : [];
    expect(paths).toEqual([
      '--concurrency',
      'KISJOBS_PREFIX',
      '--group or KISJOBS_GROUP',
      '--functions or KISJOBS_FUNCTIONS',
      'KISJOBS_TOKEN or --token-file',
    ]);
  });

  it('reports a functions module that does not exist', () => {
    const result = parseExecutorSettings([], base, { ...io, exists: () => false });
    expect(result).toEqual({
      kind: 'invalid',
      issues: [{ path: 'KISJOBS_FUNCTIONS', message: 'no such file: /srv/app/fns.js' }],
    });
  });
});

describe('metrics endpoint settings', () => {
  it('are off unless a port is given; the host defaults to loopback; a flag wins over its variable', () => {
    const off = parseExecutorSettings([], { ...base, KISJOBS_METRICS_HOST: '0.0.0.0' }, io);
    expect(off.kind === 'ok' && off.settings.metrics).toBeUndefined();
    expect(parseExecutorSettings(['--metrics-port', '9464'], base, io)).toMatchObject({
      kind: 'ok',
      settings: { metrics: { host: '127.0.0.1', port: 9464 } },
    });
    expect(
      parseExecutorSettings(
        ['--metrics-host', '0.0.0.0'],
        { ...base, KISJOBS_METRICS_PORT: '9100', KISJOBS_METRICS_HOST: '10.0.0.1' },
        io,
      ),
    ).toMatchObject({ kind: 'ok', settings: { metrics: { host: '0.0.0.0', port: 9100 } } });
  });

  it('name a bad port or host by the flag or variable that gave it', () => {
    const result = parseExecutorSettings(
      ['--metrics-port', '70000'],
      { ...base, KISJOBS_METRICS_HOST: 'not a host/' },
      io,
    );
    expect(result).toEqual({
      kind: 'invalid',
      issues: [
        { path: '--metrics-port', message: 'Expected at most 65535 (got "70000")' },
        {
          path: 'KISJOBS_METRICS_HOST',
          message: 'Expected a host name or an IP address (got "not a host/")',
        },
      ],
    });
  });
});

describe('the runnable with bad settings', () => {
  let child: ExecutorChild | undefined;
  afterEach(async () => child?.stop());

  it('exits 64 with one line naming the setting', async () => {
    child = spawnExecutor(
      { redisUrl: 'redis://127.0.0.1:6379', prefix: 'unused', token: TOKEN },
      { rawArgs: ['--group', 'etl', '--functions', FUNCTIONS_MODULE], env: { KISJOBS_CONCURRENCY: 'lots' } },
    );
    expect((await child.exit()).code).toBe(EXIT_CODES.usage);
    expect(child.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'invalid settings: KISJOBS_CONCURRENCY: Expected a whole number from 1 to 1000 (got "lots")',
    ]);
  });
});
