/** Creating a scene (a group of jobs that access is granted on): the minimum the end-to-end tests need. */
import { z } from 'zod';
import { Prisma, type PrismaClient, type Scene } from '@kisjobs/db';
import { ConflictError, ValidationError, newId, toValidationIssues } from '@kisjobs/protocol';

export const SceneInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2_000).default(''),
});
export type SceneInput = z.infer<typeof SceneInput>;

export async function createScene(prisma: PrismaClient, body: unknown, now: Date): Promise<Scene> {
  const parsed = SceneInput.safeParse(body);
  if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error.issues));
  try {
    return await prisma.scene.create({
      data: { id: newId('scn', now), name: parsed.data.name, description: parsed.data.description },
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new ConflictError(`a scene named ${parsed.data.name} exists already`, { code: 'ALREADY_EXISTS' });
    }
    throw error;
  }
}
