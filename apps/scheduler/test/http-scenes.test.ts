/**
 * Scenes over real HTTP: CRUD by admins, listing filtered to one's grants, pause / resume by operators of the
 * scene, and the effect of a pause on the schedule engine's due-job claim.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { claimDueJobs, newId } from '@kisjobs/db';
import { httpEnv, type CallResult, type HttpEnv, type TestUser } from './support/http-env.js';

interface SceneBody {
  id: string;
  name: string;
  description: string;
  paused: boolean;
}

let env: HttpEnv;
let admin: TestUser;
beforeAll(async () => {
  env = await httpEnv('scenes');
  admin = await env.user('admin');
});
afterAll(async () => {
  await env?.close();
});

const asAdmin = (method: string, path: string, body?: unknown): Promise<CallResult> =>
  env.call(method, path, { token: admin.token, ...(body === undefined ? {} : { body }) });

async function createScene(name: string): Promise<SceneBody> {
  const result = await asAdmin('POST', '/api/scenes', { name, description: `about ${name}` });
  expect(result.status).toBe(201);
  return result.body as SceneBody;
}

async function dueJobIn(sceneId: string): Promise<string> {
  const group = await env.prisma.executorGroup.upsert({
    where: { name: 'scene-tests' },
    create: { id: newId('grp'), name: 'scene-tests' },
    update: {},
  });
  const job = await env.prisma.job.create({
    data: {
      id: newId('job'),
      sceneId,
      executorGroupId: group.id,
      name: `due-${sceneId}`,
      flowName: 'etl',
      scheduleType: 'cron',
      cronExpr: '* * * * *',
      nextFireAt: new Date(env.clock.now().getTime() - 60_000),
    },
  });
  return job.id;
}

async function claimable(jobId: string): Promise<boolean> {
  return env.prisma.$transaction(async (tx) => {
    const jobs = await claimDueJobs(tx, { now: env.clock.now(), limit: 100 });
    return jobs.some((job) => job.id === jobId);
  });
}

describe('scenes', () => {
  test('create, read, rename, list, delete', async () => {
    const scene = await createScene('billing');
    expect(scene).toMatchObject({ name: 'billing', description: 'about billing', paused: false });
    expect((await asAdmin('GET', `/api/scenes/${scene.id}`)).body).toEqual(scene);
    const renamed = await asAdmin('PATCH', `/api/scenes/${scene.id}`, { name: 'billing-eu' });
    expect(renamed.body).toMatchObject({ id: scene.id, name: 'billing-eu', description: 'about billing' });
    const list = (await asAdmin('GET', '/api/scenes')).body as { items: SceneBody[] };
    expect(list.items.map((s) => s.name)).toContain('billing-eu');
    expect((await asAdmin('DELETE', `/api/scenes/${scene.id}`)).status).toBe(204);
    const gone = await asAdmin('GET', `/api/scenes/${scene.id}`);
    expect(gone.status).toBe(404);
    expect((gone.body as { error: { code: string } }).error.code).toBe('SCENE_NOT_FOUND');
    expect((await asAdmin('DELETE', `/api/scenes/${scene.id}`)).status).toBe(404);
  });

  test('duplicate names are 409; invalid bodies name the field; a scene with jobs cannot be deleted', async () => {
    const scene = await createScene('dupe');
    expect((await asAdmin('POST', '/api/scenes', { name: 'dupe' })).status).toBe(409);
    expect((await asAdmin('PATCH', `/api/scenes/${scene.id}`, { name: 'dupe' })).status).toBe(200);
    const other = await createScene('other-dupe');
    expect((await asAdmin('PATCH', `/api/scenes/${other.id}`, { name: 'dupe' })).status).toBe(409);
    const invalid = await asAdmin('POST', '/api/scenes', { name: '   ', colour: 'red' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'name' }, { path: 'colour' }] } },
    });
    await dueJobIn(scene.id);
    const inUse = await asAdmin('DELETE', `/api/scenes/${scene.id}`);
    expect(inUse.status).toBe(409);
    expect((await asAdmin('GET', `/api/scenes/${scene.id}`)).status).toBe(200);
  });

  test('viewers and operators list and read only their granted scenes', async () => {
    const granted = await createScene('granted-one');
    const hidden = await createScene('hidden-one');
    for (const role of ['viewer', 'operator'] as const) {
      const user = await env.user(role, [granted.id]);
      const list = (await env.call('GET', '/api/scenes', { token: user.token })).body as {
        items: SceneBody[];
      };
      expect(list.items.map((s) => s.id)).toEqual([granted.id]);
      expect((await env.call('GET', `/api/scenes/${granted.id}`, { token: user.token })).status).toBe(200);
      const denied = await env.call('GET', `/api/scenes/${hidden.id}`, { token: user.token });
      expect(denied.status).toBe(403);
      expect((denied.body as { error: { code: string } }).error.code).toBe('SCENE_ACCESS_DENIED');
    }
    const nothing = await env.user('viewer');
    expect(
      ((await env.call('GET', '/api/scenes', { token: nothing.token })).body as { items: unknown[] }).items,
    ).toEqual([]);
  });

  test('pausing a scene stops its jobs from being claimed; resuming brings them back', async () => {
    const scene = await createScene('nightly');
    const jobId = await dueJobIn(scene.id);
    const operator = await env.user('operator', [scene.id]);
    expect(await claimable(jobId)).toBe(true);

    const paused = await env.call('POST', `/api/scenes/${scene.id}/pause`, { token: operator.token });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: scene.id, paused: true });
    expect(await claimable(jobId)).toBe(false);
    expect((await env.call('POST', `/api/scenes/${scene.id}/pause`, { token: operator.token })).status).toBe(
      200,
    );

    const resumed = await env.call('POST', `/api/scenes/${scene.id}/resume`, { token: operator.token });
    expect(resumed.body).toMatchObject({ paused: false });
    expect(await claimable(jobId)).toBe(true);
  });

  test('pause needs the operate role and a grant of that scene', async () => {
    const scene = await createScene('guarded');
    const elsewhere = await createScene('elsewhere');
    const viewer = await env.user('viewer', [scene.id]);
    const operator = await env.user('operator', [elsewhere.id]);
    expect((await env.call('POST', `/api/scenes/${scene.id}/pause`, { token: viewer.token })).status).toBe(
      403,
    );
    expect((await env.call('POST', `/api/scenes/${scene.id}/pause`, { token: operator.token })).status).toBe(
      403,
    );
    expect((await env.call('POST', `/api/scenes/${scene.id}/pause`)).status).toBe(401);
    expect((await env.prisma.scene.findUniqueOrThrow({ where: { id: scene.id } })).paused).toBe(false);
    expect((await asAdmin('POST', '/api/scenes/scn_01m00000000000000000000000/pause')).status).toBe(404);
  });
});
