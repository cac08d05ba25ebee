/**
 * Matrix rows of the foundation routes: system, auth, API tokens, users, scenes, audit.
 */
import {
  adminOnly,
  all,
  operate,
  ownedByAdmin,
  ownUser,
  signedIn,
  throwawayUserId,
  type Case,
} from './kit.js';

export const CORE_ROWS: Record<string, Case> = {
  'system.health': { method: 'GET', request: () => ({ path: '/healthz' }), inside: all(200) },
  'system.ready': { method: 'GET', request: () => ({ path: '/readyz' }), inside: all(200) },
  'system.metrics': { method: 'GET', request: () => ({ path: '/metrics' }), inside: all(200) },
  'system.openapi': { method: 'GET', request: () => ({ path: '/api/openapi.json' }), inside: all(200) },
  'system.docs': { method: 'GET', request: () => ({ path: '/docs' }), inside: all(200) },

  'auth.login': {
    method: 'POST',
    request: (ctx) => ({
      path: '/api/auth/login',
      body: { username: ctx.users.loginTarget.username, password: ctx.users.loginTarget.password },
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
      const owner = ctx.user ?? ctx.users.viewer;
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
    request: (ctx) => ({ path: `/api/users/${ctx.users.viewer.id}` }),
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
