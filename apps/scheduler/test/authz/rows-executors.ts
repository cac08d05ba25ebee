/**
 * Matrix rows of the executor and group routes. Executors are rows of a group of their own (offline: no
 * process behind them), so a drain removes one at once; groups are made fresh where a call changes them.
 */
import { newId } from '@kisjobs/protocol';
import { adminOnly, signedIn, type Case, type Ctx } from './kit.js';

async function groupId(ctx: Ctx, name: string): Promise<string> {
  const row = await ctx.env.prisma.executorGroup.upsert({
    where: { name },
    create: { id: newId('grp'), name },
    update: {},
  });
  return row.id;
}

async function executorIn(ctx: Ctx): Promise<string> {
  const now = new Date();
  const instanceId = ctx.fresh('matrix-exe');
  await ctx.env.prisma.executor.create({
    data: {
      id: newId('exe', now),
      instanceId,
      groupId: await groupId(ctx, 'matrix-executors'),
      host: 'matrix-host',
      pid: 1,
      version: '0.0.0',
      functions: ['MatrixFn'],
      concurrency: 1,
      status: 'offline',
      registeredAt: now,
      lastHeartbeatAt: now,
      offlineAt: now,
    },
  });
  return instanceId;
}

export const EXECUTOR_ROWS: Record<string, Case> = {
  'executors.list': { method: 'GET', request: () => ({ path: '/api/executors' }), inside: signedIn(200) },
  'executors.get': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/executors/${await executorIn(ctx)}` }),
    inside: signedIn(200),
  },
  'executors.drain': {
    method: 'POST',
    request: async (ctx) => ({ path: `/api/executors/${await executorIn(ctx)}/drain` }),
    inside: adminOnly(202),
  },
  'groups.list': { method: 'GET', request: () => ({ path: '/api/groups' }), inside: signedIn(200) },
  'groups.get': {
    method: 'GET',
    request: async (ctx) => {
      await groupId(ctx, 'matrix-executors');
      return { path: '/api/groups/matrix-executors' };
    },
    inside: signedIn(200),
  },
  'groups.create': {
    method: 'POST',
    request: (ctx) => ({ path: '/api/groups', body: { name: ctx.fresh('group') } }),
    inside: adminOnly(201),
  },
  'groups.rotateToken': {
    method: 'POST',
    request: async (ctx) => {
      const name = ctx.fresh('rotated');
      await ctx.env.scheduler?.createGroup({ name });
      return { path: `/api/groups/${name}/token` };
    },
    inside: adminOnly(200),
  },
};
