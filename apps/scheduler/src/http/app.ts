/**
 * `createHttpApp`: the Express app of the control-plane API, built from the route table (routes/index.ts plus
 * any `routes` given), and `listen(port, host)` with a graceful `close()`.
 *
 *   request → request id, security headers, CORS (security.ts)
 *           → the route's handler (adapter.ts), or 405 + Allow for a known path with another method,
 *             or 404 NOT_FOUND for an unknown path
 *           → the error middleware for what fails before a handler (a broken %-escape in the path)
 *
 * Everything per app lives in this closure: no module state, so tests can build many apps in one process.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { PrismaClient } from '@kisjobs/db';
import { createKeyspace, DEFAULT_KEY_PREFIX, KisJobsError } from '@kisjobs/protocol';
import { createAuditRecorder } from '../audit/recorder.js';
import { createAuthenticator } from '../auth/authenticate.js';
import { createPasswordHasher } from '../auth/password.js';
import { createPrincipalCache } from '../auth/principal-cache.js';
import { createLoginRateLimiter } from '../auth/rate-limit.js';
import { resolveAuthSettings, type AuthOptions } from '../auth/settings.js';
import { systemClock, type Clock, type Logger } from '../registry/ports.js';
import { routeHandler, sendError } from './adapter.js';
import type { HttpServices, RouteDeps } from './deps.js';
import { errorResult } from './errors.js';
import { listen, type HttpServerHandle, type ListenOptions } from './listen.js';
import { createHttpMetrics } from './metrics.js';
import { buildOpenApi, type JsonObject, type OpenApiInfo } from './openapi.js';
import { coreRoutes } from './routes/index.js';
import { assertUniqueRoutes, type Route } from './route.js';
import { requestContext, requestIdOf } from './security.js';

export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;

export interface HttpAppOptions {
  readonly prisma: PrismaClient;
  /** A shared connection: login rate limits and readiness. */
  readonly redis: Redis;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metricsRegistry: Registry;
  /** Keyspace prefix of the Redis keys (default `kisjobs`). */
  readonly keyPrefix?: string;
  readonly auth?: AuthOptions;
  readonly http?: {
    /** Largest JSON body accepted (default 1 MiB); larger ones get 413. */
    readonly bodyLimitBytes?: number;
    /** Express `trust proxy`: set it when a reverse proxy sets X-Forwarded-For (default false: the socket). */
    readonly trustProxy?: boolean | number | string;
    /** Browser origins allowed to call the API (default none: CORS off). */
    readonly corsOrigins?: readonly string[];
    /** Send HSTS (only when served over TLS). */
    readonly hsts?: boolean;
    /** Validate every success against its declared response schema (tests). */
    readonly checkResponses?: boolean;
  };
  /** Services the resource routes use. */
  readonly services?: HttpServices;
  /** Route-table entries on top of the core table. */
  readonly routes?: (deps: RouteDeps) => readonly Route[];
  readonly info?: Partial<OpenApiInfo>;
}

export interface HttpApp {
  readonly app: Express;
  /** The mounted route table, in order. */
  readonly routes: readonly Route[];
  openapi(): JsonObject;
  /** Starts serving (port 0: any free port); `close()` on the handle stops it gracefully. */
  listen(port: number, host?: string, options?: ListenOptions): Promise<HttpServerHandle>;
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const clock = options.clock ?? systemClock;
  const { prisma, redis, logger, metricsRegistry } = options;
  const settings = resolveAuthSettings(options.auth);
  const bodyLimitBytes = options.http?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const keyspace = createKeyspace(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const shutdown = new AbortController();
  // One per app: the authenticator reads it, the routes that end or change credentials invalidate it.
  const principals = createPrincipalCache({ clock, ttlMs: settings.principalCacheTtlMs });
  const auth = {
    settings,
    hasher: createPasswordHasher(settings.scrypt),
    limiter: createLoginRateLimiter({ redis, hashTag: keyspace.hashTag, limits: settings.loginLimits }),
    credentials: principals,
  };
  const info: OpenApiInfo = {
    title: options.info?.title ?? 'KisJobs control-plane API',
    version: options.info?.version ?? '0.1.0',
    description:
      options.info?.description ??
      'Jobs, runs, scenes, users and executors of a KisJobs scheduler. Errors always have the shape {"error":{"code","message","details"}}.',
  };
  let document: JsonObject | undefined;
  const deps: RouteDeps = {
    prisma,
    redis,
    clock,
    logger,
    metricsRegistry,
    auth,
    services: options.services ?? {},
    openapi: () => (document ??= buildOpenApi(routes, info)),
  };
  const routes: readonly Route[] = [...coreRoutes(deps), ...(options.routes?.(deps) ?? [])];
  assertUniqueRoutes(routes);

  const metrics = createHttpMetrics(metricsRegistry);
  const adapterDeps = {
    authenticator: createAuthenticator({ prisma, clock, settings, cache: principals }),
    sharedJson: new WeakMap<object, Buffer>(),
    audit: createAuditRecorder({ prisma, clock, logger }),
    metrics,
    logger,
    bodyLimitBytes,
    shutdown: shutdown.signal,
    checkResponses: options.http?.checkResponses ?? false,
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('json escape', true);
  app.set('trust proxy', options.http?.trustProxy ?? false);
  app.use(
    requestContext({ corsOrigins: options.http?.corsOrigins ?? [], hsts: options.http?.hsts ?? false }),
  );

  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  for (const [path, group] of byPath) {
    const chain = app.route(path);
    for (const route of group) chain[lowerMethod(route.method)](routeHandler(route, adapterDeps));
    const allow = [
      ...new Set(group.flatMap((route) => (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]))),
    ];
    chain.all((req: Request, res: Response) => {
      res.setHeader('Allow', allow.join(', '));
      if (req.method === 'OPTIONS') res.status(204).end();
      else
        sendError(
          res,
          errorResult(
            new KisJobsError(
              'METHOD_NOT_ALLOWED',
              `${req.method} is not allowed here: use ${allow.join(', ')}`,
              { details: { allow } },
            ),
            { bodyLimitBytes },
          ),
        );
      metrics.observe({ route: path, method: req.method, status: res.statusCode }, 0);
    });
  }
  app.use((req: Request, res: Response) => {
    const path = req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path;
    sendError(
      res,
      errorResult(new KisJobsError('NOT_FOUND', `No route for ${req.method} ${path}`), { bodyLimitBytes }),
    );
    metrics.observe({ route: 'unmatched', method: req.method, status: 404 }, 0);
  });
  // Express recognises error middleware by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const result = errorResult(error, { bodyLimitBytes });
    if (result.unexpected) {
      logger.error('request failed before routing', {
        requestId: requestIdOf(res),
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      });
    }
    sendError(res, result);
    metrics.observe({ route: 'unmatched', method: req.method, status: result.status }, 0);
  });

  return {
    app,
    routes,
    openapi: deps.openapi,
    listen: (port, host = '127.0.0.1', listenOptions) =>
      listen(app, { port, host, shutdown, logger, ...listenOptions }),
  };
}

function lowerMethod(method: Route['method']): 'get' | 'post' | 'put' | 'patch' | 'delete' {
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'post';
    case 'PUT':
      return 'put';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
  }
}
