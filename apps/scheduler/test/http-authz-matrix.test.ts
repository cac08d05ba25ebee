/**
 * The authorization matrix: EVERY route of the app's route table × {admin, operator, viewer, anonymous} ×
 * {inside, outside} a scene granted to the operator and the viewer, against the status written down here.
 *
 * Adding a route without adding its row to MATRIX fails the first test, so no route ships without a decision
 * about who may call it. A row's `request` builds a fresh request per call (mutating routes get their own
 * targets); `outside` is required for routes whose policy names a scene, and absent for the others.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorBody } from '@kisjobs/protocol';
import { isPublic } from '../src/auth/policy.js';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

type Who = 'admin' | 'operator' | 'viewer' | 'anonymous';
type Where = 'inside' | 'outside';
type Expect = Readonly<Record<Who, number>>;

interface Ctx {
  readonly env: HttpEnv;
  readonly who: Who;
  /** The signed-in user for `who` (undefined for anonymous). */
  readonly user: TestUser | undefined;
  /** The granted scene (inside) or one not granted (outside). */
  readonly sceneId: string;
  fresh(prefix: string): string;
}

interface Req {
  readonly path: string;
  readonly body?: unknown;
  /** Use this bearer instead of `who`'s (routes that end or change the caller's own session). */
  readonly token?: string;
}

interface Case {
  readonly method: string;
  readonly request: (ctx: Ctx) => Promise<Req> | Req;
  readonly inside: Expect;
  readonly outside?: Expect;
}

const all = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: status,
  anonymous: status,
});
const signedIn = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: status,
  anonymous: 401,
});
const adminOnly = (status: number): Expect => ({ admin: status, operator: 403, viewer: 403, anonymous: 401 });
const operate = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: 403,
  anonymous: 401,
});
const ownedByAdmin = (status: number): Expect => ({
  admin: status,
  operator: 403,
  viewer: 403,
  anonymous: 401,
});

/** A throwaway user of `who`'s role (signed in), for routes that change the caller's own account. */
async function ownUser(ctx: Ctx): Promise<TestUser | undefined> {
  return ctx.who === 'anonymous' ? undefined : ctx.env.user(ctx.who);
}

async function throwawayUserId(ctx: Ctx): Promise<string> {
  const created = await ctx.env.call('POST', '/api/users', {
    token: admin.token,
    body: { username: ctx.fresh('target'), password: 'target password 1', role: 'viewer' },
  });
  return (created.body as { id: string }).id;
}

const MATRIX: Record<string, Case> = {
  'system.health': { method: 'GET', request: () => ({ path: '/healthz' }), inside: all(200) },
  'system.ready': { method: 'GET', request: () => ({ path: '/readyz' }), inside: all(200) },
  'system.metrics': { method: 'GET', request: () => ({ path: '/metrics' }), inside: all(200) },
  'system.openapi': { method: 'GET', request: () => ({ path: '/api/openapi.json' }), inside: all(200) },
  'system.docs': { method: 'GET', request: () => ({ path: '/docs' }), inside: all(200) },

  'auth.login': {
    method: 'POST',
    request: () => ({
      path: '/api/auth/login',
      body: { username: loginTarget.username, password: loginTarget.password },
    }),
    inside: all(200),
  },
  'auth.logout': {
    method: 'POST',
    request: async (ctx) => ({ path: '/api/auth/logout', token: (await ownUser(ctx))?.token ?? '' }),
    inside: signedIn(204),
  },
  'auth.me': { method: 'GET', request: () => ({ path: '/api/auth/me' }), inside: signedIn(200) },
  'auth.password': {
    method: 'POST',
    request: async (ctx) => {
      const user = await ownUser(ctx);
      return {
        path: '/api/auth/password',
        token: user?.token ?? '',
        body: { currentPassword: user?.password ?? 'x', newPassword: 'a different password' },
      };
    },
    inside: signedIn(204),
  },

  'tokens.list': { method: 'GET', request: () => ({ path: '/api/tokens' }), inside: signedIn(200) },
  'tokens.create': {
    method: 'POST',
    request: (ctx) => ({ path: '/api/tokens', body: { name: ctx.fresh('token') } }),
    inside: signedIn(201),
  },
  'tokens.revoke': {
    method: 'DELETE',
    request: async (ctx) => {
      const owner = ctx.user ?? viewer;
      const created = await ctx.env.call('POST', '/api/tokens', {
        token: owner.token,
        body: { name: ctx.fresh('revoke') },
      });
      return { path: `/api/tokens/${(created.body as { token: { id: string } }).token.id}` };
    },
    inside: signedIn(204),
  },

  'users.list': { method: 'GET', request: () => ({ path: '/api/users' }), inside: adminOnly(200) },
  'users.create': {
    method: 'POST',
    request: (ctx) => ({
      path: '/api/users',
      body: {
        username: ctx.fresh('new'),
        password: 'new user password',
        role: 'viewer',
        sceneIds: [ctx.sceneId],
      },
    }),
    inside: adminOnly(201),
  },
  'users.get': {
    method: 'GET',
    request: () => ({ path: `/api/users/${viewer.id}` }),
    inside: adminOnly(200),
  },
  'users.update': {
    method: 'PATCH',
    request: async (ctx) => ({
      path: `/api/users/${await throwawayUserId(ctx)}`,
      body: { role: 'operator' },
    }),
    inside: adminOnly(200),
  },
  'users.delete': {
    method: 'DELETE',
    request: async (ctx) => ({ path: `/api/users/${await throwawayUserId(ctx)}` }),
    inside: adminOnly(204),
  },
  'users.grants': {
    method: 'PUT',
    request: async (ctx) => ({
      path: `/api/users/${await throwawayUserId(ctx)}/grants`,
      body: { sceneIds: [ctx.sceneId] },
    }),
    inside: adminOnly(200),
  },

  'scenes.list': { method: 'GET', request: () => ({ path: '/api/scenes' }), inside: signedIn(200) },
  'scenes.create': {
    method: 'POST',
    request: (ctx) => ({ path: '/api/scenes', body: { name: ctx.fresh('scene') } }),
    inside: adminOnly(201),
  },
  'scenes.get': {
    method: 'GET',
    request: (ctx) => ({ path: `/api/scenes/${ctx.sceneId}` }),
    inside: signedIn(200),
    outside: ownedByAdmin(200),
  },
  'scenes.update': {
    method: 'PATCH',
    request: (ctx) => ({ path: `/api/scenes/${ctx.sceneId}`, body: { description: ctx.fresh('described') } }),
    inside: adminOnly(200),
  },
  'scenes.delete': {
    method: 'DELETE',
    request: async (ctx) => ({ path: `/api/scenes/${await ctx.env.scene(ctx.fresh('doomed'))}` }),
    inside: adminOnly(204),
  },
  'scenes.pause': {
    method: 'POST',
    request: (ctx) => ({ path: `/api/scenes/${ctx.sceneId}/pause` }),
    inside: operate(200),
    outside: ownedByAdmin(200),
  },
  'scenes.resume': {
    method: 'POST',
    request: (ctx) => ({ path: `/api/scenes/${ctx.sceneId}/resume` }),
    inside: operate(200),
    outside: ownedByAdmin(200),
  },

  'audit.list': { method: 'GET', request: () => ({ path: '/api/audit' }), inside: adminOnly(200) },
};

let env: HttpEnv;
let admin: TestUser;
let operator: TestUser;
let viewer: TestUser;
let loginTarget: TestUser;
let sceneIn: string;
let sceneOut: string;
let serial = 0;

beforeAll(async () => {
  env = await httpEnv('authz');
  sceneIn = await env.scene('granted');
  sceneOut = await env.scene('not-granted');
  admin = await env.user('admin');
  operator = await env.user('operator', [sceneIn]);
  viewer = await env.user('viewer', [sceneIn]);
  loginTarget = await env.user('viewer');
});
afterAll(async () => {
  await env?.close();
});

describe('authorization matrix', () => {
  test('every route of the route table has a row, and no row names a route that does not exist', () => {
    const routeIds = env.http.routes.map((route) => route.id).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(routeIds);
    for (const route of env.http.routes) {
      const row = MATRIX[route.id];
      expect({ id: route.id, method: row?.method }).toEqual({ id: route.id, method: route.method });
      const sceneScoped = !isPublic(route.access) && route.access.scene !== undefined;
      expect({ id: route.id, hasOutside: row?.outside !== undefined }).toEqual({
        id: route.id,
        hasOutside: sceneScoped,
      });
    }
  });

  const whos: Who[] = ['admin', 'operator', 'viewer', 'anonymous'];
  for (const [id, row] of Object.entries(MATRIX)) {
    const places: Where[] = row.outside === undefined ? ['inside'] : ['inside', 'outside'];
    for (const where of places) {
      test(`${id} ${where}`, async () => {
        const got: Record<string, number> = {};
        const badShapes: string[] = [];
        for (const who of whos) {
          const user = { admin, operator, viewer, anonymous: undefined }[who];
          const ctx: Ctx = {
            env,
            who,
            user,
            sceneId: where === 'inside' ? sceneIn : sceneOut,
            fresh: (prefix) => `${prefix}-${++serial}`,
          };
          const req = await row.request(ctx);
          const token = req.token ?? user?.token;
          const result = await env.call(row.method, req.path, {
            ...(token === undefined || token === '' ? {} : { token }),
            ...(req.body === undefined ? {} : { body: req.body }),
          });
          got[who] = result.status;
          if (result.status >= 400 && !ErrorBody.strict().safeParse(result.body).success)
            badShapes.push(`${who}: ${result.text}`);
        }
        expect(got).toEqual(where === 'inside' ? row.inside : row.outside);
        expect(badShapes).toEqual([]);
      });
    }
  }
});
