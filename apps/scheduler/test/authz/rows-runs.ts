/**
 * Matrix rows of the run routes. Runs are written straight into the test database in the row's scene (a run
 * row is all these routes read); terminate gets a fresh pending run per call, the log tail a finished one so
 * that its stream ends.
 */
import { newId } from '@kisjobs/protocol';
import { operate, ownedByAdmin, signedIn, type Case, type Ctx } from './kit.js';

async function runIn(ctx: Ctx, status: 'pending' | 'succeeded'): Promise<string> {
  const now = new Date();
  const run = await ctx.env.prisma.run.create({
    data: {
      id: newId('run', now),
      sceneId: ctx.sceneId,
      flowName: 'matrix-flow',
      status,
      triggerType: 'api',
      scheduledAt: now,
      ...(status === 'succeeded' ? { startedAt: now, finishedAt: now, durationMs: 0 } : {}),
    },
  });
  return run.id;
}

export const RUN_ROWS: Record<string, Case> = {
  'runs.list': { method: 'GET', request: () => ({ path: '/api/runs' }), inside: signedIn(200) },
  'runs.get': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/runs/${await runIn(ctx, 'succeeded')}` }),
    inside: signedIn(200),
    outside: ownedByAdmin(200),
  },
  'runs.terminate': {
    method: 'POST',
    request: async (ctx) => ({ path: `/api/runs/${await runIn(ctx, 'pending')}/terminate` }),
    inside: operate(202),
    outside: ownedByAdmin(202),
  },
  'runs.logs': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/runs/${await runIn(ctx, 'succeeded')}/logs` }),
    inside: signedIn(200),
    outside: ownedByAdmin(200),
  },
  'runs.logs.stream': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/runs/${await runIn(ctx, 'succeeded')}/logs/stream` }),
    inside: signedIn(200),
    outside: ownedByAdmin(200),
  },
};
