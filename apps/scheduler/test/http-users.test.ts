/** Users CRUD with roles and scene grants over real HTTP, including the last-admin guard. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpEnv, type CallResult, type HttpEnv, type TestUser } from './support/http-env.js';

interface UserBody {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  sceneIds: string[];
}

let env: HttpEnv;
let admin: TestUser;
let sceneA: string;
let sceneB: string;
beforeAll(async () => {
  env = await httpEnv('users');
  admin = await env.user('admin');
  sceneA = await env.scene('users-a');
  sceneB = await env.scene('users-b');
});
afterAll(async () => {
  await env?.close();
});

const asAdmin = (method: string, path: string, body?: unknown): Promise<CallResult> =>
  env.call(method, path, { token: admin.token, ...(body === undefined ? {} : { body }) });
const paths = (result: CallResult): string[] =>
  (result.body as { error: { details: { issues: { path: string }[] } } }).error.details.issues.map(
    (i) => i.path,
  );

describe('users', () => {
  test('create with grants, read, list, change role, replace grants, delete', async () => {
    const created = await asAdmin('POST', '/api/users', {
      username: 'Alice',
      password: 'alice password 1',
      role: 'viewer',
      sceneIds: [sceneA],
    });
    expect(created.status).toBe(201);
    const alice = created.body as UserBody;
    expect(alice).toMatchObject({ username: 'alice', role: 'viewer', disabled: false, sceneIds: [sceneA] });
    expect(created.text).not.toMatch(/password|hash/i);

    expect((await asAdmin('GET', `/api/users/${alice.id}`)).body).toEqual(alice);
    const list = (await asAdmin('GET', '/api/users')).body as {
      items: UserBody[];
      nextCursor: string | null;
    };
    expect(list.items.map((u) => u.username)).toContain('alice');

    const promoted = await asAdmin('PATCH', `/api/users/${alice.id}`, { role: 'operator' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ role: 'operator', sceneIds: [sceneA] });

    const regranted = await asAdmin('PUT', `/api/users/${alice.id}/grants`, { sceneIds: [sceneB, sceneA] });
    expect((regranted.body as UserBody).sceneIds.sort()).toEqual([sceneA, sceneB].sort());
    const cleared = await asAdmin('PUT', `/api/users/${alice.id}/grants`, { sceneIds: [] });
    expect((cleared.body as UserBody).sceneIds).toEqual([]);

    expect((await asAdmin('DELETE', `/api/users/${alice.id}`)).status).toBe(204);
    const gone = await asAdmin('GET', `/api/users/${alice.id}`);
    expect(gone.status).toBe(404);
    expect((gone.body as { error: { code: string } }).error.code).toBe('USER_NOT_FOUND');
    expect(await env.prisma.sceneGrant.count({ where: { userId: alice.id } })).toBe(0);
  });

  test('paging walks every user once', async () => {
    for (let i = 0; i < 4; i++) {
      await asAdmin('POST', '/api/users', {
        username: `pager-${i}`,
        password: 'pager password 1',
        role: 'viewer',
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = (await asAdmin('GET', `/api/users${query}`)).body as {
        items: UserBody[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(await env.prisma.user.count());
    const bad = await asAdmin('GET', '/api/users?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['query.cursor']);
  });

  test('invalid input names each field; a taken name is 409; unknown scenes are named', async () => {
    const invalid = await asAdmin('POST', '/api/users', {
      username: 'x y',
      password: 'short',
      role: 'root',
      extra: 1,
    });
    expect(invalid.status).toBe(400);
    expect(paths(invalid).sort()).toEqual(['extra', 'password', 'role', 'username']);
    const taken = await asAdmin('POST', '/api/users', {
      username: admin.username,
      password: 'some password 1',
      role: 'viewer',
    });
    expect(taken.status).toBe(409);
    const unknownScene = await asAdmin('POST', '/api/users', {
      username: 'grants-unknown',
      password: 'some password 1',
      role: 'viewer',
      sceneIds: [sceneA, 'scn_01m00000000000000000000000'],
    });
    expect(unknownScene.status).toBe(400);
    expect(paths(unknownScene)).toEqual(['sceneIds[1]']);
    expect(await env.prisma.user.count({ where: { username: 'grants-unknown' } })).toBe(0);
    const empty = await asAdmin('PATCH', `/api/users/${admin.id}`, {});
    expect(empty.status).toBe(400);
    expect(
      (await asAdmin('PATCH', '/api/users/usr_01m00000000000000000000000', { role: 'viewer' })).status,
    ).toBe(404);
  });

  test('a new password or disabling ends the user’s sessions; re-enabling lets them sign in again', async () => {
    const bob = await env.user('operator');
    expect((await asAdmin('PATCH', `/api/users/${bob.id}`, { password: 'bob new password' })).status).toBe(
      200,
    );
    expect((await env.call('GET', '/api/auth/me', { token: bob.token })).status).toBe(401);
    const relogin = await env.call('POST', '/api/auth/login', {
      body: { username: bob.username, password: 'bob new password' },
    });
    expect(relogin.status).toBe(200);
    const token = (relogin.body as { token: string }).token;
    expect((await asAdmin('PATCH', `/api/users/${bob.id}`, { disabled: true })).status).toBe(200);
    expect((await env.call('GET', '/api/auth/me', { token })).status).toBe(401);
    expect(
      (
        await env.call('POST', '/api/auth/login', {
          body: { username: bob.username, password: 'bob new password' },
        })
      ).status,
    ).toBe(401);
    expect((await asAdmin('PATCH', `/api/users/${bob.id}`, { disabled: false })).status).toBe(200);
    expect(
      (
        await env.call('POST', '/api/auth/login', {
          body: { username: bob.username, password: 'bob new password' },
        })
      ).status,
    ).toBe(200);
  });

  test('a role change takes effect on the next request of an existing session', async () => {
    const carol = await env.user('operator', [sceneA]);
    expect((await env.call('POST', `/api/scenes/${sceneA}/pause`, { token: carol.token })).status).toBe(200);
    await asAdmin('PATCH', `/api/users/${carol.id}`, { role: 'viewer' });
    expect((await env.call('POST', `/api/scenes/${sceneA}/resume`, { token: carol.token })).status).toBe(403);
    await asAdmin('PUT', `/api/users/${carol.id}/grants`, { sceneIds: [] });
    expect((await env.call('GET', `/api/scenes/${sceneA}`, { token: carol.token })).status).toBe(403);
  });

  test('the last enabled admin can be neither demoted, disabled nor deleted', async () => {
    const admins = await env.prisma.user.findMany({ where: { role: 'admin' } });
    expect(admins.map((a) => a.id)).toEqual([admin.id]);
    for (const [method, body] of [
      ['PATCH', { role: 'operator' }],
      ['PATCH', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const result = await asAdmin(method, `/api/users/${admin.id}`, body);
      expect({ method, body, status: result.status }).toEqual({ method, body, status: 409 });
    }
    const second = await env.user('admin');
    expect((await asAdmin('PATCH', `/api/users/${second.id}`, { role: 'operator' })).status).toBe(200);
    await asAdmin('PATCH', `/api/users/${second.id}`, { role: 'admin' });
    // Two admins demoting each other at once: exactly one succeeds.
    const results = await Promise.all([
      env.call('PATCH', `/api/users/${second.id}`, { token: admin.token, body: { role: 'viewer' } }),
      env.call('PATCH', `/api/users/${admin.id}`, { token: second.token, body: { role: 'viewer' } }),
    ]);
    // The loser is refused either as the last admin (409) or, when the winner committed before the
    // loser's request was authorized, because the loser is no longer an admin (403).
    const statuses = results.map((r) => r.status).sort((a, b) => a - b);
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    expect(await env.prisma.user.count({ where: { role: 'admin', disabled: false } })).toBe(1);
  });
});
