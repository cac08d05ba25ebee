/**
 * The route table: every endpoint of the API is one `defineRoute({...})` entry. The same entry drives the
 * Express adapter (http/adapter.ts: authentication, the access policy, zod validation of params, query and
 * body, the handler, the audit row, metrics) and the OpenAPI document (http/openapi.ts).
 *
 * Handlers are framework-free: `(req: ApiRequest) => Promise<ApiResponse>`, where `req` carries the
 * validated params / query / body, the principal, the client IP, the request id and `req.access` (scene checks
 * and the scenes the principal may see). They throw `KisJobsError`s (NotFoundError, ConflictError...) for
 * anything but success; the adapter turns those into the one error shape.
 *
 *   export const pauseScene = defineRoute({
 *     id: 'scenes.pause', method: 'POST', path: '/api/scenes/:id/pause', tags: ['scenes'],
 *     summary: 'Pause every job of a scene',
 *     access: { action: 'operate', scene: (req) => req.params.id },
 *     params: z.strictObject({ id: SceneId }),
 *     responses: { 200: { description: 'The scene', schema: Scene } },
 *     audit: { targetType: 'scene', targetId: (req) => req.params.id },
 *     handler: async (req) => ({ status: 200, body: ... }),
 *   });
 */
import { z } from 'zod';
import type { ErrorStatus } from '@kisjobs/protocol';
import type { Principal } from '../auth/principal.js';
import type { AccessPolicy, ProtectedAccess, PublicAccess } from '../auth/policy.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Methods that change state: each request to one of them leaves an audit row. */
export function isMutating(method: HttpMethod): boolean {
  return method !== 'GET';
}

/** The schema of routes without params or query: nothing allowed. */
export const NoFields = z.strictObject({});
export type NoFields = typeof NoFields;
/** The body "schema" of routes that take no body (any body sent is ignored, never parsed). */
export const NoBody = z.undefined();
export type NoBody = typeof NoBody;

/** Scene checks and visibility for the request's principal, under the route's declared action. */
export interface AccessContext {
  /**
   * Throws 403 SCENE_ACCESS_DENIED unless the principal may act in `sceneId` (null: a resource in no scene,
   * which only admins reach). Routes declared `scene: 'from-resource'` must call it once they have loaded the
   * resource; the adapter refuses to send a success that skipped it.
   */
  requireScene(sceneId: string | null): void;
  /** `'all'` for admins, else the granted scene ids: every listing filters with it. */
  visibleSceneIds(): 'all' | readonly string[];
  /** The same as a repository filter: undefined (no filter) for admins, else the granted ids. */
  sceneFilter(): readonly string[] | undefined;
}

export interface ApiRequest<P = unknown, Q = unknown, B = unknown, Who = Principal> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The authenticated caller on protected routes; null on public routes (they never look at credentials). */
  readonly principal: Who;
  readonly access: AccessContext;
  /** The client address (`trust proxy` decides whether X-Forwarded-For counts). */
  readonly ip: string;
  readonly requestId: string;
  /** A request header (lower-case name), e.g. `last-event-id`. */
  header(name: string): string | undefined;
  /** Aborted when the client goes away or the server shuts down: pass it to long work and streams. */
  readonly signal: AbortSignal;
}

/** What a handler may add to the request's audit row. */
export interface AuditNote {
  readonly targetType?: string;
  readonly targetId?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Who acted, when the request had no principal yet (a login). */
  readonly actor?: { readonly userId: string; readonly username: string };
}

interface ResponseBase {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly audit?: AuditNote;
}

/** JSON (`body` undefined: no content, e.g. 204). */
export interface JsonResponse extends ResponseBase {
  readonly body?: unknown;
  /**
   * The same body object answers several requests (requests that shared one read, see shared-read.ts): the
   * adapter serialises it once. Such a body must never change once returned.
   */
  readonly sharedBody?: boolean;
}
/** Text in another media type (HTML, YAML, Prometheus text). */
export interface TextResponse extends ResponseBase {
  readonly text: string;
  readonly contentType: string;
}
export interface StreamSink {
  /** Resolves when the chunk is handed to the socket (or the client is gone). */
  readonly write: (chunk: string) => Promise<void>;
  /** Aborted when the client disconnects or the server shuts down: stop writing then. */
  readonly signal: AbortSignal;
}
/** A stream (Server-Sent Events): write chunks through the sink until done or `signal` aborts. */
export interface StreamResponse extends ResponseBase {
  readonly contentType: string;
  readonly stream: (sink: StreamSink) => Promise<void>;
}
export type ApiResponse = JsonResponse | TextResponse | StreamResponse;

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body (absent: no body, or `contentType` text). */
  readonly schema?: z.ZodType;
  /** For non-JSON answers, e.g. `text/html`. */
  readonly contentType?: string;
}

interface RouteSpecBase<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, Who> {
  /** Unique and stable, `resource.verb`: the OpenAPI operationId, the audit action, the authz matrix key. */
  readonly id: string;
  readonly method: HttpMethod;
  /** Express-style: `/api/scenes/:id/pause`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Documented successes by status. Errors (400, 401, 403, 404...) are documented from the policy. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Further error statuses worth documenting (409, 429, 503...). */
  readonly errors?: readonly ErrorStatus[];
  /** The audit row of a mutating route: target and safe details (never secrets; redacted again anyway). */
  readonly audit?: {
    readonly targetType?: string;
    readonly targetId?: (req: ApiRequest<z.output<P>, z.output<Q>, z.output<B>, Who>) => string | undefined;
    readonly details?: (
      req: ApiRequest<z.output<P>, z.output<Q>, z.output<B>, Who>,
    ) => Record<string, unknown>;
  };
  handler(req: ApiRequest<z.output<P>, z.output<Q>, z.output<B>, Who>): Promise<ApiResponse>;
}

export interface ProtectedRouteSpec<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
> extends RouteSpecBase<P, Q, B, Principal> {
  readonly access: ProtectedAccess<ApiRequest<z.output<P>, z.output<Q>, z.output<B>, Principal>>;
}

export interface PublicRouteSpec<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
> extends RouteSpecBase<P, Q, B, Principal | null> {
  readonly access: PublicAccess;
}

type Erased = ApiRequest<unknown, unknown, unknown, Principal | null>;

/** A route-table entry with its types erased (the adapter validates with the same schemas it declares). */
export interface Route {
  readonly id: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly access: AccessPolicy<ApiRequest<unknown, unknown, unknown, Principal>>;
  readonly params: z.ZodType;
  readonly query: z.ZodType;
  /** Undefined: the route takes no body. */
  readonly body: z.ZodType | undefined;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  readonly errors: readonly ErrorStatus[];
  readonly audit?: {
    readonly targetType?: string;
    readonly targetId?: (req: Erased) => string | undefined;
    readonly details?: (req: Erased) => Record<string, unknown>;
  };
  readonly handler: (req: Erased) => Promise<ApiResponse>;
}

export function defineRoute<
  P extends z.ZodType = NoFields,
  Q extends z.ZodType = NoFields,
  B extends z.ZodType = NoBody,
>(spec: ProtectedRouteSpec<P, Q, B>): Route;
export function defineRoute<
  P extends z.ZodType = NoFields,
  Q extends z.ZodType = NoFields,
  B extends z.ZodType = NoBody,
>(spec: PublicRouteSpec<P, Q, B>): Route;
export function defineRoute(
  spec:
    ProtectedRouteSpec<z.ZodType, z.ZodType, z.ZodType> | PublicRouteSpec<z.ZodType, z.ZodType, z.ZodType>,
): Route {
  if (!spec.path.startsWith('/')) throw new Error(`route ${spec.id}: path must start with /`);
  const declared = pathParams(spec.path);
  if (declared.length > 0 && spec.params === undefined) {
    throw new Error(`route ${spec.id}: ${spec.path} has params but no params schema`);
  }
  return {
    ...spec,
    params: spec.params ?? NoFields,
    query: spec.query ?? NoFields,
    body: spec.body,
    errors: spec.errors ?? [],
  } as Route;
}

/** The `:name` segments of an Express-style path, in order. */
export function pathParams(path: string): string[] {
  return path
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1));
}

/** Throws when two routes share an id, or a method and path. */
export function assertUniqueRoutes(routes: readonly Route[]): void {
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path.replace(/:[^/]+/g, ':')}`;
    if (ids.has(route.id)) throw new Error(`duplicate route id ${route.id}`);
    if (keys.has(key)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    ids.add(route.id);
    keys.add(key);
  }
}
