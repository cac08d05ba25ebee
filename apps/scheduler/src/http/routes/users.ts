/** `/api/users`: user administration with roles and scene grants (admins only). */
import { z } from 'zod';
import { listUsers } from '@kisjobs/db';
import { GrantsInput, pageOf, pageQueryFields, User, UserId, UserInput, UserPatch } from '@kisjobs/protocol';
import { userDto } from '../../auth/dto.js';
import {
  createUser,
  deleteUser,
  getUserOrThrow,
  setGrants,
  updateUser,
  type UserAdminDeps,
} from '../../auth/users.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';

const ById = z.strictObject({ id: UserId });

export function userRoutes(deps: RouteDeps): Route[] {
  const users: UserAdminDeps = {
    prisma: deps.prisma,
    clock: deps.clock,
    hasher: deps.auth.hasher,
    credentials: deps.auth.credentials,
  };
  const target = { targetType: 'user', targetId: (req: { params: { id: string } }) => req.params.id };
  return [
    defineRoute({
      id: 'users.list',
      method: 'GET',
      path: '/api/users',
      tags: ['users'],
      summary: 'List users with their roles and grants',
      access: { action: 'admin' },
      query: z.strictObject(pageQueryFields),
      responses: { 200: { description: 'Users, newest first', schema: pageOf(User) } },
      handler: async (req) => {
        const page = await listUsers(deps.prisma, req.query);
        return { status: 200, body: { items: page.items.map(userDto), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      id: 'users.create',
      method: 'POST',
      path: '/api/users',
      tags: ['users'],
      summary: 'Create a user with a role and scene grants',
      access: { action: 'admin' },
      body: UserInput,
      responses: { 201: { description: 'Created', schema: User } },
      errors: [409],
      audit: {
        targetType: 'user',
        details: (req) => ({ username: req.body.username, role: req.body.role, sceneIds: req.body.sceneIds }),
      },
      handler: async (req) => {
        const user = await createUser(users, req.body);
        return { status: 201, body: userDto(user), audit: { targetId: user.id } };
      },
    }),
    defineRoute({
      id: 'users.get',
      method: 'GET',
      path: '/api/users/:id',
      tags: ['users'],
      summary: 'One user',
      access: { action: 'admin' },
      params: ById,
      responses: { 200: { description: 'The user', schema: User } },
      handler: async (req) => ({
        status: 200,
        body: userDto(await getUserOrThrow(deps.prisma, req.params.id)),
      }),
    }),
    defineRoute({
      id: 'users.update',
      method: 'PATCH',
      path: '/api/users/:id',
      tags: ['users'],
      summary: 'Change a user’s role, disabled flag or password',
      description:
        'A new password or disabling ends the user’s sessions. The last enabled admin stays an admin.',
      access: { action: 'admin' },
      params: ById,
      body: UserPatch,
      responses: { 200: { description: 'The user', schema: User } },
      errors: [409],
      audit: {
        ...target,
        details: (req) => ({
          ...(req.body.role === undefined ? {} : { role: req.body.role }),
          ...(req.body.disabled === undefined ? {} : { disabled: req.body.disabled }),
          ...(req.body.password === undefined ? {} : { passwordChanged: true }),
        }),
      },
      handler: async (req) => ({
        status: 200,
        body: userDto(await updateUser(users, req.params.id, req.body)),
      }),
    }),
    defineRoute({
      id: 'users.delete',
      method: 'DELETE',
      path: '/api/users/:id',
      tags: ['users'],
      summary: 'Delete a user with its sessions, tokens and grants',
      access: { action: 'admin' },
      params: ById,
      responses: { 204: { description: 'Deleted' } },
      errors: [409],
      audit: target,
      handler: async (req) => {
        await deleteUser(users, req.params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      id: 'users.grants',
      method: 'PUT',
      path: '/api/users/:id/grants',
      tags: ['users'],
      summary: 'Replace the scenes granted to a user',
      access: { action: 'admin' },
      params: ById,
      body: GrantsInput,
      responses: { 200: { description: 'The user with its new grants', schema: User } },
      audit: { ...target, details: (req) => ({ sceneIds: req.body.sceneIds }) },
      handler: async (req) => ({
        status: 200,
        body: userDto(await setGrants(users, req.params.id, req.body.sceneIds)),
      }),
    }),
  ];
}
