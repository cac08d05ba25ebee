/**
 * Route-table entries that exist only in tests: handlers that misbehave on purpose (throw, skip their scene
 * check, answer a body that drifted from its schema) and a stream, to test what the adapter does about them.
 */
import { z } from 'zod';
import { getScene } from '@kisjobs/db';
import { SceneId } from '@kisjobs/protocol';
import type { RouteDeps } from '../../src/http/deps.js';
import { loadInScene } from '../../src/http/resource.js';
import { defineRoute, type Route } from '../../src/http/route.js';

export function testRoutes(deps: RouteDeps): Route[] {
  const { prisma } = deps;
  return [
    defineRoute({
      id: 'test.boom',
      method: 'POST',
      path: '/api/test/boom',
      tags: ['test'],
      summary: 'Throws an unexpected error',
      access: { action: 'read' },
      responses: { 200: { description: 'never' } },
      handler: async () => {
        throw new Error('connection string postgres://admin:hunter2@db/internal at /srv/app/secret.ts:12');
      },
    }),
    defineRoute({
      id: 'test.forgetful',
      method: 'GET',
      path: '/api/test/forgetful/:id',
      tags: ['test'],
      summary: 'Declares from-resource but never checks the scene',
      access: { action: 'read', scene: 'from-resource' },
      params: z.strictObject({ id: SceneId }),
      responses: { 200: { description: 'leak' } },
      handler: async () => ({ status: 200, body: { leaked: true } }),
    }),
    defineRoute({
      id: 'test.resource',
      method: 'GET',
      path: '/api/test/resource/:id',
      tags: ['test'],
      summary: 'Loads a resource and checks its scene',
      access: { action: 'read', scene: 'from-resource' },
      params: z.strictObject({ id: SceneId }),
      responses: { 200: { description: 'ok', schema: z.object({ id: z.string() }) } },
      handler: async (req) => {
        const scene = await loadInScene(
          req,
          'scene',
          req.params.id,
          () => getScene(prisma, req.params.id),
          (s) => s.id,
        );
        return { status: 200, body: { id: scene.id } };
      },
    }),
    defineRoute({
      id: 'test.drift',
      method: 'GET',
      path: '/api/test/drift',
      tags: ['test'],
      summary: 'Answers a body that does not match its declared schema',
      access: { action: 'read' },
      responses: { 200: { description: 'ok', schema: z.object({ count: z.number() }) } },
      handler: async () => ({ status: 200, body: { count: 'three' } }),
    }),
    defineRoute({
      id: 'test.stream',
      method: 'GET',
      path: '/api/test/stream',
      tags: ['test'],
      summary: 'Server-sent events until the client or the server goes away',
      access: { public: true },
      query: z.strictObject({ events: z.coerce.number().int().min(0).max(1000) }),
      responses: { 200: { description: 'events', contentType: 'text/event-stream' } },
      handler: async (req) => ({
        status: 200,
        contentType: 'text/event-stream',
        stream: async (sink) => {
          for (let i = 0; i < req.query.events && !sink.signal.aborted; i++)
            await sink.write(`data: ${i}\n\n`);
          if (req.query.events === 0)
            await new Promise((resolve) => sink.signal.addEventListener('abort', resolve));
        },
      }),
    }),
  ];
}
