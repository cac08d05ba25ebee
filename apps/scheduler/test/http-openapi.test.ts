/** The OpenAPI 3.1 document generated from the route table, and the /docs reference page rendered from it. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isPublic } from '../src/auth/policy.js';
import { openApiPath } from '../src/http/openapi.js';
import { pathParams } from '../src/http/route.js';
import { httpEnv, type HttpEnv } from './support/http-env.js';

type Json = Record<string, unknown>;

let env: HttpEnv;
let doc: Json;
beforeAll(async () => {
  env = await httpEnv('openapi');
  const served = await env.call('GET', '/api/openapi.json');
  if (served.status !== 200) throw new Error(`GET /api/openapi.json: ${served.status}`);
  doc = served.body as Json;
});
afterAll(async () => {
  await env?.close();
});

const operation = (path: string, method: string): Json =>
  ((doc.paths as Record<string, Json>)[openApiPath(path)]?.[method.toLowerCase()] ?? {}) as Json;

describe('OpenAPI document', () => {
  test('is a valid OpenAPI 3.1 document (official schema)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc).toEqual(env.http.openapi());
  });

  test('lists every route of the table, once, with its parameters, body and security', () => {
    const operations = Object.values(doc.paths as Record<string, Json>).flatMap(
      (item) => Object.values(item) as Json[],
    );
    expect(operations.map((op) => String(op.operationId)).sort((a, b) => a.localeCompare(b))).toEqual(
      env.http.routes.map((r) => r.id).sort((a, b) => a.localeCompare(b)),
    );
    for (const route of env.http.routes) {
      const op = operation(route.path, route.method);
      expect({ id: route.id, operationId: op.operationId }).toEqual({ id: route.id, operationId: route.id });
      const parameters = (op.parameters ?? []) as Json[];
      for (const name of pathParams(route.path)) {
        expect(parameters).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
      }
      expect({ id: route.id, security: op.security }).toEqual({
        id: route.id,
        security: isPublic(route.access) ? [] : [{ bearerAuth: [] }],
      });
      expect({ id: route.id, body: op.requestBody !== undefined }).toEqual({
        id: route.id,
        body: route.body !== undefined,
      });
      const responses = op.responses as Json;
      for (const status of Object.keys(route.responses)) expect(responses[status]).toBeDefined();
      expect({ id: route.id, unauthenticated: responses['401'] }).toEqual({
        id: route.id,
        unauthenticated:
          isPublic(route.access) && !route.errors.includes(401)
            ? undefined
            : { $ref: '#/components/responses/Error401' },
      });
    }
  });

  test('schemas come from the zod DTOs: required fields, enums, patterns, query parameters', () => {
    const create = operation('/api/users', 'POST');
    const body = ((create.requestBody as Json).content as Json)['application/json'] as { schema: Json };
    expect(body.schema).toMatchObject({
      type: 'object',
      required: ['username', 'password', 'role'],
      additionalProperties: false,
      properties: { role: { enum: ['admin', 'operator', 'viewer'] }, password: { minLength: 12 } },
    });
    const audit = operation('/api/audit', 'GET');
    expect(audit.parameters).toContainEqual({
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500 },
    });
    expect(operation('/api/scenes/:id/pause', 'POST')['x-kisjobs-access']).toEqual({
      action: 'operate',
      scene: 'request',
    });
    const errorBody = ((doc.components as Json).schemas as Json).ErrorBody as Json;
    expect(errorBody).toMatchObject({ type: 'object', required: ['error'] });
  });
});

describe('/docs', () => {
  test('serves a self-contained HTML reference of every operation, with no script and no outside resource', async () => {
    const page = await env.call('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    for (const route of env.http.routes) {
      expect(page.text).toContain(`id="${route.id}"`);
      expect(page.text).toContain(openApiPath(route.path));
    }
    expect(page.text).not.toMatch(/<script|<link|<img|src=|https?:\/\//i);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(csp).not.toContain('unsafe-inline');
  });
});
