/**
 * The authorization matrix: EVERY route of the app's route table × {admin, operator, viewer, anonymous} ×
 * {inside, outside} a scene granted to the operator and the viewer, against the status written down here.
 *
 * Adding a route without adding its row to MATRIX fails the first test, so no route ships without a decision
 * about who may call it. A row's `request` builds a fresh request per call (mutating routes get their own
 * targets); `outside` is required for routes whose policy names a scene, and absent for the others.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorBody } from '@kisjobs/protocol';
import { isPublic } from '../src/auth/policy.js';
import type { Ctx, Where, Who } from './authz/kit.js';
import { MATRIX } from './authz/rows.js';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

let env: HttpEnv;
let admin: TestUser;
let operator: TestUser;
let viewer: TestUser;
let loginTarget: TestUser;
let sceneIn: string;
let sceneOut: string;
let serial = 0;

beforeAll(async () => {
  env = await httpEnv('authz', { scheduler: true });
  sceneIn = await env.scene('granted');
  sceneOut = await env.scene('not-granted');
  admin = await env.user('admin');
  operator = await env.user('operator', [sceneIn]);
  viewer = await env.user('viewer', [sceneIn]);
  loginTarget = await env.user('viewer');
});
afterAll(async () => {
  await env?.close();
});

describe('authorization matrix', () => {
  test('every route of the route table has a row, and no row names a route that does not exist', () => {
    const routeIds = env.http.routes.map((route) => route.id).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(routeIds);
    for (const route of env.http.routes) {
      const row = MATRIX[route.id];
      expect({ id: route.id, method: row?.method }).toEqual({ id: route.id, method: route.method });
      const sceneScoped = !isPublic(route.access) && route.access.scene !== undefined;
      expect({ id: route.id, hasOutside: row?.outside !== undefined }).toEqual({
        id: route.id,
        hasOutside: sceneScoped,
      });
    }
  });

  const whos: Who[] = ['admin', 'operator', 'viewer', 'anonymous'];
  for (const [id, row] of Object.entries(MATRIX)) {
    const places: Where[] = row.outside === undefined ? ['inside'] : ['inside', 'outside'];
    for (const where of places) {
      test(`${id} ${where}`, async () => {
        const got: Record<string, number> = {};
        const badShapes: string[] = [];
        for (const who of whos) {
          const user = { admin, operator, viewer, anonymous: undefined }[who];
          const ctx: Ctx = {
            env,
            users: { admin, operator, viewer, loginTarget },
            who,
            user,
            sceneId: where === 'inside' ? sceneIn : sceneOut,
            fresh: (prefix) => `${prefix}-${++serial}`,
          };
          const req = await row.request(ctx);
          const token = req.token ?? user?.token;
          const result = await env.call(row.method, req.path, {
            ...(token === undefined || token === '' ? {} : { token }),
            ...(req.body === undefined ? {} : { body: req.body }),
          });
          got[who] = result.status;
          if (result.status >= 400 && !ErrorBody.strict().safeParse(result.body).success)
            badShapes.push(`${who}: ${result.text}`);
        }
        expect(got).toEqual(where === 'inside' ? row.inside : row.outside);
        expect(badShapes).toEqual([]);
      });
    }
  }
});
