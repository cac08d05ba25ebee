/**
 * API fuzz (DESIGN §2.6, bad input never crashes anything): thousands of generated malformed requests against
 * every route of the table (mangled paths and ids, hostile query strings, mutated, truncated and random bodies,
 * wrong media types and methods, missing and bogus credentials), plus random paths. Seeded, bounded in count
 * and time, loopback only. Every answer must be below 500 and, for an error, in the one error shape; the server
 * must log no unexpected error and still serve afterwards.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ErrorBody } from '@kisjobs/protocol';
import { FuzzGen, prng, type FuzzRequest } from './support/fuzz-gen.js';
import { httpEnv, type HttpEnv } from './support/http-env.js';

const SEED = Number(process.env.KISJOBS_FUZZ_SEED ?? 20_261_124);
const REQUESTS = 3_000;
const TIME_BUDGET_MS = 90_000;
const CONCURRENCY = 8;
const ALLOWED = new Set([200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429]);

type Json = Record<string, unknown>;

let env: HttpEnv;
let tokens: string[];
let ids: Record<string, string>;
beforeAll(async () => {
  env = await httpEnv('fuzz', { scheduler: true }); // as in production: the resource routes act through it
  const scene = await env.scene('fuzzed');
  const admin = await env.user('admin');
  const operator = await env.user('operator', [scene]);
  const viewer = await env.user('viewer', [scene]);
  // API tokens, not sessions: a fuzzed logout or password change cannot end them.
  tokens = [];
  for (const user of [admin, operator, viewer]) {
    const created = await env.call('POST', '/api/tokens', { token: user.token, body: { name: 'fuzz' } });
    tokens.push((created.body as { secret: string }).secret);
  }
  ids = { scn: scene, usr: viewer.id };
}, 120_000);
afterAll(async () => {
  await env?.close();
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(agent: Agent, req: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: env.server.port,
        method: req.method,
        path: req.path,
        headers: req.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

function generate(gen: FuzzGen, doc: Json): { readonly route: string; readonly req: FuzzRequest } {
  const operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op: op as Json })),
  );
  if (gen.chance(0.08)) {
    const path = `/${gen.pick(['api', 'api/v2', 'docs', 'metrics', ''])}/${gen.asciiString(30).replace(/[?#]/g, '')}`;
    return { route: 'random', req: { method: gen.method('GET'), path, headers: {} } };
  }
  const { path, method, op } = gen.pick(operations);
  const parameters = (op.parameters ?? []) as Json[];
  const target = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const param = parameters.find((p) => p.name === name && p.in === 'path');
    return gen.segment(String(gen.valid((param?.schema ?? {}) as Json, ids)));
  });
  const headers: Record<string, string> = {};
  const auth = gen.int(5);
  if (auth <= 2) headers.authorization = `Bearer ${tokens[auth] ?? ''}`;
  if (auth === 3)
    headers.authorization = gen.pick([
      'Bearer',
      'Bearer kjs_sess_x',
      'Basic Zm9vOmJhcg==',
      `Bearer ${gen.asciiString(50)}`,
      'bearer  ',
    ]);
  let body: Buffer | undefined;
  const bodySchema = ((
    ((op.requestBody as Json | undefined)?.content as Json | undefined)?.['application/json'] as
      Json | undefined
  )?.schema ?? undefined) as Json | undefined;
  if (bodySchema !== undefined || gen.chance(0.1)) {
    body = gen.body(gen.valid(bodySchema ?? { type: 'object' }, ids));
    // Framed explicitly: Node's client does not frame a GET or HEAD body by itself.
    headers['content-length'] = String(body.length);
    const type = gen.contentType();
    if (type !== '') headers['content-type'] = type;
    if (gen.chance(0.05)) headers['content-encoding'] = gen.pick(['gzip', 'br', 'identity', 'x-unknown']);
  }
  if (gen.chance(0.1)) headers['x-request-id'] = gen.asciiString(150);
  if (gen.chance(0.05)) headers['x-forwarded-for'] = gen.asciiString(30);
  return {
    route: `${method} ${path}`,
    req: {
      method: gen.method(method),
      path: `${target}${gen.query(parameters, ids)}`,
      headers,
      ...(body === undefined ? {} : { body }),
    },
  };
}

test(`fuzz: ${REQUESTS} hostile requests (seed ${SEED}) never get a 5xx, and errors keep the one shape`, async () => {
  const doc = env.http.openapi();
  const gen = new FuzzGen(prng(SEED));
  const requests = Array.from({ length: REQUESTS }, () => generate(gen, doc));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const failures: string[] = [];
  const perRoute = new Map<string, number>();
  const statuses = new Map<number, number>();
  const deadline = Date.now() + TIME_BUDGET_MS;
  let next = 0;
  let sent = 0;

  const worker = async (): Promise<void> => {
    while (next < requests.length && Date.now() < deadline) {
      const index = next++;
      const item = requests[index];
      if (item === undefined) return;
      const { route, req } = item;
      let answer: Answer;
      try {
        answer = await send(agent, req);
      } catch (error) {
        failures.push(`#${index} ${req.method} ${req.path.slice(0, 120)}: transport error ${String(error)}`);
        continue;
      }
      sent++;
      perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = check(req, answer);
      if (problem !== undefined)
        failures.push(`#${index} ${req.method} ${req.path.slice(0, 120)} → ${answer.status}: ${problem}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
  agent.destroy();

  expect(failures.slice(0, 20)).toEqual([]);
  expect(sent).toBeGreaterThanOrEqual(Math.min(REQUESTS, 500));
  for (const route of env.http.routes) {
    expect({
      route: route.id,
      fuzzed: (perRoute.get(`${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`) ?? 0) > 0,
    }).toEqual({
      route: route.id,
      fuzzed: true,
    });
  }
  expect(env.logs.filter((line) => line.level === 'error')).toEqual([]);
  // Still serving, and still authenticating.
  expect((await env.call('GET', '/healthz')).status).toBe(200);
  expect((await env.call('GET', '/api/auth/me', { token: tokens[0] ?? '' })).status).toBe(200);
  console.log(
    `fuzz seed ${SEED}: ${sent} requests`,
    Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
  );
}, 180_000);

function check(req: FuzzRequest, answer: Answer): string | undefined {
  if (!ALLOWED.has(answer.status)) return `status ${answer.status} ${answer.body.slice(0, 200)}`;
  if (answer.status < 400 || req.method === 'HEAD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return `error body is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const shape = ErrorBody.strict().safeParse(parsed);
  if (!shape.success) return `error body not in the error shape: ${answer.body.slice(0, 200)}`;
  if (/at .*\.(ts|js):\d+|node_modules|Error:/.test(answer.body))
    return `error body leaks internals: ${answer.body.slice(0, 200)}`;
  return undefined;
}
