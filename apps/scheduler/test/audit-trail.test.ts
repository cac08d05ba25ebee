/**
 * The audit trail over real HTTP: one row per mutating request whatever its outcome (and none for reads),
 * with actor, action, target, address, request id and status; never a password or a secret; listed by
 * admins with filters and cursor paging.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AuditEvent } from '@kisjobs/protocol';
import { httpEnv, type CallResult, type HttpEnv, type TestUser } from './support/http-env.js';

let env: HttpEnv;
let admin: TestUser;
beforeAll(async () => {
  env = await httpEnv('audit');
  admin = await env.user('admin');
});
afterAll(async () => {
  await env?.close();
});

const rowsFor = (requestId: string | null) =>
  env.prisma.auditEvent.findMany({ where: { requestId: requestId ?? 'none' } });

async function listAudit(query: string): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
  const result = await env.call('GET', `/api/audit${query}`, { token: admin.token });
  expect(result.status).toBe(200);
  return result.body as { items: AuditEvent[]; nextCursor: string | null };
}

describe('what is recorded', () => {
  test('each mutation leaves one row naming who, what, which target, from where and how it ended', async () => {
    const created = await env.call('POST', '/api/scenes', { token: admin.token, body: { name: 'audited' } });
    expect(created.status).toBe(201);
    const sceneId = (created.body as { id: string }).id;
    const rows = await rowsFor(created.headers.get('x-request-id'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorKind: 'user',
      actorUserId: admin.id,
      actorName: admin.username,
      actorTokenId: null,
      action: 'scenes.create',
      targetType: 'scene',
      targetId: sceneId,
      ip: '127.0.0.1',
      status: 201,
      details: { method: 'POST', path: '/api/scenes', name: 'audited' },
    });
  });

  test('reads leave no row', async () => {
    const before = await env.prisma.auditEvent.count();
    for (const path of [
      '/api/scenes',
      '/api/auth/me',
      '/api/users',
      '/api/audit',
      '/healthz',
      '/api/tokens',
    ]) {
      expect((await env.call('GET', path, { token: admin.token })).status).toBe(200);
    }
    expect(await env.prisma.auditEvent.count()).toBe(before);
  });

  test('refused and invalid mutations are recorded with their status and the caller, anonymous included', async () => {
    const viewer = await env.user('viewer');
    const cases: [CallResult, Partial<Record<string, unknown>>][] = [
      [
        await env.call('POST', '/api/scenes', { token: viewer.token, body: { name: 'nope' } }),
        { actorKind: 'user', actorUserId: viewer.id, status: 403, details: { error: 'FORBIDDEN' } },
      ],
      [
        await env.call('POST', '/api/scenes', { token: admin.token, body: { name: 7 } }),
        { actorKind: 'user', actorUserId: admin.id, status: 400, details: { error: 'VALIDATION_FAILED' } },
      ],
      [
        await env.call('POST', '/api/scenes', { body: { name: 'anon' } }),
        { actorKind: 'anonymous', actorUserId: null, status: 401, details: { error: 'UNAUTHENTICATED' } },
      ],
    ];
    for (const [result, expected] of cases) {
      const rows = await rowsFor(result.headers.get('x-request-id'));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'scenes.create', ...expected });
    }
  });

  test('a request made with an API token names the token', async () => {
    const created = await env.call('POST', '/api/tokens', {
      token: admin.token,
      body: { name: 'automation' },
    });
    const { token, secret } = created.body as { token: { id: string }; secret: string };
    const paused = await env.call('POST', '/api/scenes', { token: secret, body: { name: 'by-token' } });
    const rows = await rowsFor(paused.headers.get('x-request-id'));
    expect(rows[0]).toMatchObject({ actorKind: 'token', actorTokenId: token.id, actorUserId: admin.id });
    const creation = await rowsFor(created.headers.get('x-request-id'));
    expect(creation[0]).toMatchObject({ action: 'tokens.create', targetType: 'token', targetId: token.id });
  });

  test('logins are recorded (the user on success, the attempted name on failure) and nothing secret ever is', async () => {
    const user = await env.user('operator');
    const failed = await env.call('POST', '/api/auth/login', {
      body: { username: user.username, password: 'wrong-password-123' },
    });
    expect((await rowsFor(failed.headers.get('x-request-id')))[0]).toMatchObject({
      action: 'auth.login',
      actorKind: 'anonymous',
      status: 401,
      details: { username: user.username, error: 'INVALID_CREDENTIALS' },
    });
    const ok = await env.call('POST', '/api/auth/login', {
      body: { username: user.username, password: user.password },
    });
    expect((await rowsFor(ok.headers.get('x-request-id')))[0]).toMatchObject({
      action: 'auth.login',
      actorKind: 'user',
      actorUserId: user.id,
      targetId: user.id,
      status: 200,
    });
    await env.call('POST', '/api/users', {
      token: admin.token,
      body: { username: 'secretive', password: 'the-user-password-1', role: 'viewer' },
    });
    await env.call('POST', '/api/auth/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'the-new-password-1' },
    });
    const newToken = (ok.body as { token: string }).token;
    const everything = JSON.stringify(await env.prisma.auditEvent.findMany());
    for (const secret of [
      user.password,
      'wrong-password-123',
      'the-user-password-1',
      'the-new-password-1',
      newToken,
      'kjs_',
    ]) {
      expect({ secret, leaked: everything.includes(secret) }).toEqual({ secret, leaked: false });
    }
  });
});

describe('GET /api/audit', () => {
  test('filters by action, actor, target, outcome and time', async () => {
    const viewer = await env.user('viewer');
    const scene = await env.scene('filtered');
    await env.call('POST', `/api/scenes/${scene}/pause`, { token: admin.token });
    await env.call('POST', `/api/scenes/${scene}/pause`, { token: viewer.token });

    const byTarget = await listAudit(`?targetType=scene&targetId=${scene}`);
    expect(byTarget.items.map((e) => [e.action, e.status])).toEqual(
      expect.arrayContaining([
        ['scenes.pause', 200],
        ['scenes.pause', 403],
      ]),
    );
    expect(byTarget.items).toHaveLength(2);
    const failures = await listAudit(`?targetId=${scene}&outcome=failure`);
    expect(failures.items.map((e) => e.actor.userId)).toEqual([viewer.id]);
    const successes = await listAudit(`?targetId=${scene}&outcome=success`);
    expect(successes.items.map((e) => e.actor.userId)).toEqual([admin.id]);
    const byActor = await listAudit(`?actorUserId=${viewer.id}&action=scenes.pause`);
    expect(byActor.items).toHaveLength(1);
    const now = env.clock.now().toISOString();
    expect((await listAudit(`?targetId=${scene}&to=${encodeURIComponent(now)}`)).items).toHaveLength(0);
    expect((await listAudit(`?targetId=${scene}&from=${encodeURIComponent(now)}`)).items).toHaveLength(2);
  });

  test('pages newest first with a cursor, every event exactly once', async () => {
    for (let i = 0; i < 7; i++) {
      env.clock.advance(1);
      await env.call('POST', '/api/scenes', { token: admin.token, body: { name: `paged-${i}` } });
    }
    const seen: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: AuditEvent[]; nextCursor: string | null } = await listAudit(
        `?action=scenes.create&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(seen.length).toBe(await env.prisma.auditEvent.count({ where: { action: 'scenes.create' } }));
    const times = seen.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  test('bad filters are 400 naming the query field', async () => {
    const result = await env.call('GET', '/api/audit?outcome=maybe&limit=0&from=yesterday&colour=red', {
      token: admin.token,
    });
    expect(result.status).toBe(400);
    const paths = (
      result.body as { error: { details: { issues: { path: string }[] } } }
    ).error.details.issues.map((i) => i.path);
    expect(paths.sort()).toEqual(['query.colour', 'query.from', 'query.limit', 'query.outcome']);
  });
});

describe('when the audit table cannot be written', () => {
  test('the request still succeeds; the failure is logged and counted', async () => {
    await env.prisma.$executeRawUnsafe('ALTER TABLE audit_events RENAME TO audit_events_away');
    try {
      const result = await env.call('POST', '/api/scenes', {
        token: admin.token,
        body: { name: 'unaudited' },
      });
      expect(result.status).toBe(201);
      expect(env.logs.some((line) => line.level === 'error' && line.msg === 'audit event not written')).toBe(
        true,
      );
      expect(await env.registry.metrics()).toMatch(/^kisjobs_audit_write_failures_total 1$/m);
    } finally {
      await env.prisma.$executeRawUnsafe('ALTER TABLE audit_events_away RENAME TO audit_events');
    }
  });
});
