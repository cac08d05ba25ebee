/**
 * The in-process principal cache over real HTTP. First that it is really in effect (a change made behind the
 * app's back is not seen until the TTL has passed): without that, the rest would prove nothing. Then that
 * every write path through the API that ends or changes credentials applies on the very next request:
 * logout, token revoke (own and by an admin), password change (own and by an admin), disabling, deleting,
 * role change, grant change and scene deletion. And that a cached credential still ends at its exact expiry
 * and idle limit, with last-used writes throttled as before.
 *
 * The test clock only moves when a test moves it, so within a test an entry never ages out by itself.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseSchedulerEnv } from '../src/env.js';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

const TTL = 2_000;

let env: HttpEnv;
beforeAll(async () => {
  env = await httpEnv('principal-cache', { auth: { principalCacheTtlMs: TTL } });
});
afterAll(async () => {
  await env?.close();
});

const status = async (method: string, path: string, token: string, body?: unknown): Promise<number> =>
  (await env.call(method, path, { token, ...(body === undefined ? {} : { body }) })).status;
const me = (token: string): Promise<number> => status('GET', '/api/auth/me', token);

async function apiToken(user: TestUser, expiresAt?: Date): Promise<{ id: string; secret: string }> {
  const result = await env.call('POST', '/api/tokens', {
    token: user.token,
    body: {
      name: `t-${Math.random()}`,
      ...(expiresAt === undefined ? {} : { expiresAt: expiresAt.toISOString() }),
    },
  });
  expect(result.status).toBe(201);
  const created = result.body as { token: { id: string }; secret: string };
  return { id: created.token.id, secret: created.secret };
}

describe('the cache is in effect, for at most its TTL', () => {
  test('a user disabled behind the app’s back keeps working until the TTL has passed, then is refused', async () => {
    const user = await env.user('viewer');
    const token = await apiToken(user);
    expect(await me(token.secret)).toBe(200);
    expect(await me(user.token)).toBe(200);
    await env.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect(await me(token.secret)).toBe(200);
    expect(await me(user.token)).toBe(200);
    env.clock.advance(TTL);
    expect(await me(token.secret)).toBe(401);
    expect(await me(user.token)).toBe(401);
  });

  test('a role changed behind the app’s back applies after the TTL', async () => {
    const admin = await env.user('admin');
    expect(await status('GET', '/api/users', admin.token)).toBe(200);
    await env.prisma.user.update({ where: { id: admin.id }, data: { role: 'viewer' } });
    expect(await status('GET', '/api/users', admin.token)).toBe(200);
    env.clock.advance(TTL);
    expect(await status('GET', '/api/users', admin.token)).toBe(403);
  });
});

describe('changes made through the API apply on the very next request', () => {
  test('logout: the session is refused at once', async () => {
    const user = await env.user('viewer');
    expect(await me(user.token)).toBe(200);
    expect(await status('POST', '/api/auth/logout', user.token)).toBe(204);
    expect(await me(user.token)).toBe(401);
  });

  test('revoking one’s own token: refused at once; the owner’s other credentials keep working', async () => {
    const user = await env.user('operator');
    const revoked = await apiToken(user);
    const kept = await apiToken(user);
    expect(await me(revoked.secret)).toBe(200);
    expect(await me(kept.secret)).toBe(200);
    expect(await status('DELETE', `/api/tokens/${revoked.id}`, user.token)).toBe(204);
    expect(await me(revoked.secret)).toBe(401);
    expect(await me(kept.secret)).toBe(200);
    expect(await me(user.token)).toBe(200);
  });

  test('a token revoked with itself is refused on the next request', async () => {
    const user = await env.user('viewer');
    const token = await apiToken(user);
    expect(await status('DELETE', `/api/tokens/${token.id}`, token.secret)).toBe(204);
    expect(await me(token.secret)).toBe(401);
  });

  test('an admin revoking someone’s token: refused at once', async () => {
    const admin = await env.user('admin');
    const user = await env.user('viewer');
    const token = await apiToken(user);
    expect(await me(token.secret)).toBe(200);
    expect(await status('DELETE', `/api/tokens/${token.id}`, admin.token)).toBe(204);
    expect(await me(token.secret)).toBe(401);
  });

  test('disabling a user: their sessions and tokens are refused at once', async () => {
    const admin = await env.user('admin');
    const user = await env.user('operator');
    const token = await apiToken(user);
    expect(await me(user.token)).toBe(200);
    expect(await me(token.secret)).toBe(200);
    expect(await status('PATCH', `/api/users/${user.id}`, admin.token, { disabled: true })).toBe(200);
    expect(await me(user.token)).toBe(401);
    expect(await me(token.secret)).toBe(401);
  });

  test('deleting a user: their sessions and tokens are refused at once', async () => {
    const admin = await env.user('admin');
    const user = await env.user('viewer');
    const token = await apiToken(user);
    expect(await me(user.token)).toBe(200);
    expect(await me(token.secret)).toBe(200);
    expect(await status('DELETE', `/api/users/${user.id}`, admin.token)).toBe(204);
    expect(await me(user.token)).toBe(401);
    expect(await me(token.secret)).toBe(401);
  });

  test('a role change applies at once to sessions and tokens', async () => {
    const admin = await env.user('admin');
    const demoted = await env.user('admin');
    const token = await apiToken(demoted);
    expect(await status('GET', '/api/users', demoted.token)).toBe(200);
    expect(await status('GET', '/api/users', token.secret)).toBe(200);
    expect(await status('PATCH', `/api/users/${demoted.id}`, admin.token, { role: 'viewer' })).toBe(200);
    expect(await status('GET', '/api/users', demoted.token)).toBe(403);
    expect(await status('GET', '/api/users', token.secret)).toBe(403);
  });

  test('a grant change applies at once', async () => {
    const admin = await env.user('admin');
    const [kept, dropped] = [await env.scene(), await env.scene()];
    const user = await env.user('viewer', [kept, dropped]);
    const token = await apiToken(user);
    for (const credential of [user.token, token.secret]) {
      expect(await status('GET', `/api/runs?sceneId=${dropped}`, credential)).toBe(200);
    }
    const put = await env.call('PUT', `/api/users/${user.id}/grants`, {
      token: admin.token,
      body: { sceneIds: [kept] },
    });
    expect(put.status).toBe(200);
    for (const credential of [user.token, token.secret]) {
      expect(await status('GET', `/api/runs?sceneId=${dropped}`, credential)).toBe(403);
      expect(await status('GET', `/api/runs?sceneId=${kept}`, credential)).toBe(200);
    }
  });

  test('deleting a scene drops its grants at once', async () => {
    const admin = await env.user('admin');
    const scene = await env.scene();
    const user = await env.user('viewer', [scene]);
    expect(await status('GET', `/api/runs?sceneId=${scene}`, user.token)).toBe(200);
    expect(await status('DELETE', `/api/scenes/${scene}`, admin.token)).toBe(204);
    expect(await status('GET', `/api/runs?sceneId=${scene}`, user.token)).toBe(403);
  });

  test('changing one’s own password ends one’s other sessions at once, not the current one', async () => {
    const user = await env.user('viewer');
    const other = await env.call('POST', '/api/auth/login', {
      body: { username: user.username, password: user.password },
    });
    const otherToken = (other.body as { token: string }).token;
    expect(await me(otherToken)).toBe(200);
    expect(await me(user.token)).toBe(200);
    const changed = await env.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'a brand new password 123' },
    });
    expect(changed.status).toBe(204);
    expect(await me(otherToken)).toBe(401);
    expect(await me(user.token)).toBe(200);
  });

  test('an admin setting a user’s password ends the user’s sessions at once', async () => {
    const admin = await env.user('admin');
    const user = await env.user('viewer');
    expect(await me(user.token)).toBe(200);
    const patched = await env.call('PATCH', `/api/users/${user.id}`, {
      token: admin.token,
      body: { password: 'another brand new password 456' },
    });
    expect(patched.status).toBe(200);
    expect(await me(user.token)).toBe(401);
  });
});

describe('expiry and throttling are checked on every hit', () => {
  let long: HttpEnv;
  const THROTTLE = 60_000;
  const IDLE = 30 * 60_000;
  beforeAll(async () => {
    // A TTL far longer than the times these tests move the clock by: every request after the first is a hit.
    long = await httpEnv('principal-cache-long', {
      auth: { principalCacheTtlMs: 3_600_000, touchThrottleMs: THROTTLE, sessionIdleMs: IDLE },
    });
  });
  afterAll(async () => {
    await long?.close();
  });
  const get = async (token: string): Promise<number> =>
    (await long.call('GET', '/api/auth/me', { token })).status;

  test('a token is refused at its exact expiry', async () => {
    const user = await long.user('viewer');
    const created = await long.call('POST', '/api/tokens', {
      token: user.token,
      body: { name: 'short', expiresAt: new Date(long.clock.now().getTime() + 10_000).toISOString() },
    });
    const secret = (created.body as { secret: string }).secret;
    expect(await get(secret)).toBe(200);
    long.clock.advance(9_999);
    expect(await get(secret)).toBe(200);
    long.clock.advance(1);
    expect(await get(secret)).toBe(401);
  });

  test('a session is refused after its idle limit, and deleted', async () => {
    const user = await long.user('viewer');
    expect(await get(user.token)).toBe(200);
    long.clock.advance(IDLE + 1);
    expect(await get(user.token)).toBe(401);
    expect(await long.prisma.session.count({ where: { userId: user.id } })).toBe(0);
  });

  test('a session in use does not go idle while its requests are cache hits', async () => {
    const user = await long.user('viewer');
    // Active every 20 minutes for 3 hours, with a 30-minute idle limit: never idle.
    for (let i = 0; i < 9; i++) {
      long.clock.advance(20 * 60_000);
      expect(await get(user.token)).toBe(200);
    }
  });

  test('a session is refused at its absolute expiry', async () => {
    const short = await httpEnv('principal-cache-expiry', {
      auth: { principalCacheTtlMs: 3_600_000, sessionTtlMs: 10_000 },
    });
    try {
      const user = await short.user('viewer');
      const call = async (): Promise<number> =>
        (await short.call('GET', '/api/auth/me', { token: user.token })).status;
      expect(await call()).toBe(200);
      short.clock.advance(9_999);
      expect(await call()).toBe(200);
      short.clock.advance(1);
      expect(await call()).toBe(401);
    } finally {
      await short.close();
    }
  });
});

describe('last-seen and last-used writes: the same throttling with the cache as without it', () => {
  const THROTTLE = 60_000;
  const envs: Record<string, HttpEnv> = {};
  beforeAll(async () => {
    envs.cached = await httpEnv('principal-cache-touch', {
      auth: { principalCacheTtlMs: 3_600_000, touchThrottleMs: THROTTLE },
    });
    envs.uncached = await httpEnv('principal-cache-touch-off', {
      auth: { principalCacheTtlMs: 0, touchThrottleMs: THROTTLE },
    });
  });
  afterAll(async () => {
    for (const one of Object.values(envs)) await one.close();
  });

  for (const which of ['cached', 'uncached']) {
    test(`${which}: a session's last-seen time`, async () => {
      const e = envs[which] as HttpEnv;
      const user = await e.user('viewer');
      const seen = async (): Promise<number> =>
        (await e.prisma.session.findFirstOrThrow({ where: { userId: user.id } })).lastSeenAt.getTime();
      const get = async (): Promise<number> =>
        (await e.call('GET', '/api/auth/me', { token: user.token })).status;
      const loggedIn = await seen();
      expect(await get()).toBe(200);
      e.clock.advance(THROTTLE);
      expect(await get()).toBe(200);
      expect(await seen()).toBe(loggedIn);
      e.clock.advance(1);
      expect(await get()).toBe(200);
      const touched = e.clock.now().getTime();
      expect(await seen()).toBe(touched);
      e.clock.advance(THROTTLE - 1);
      expect(await get()).toBe(200);
      expect(await seen()).toBe(touched);
    });

    test(`${which}: a token's last-used time`, async () => {
      const e = envs[which] as HttpEnv;
      const user = await e.user('viewer');
      const created = await e.call('POST', '/api/tokens', { token: user.token, body: { name: 'used' } });
      const { token, secret } = created.body as { token: { id: string }; secret: string };
      const used = async (): Promise<number | undefined> =>
        (await e.prisma.apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt?.getTime();
      const get = async (): Promise<number> =>
        (await e.call('GET', '/api/auth/me', { token: secret })).status;
      expect(await get()).toBe(200);
      const first = e.clock.now().getTime();
      expect(await used()).toBe(first);
      e.clock.advance(THROTTLE);
      expect(await get()).toBe(200);
      expect(await used()).toBe(first);
      e.clock.advance(1);
      expect(await get()).toBe(200);
      expect(await used()).toBe(e.clock.now().getTime());
    });
  }
});

describe('configuration', () => {
  test('TTL 0 turns the cache off: a change behind the app’s back applies at once', async () => {
    const off = await httpEnv('principal-cache-off', { auth: { principalCacheTtlMs: 0 } });
    try {
      const user = await off.user('viewer');
      expect((await off.call('GET', '/api/auth/me', { token: user.token })).status).toBe(200);
      await off.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
      expect((await off.call('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    } finally {
      await off.close();
    }
  });

  test('KISJOBS_AUTH_CACHE_TTL_MS: 2 s by default, 0 to 10 s', () => {
    const base = { DATABASE_URL: 'postgres://u@h/db' };
    const fallback = parseSchedulerEnv(base);
    expect(fallback.ok && fallback.env.KISJOBS_AUTH_CACHE_TTL_MS).toBe(2_000);
    const off = parseSchedulerEnv({ ...base, KISJOBS_AUTH_CACHE_TTL_MS: '0' });
    expect(off.ok && off.env.KISJOBS_AUTH_CACHE_TTL_MS).toBe(0);
    for (const bad of ['-1', '10001', '1.5', 'soon']) {
      const parsed = parseSchedulerEnv({ ...base, KISJOBS_AUTH_CACHE_TTL_MS: bad });
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.issues.map((i) => i.path)).toEqual(['KISJOBS_AUTH_CACHE_TTL_MS']);
    }
  });
});
