/** Test glue for databases with the KisJobs schema (the template helpers live in @kisjobs/testing). */
import type { PrismaClient } from '../src/index.js';

export { migratedTemplate, createMigratedDatabase } from '@kisjobs/testing';

export interface Fixture {
  readonly sceneId: string;
  readonly groupId: string;
  readonly jobId: string;
}

/** A scene, an executor group and a cron job in them; `suffix` keeps names unique within a database. */
export async function seedJob(prisma: PrismaClient, suffix: string): Promise<Fixture> {
  const sceneId = `scn_${suffix}`;
  const groupId = `grp_${suffix}`;
  const jobId = `job_${suffix}`;
  await prisma.scene.create({ data: { id: sceneId, name: `scene-${suffix}` } });
  await prisma.executorGroup.create({ data: { id: groupId, name: `group-${suffix}` } });
  await prisma.job.create({
    data: {
      id: jobId,
      sceneId,
      executorGroupId: groupId,
      name: `job-${suffix}`,
      flowName: 'flow-1',
      scheduleType: 'cron',
      cronExpr: '*/5 * * * * *',
    },
  });
  return { sceneId, groupId, jobId };
}
