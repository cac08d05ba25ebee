/**
 * The OpenAPI 3.1 document, generated from the route table: paths and methods, path and query parameters and
 * request bodies from the zod schemas (`z.toJSONSchema`, input side), documented responses (output side), the
 * error responses each route's policy and schemas imply, bearer security on every protected route, and the
 * access rule as `x-kisjobs-access`. OpenAPI 3.1 schemas are JSON Schema 2020-12, zod's default target.
 */
import { z } from 'zod';
import { ErrorBody, ERROR_STATUS, type ErrorStatus } from '@kisjobs/protocol';
import { isPublic } from '../auth/policy.js';
import { pathParams, type Route } from './route.js';

export type JsonObject = Record<string, unknown>;

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

const ERROR_DESCRIPTIONS: Readonly<Record<ErrorStatus, string>> = {
  400: 'Invalid request: `details.issues` names each field',
  401: 'No valid bearer credential',
  403: 'The role or the scene grants do not allow it',
  404: 'Not found',
  405: 'Method not allowed on this path',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Well-formed, but its content cannot be used',
  429: 'Rate limited: see `Retry-After`',
  500: 'Internal error',
  503: 'A dependency is unavailable',
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  delete json.$schema;
  return json;
}

/** `/api/scenes/:id` → `/api/scenes/{id}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(route: Route): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [location, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    const json = schemaOf(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...rest } = property;
      out.push({
        name,
        in: location,
        required: location === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

function errorStatuses(route: Route): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>(route.errors);
  const hasInput =
    pathParams(route.path).length > 0 ||
    route.body !== undefined ||
    Object.keys(schemaOf(route.query, 'input').properties ?? {}).length > 0;
  if (hasInput) statuses.add(400);
  if (!isPublic(route.access)) {
    statuses.add(401);
    statuses.add(403);
  }
  if (pathParams(route.path).length > 0) statuses.add(404);
  if (route.body !== undefined) {
    statuses.add(413);
    statuses.add(415);
  }
  statuses.add(500);
  return [...statuses].sort((a, b) => a - b);
}

function operation(route: Route): JsonObject {
  const responses: JsonObject = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const content =
      spec.schema !== undefined
        ? { 'application/json': { schema: schemaOf(spec.schema, 'output') } }
        : spec.contentType !== undefined
          ? { [spec.contentType]: { schema: { type: 'string' } } }
          : undefined;
    responses[status] = { description: spec.description, ...(content === undefined ? {} : { content }) };
  }
  for (const status of errorStatuses(route)) {
    responses[String(status)] ??= { $ref: `#/components/responses/Error${status}` };
  }
  const access = isPublic(route.access)
    ? { public: true }
    : {
        action: route.access.action,
        scene:
          route.access.scene === undefined
            ? 'none'
            : route.access.scene === 'from-resource'
              ? 'from-resource'
              : 'request',
      };
  const params = parameters(route);
  return {
    operationId: route.id,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [...route.tags],
    security: isPublic(route.access) ? [] : [{ bearerAuth: [] }],
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
          },
        }),
    responses,
    'x-kisjobs-access': access,
  };
}

export function buildOpenApi(routes: readonly Route[], info: OpenApiInfo): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const item = (paths[openApiPath(route.path)] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  const statuses = [...new Set(Object.values(ERROR_STATUS))].sort((a, b) => a - b);
  const errorResponses = Object.fromEntries(
    statuses.map((status) => [
      `Error${status}`,
      {
        description: ERROR_DESCRIPTIONS[status],
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
      },
    ]),
  );
  const tags = [...new Set(routes.flatMap((route) => route.tags))].sort().map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description === undefined ? {} : { description: info.description }),
    },
    tags,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A session token from POST /api/auth/login (`kjs_sess_…`) or an API token (`kjs_api_…`)',
        },
      },
      schemas: { ErrorBody: schemaOf(ErrorBody, 'output') },
      responses: errorResponses,
    },
  };
}
