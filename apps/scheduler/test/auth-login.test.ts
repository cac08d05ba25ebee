/**
 * Sessions over real HTTP: login, me, logout, wrong and unknown credentials, the login rate limits per user
 * and per client address (X-Forwarded-For from loopback, with `trust proxy` on), session expiry (absolute and
 * idle, on the fake clock), throttled last-seen writes, and changing one's password.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpEnv, type CallResult, type HttpEnv } from './support/http-env.js';

const TTL = 60 * 60_000;
const IDLE = 10 * 60_000;
const THROTTLE = 60_000;

let env: HttpEnv;
beforeAll(async () => {
  env = await httpEnv('login', {
    auth: {
      sessionTtlMs: TTL,
      sessionIdleMs: IDLE,
      touchThrottleMs: THROTTLE,
      loginLimits: { perUser: { max: 3, windowMs: 60_000 }, perIp: { max: 6, windowMs: 60_000 } },
    },
    http: { trustProxy: 'loopback' },
  });
});
afterAll(async () => {
  await env?.close();
});

const login = (username: string, password: string, ip?: string): Promise<CallResult> =>
  env.call('POST', '/api/auth/login', {
    body: { username, password },
    ...(ip === undefined ? {} : { headers: { 'x-forwarded-for': ip } }),
  });
const errorCode = (result: CallResult): unknown =>
  (result.body as { error?: { code?: unknown } }).error?.code;

describe('login, me, logout', () => {
  test('a login returns a session token that /me accepts until logout', async () => {
    const viewer = await env.user('viewer');
    expect(viewer.token).toMatch(/^kjs_sess_[A-Za-z0-9_-]{43}$/);
    const me = await env.call('GET', '/api/auth/me', { token: viewer.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      user: { id: viewer.id, username: viewer.username, role: 'viewer', sceneIds: [], disabled: false },
      authenticatedWith: 'session',
    });
    expect(JSON.stringify(me.body)).not.toMatch(/hash|password/i);

    expect((await env.call('POST', '/api/auth/logout', { token: viewer.token })).status).toBe(204);
    const after = await env.call('GET', '/api/auth/me', { token: viewer.token });
    expect(after.status).toBe(401);
    expect(errorCode(after)).toBe('TOKEN_INVALID');
    expect(after.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await env.call('POST', '/api/auth/logout', { token: viewer.token })).status).toBe(401);
  });

  test('usernames are case-insensitive; only the hash of the session is stored', async () => {
    const user = await env.user('operator');
    const result = await login(user.username.toUpperCase(), user.password);
    expect(result.status).toBe(200);
    const token = (result.body as { token: string }).token;
    const sessions = await env.prisma.session.findMany({ where: { userId: user.id } });
    expect(sessions.length).toBe(2);
    expect(JSON.stringify(sessions)).not.toContain(token);
  });

  test('no credentials, a malformed one, and an unknown one are all 401 in the error shape', async () => {
    const none = await env.call('GET', '/api/auth/me');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Authentication required' } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    for (const header of [
      'Bearer nope',
      'Basic dXNlcjpwYXNz',
      `Bearer kjs_sess_${'A'.repeat(43)}`,
      `Bearer kjs_api_${'b'.repeat(43)}`,
    ]) {
      const result = await env.call('GET', '/api/auth/me', { headers: { authorization: header } });
      expect({ header, status: result.status, code: errorCode(result) }).toEqual({
        header,
        status: 401,
        code: 'TOKEN_INVALID',
      });
    }
  });
});

describe('wrong credentials', () => {
  test('wrong password, unknown user and disabled user get the same answer', async () => {
    const user = await env.user('viewer');
    const disabled = await env.user('viewer');
    await env.prisma.user.update({ where: { id: disabled.id }, data: { disabled: true } });
    const answers = [
      await login(user.username, 'not the password at all', '10.1.0.1'),
      await login('nobody-by-this-name', 'not the password at all', '10.1.0.2'),
      await login(disabled.username, disabled.password, '10.1.0.3'),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        error: { code: 'INVALID_CREDENTIALS', message: 'Invalid username or password' },
      });
    }
  });

  test('an unknown user costs a scrypt verification like a known one (no timing oracle)', async () => {
    const users = [await env.user('viewer'), await env.user('viewer'), await env.user('viewer')];
    const time = async (username: string, ip: string): Promise<number> => {
      const started = performance.now();
      const result = await login(username, 'wrong password here', ip);
      expect(result.status).toBe(401);
      return performance.now() - started;
    };
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[1] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (const [i, user] of users.entries()) {
      known.push(await time(user.username, `10.2.0.${i}`));
      unknown.push(await time(`ghost-${i}`, `10.2.1.${i}`));
    }
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
  });
});

describe('login rate limits', () => {
  test('per user: failures from many addresses lock the name for the window, even with the right password', async () => {
    const user = await env.user('viewer');
    for (let i = 0; i < 3; i++)
      expect((await login(user.username, 'wrong password', `10.3.0.${i}`)).status).toBe(401);
    const limited = await login(user.username, user.password, '10.3.0.99');
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Other users are not affected.
    const other = await env.user('viewer');
    expect((await login(other.username, other.password, '10.3.0.98')).status).toBe(200);
  });

  test('per address: failures across many names lock the address, not the names', async () => {
    const victim = await env.user('operator');
    for (let i = 0; i < 6; i++)
      expect((await login(`sprayed-${i}`, 'guess guess guess', '10.4.0.1')).status).toBe(401);
    const limited = await login(victim.username, victim.password, '10.4.0.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await login(victim.username, victim.password, '10.4.0.2')).status).toBe(200);
  });

  test('a success gives its slot back: successful logins never lock anyone out', async () => {
    const user = await env.user('viewer');
    for (let i = 0; i < 10; i++)
      expect((await login(user.username, user.password, '10.5.0.1')).status).toBe(200);
  });

  test('invalid bodies are 400 naming the field and never reach the limiter', async () => {
    const user = await env.user('viewer');
    for (let i = 0; i < 10; i++) {
      const result = await env.call('POST', '/api/auth/login', {
        body: { username: '', password: 'x', extra: i },
        headers: { 'x-forwarded-for': '10.7.0.1' },
      });
      expect(result.status).toBe(400);
      const issues = (result.body as { error: { details: { issues: { path: string }[] } } }).error.details
        .issues;
      expect(new Set(issues.map((issue) => issue.path))).toEqual(new Set(['extra', 'username']));
    }
    expect((await login(user.username, user.password, '10.7.0.1')).status).toBe(200);
  });
});

describe('session lifetime', () => {
  test('a session ends after its absolute lifetime, however active', async () => {
    const user = await env.user('viewer');
    for (let i = 0; i < 7; i++) {
      env.clock.advance(TTL / 8);
      expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    }
    env.clock.advance(TTL / 8 + 1);
    expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    expect(await env.prisma.session.count({ where: { userId: user.id } })).toBe(0);
  });

  test('a session ends when idle for longer than the idle timeout', async () => {
    const user = await env.user('viewer');
    env.clock.advance(IDLE - 1_000);
    expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    env.clock.advance(IDLE - 1_000);
    expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    env.clock.advance(IDLE + 1);
    expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
  });

  test('last-seen is written at most once per throttle period', async () => {
    const user = await env.user('viewer');
    const seen = async (): Promise<number> =>
      (await env.prisma.session.findFirstOrThrow({ where: { userId: user.id } })).lastSeenAt.getTime();
    const start = await seen();
    env.clock.advance(THROTTLE / 2);
    await env.call('GET', '/api/auth/me', { token: user.token });
    expect(await seen()).toBe(start);
    env.clock.advance(THROTTLE / 2 + 1);
    await env.call('GET', '/api/auth/me', { token: user.token });
    expect(await seen()).toBe(env.clock.now().getTime());
  });
});

describe('changing one’s password', () => {
  test('needs the current password, ends the other sessions and keeps this one', async () => {
    const user = await env.user('operator');
    const second = (await login(user.username, user.password)).body as { token: string };
    const wrong = await env.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: 'not it at all', newPassword: 'a brand new password' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('currentPassword');
    const short = await env.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'short' },
    });
    expect(short.status).toBe(400);
    expect(short.text).toContain('newPassword');

    const changed = await env.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'a brand new password' },
    });
    expect(changed.status).toBe(204);
    expect((await env.call('GET', '/api/auth/me', { token: user.token })).status).toBe(200);
    expect((await env.call('GET', '/api/auth/me', { token: second.token })).status).toBe(401);
    expect((await login(user.username, user.password, '10.6.0.1')).status).toBe(401);
    expect((await login(user.username, 'a brand new password', '10.6.0.2')).status).toBe(200);
  });
});
