/**
 * Scenes: groups of jobs that access is granted on. Pausing a scene (`paused`) stops every job in it from
 * firing: the schedule engine's due-job claim skips jobs whose scene is paused. A scene that jobs still use
 * cannot be deleted (ON DELETE RESTRICT from jobs); its runs keep their history (SET NULL).
 */
import type { DbClient } from '../client.js';
import { Prisma, type Scene } from '../generated/prisma/client.js';
import { afterCursor, pageFrom, pageSize } from './cursor.js';
import type { Page, PageRequest } from './runs-list.js';
import { isUniqueViolation } from './users.js';

export interface NewScene {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly now: Date;
}

export type SceneWriteResult = { ok: true; scene: Scene } | { ok: false; reason: 'name_taken' | 'not_found' };

export async function insertScene(db: DbClient, scene: NewScene): Promise<SceneWriteResult> {
  try {
    const row = await db.scene.create({
      data: {
        id: scene.id,
        name: scene.name,
        description: scene.description,
        createdAt: scene.now,
        updatedAt: scene.now,
      },
    });
    return { ok: true, scene: row };
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, reason: 'name_taken' };
    throw error;
  }
}

export function getScene(db: DbClient, id: string): Promise<Scene | null> {
  return db.scene.findUnique({ where: { id } });
}

export interface SceneFilter {
  /** Only these scenes (a user's grants); an empty list matches nothing. Undefined: every scene. */
  readonly ids?: readonly string[];
}

/** Scenes, newest first; keyset paging on (createdAt, id). */
export async function listScenes(
  db: DbClient,
  filter: SceneFilter,
  page: PageRequest = {},
): Promise<Page<Scene>> {
  const limit = pageSize(page.limit);
  const and: Prisma.SceneWhereInput[] = [];
  if (filter.ids !== undefined) and.push({ id: { in: [...filter.ids] } });
  and.push(...afterCursor<(typeof and)[number]>('createdAt', page.cursor));
  const rows = await db.scene.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return pageFrom(rows, limit, (row) => row.createdAt);
}

export interface SceneChange {
  readonly name?: string;
  readonly description?: string;
  readonly paused?: boolean;
  readonly now: Date;
}

export async function updateScene(db: DbClient, id: string, change: SceneChange): Promise<SceneWriteResult> {
  const data: Prisma.SceneUpdateManyMutationInput = { updatedAt: change.now };
  if (change.name !== undefined) data.name = change.name;
  if (change.description !== undefined) data.description = change.description;
  if (change.paused !== undefined) data.paused = change.paused;
  try {
    const rows = await db.scene.updateManyAndReturn({ where: { id }, data });
    const scene = rows[0];
    return scene === undefined ? { ok: false, reason: 'not_found' } : { ok: true, scene };
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, reason: 'name_taken' };
    throw error;
  }
}

export type DeleteSceneResult = 'deleted' | 'not_found' | 'in_use';

/** Deletes a scene and its grants; `in_use` while jobs still belong to it. */
export async function deleteScene(db: DbClient, id: string): Promise<DeleteSceneResult> {
  try {
    const result = await db.scene.deleteMany({ where: { id } });
    return result.count > 0 ? 'deleted' : 'not_found';
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') return 'in_use';
    throw error;
  }
}
