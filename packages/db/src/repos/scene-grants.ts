/**
 * Scene grants: which scenes a viewer or an operator may see (and, for an operator, operate). Admins need
 * none. A user's grant list is replaced whole, inside the caller's transaction when it has one.
 */
import type { DbClient } from '../client.js';

export async function grantedSceneIds(db: DbClient, userId: string): Promise<string[]> {
  const rows = await db.sceneGrant.findMany({
    where: { userId },
    select: { sceneId: true },
    orderBy: { sceneId: 'asc' },
  });
  return rows.map((row) => row.sceneId);
}

/** Replaces the user's grants with `sceneIds` (which must exist: see `existingSceneIds`). */
export async function replaceSceneGrants(
  db: DbClient,
  userId: string,
  sceneIds: readonly string[],
  now: Date,
): Promise<void> {
  await db.sceneGrant.deleteMany({ where: { userId, sceneId: { notIn: [...sceneIds] } } });
  if (sceneIds.length === 0) return;
  await db.sceneGrant.createMany({
    data: sceneIds.map((sceneId) => ({ userId, sceneId, createdAt: now })),
    skipDuplicates: true,
  });
}

/** The ids among `ids` that name a scene. */
export async function existingSceneIds(db: DbClient, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.scene.findMany({ where: { id: { in: [...ids] } }, select: { id: true } });
  return new Set(rows.map((row) => row.id));
}
