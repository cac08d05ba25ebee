/**
 * Scene DTOs: a scene groups jobs; access is granted per scene, and pausing a scene pauses all its jobs
 * (the schedule engine skips jobs of a paused scene; their missed fires follow each job's misfire policy).
 */
import { z } from 'zod';
import { IsoDateTime } from '../common.js';
import { SceneId } from '../ids.js';

export const SceneName = z.string().trim().min(1).max(200);

export const Scene = z.object({
  id: SceneId,
  name: z.string(),
  description: z.string(),
  paused: z.boolean(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Scene = z.infer<typeof Scene>;

/** `POST /api/scenes` */
export const SceneCreateInput = z.strictObject({
  name: SceneName,
  description: z.string().max(2_000).default(''),
});
export type SceneCreateInput = z.infer<typeof SceneCreateInput>;

/** `PATCH /api/scenes/:id` */
export const ScenePatch = z
  .strictObject({ name: SceneName, description: z.string().max(2_000) })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, {
    message: 'Nothing to change: send name or description',
  });
export type ScenePatch = z.infer<typeof ScenePatch>;
