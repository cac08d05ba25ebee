/**
 * The edges of the HTTP layer: security headers, request ids, body limits and media types, 404/405, CORS,
 * unexpected errors (500 without internals, logged), readiness, metrics, streams and graceful close.
 */
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '@kisjobs/testing';
import { createHttpApp } from '../src/http/app.js';
import { testRoutes } from './support/test-routes.js';
import { httpEnv, recordingLogger, type HttpEnv, type LogLine, type TestUser } from './support/http-env.js';

let env: HttpEnv;
let viewer: TestUser;
let scene: string;
beforeAll(async () => {
  env = await httpEnv('hardening', { routes: testRoutes });
  scene = await env.scene('hardening');
  viewer = await env.user('viewer', [scene]);
});
afterAll(async () => {
  await env?.close();
});

const codeOf = (body: unknown): unknown => (body as { error?: { code?: unknown } }).error?.code;

describe('headers', () => {
  test('every answer carries the security headers, success or error', async () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['GET', '/api/auth/me'],
      ['GET', '/nowhere'],
      ['DELETE', '/healthz'],
    ] as const) {
      const result = await env.call(method, path);
      expect(result.headers.get('x-content-type-options')).toBe('nosniff');
      expect(result.headers.get('x-frame-options')).toBe('DENY');
      expect(result.headers.get('referrer-policy')).toBe('no-referrer');
      expect(result.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(result.headers.get('cache-control')).toBe('no-store');
      expect(result.headers.get('x-powered-by')).toBeNull();
      expect(result.headers.get('strict-transport-security')).toBeNull();
      expect(result.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  test('request ids: a safe incoming one is echoed, anything else replaced by a new one', async () => {
    expect(
      (await env.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-123.abc' } })).headers.get(
        'x-request-id',
      ),
    ).toBe('trace-123.abc');
    for (const incoming of ['has space', 'x'.repeat(200), '<script>']) {
      const id = (await env.call('GET', '/healthz', { headers: { 'x-request-id': incoming } })).headers.get(
        'x-request-id',
      );
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('bodies', () => {
  test('a body over 1 MiB is 413 in the error shape; just under it is read', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1_048_576) });
    const tooBig = await env.call('POST', '/api/scenes', { token: viewer.token, raw: big });
    expect(tooBig.status).toBe(403); // the role check comes before reading any body
    const admin = await env.user('admin');
    const refused = await env.call('POST', '/api/scenes', { token: admin.token, raw: big });
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'The body is larger than 1048576 bytes',
        details: { limitBytes: 1_048_576 },
      },
    });
    const under = await env.call('POST', '/api/scenes', {
      token: admin.token,
      raw: JSON.stringify({ name: 'y'.repeat(1_000_000) }),
    });
    expect(under.status).toBe(400);
    expect(under.body).toMatchObject({ error: { details: { issues: [{ path: 'name' }] } } });
  });

  test('malformed JSON is 400; other media types 415; compressed bodies 415; a missing body 400', async () => {
    const admin = await env.user('admin');
    for (const raw of ['{', '{"name":', 'nul', '[1,2', '{"a":1}}', '"just a string"']) {
      const result = await env.call('POST', '/api/scenes', { token: admin.token, raw });
      expect({ raw, status: result.status, code: codeOf(result.body) }).toEqual({
        raw,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const text = await env.call('POST', '/api/scenes', {
      token: admin.token,
      raw: 'name=x',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
    const form = await env.call('POST', '/api/scenes', {
      token: admin.token,
      raw: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    const gzip = await env.call('POST', '/api/scenes', {
      token: admin.token,
      raw: gzipSync(JSON.stringify({ name: 'zipped' })),
      headers: { 'content-encoding': 'gzip' },
    });
    expect(gzip.status).toBe(415);
    const none = await env.call('POST', '/api/scenes', { token: admin.token });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: '' }] } },
    });
  });
});

describe('routing', () => {
  test('unknown paths are 404 NOT_FOUND; a known path with another method 405 with Allow; OPTIONS 204', async () => {
    const missing = await env.call('GET', '/api/definitely/not/here');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'NOT_FOUND', message: 'No route for GET /api/definitely/not/here' },
    });
    const wrong = await env.call('DELETE', '/api/scenes');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(codeOf(wrong.body)).toBe('METHOD_NOT_ALLOWED');
    const options = await env.call('OPTIONS', '/api/scenes');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, POST');
    const head = await env.call('HEAD', '/healthz');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const badEscape = await env.call('GET', `/api/scenes/%E0%A4%A`, { token: viewer.token });
    expect(badEscape.status).toBe(400);
  });
});

describe('unexpected errors', () => {
  test('become 500 INTERNAL with a generic message; the details go to the log with the request id', async () => {
    const result = await env.call('POST', '/api/test/boom', { token: viewer.token });
    expect(result.status).toBe(500);
    expect(result.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
    expect(result.text).not.toMatch(/hunter2|srv|stack|Error:/);
    const requestId = result.headers.get('x-request-id');
    const logged = env.logs.find(
      (line: LogLine) => line.level === 'error' && line.fields?.requestId === requestId,
    );
    expect(JSON.stringify(logged?.fields)).toContain('hunter2');
  });

  test('a from-resource route that skips its scene check cannot answer success', async () => {
    const result = await env.call('GET', `/api/test/forgetful/${scene}`, { token: viewer.token });
    expect(result.status).toBe(500);
    expect(result.text).not.toContain('leaked');
    expect((await env.call('GET', `/api/test/resource/${scene}`, { token: viewer.token })).status).toBe(200);
    const other = await env.scene('not-yours');
    expect((await env.call('GET', `/api/test/resource/${other}`, { token: viewer.token })).status).toBe(403);
    const missing = await env.call('GET', '/api/test/resource/scn_01m00000000000000000000000', {
      token: viewer.token,
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'SCENE_NOT_FOUND' } });
  });

  test('with response checks on, a body that drifted from its schema is a 500, not a silent lie', async () => {
    expect((await env.call('GET', '/api/test/drift', { token: viewer.token })).status).toBe(500);
  });
});

describe('CORS', () => {
  test('off by default; with an allow-list only listed origins get CORS headers and preflights', async () => {
    expect(
      (await env.call('GET', '/healthz', { headers: { origin: 'https://evil.example' } })).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
    const corsEnv = await httpEnv('cors', { http: { corsOrigins: ['https://console.example'] } });
    try {
      const preflight = await corsEnv.call('OPTIONS', '/api/scenes', {
        headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const denied = await corsEnv.call('GET', '/healthz', { headers: { origin: 'https://evil.example' } });
      expect(denied.headers.get('access-control-allow-origin')).toBeNull();
      expect(denied.headers.get('vary')).toBe('Origin');
    } finally {
      await corsEnv.close();
    }
  });
});

describe('CORS exposed headers', () => {
  test('an allowed origin may read the request id, Retry-After and the X-KisJobs-Warning of a saved write', async () => {
    const corsEnv = await httpEnv('cors-expose', { http: { corsOrigins: ['https://console.example'] } });
    try {
      const simple = await corsEnv.call('GET', '/healthz', {
        headers: { origin: 'https://console.example' },
      });
      expect(simple.headers.get('access-control-allow-origin')).toBe('https://console.example');
      const exposed = (simple.headers.get('access-control-expose-headers') ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase());
      expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'x-kisjobs-warning']));
      const other = await corsEnv.call('GET', '/healthz', { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-expose-headers')).toBeNull();
    } finally {
      await corsEnv.close();
    }
    const off = await env.call('GET', '/healthz', { headers: { origin: 'https://console.example' } });
    expect(off.headers.get('access-control-expose-headers')).toBeNull();
  });
});

describe('readiness and metrics', () => {
  test('/readyz is 503 naming the dependency that is down', async () => {
    const port = await freePort();
    const deadRedis = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    deadRedis.on('error', () => undefined);
    const app = createHttpApp({
      prisma: env.prisma,
      redis: deadRedis,
      logger: recordingLogger([]),
      metricsRegistry: new Registry(),
    });
    const server = await app.listen(0);
    try {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: {
          code: 'UNAVAILABLE',
          message: 'Not ready',
          details: { checks: { postgres: 'up', redis: 'down' } },
        },
      });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      deadRedis.disconnect();
    }
  });

  test('request count and duration by route pattern, method and status; unmatched paths share one label', async () => {
    await env.call('GET', `/api/scenes/${scene}`, { token: viewer.token });
    await env.call('GET', '/api/no/such/thing/123');
    const text = (await env.call('GET', '/metrics')).text;
    expect(text).toMatch(
      /kisjobs_http_requests_total\{route="\/api\/scenes\/:id",method="GET",status="200"\} \d+/,
    );
    expect(text).toMatch(/kisjobs_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+/);
    expect(text).toMatch(
      /kisjobs_http_request_duration_seconds_bucket\{le="0.1",route="\/api\/scenes\/:id",method="GET",status="200"\}/,
    );
    expect(text).not.toContain(scene);
  });
});

describe('streams and shutdown', () => {
  test('a stream delivers its events', async () => {
    const result = await env.call('GET', '/api/test/stream?events=3');
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(result.text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
  });

  test('close() ends open streams and returns', async () => {
    const streamEnv = await httpEnv('shutdown', { routes: testRoutes });
    const response = await fetch(`${streamEnv.url}/api/test/stream?events=0`);
    expect(response.status).toBe(200);
    const started = Date.now();
    await streamEnv.server.close();
    // The stream ended on the shutdown signal, well before the 5 s grace deadline would have cut it.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await response.text()).toBe('');
    await streamEnv.close();
  });
});
