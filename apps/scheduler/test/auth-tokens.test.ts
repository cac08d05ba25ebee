/** API tokens over real HTTP: create (secret shown once), list (never secrets), revoke, last-used, expiry. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

const THROTTLE = 60_000;

let env: HttpEnv;
beforeAll(async () => {
  env = await httpEnv('tokens', { auth: { touchThrottleMs: THROTTLE, maxApiTokensPerUser: 5 } });
});
afterAll(async () => {
  await env?.close();
});

interface Created {
  token: {
    id: string;
    name: string;
    userId: string;
    lastUsedAt: string | null;
    expiresAt: string | null;
    revokedAt: string | null;
  };
  secret: string;
}

async function create(user: TestUser, body: unknown): Promise<Created> {
  const result = await env.call('POST', '/api/tokens', { token: user.token, body });
  expect(result.status).toBe(201);
  return result.body as Created;
}

describe('API tokens', () => {
  test('the secret is shown once, works as a bearer, and is never listed or stored', async () => {
    const operator = await env.user('operator');
    const created = await create(operator, { name: 'ci deploys' });
    expect(created.secret).toMatch(/^kjs_api_[A-Za-z0-9_-]{43}$/);
    expect(created.token).toMatchObject({
      name: 'ci deploys',
      userId: operator.id,
      lastUsedAt: null,
      revokedAt: null,
      expiresAt: null,
    });

    const me = await env.call('GET', '/api/auth/me', { token: created.secret });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      user: { id: operator.id, role: 'operator' },
      authenticatedWith: 'token',
      expiresAt: null,
    });

    const list = await env.call('GET', '/api/tokens', { token: operator.token });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(created.secret);
    expect((list.body as { items: { id: string }[] }).items.map((t) => t.id)).toEqual([created.token.id]);
    const rows = await env.prisma.apiToken.findMany();
    expect(JSON.stringify(rows)).not.toContain(created.secret);
  });

  test('a token acts with its user’s role: a viewer’s token cannot create scenes', async () => {
    const viewer = await env.user('viewer');
    const created = await create(viewer, { name: 'read-only' });
    const result = await env.call('POST', '/api/scenes', { token: created.secret, body: { name: 'nope' } });
    expect(result.status).toBe(403);
  });

  test('revoking ends it at once; revoking again is fine; others cannot revoke or see it', async () => {
    const owner = await env.user('viewer');
    const stranger = await env.user('operator');
    const created = await create(owner, { name: 'short-lived' });
    const foreign = await env.call('DELETE', `/api/tokens/${created.token.id}`, { token: stranger.token });
    expect(foreign.status).toBe(404);
    expect((foreign.body as { error: { code: string } }).error.code).toBe('TOKEN_NOT_FOUND');
    expect((await env.call('GET', '/api/tokens', { token: stranger.token })).text).not.toContain(
      created.token.id,
    );

    expect((await env.call('DELETE', `/api/tokens/${created.token.id}`, { token: owner.token })).status).toBe(
      204,
    );
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(401);
    expect((await env.call('DELETE', `/api/tokens/${created.token.id}`, { token: owner.token })).status).toBe(
      204,
    );
    const listed = (await env.call('GET', '/api/tokens', { token: owner.token })).body as {
      items: Created['token'][];
    };
    expect(listed.items[0]?.revokedAt).not.toBeNull();
  });

  test('an admin may revoke anyone’s token', async () => {
    const owner = await env.user('viewer');
    const admin = await env.user('admin');
    const created = await create(owner, { name: 'left behind' });
    expect((await env.call('DELETE', `/api/tokens/${created.token.id}`, { token: admin.token })).status).toBe(
      204,
    );
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(401);
  });

  test('last-used is recorded on first use and then at most once per throttle period', async () => {
    const user = await env.user('viewer');
    const created = await create(user, { name: 'cron job' });
    const lastUsed = async (): Promise<string | null> => {
      const list = (await env.call('GET', '/api/tokens', { token: user.token })).body as {
        items: Created['token'][];
      };
      return list.items.find((t) => t.id === created.token.id)?.lastUsedAt ?? null;
    };
    expect(await lastUsed()).toBeNull();
    await env.call('GET', '/api/auth/me', { token: created.secret });
    const first = await lastUsed();
    expect(first).toBe(env.clock.now().toISOString());
    env.clock.advance(THROTTLE / 2);
    await env.call('GET', '/api/auth/me', { token: created.secret });
    expect(await lastUsed()).toBe(first);
    env.clock.advance(THROTTLE / 2 + 1);
    await env.call('GET', '/api/auth/me', { token: created.secret });
    expect(await lastUsed()).toBe(env.clock.now().toISOString());
  });

  test('a token with an expiry stops working then; an expiry in the past is refused naming the field', async () => {
    const user = await env.user('viewer');
    const expiresAt = new Date(env.clock.now().getTime() + 60_000).toISOString();
    const created = await create(user, { name: 'one minute', expiresAt });
    expect(created.token.expiresAt).toBe(expiresAt);
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(200);
    env.clock.advance(60_001);
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(401);

    const past = await env.call('POST', '/api/tokens', {
      token: user.token,
      body: { name: 'already over', expiresAt: new Date(env.clock.now().getTime() - 1).toISOString() },
    });
    expect(past.status).toBe(400);
    expect(past.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'expiresAt' }] } },
    });
  });

  test('a disabled user’s tokens stop working', async () => {
    const user = await env.user('operator');
    const created = await create(user, { name: 'ops' });
    await env.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(401);
  });

  test('a user may hold only so many usable tokens', async () => {
    const user = await env.user('viewer');
    for (let i = 0; i < 5; i++) await create(user, { name: `t${i}` });
    const sixth = await env.call('POST', '/api/tokens', { token: user.token, body: { name: 't5' } });
    expect(sixth.status).toBe(409);
  });

  test('logout with an API token is refused: tokens are revoked explicitly', async () => {
    const user = await env.user('viewer');
    const created = await create(user, { name: 'script' });
    const result = await env.call('POST', '/api/auth/logout', { token: created.secret });
    expect(result.status).toBe(409);
    expect((await env.call('GET', '/api/auth/me', { token: created.secret })).status).toBe(200);
  });
});
