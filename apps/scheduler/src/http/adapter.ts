/**
 * The thin Express adapter: one request handler per route-table entry. In order:
 *   1. authenticate the bearer (protected routes only) and check the role      → 401 / 403
 *   2. read the JSON body (routes with a body schema only; 1 MiB, JSON only)   → 400 / 413 / 415
 *   3. validate params, query and body with the route's zod schemas           → 400 naming the fields
 *   4. check the scene the route's policy names                               → 403 SCENE_ACCESS_DENIED
 *   5. run the handler; a `from-resource` route must have checked its scene
 *   6. write the audit row of a mutating request (whatever the outcome), then answer
 *   7. count the request in the HTTP metrics
 * Nothing a client sends can make this throw: every failure becomes the one error shape, and an unexpected one
 * a 500 INTERNAL with a generic message, logged here with the request id.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { KisJobsError } from '@kisjobs/protocol';
import type { AuditRecorder } from '../audit/recorder.js';
import { actorOf, type AuditActor } from '../audit/recorder.js';
import type { Authenticator } from '../auth/authenticate.js';
import { decideRole, decideScene, isPublic, type Action } from '../auth/policy.js';
import { sceneFilterOf, visibleSceneIds, type Principal } from '../auth/principal.js';
import type { Logger } from '../registry/ports.js';
import { errorResult, type ErrorResult } from './errors.js';
import type { HttpMetrics } from './metrics.js';
import { isMutating, type AccessContext, type ApiRequest, type ApiResponse, type Route } from './route.js';
import { requestIdOf } from './security.js';
import { parseParts } from './validate.js';

export interface AdapterDeps {
  readonly authenticator: Authenticator;
  /** The encoded JSON of bodies marked `sharedBody`, by body (one map per app). */
  readonly sharedJson: WeakMap<object, Buffer>;
  readonly audit: AuditRecorder;
  readonly metrics: HttpMetrics;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Aborted when the server shuts down: ends streams. */
  readonly shutdown: AbortSignal;
  /** Check every JSON success against its declared schema (tests): a mismatch is a 500. */
  readonly checkResponses: boolean;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

type Erased = ApiRequest<unknown, unknown, unknown, Principal | null>;
type Outcome =
  { readonly ok: true; readonly result: ApiResponse } | { readonly ok: false; readonly error: ErrorResult };

export function routeHandler(route: Route, deps: AdapterDeps): RequestHandler {
  const jsonParser = express.json({
    limit: deps.bodyLimitBytes,
    strict: true,
    inflate: false,
    type: JSON_TYPES,
  });
  const readBody = (req: Request, res: Response): Promise<unknown> =>
    new Promise((resolve, reject) => {
      jsonParser(req, res, (error?: unknown) => (error === undefined ? resolve(req.body) : reject(error)));
    });

  return (req, res) => {
    const started = performance.now();
    void serve(route, deps, req, res, readBody)
      .catch((error: unknown) => {
        deps.logger.error('request handling failed', {
          requestId: requestIdOf(res),
          route: route.id,
          error: describe(error),
        });
        if (!res.headersSent)
          res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error' } });
        else res.destroy();
        return 500;
      })
      .then((status) => {
        const seconds = (performance.now() - started) / 1000;
        deps.metrics.observe({ route: route.path, method: req.method, status }, seconds);
        deps.logger.debug('request', {
          requestId: requestIdOf(res),
          route: route.id,
          status,
          ms: Math.round(seconds * 1000),
        });
      });
  };
}

async function serve(
  route: Route,
  deps: AdapterDeps,
  req: Request,
  res: Response,
  readBody: (req: Request, res: Response) => Promise<unknown>,
): Promise<number> {
  const requestId = requestIdOf(res);
  const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  // The request's signal is made on first use: most handlers never look at it, and making it (a controller,
  // AbortSignal.any, and an AbortError when the response closes) is a measurable share of a small request.
  let gone = false;
  let closed: AbortController | undefined;
  let signal: AbortSignal | undefined;
  res.on('close', () => {
    gone = true;
    closed?.abort();
  });
  const signalOf = (): AbortSignal => {
    if (signal === undefined) {
      closed = new AbortController();
      if (gone) closed.abort();
      signal = AbortSignal.any([closed.signal, deps.shutdown]);
    }
    return signal;
  };
  let principal: Principal | null = null;
  let apiReq: Erased | undefined;

  const run = async (): Promise<ApiResponse> => {
    let action: Action | undefined;
    if (!isPublic(route.access)) {
      action = route.access.action;
      principal = await deps.authenticator.authenticate(req.get('authorization'));
      const decision = decideRole(principal, action);
      if (!decision.allow) throw decision.error;
    }
    const body = route.body === undefined ? undefined : await jsonBody(req, res, readBody);
    const parts = await parseParts(route, { params: req.params, query: req.query, body });
    let sceneChecked = false;
    apiReq = {
      ...parts,
      principal,
      access: accessContext(principal, () => {
        sceneChecked = true;
      }),
      ip,
      requestId,
      header: (name) => req.get(name),
      get signal() {
        return signalOf();
      },
    };
    const scene = isPublic(route.access) ? undefined : route.access.scene;
    if (typeof scene === 'function')
      apiReq.access.requireScene(scene(apiReq as ApiRequest<unknown, unknown, unknown, Principal>));
    const result = await route.handler(apiReq);
    if (scene === 'from-resource' && !sceneChecked && result.status < 400) {
      throw new Error(
        `route ${route.id} is declared scene: 'from-resource' but did not call req.access.requireScene`,
      );
    }
    if (deps.checkResponses) checkResponse(route, result);
    return result;
  };

  let outcome: Outcome;
  try {
    outcome = { ok: true, result: await run() };
  } catch (error) {
    const mapped = errorResult(error, deps);
    if (mapped.unexpected) {
      deps.logger.error('request failed', {
        requestId,
        route: route.id,
        method: req.method,
        error: describe(error),
      });
    }
    outcome = { ok: false, error: mapped };
  }

  if (isMutating(route.method)) await audit(route, deps, req, { principal, apiReq, outcome, ip, requestId });
  if (!outcome.ok) {
    sendError(res, outcome.error);
    return outcome.error.status;
  }
  return send(res, outcome.result, signalOf, deps.sharedJson);
}

async function jsonBody(
  req: Request,
  res: Response,
  readBody: (req: Request, res: Response) => Promise<unknown>,
): Promise<unknown> {
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  if (!hasBody) return undefined;
  if (req.is(JSON_TYPES) === false) {
    throw new KisJobsError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  }
  return readBody(req, res);
}

function accessContext(principal: Principal | null, onCheck: () => void): AccessContext {
  return {
    requireScene(sceneId) {
      onCheck();
      if (principal === null) throw new KisJobsError('UNAUTHENTICATED', 'Authentication required');
      const decision = decideScene(principal, sceneId);
      if (!decision.allow) throw decision.error;
    },
    visibleSceneIds: () => (principal === null ? [] : visibleSceneIds(principal)),
    sceneFilter: () => (principal === null ? [] : sceneFilterOf(principal)),
  };
}

function checkResponse(route: Route, result: ApiResponse): void {
  const schema = route.responses[result.status]?.schema;
  if (result.status >= 400) return;
  if (route.responses[result.status] === undefined) {
    throw new Error(`route ${route.id} answered ${result.status}, which it does not declare`);
  }
  if (schema === undefined || !('body' in result)) return;
  const parsed = schema.safeParse(result.body);
  if (!parsed.success) {
    throw new Error(
      `route ${route.id} answered a body that does not match its schema: ${parsed.error.message}`,
    );
  }
}

interface AuditContext {
  readonly principal: Principal | null;
  readonly apiReq: Erased | undefined;
  readonly outcome: Outcome;
  readonly ip: string;
  readonly requestId: string;
}

async function audit(route: Route, deps: AdapterDeps, req: Request, ctx: AuditContext): Promise<void> {
  const note = ctx.outcome.ok ? ctx.outcome.result.audit : undefined;
  const actor: AuditActor =
    note?.actor === undefined
      ? actorOf(ctx.principal)
      : { kind: 'user', userId: note.actor.userId, tokenId: null, name: note.actor.username };
  const fromRoute = (pick: ((req: Erased) => unknown) | undefined, from: Erased | undefined): unknown => {
    if (pick === undefined || from === undefined) return undefined;
    try {
      return pick(from);
    } catch {
      return undefined;
    }
  };
  // A request refused before validation still names its target when its path parameters are valid.
  const routeTarget = fromRoute(route.audit?.targetId, ctx.apiReq ?? paramsOnly(route, req, ctx));
  const routeDetails = fromRoute(route.audit?.details, ctx.apiReq);
  const written = await deps.audit.record({
    actor,
    action: route.id,
    targetType: note?.targetType ?? route.audit?.targetType ?? null,
    targetId: note?.targetId ?? (typeof routeTarget === 'string' ? routeTarget : null),
    ip: ctx.ip,
    requestId: ctx.requestId,
    status: ctx.outcome.ok ? ctx.outcome.result.status : ctx.outcome.error.status,
    details: {
      method: req.method,
      path: req.path,
      ...(typeof routeDetails === 'object' && routeDetails !== null ? routeDetails : {}),
      ...note?.details,
      ...(ctx.outcome.ok ? {} : { error: ctx.outcome.error.body.error.code }),
    },
  });
  if (!written) deps.metrics.auditWriteFailed();
}

/** The request as far as its path parameters go, for the audit row of a request refused before validation. */
function paramsOnly(route: Route, req: Request, ctx: AuditContext): Erased | undefined {
  const params = route.params.safeParse(req.params);
  if (!params.success) return undefined;
  return {
    params: params.data,
    query: undefined,
    body: undefined,
    principal: ctx.principal,
    access: accessContext(ctx.principal, () => undefined),
    ip: ctx.ip,
    requestId: ctx.requestId,
    header: (name) => req.get(name),
    signal: AbortSignal.abort(),
  };
}

export function sendError(res: Response, error: ErrorResult): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).json(error.body);
}

async function send(
  res: Response,
  result: ApiResponse,
  signalOf: () => AbortSignal,
  sharedJson: WeakMap<object, Buffer>,
): Promise<number> {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.status(result.status);
  if ('stream' in result) {
    const signal = signalOf();
    res.setHeader('Content-Type', result.contentType);
    res.flushHeaders();
    const write = (chunk: string): Promise<void> =>
      new Promise((resolve) => {
        if (signal.aborted || res.write(chunk)) resolve();
        else {
          res.once('drain', resolve);
          res.once('close', resolve);
        }
      });
    try {
      await result.stream({ write, signal });
    } finally {
      res.end();
    }
  } else if ('text' in result) {
    res.type(result.contentType).send(result.text);
  } else if (result.body === undefined) {
    res.end();
  } else if (result.sharedBody === true && typeof result.body === 'object' && result.body !== null) {
    // Encoded once: `res.send` would otherwise copy a large string into a new Buffer for every request.
    let json = sharedJson.get(result.body);
    if (json === undefined) {
      json = Buffer.from(jsonLikeResJson(res, result.body), 'utf8');
      sharedJson.set(result.body, json);
    }
    // What `res.json` sets (it sends a string, so `res.send` adds the charset).
    if (res.get('Content-Type') === undefined) res.set('Content-Type', 'application/json; charset=utf-8');
    res.send(json);
  } else {
    res.json(result.body);
  }
  return result.status;
}

/** The text `res.json(value)` sends, under the same app settings (replacer, spaces, escaping of < > &). */
function jsonLikeResJson(res: Response, value: unknown): string {
  const app = res.app;
  const replacer = app.get('json replacer') as ((key: string, value: unknown) => unknown) | undefined;
  const spaces = app.get('json spaces') as number | string | undefined;
  // Truthiness, as Express tests these settings.
  const json = replacer || spaces ? JSON.stringify(value, replacer, spaces) : JSON.stringify(value);
  if (!app.get('json escape')) return json;
  return json.replace(/[<>&]/g, (c) => (c === '<' ? '\\u003c' : c === '>' ? '\\u003e' : '\\u0026'));
}

function describe(error: unknown): Record<string, unknown> | string {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : String(error);
}
