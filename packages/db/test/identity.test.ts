/** Repositories for users, grants, sessions, API tokens, scenes and the audit trail, on real Postgres. */
import type { TestDatabase } from '@kisjobs/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../src/index.js';
import {
  countUsableApiTokens,
  createDb,
  deleteExpiredSessions,
  deleteScene,
  deleteSessionsOfUser,
  deleteUser,
  existingSceneIds,
  findApiTokenByHash,
  findSessionByTokenHash,
  getUser,
  grantedSceneIds,
  insertApiToken,
  insertAuditEvent,
  insertScene,
  insertSession,
  insertUser,
  listAuditEvents,
  listScenes,
  listUsers,
  lockActiveAdmins,
  newId,
  replaceSceneGrants,
  revokeApiToken,
  touchApiToken,
  touchSession,
  updateScene,
  updateUser,
  type NewAuditEvent,
} from '../src/index.js';
import { createMigratedDatabase, seedJob } from './support.js';

let database: TestDatabase;
let db: Db;
const t0 = new Date('2031-05-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

beforeAll(async () => {
  database = await createMigratedDatabase('identity');
  db = createDb({ url: database.url });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

async function user(
  name: string,
  role: 'admin' | 'operator' | 'viewer' = 'viewer',
  now = t0,
): Promise<string> {
  const result = await insertUser(db.prisma, {
    id: newId('usr', now.getTime()),
    username: name,
    passwordHash: 'h',
    role,
    now,
  });
  if (!result.ok) throw new Error(result.reason);
  return result.user.id;
}

async function scene(name: string, now = t0): Promise<string> {
  const result = await insertScene(db.prisma, {
    id: newId('scn', now.getTime()),
    name,
    description: '',
    now,
  });
  if (!result.ok) throw new Error(result.reason);
  return result.scene.id;
}

describe('users and grants', () => {
  test('unique usernames, grants replaced whole, deletion cascades to sessions, tokens and grants', async () => {
    const id = await user('ann');
    expect(
      await insertUser(db.prisma, {
        id: newId('usr'),
        username: 'ann',
        passwordHash: 'h',
        role: 'viewer',
        now: t0,
      }),
    ).toEqual({
      ok: false,
      reason: 'username_taken',
    });
    const [a, b, c] = [await scene('g-a'), await scene('g-b'), await scene('g-c')];
    await replaceSceneGrants(db.prisma, id, [a, b], t0);
    await replaceSceneGrants(db.prisma, id, [b, c], t0);
    expect(await grantedSceneIds(db.prisma, id)).toEqual([b, c].sort());
    expect((await getUser(db.prisma, id))?.sceneIds).toEqual([b, c].sort());
    expect(await existingSceneIds(db.prisma, [a, 'scn_missing'])).toEqual(new Set([a]));

    await insertSession(db.prisma, {
      id: newId('ses'),
      tokenHash: 'ann-session',
      userId: id,
      now: t0,
      expiresAt: at(60_000),
    });
    await insertApiToken(db.prisma, {
      id: newId('tok'),
      name: 'x',
      tokenHash: 'ann-token',
      userId: id,
      now: t0,
      expiresAt: null,
    });
    expect(await updateUser(db.prisma, id, { role: 'operator', now: at(1) })).toMatchObject({
      role: 'operator',
    });
    expect(await deleteUser(db.prisma, id)).toBe(true);
    expect(await deleteUser(db.prisma, id)).toBe(false);
    expect(await findSessionByTokenHash(db.prisma, 'ann-session')).toBeNull();
    expect(await findApiTokenByHash(db.prisma, 'ann-token')).toBeNull();
    expect(await db.prisma.sceneGrant.count({ where: { userId: id } })).toBe(0);
    expect(await updateUser(db.prisma, id, { role: 'viewer', now: t0 })).toBeNull();
  });

  test('listUsers pages newest first without repeats; lockActiveAdmins sees enabled admins only', async () => {
    for (let i = 0; i < 5; i++) await user(`pager-${i}`, i % 2 === 0 ? 'admin' : 'viewer', at(i));
    const disabledAdmin = await user('disabled-admin', 'admin', at(10));
    await updateUser(db.prisma, disabledAdmin, { disabled: true, now: at(11) });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listUsers>> = await listUsers(db.prisma, { limit: 2, cursor });
      seen.push(...page.items.map((u) => u.username));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.slice(0, 6)).toEqual([
      'disabled-admin',
      'pager-4',
      'pager-3',
      'pager-2',
      'pager-1',
      'pager-0',
    ]);
    const admins = await db.prisma.$transaction((tx) => lockActiveAdmins(tx));
    expect(admins).toHaveLength(3);
    expect(admins).not.toContain(disabledAdmin);
  });
});

describe('sessions and API tokens', () => {
  test('sessions: found with user and grants, touched at most once per period, expired ones deleted in bounded batches', async () => {
    const id = await user('sess-user');
    const s = await scene('sess-scene');
    await replaceSceneGrants(db.prisma, id, [s], t0);
    const sessionId = newId('ses');
    await insertSession(db.prisma, {
      id: sessionId,
      tokenHash: 'h-live',
      userId: id,
      now: t0,
      expiresAt: at(3_600_000),
    });
    expect(await findSessionByTokenHash(db.prisma, 'h-live')).toMatchObject({
      id: sessionId,
      user: { id, sceneIds: [s] },
    });
    expect(await touchSession(db.prisma, sessionId, at(30_000), at(-30_000))).toBe(false);
    expect(await touchSession(db.prisma, sessionId, at(90_000), at(30_000))).toBe(true);
    for (let i = 0; i < 5; i++) {
      await insertSession(db.prisma, {
        id: newId('ses'),
        tokenHash: `h-old-${i}`,
        userId: id,
        now: t0,
        expiresAt: at(i),
      });
    }
    expect(await deleteExpiredSessions(db.prisma, at(1_000), 3)).toBe(3);
    expect(await deleteExpiredSessions(db.prisma, at(1_000), 3)).toBe(2);
    expect(await findSessionByTokenHash(db.prisma, 'h-live')).not.toBeNull();
    const other = newId('ses');
    await insertSession(db.prisma, {
      id: other,
      tokenHash: 'h-other',
      userId: id,
      now: t0,
      expiresAt: at(3_600_000),
    });
    expect(await deleteSessionsOfUser(db.prisma, id, sessionId)).toBe(1);
    expect(await findSessionByTokenHash(db.prisma, 'h-live')).not.toBeNull();
  });

  test('tokens: revoked once, touched on first use then throttled, counted while usable', async () => {
    const id = await user('tok-user');
    const tokenId = newId('tok');
    await insertApiToken(db.prisma, {
      id: tokenId,
      name: 'ci',
      tokenHash: 'tok-h',
      userId: id,
      now: t0,
      expiresAt: null,
    });
    await insertApiToken(db.prisma, {
      id: newId('tok'),
      name: 'old',
      tokenHash: 'tok-old',
      userId: id,
      now: t0,
      expiresAt: at(10),
    });
    expect(await countUsableApiTokens(db.prisma, id, at(5))).toBe(2);
    expect(await countUsableApiTokens(db.prisma, id, at(10))).toBe(1);
    expect(await touchApiToken(db.prisma, tokenId, at(100), at(40))).toBe(true);
    expect(await touchApiToken(db.prisma, tokenId, at(120), at(60))).toBe(false);
    expect((await findApiTokenByHash(db.prisma, 'tok-h'))?.lastUsedAt).toEqual(at(100));
    expect(await revokeApiToken(db.prisma, tokenId, at(200))).toBe(true);
    expect(await revokeApiToken(db.prisma, tokenId, at(300))).toBe(false);
    expect((await findApiTokenByHash(db.prisma, 'tok-h'))?.revokedAt).toEqual(at(200));
    expect(await countUsableApiTokens(db.prisma, id, at(5))).toBe(1);
  });
});

describe('scenes', () => {
  test('unique names, filtered listing, pause flag, and no deletion while jobs use the scene', async () => {
    const a = await scene('list-a', at(1));
    const b = await scene('list-b', at(2));
    expect(
      (await insertScene(db.prisma, { id: newId('scn'), name: 'list-a', description: '', now: t0 })).ok,
    ).toBe(false);
    const filtered = await listScenes(db.prisma, { ids: [a, b] });
    expect(filtered.items.map((s) => s.id)).toEqual([b, a]);
    expect((await listScenes(db.prisma, { ids: [] })).items).toEqual([]);
    expect(await updateScene(db.prisma, a, { paused: true, now: at(3) })).toMatchObject({
      ok: true,
      scene: { paused: true },
    });
    expect(await updateScene(db.prisma, a, { name: 'list-b', now: at(4) })).toEqual({
      ok: false,
      reason: 'name_taken',
    });
    expect(await updateScene(db.prisma, 'scn_missing', { name: 'z', now: at(4) })).toEqual({
      ok: false,
      reason: 'not_found',
    });
    const fx = await seedJob(db.prisma, 'identity');
    expect(await deleteScene(db.prisma, fx.sceneId)).toBe('in_use');
    expect(await deleteScene(db.prisma, b)).toBe('deleted');
    expect(await deleteScene(db.prisma, b)).toBe('not_found');
  });
});

describe('audit events', () => {
  const event = (n: number, fields: Partial<NewAuditEvent> = {}): NewAuditEvent => ({
    id: newId('aud', at(n).getTime()),
    at: at(n),
    actorKind: 'user',
    actorUserId: 'usr_a',
    actorTokenId: null,
    actorName: 'a',
    action: 'scenes.create',
    targetType: 'scene',
    targetId: `scn_${n}`,
    ip: '127.0.0.1',
    requestId: `req-${n}`,
    status: 201,
    details: { n },
    ...fields,
  });

  test('filters and keyset paging, newest first', async () => {
    for (let i = 0; i < 6; i++) await insertAuditEvent(db.prisma, event(i));
    await insertAuditEvent(
      db.prisma,
      event(6, { actorUserId: 'usr_b', action: 'scenes.pause', status: 403 }),
    );
    await insertAuditEvent(
      db.prisma,
      event(7, { actorKind: 'anonymous', actorUserId: null, action: 'auth.login', status: null }),
    );
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listAuditEvents>> = await listAuditEvents(
        db.prisma,
        {},
        { limit: 3, cursor },
      );
      all.push(...page.items.map((e) => e.requestId ?? ''));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(all).toEqual(['req-7', 'req-6', 'req-5', 'req-4', 'req-3', 'req-2', 'req-1', 'req-0']);
    const ids = async (filter: Parameters<typeof listAuditEvents>[1]) =>
      (await listAuditEvents(db.prisma, filter)).items.map((e) => e.requestId);
    expect(await ids({ outcome: 'failure' })).toEqual(['req-7', 'req-6']);
    expect(await ids({ actorUserId: 'usr_b' })).toEqual(['req-6']);
    expect(await ids({ action: 'auth.login' })).toEqual(['req-7']);
    expect(await ids({ targetType: 'scene', targetId: 'scn_2' })).toEqual(['req-2']);
    expect(await ids({ from: at(2), to: at(4), outcome: 'success' })).toEqual(['req-3', 'req-2']);
  });
});
