/**
 * `/api/scenes`: scenes are listed and read within one's grants; created, renamed and deleted by admins; paused
 * and resumed by operators of the scene (pausing stops every job of the scene from firing; the schedule engine
 * skips jobs of paused scenes, and on resume each job's misfire policy decides about the fires it missed).
 */
import { z } from 'zod';
import {
  deleteScene,
  getScene,
  insertScene,
  listScenes,
  updateScene,
  type Scene as SceneRow,
  type SceneWriteResult,
} from '@kisjobs/db';
import {
  ConflictError,
  newId,
  NotFoundError,
  pageOf,
  pageQueryFields,
  Scene,
  SceneCreateInput,
  SceneId,
  ScenePatch,
} from '@kisjobs/protocol';
import type { RouteDeps } from '../deps.js';
import { found } from '../resource.js';
import { defineRoute, type Route } from '../route.js';

const ById = z.strictObject({ id: SceneId });

export function sceneDto(row: SceneRow): Scene {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    paused: row.paused,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function written(result: SceneWriteResult, id: string, name?: string): SceneRow {
  if (result.ok) return result.scene;
  if (result.reason === 'not_found') throw new NotFoundError('scene', id);
  throw new ConflictError(`A scene named ${name ?? ''} exists already`, {
    code: 'ALREADY_EXISTS',
    details: { name },
  });
}

export function sceneRoutes(deps: RouteDeps): Route[] {
  const { prisma, clock } = deps;
  const target = { targetType: 'scene', targetId: (req: { params: { id: string } }) => req.params.id };
  const setPaused = (id: 'scenes.pause' | 'scenes.resume', paused: boolean) =>
    defineRoute({
      id,
      method: 'POST',
      path: `/api/scenes/:id/${paused ? 'pause' : 'resume'}`,
      tags: ['scenes'],
      summary: paused ? 'Pause every job of a scene' : 'Resume the jobs of a paused scene',
      access: { action: 'operate', scene: (req) => req.params.id },
      params: ById,
      responses: { 200: { description: 'The scene', schema: Scene } },
      audit: target,
      handler: async (req) => ({
        status: 200,
        body: sceneDto(
          written(await updateScene(prisma, req.params.id, { paused, now: clock.now() }), req.params.id),
        ),
      }),
    });
  return [
    defineRoute({
      id: 'scenes.list',
      method: 'GET',
      path: '/api/scenes',
      tags: ['scenes'],
      summary: 'List the scenes you may see',
      access: { action: 'read' },
      query: z.strictObject(pageQueryFields),
      responses: { 200: { description: 'Scenes, newest first', schema: pageOf(Scene) } },
      handler: async (req) => {
        const ids = req.access.sceneFilter();
        const page = await listScenes(prisma, ids === undefined ? {} : { ids }, req.query);
        return { status: 200, body: { items: page.items.map(sceneDto), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      id: 'scenes.create',
      method: 'POST',
      path: '/api/scenes',
      tags: ['scenes'],
      summary: 'Create a scene',
      access: { action: 'admin' },
      body: SceneCreateInput,
      responses: { 201: { description: 'Created', schema: Scene } },
      errors: [409],
      audit: { targetType: 'scene', details: (req) => ({ name: req.body.name }) },
      handler: async (req) => {
        const now = clock.now();
        const id = newId('scn', now);
        const scene = written(await insertScene(prisma, { id, ...req.body, now }), id, req.body.name);
        return { status: 201, body: sceneDto(scene), audit: { targetId: scene.id } };
      },
    }),
    defineRoute({
      id: 'scenes.get',
      method: 'GET',
      path: '/api/scenes/:id',
      tags: ['scenes'],
      summary: 'One scene',
      access: { action: 'read', scene: (req) => req.params.id },
      params: ById,
      responses: { 200: { description: 'The scene', schema: Scene } },
      handler: async (req) => {
        const scene = found('scene', req.params.id, await getScene(prisma, req.params.id));
        return { status: 200, body: sceneDto(scene) };
      },
    }),
    defineRoute({
      id: 'scenes.update',
      method: 'PATCH',
      path: '/api/scenes/:id',
      tags: ['scenes'],
      summary: 'Rename a scene or change its description',
      access: { action: 'admin' },
      params: ById,
      body: ScenePatch,
      responses: { 200: { description: 'The scene', schema: Scene } },
      errors: [409],
      audit: { ...target, details: (req) => ({ ...req.body }) },
      handler: async (req) => {
        const result = await updateScene(prisma, req.params.id, { ...req.body, now: clock.now() });
        return { status: 200, body: sceneDto(written(result, req.params.id, req.body.name)) };
      },
    }),
    defineRoute({
      id: 'scenes.delete',
      method: 'DELETE',
      path: '/api/scenes/:id',
      tags: ['scenes'],
      summary: 'Delete a scene that no job uses (its grants go with it; its runs keep their history)',
      access: { action: 'admin' },
      params: ById,
      responses: { 204: { description: 'Deleted' } },
      errors: [409],
      audit: target,
      handler: async (req) => {
        const result = await deleteScene(prisma, req.params.id);
        // The scene's grants went with it: cached principals of this process may list it.
        if (result === 'deleted') deps.auth.credentials.everyoneChanged();
        if (result === 'not_found') throw new NotFoundError('scene', req.params.id);
        if (result === 'in_use')
          throw new ConflictError('Jobs still belong to this scene: move or delete them first');
        return { status: 204 };
      },
    }),
    setPaused('scenes.pause', true),
    setPaused('scenes.resume', false),
  ];
}
