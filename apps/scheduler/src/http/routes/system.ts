/**
 * Operational endpoints, outside `/api` and public: liveness, readiness (Postgres and Redis answer within a
 * second), Prometheus metrics, the OpenAPI document and the reference page.
 */
import { z } from 'zod';
import { KisJobsError } from '@kisjobs/protocol';
import { renderDocsPage, DOCS_CSP } from '../docs-page.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';

const CHECK_TIMEOUT_MS = 1_000;

const Health = z.object({ status: z.literal('ok') });
const Ready = z.object({
  status: z.literal('ready'),
  checks: z.object({ postgres: z.literal('up'), redis: z.literal('up') }),
});

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check().then(
        (): 'up' => 'up',
        (): 'down' => 'down',
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function systemRoutes(deps: RouteDeps): Route[] {
  return [
    defineRoute({
      id: 'system.health',
      method: 'GET',
      path: '/healthz',
      tags: ['system'],
      summary: 'Liveness: the process is up',
      access: { public: true },
      responses: { 200: { description: 'Up', schema: Health } },
      handler: async () => ({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      id: 'system.ready',
      method: 'GET',
      path: '/readyz',
      tags: ['system'],
      summary: 'Readiness: Postgres and Redis answer',
      access: { public: true },
      responses: { 200: { description: 'Ready', schema: Ready } },
      errors: [503],
      handler: async () => {
        const [postgres, redis] = await Promise.all([
          probe(() => deps.prisma.$queryRaw`SELECT 1`),
          probe(() => deps.redis.ping()),
        ]);
        if (postgres !== 'up' || redis !== 'up') {
          throw new KisJobsError('UNAVAILABLE', 'Not ready', { details: { checks: { postgres, redis } } });
        }
        return { status: 200, body: { status: 'ready', checks: { postgres, redis } } };
      },
    }),
    defineRoute({
      id: 'system.metrics',
      method: 'GET',
      path: '/metrics',
      tags: ['system'],
      summary: 'Prometheus metrics (text exposition format)',
      access: { public: true },
      responses: { 200: { description: 'Metrics', contentType: 'text/plain' } },
      handler: async () => ({
        status: 200,
        contentType: deps.metricsRegistry.contentType,
        text: await deps.metricsRegistry.metrics(),
      }),
    }),
    defineRoute({
      id: 'system.openapi',
      method: 'GET',
      path: '/api/openapi.json',
      tags: ['system'],
      summary: 'This API as an OpenAPI 3.1 document',
      access: { public: true },
      responses: { 200: { description: 'The OpenAPI document', contentType: 'application/json' } },
      handler: async () => ({ status: 200, body: deps.openapi() }),
    }),
    defineRoute({
      id: 'system.docs',
      method: 'GET',
      path: '/docs',
      tags: ['system'],
      summary: 'The API reference page (HTML)',
      access: { public: true },
      responses: { 200: { description: 'HTML', contentType: 'text/html' } },
      handler: async () => ({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        text: renderDocsPage(deps.openapi()),
        headers: { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' },
      }),
    }),
  ];
}
