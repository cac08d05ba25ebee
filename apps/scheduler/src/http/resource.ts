/**
 * Resource lookups for handlers: a missing resource becomes its typed 404 (`RUN_NOT_FOUND`, `JOB_NOT_FOUND`...),
 * and a resource that lives in a scene is checked against the principal's grants in the same step. Routes
 * declared `scene: 'from-resource'` load their resource with `loadInScene`, which satisfies the adapter's
 * rule that such a route checks its scene before it answers.
 *
 *   handler: async (req) => {
 *     const run = await loadInScene(req, 'run', req.params.id, () => getRun(prisma, req.params.id), (r) => r.sceneId);
 *     return { status: 200, body: runDto(run) };
 *   }
 */
import { NotFoundError, type ResourceKind } from '@kisjobs/protocol';
import type { ApiRequest } from './route.js';

/** The value, or NotFoundError(kind, id) when the lookup found nothing. */
export function found<T>(kind: ResourceKind, id: string, value: T | null | undefined): T {
  if (value === null || value === undefined) throw new NotFoundError(kind, id);
  return value;
}

/**
 * Loads a resource (404 when missing), then requires access to its scene under the route's action (403
 * SCENE_ACCESS_DENIED outside the principal's grants; a resource in no scene is for admins only).
 */
export async function loadInScene<T>(
  req: Pick<ApiRequest, 'access'>,
  kind: ResourceKind,
  id: string,
  load: () => Promise<T | null | undefined>,
  sceneOf: (resource: T) => string | null,
): Promise<T> {
  const resource = found(kind, id, await load());
  req.access.requireScene(sceneOf(resource));
  return resource;
}
