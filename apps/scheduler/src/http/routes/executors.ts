/**
 * `/api/executors` and `/api/groups`: executors with their online state, functions and load; draining one
 * (an operator's "remove": it finishes its runs, takes no new ones, and deregisters); executor groups with
 * their counts, created and their registration tokens rotated by admins (a token is shown only then).
 */
import { z } from 'zod';
import type { ExecutorGroup as GroupRow } from '@kisjobs/db';
import {
  Executor,
  ExecutorDrainResult,
  ExecutorGroup,
  ExecutorListQuery,
  GroupCreateInput,
  GroupName,
  GroupWithToken,
  InstanceId,
  NotFoundError,
} from '@kisjobs/protocol';
import type { ExecutorInfo } from '../../registry/index.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';
import { actorOf, schedulerOf } from './scheduler-service.js';

const ByInstance = z.strictObject({ instanceId: InstanceId });
const ByGroup = z.strictObject({ name: GroupName });

export function executorDto(info: ExecutorInfo): Executor {
  return {
    instanceId: info.instanceId,
    group: info.group,
    host: info.host,
    pid: info.pid,
    version: info.version,
    functions: info.functions,
    concurrency: info.concurrency,
    status: info.status,
    online: info.live,
    draining: info.draining,
    activeRuns: info.heartbeat?.activeRuns ?? null,
    load: info.heartbeat?.load ?? null,
    registeredAt: info.registeredAt.toISOString(),
    lastHeartbeatAt: info.lastHeartbeatAt.toISOString(),
    offlineAt: info.offlineAt?.toISOString() ?? null,
  };
}

function groupDto(row: GroupRow, members: readonly ExecutorInfo[]): ExecutorGroup {
  return {
    name: row.name,
    description: row.description,
    online: members.filter((e) => e.live && !e.draining).length,
    total: members.length,
    tokenRotatedAt: row.tokenRotatedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export function executorRoutes(deps: RouteDeps): Route[] {
  const { prisma } = deps;
  const group = async (name: string): Promise<ExecutorGroup> => {
    const row = await prisma.executorGroup.findUnique({ where: { name } });
    if (row === null) throw new NotFoundError('group', name);
    return groupDto(row, await schedulerOf(deps).listExecutors({ group: name }));
  };
  return [
    defineRoute({
      id: 'executors.list',
      method: 'GET',
      path: '/api/executors',
      tags: ['executors'],
      summary: 'Executors with their online state, functions and load',
      access: { action: 'read' },
      query: ExecutorListQuery,
      responses: {
        200: {
          description: 'Executors by group and instance id',
          schema: z.object({ items: z.array(Executor) }),
        },
      },
      handler: async (req) => {
        const { group: name, online, includeRemoved } = req.query;
        const all = await schedulerOf(deps).listExecutors({
          ...(name === undefined ? {} : { group: name }),
          ...(includeRemoved === undefined ? {} : { includeRemoved }),
        });
        const items = all.filter((e) => online === undefined || e.live === online).map(executorDto);
        return { status: 200, body: { items } };
      },
    }),
    defineRoute({
      id: 'executors.get',
      method: 'GET',
      path: '/api/executors/:instanceId',
      tags: ['executors'],
      summary: 'One executor',
      access: { action: 'read' },
      params: ByInstance,
      responses: { 200: { description: 'The executor', schema: Executor } },
      handler: async (req) => {
        const all = await schedulerOf(deps).listExecutors({ includeRemoved: true });
        const info = all.find((e) => e.instanceId === req.params.instanceId);
        if (info === undefined) throw new NotFoundError('executor', req.params.instanceId);
        return { status: 200, body: executorDto(info) };
      },
    }),
    defineRoute({
      id: 'executors.drain',
      method: 'POST',
      path: '/api/executors/:instanceId/drain',
      tags: ['executors'],
      summary: 'Remove an executor: it finishes its runs, takes no new ones, and deregisters',
      access: { action: 'admin' },
      params: ByInstance,
      responses: {
        202: { description: 'Draining, or removed when it was not running', schema: ExecutorDrainResult },
      },
      audit: { targetType: 'executor', targetId: (req) => req.params.instanceId },
      handler: async (req) => {
        const result = await schedulerOf(deps).removeExecutor(req.params.instanceId, {
          requestedBy: actorOf(req.principal),
        });
        return { status: 202, body: { instanceId: result.instanceId, status: result.status } };
      },
    }),
    defineRoute({
      id: 'groups.list',
      method: 'GET',
      path: '/api/groups',
      tags: ['executors'],
      summary: 'Executor groups with how many of their executors are online',
      access: { action: 'read' },
      responses: {
        200: { description: 'Groups by name', schema: z.object({ items: z.array(ExecutorGroup) }) },
      },
      handler: async () => {
        const [rows, executors] = await Promise.all([
          prisma.executorGroup.findMany({ orderBy: { name: 'asc' } }),
          schedulerOf(deps).listExecutors(),
        ]);
        const items = rows.map((row) =>
          groupDto(
            row,
            executors.filter((e) => e.group === row.name),
          ),
        );
        return { status: 200, body: { items } };
      },
    }),
    defineRoute({
      id: 'groups.get',
      method: 'GET',
      path: '/api/groups/:name',
      tags: ['executors'],
      summary: 'One executor group',
      access: { action: 'read' },
      params: ByGroup,
      responses: { 200: { description: 'The group', schema: ExecutorGroup } },
      handler: async (req) => ({ status: 200, body: await group(req.params.name) }),
    }),
    defineRoute({
      id: 'groups.create',
      method: 'POST',
      path: '/api/groups',
      tags: ['executors'],
      summary: 'Create an executor group and its registration token (shown only in this answer)',
      access: { action: 'admin' },
      body: GroupCreateInput,
      responses: { 201: { description: 'The group and its token', schema: GroupWithToken } },
      errors: [409],
      audit: { targetType: 'group', targetId: (req) => req.body.name },
      handler: async (req) => {
        const { token } = await schedulerOf(deps).createGroup(req.body);
        return { status: 201, body: { group: await group(req.body.name), token } };
      },
    }),
    defineRoute({
      id: 'groups.rotateToken',
      method: 'POST',
      path: '/api/groups/:name/token',
      tags: ['executors'],
      summary: 'Rotate a group’s registration token: the old one registers nothing from now on',
      description: 'Executors already registered keep running; new registrations need the new token.',
      access: { action: 'admin' },
      params: ByGroup,
      responses: { 200: { description: 'The group and its new token', schema: GroupWithToken } },
      errors: [409],
      audit: { targetType: 'group', targetId: (req) => req.params.name },
      handler: async (req) => {
        const { token } = await schedulerOf(deps).rotateGroupToken(req.params.name);
        return { status: 200, body: { group: await group(req.params.name), token } };
      },
    }),
  ];
}
