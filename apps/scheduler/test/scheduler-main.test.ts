/**
 * The runnable scheduler (`src/main.ts`) as a child process: settings from the environment, a clean start
 * on real Postgres and Redis, and an ordered shutdown on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMigratedDatabase,
  spawnService,
  stopChild,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';
import { parseSchedulerEnv } from '../src/env.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let db: TestDatabase;
let redis: TestRedis;
beforeAll(async () => {
  db = await createMigratedDatabase('sched-main');
  redis = await useTestRedis('sched-main');
});
afterAll(async () => {
  await redis?.close();
  await db?.drop();
});

describe('env', () => {
  it('fills defaults and names every bad variable', () => {
    const ok = parseSchedulerEnv({ DATABASE_URL: 'postgres://u@h/db' });
    expect(ok.ok && ok.env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      KISJOBS_PREFIX: 'kisjobs',
      KISJOBS_MIGRATE: false,
    });
    expect(ok.ok && ok.env).toMatchObject({
      KISJOBS_CORS_ORIGINS: [],
      KISJOBS_TRUST_PROXY: false,
      KISJOBS_HSTS: false,
    });
    const http = parseSchedulerEnv({
      DATABASE_URL: 'postgres://u@h/db',
      KISJOBS_CORS_ORIGINS: 'https://console.example.com, http://localhost:5173',
      KISJOBS_TRUST_PROXY: '1',
      KISJOBS_HSTS: 'true',
    });
    expect(http.ok && http.env).toMatchObject({
      KISJOBS_CORS_ORIGINS: ['https://console.example.com', 'http://localhost:5173'],
      KISJOBS_TRUST_PROXY: 1,
      KISJOBS_HSTS: true,
    });
    expect(
      parseSchedulerEnv({ DATABASE_URL: 'postgres://u@h/db', KISJOBS_TRUST_PROXY: 'loopback, 10.0.0.0/8' }),
    ).toMatchObject({
      ok: true,
      env: { KISJOBS_TRUST_PROXY: 'loopback, 10.0.0.0/8' },
    });
    const badHttp = parseSchedulerEnv({
      DATABASE_URL: 'postgres://u@h/db',
      KISJOBS_CORS_ORIGINS: 'https://ok.example.com,https://bad.example.com/path',
      KISJOBS_HSTS: 'yes',
    });
    expect(badHttp.ok ? [] : badHttp.issues.map((i) => i.path).sort()).toEqual([
      'KISJOBS_CORS_ORIGINS[1]',
      'KISJOBS_HSTS',
    ]);
    const bad = parseSchedulerEnv({
      DATABASE_URL: 'mysql://x',
      KISJOBS_PREFIX: '{bad}',
      KISJOBS_LOG_LEVEL: 'loud',
    });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.issues.map((i) => i.path).sort()).toEqual([
      'DATABASE_URL',
      'KISJOBS_LOG_LEVEL',
      'KISJOBS_PREFIX',
    ]);
  });
});

describe('main.ts', () => {
  it('exits 64 on bad settings, naming the variable', async () => {
    const { child, output } = spawnService(process.execPath, ['--import', 'tsx', MAIN], {
      env: { ...process.env, DATABASE_URL: 'nope' },
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(64);
    expect(output()).toContain('DATABASE_URL');
  });

  it('starts on Postgres and Redis, serves the API, bootstraps the admin, and shuts down in order on SIGTERM', async () => {
    const { child, output } = spawnService(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        KISJOBS_PREFIX: redis.prefix,
        KISJOBS_HTTP_PORT: '0',
        KISJOBS_ADMIN_USERNAME: 'first-admin',
        KISJOBS_ADMIN_PASSWORD: 'a-long-enough-password-1',
        KISJOBS_CORS_ORIGINS: 'https://console.example.com',
      },
    });
    await waitFor(() => output().includes('scheduler started'), {
      timeoutMs: 30_000,
      message: 'scheduler started',
    });
    const url = await waitFor(() => /HTTP API listening on (http:\/\/[^\s]+) /.exec(output())?.[1], {
      timeoutMs: 30_000,
      message: 'HTTP API listening',
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const allowed = await fetch(`${url}/healthz`, { headers: { origin: 'https://console.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    const other = await fetch(`${url}/healthz`, { headers: { origin: 'https://elsewhere.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'first-admin', password: 'a-long-enough-password-1' }),
    });
    expect(login.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await stopChild(child, 'SIGTERM', 15_000);
    expect(await exit).toBe(0);
    expect(output()).toContain('scheduler closed');
  });
});
