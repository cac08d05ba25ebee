/** `/api/auth`: login (public, rate-limited), logout, the current user, changing one's own password. */
import { getUser } from '@kisjobs/db';
import { CurrentUser, LoginInput, LoginResult, NotFoundError, PasswordChangeInput } from '@kisjobs/protocol';
import { userDto } from '../../auth/dto.js';
import { changePassword, login, logout, type LoginDeps } from '../../auth/login.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';

export function authRoutes(deps: RouteDeps): Route[] {
  const loginDeps: LoginDeps = { prisma: deps.prisma, clock: deps.clock, ...deps.auth };
  return [
    defineRoute({
      id: 'auth.login',
      method: 'POST',
      path: '/api/auth/login',
      tags: ['auth'],
      summary: 'Sign in with a username and password: returns a bearer session token',
      description:
        'Failed attempts are limited per username and per client address (429 with Retry-After). The token is shown once.',
      access: { public: true },
      body: LoginInput,
      responses: { 200: { description: 'Signed in', schema: LoginResult } },
      errors: [401, 429],
      audit: { targetType: 'user', details: (req) => ({ username: req.body.username }) },
      handler: async (req) => {
        const session = await login(loginDeps, { ...req.body, ip: req.ip });
        return {
          status: 200,
          body: {
            token: session.token,
            expiresAt: session.expiresAt.toISOString(),
            user: userDto(session.user),
          },
          audit: {
            targetId: session.user.id,
            actor: { userId: session.user.id, username: session.user.username },
          },
        };
      },
    }),
    defineRoute({
      id: 'auth.logout',
      method: 'POST',
      path: '/api/auth/logout',
      tags: ['auth'],
      summary: 'End the current session',
      access: { action: 'read' },
      responses: { 204: { description: 'Signed out' } },
      errors: [409],
      audit: { targetType: 'user', targetId: (req) => req.principal.userId },
      handler: async (req) => {
        await logout(loginDeps, req.principal);
        return { status: 204 };
      },
    }),
    defineRoute({
      id: 'auth.me',
      method: 'GET',
      path: '/api/auth/me',
      tags: ['auth'],
      summary: 'The signed-in user, with role and scene grants',
      access: { action: 'read' },
      responses: { 200: { description: 'The current user', schema: CurrentUser } },
      handler: async (req) => {
        const user = await getUser(deps.prisma, req.principal.userId);
        if (user === null) throw new NotFoundError('user', req.principal.userId);
        const { credential } = req.principal;
        return {
          status: 200,
          body: {
            user: userDto(user),
            authenticatedWith: credential.kind,
            expiresAt: credential.expiresAt?.toISOString() ?? null,
          },
        };
      },
    }),
    defineRoute({
      id: 'auth.password',
      method: 'POST',
      path: '/api/auth/password',
      tags: ['auth'],
      summary: "Change one's own password (ends one's other sessions)",
      access: { action: 'read' },
      body: PasswordChangeInput,
      responses: { 204: { description: 'Changed' } },
      errors: [429],
      audit: { targetType: 'user', targetId: (req) => req.principal.userId },
      handler: async (req) => {
        await changePassword(loginDeps, req.principal, { ...req.body, ip: req.ip });
        return { status: 204 };
      },
    }),
  ];
}
