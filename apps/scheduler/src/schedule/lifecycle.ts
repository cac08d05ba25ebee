/**
 * Job lifecycle as the schedule sees it (DESIGN §3):
 * - enable / create / edit (`recompute`): scheduling starts afresh from now: `next_fire_at` = the first
 *   instant after now; fires missed before are not made up (the job did not exist or was off).
 * - disable: `next_fire_at` = null; nothing fires until enabled again.
 * - pause: `next_fire_at` is kept, so the instants missed while paused are known on resume;
 * - resume: the job's misfire policy applies at once to every instant missed while paused (threshold 0:
 *   all of them were missed on purpose), as `misfire` fires; then scheduling continues.
 * Every change clears the engine lease, which voids fires a replica planned from the old state (see
 * engine.ts). Pause, resume, enable and disable bump `version` (they are edits by a person); recompute
 * does not (it derives state) but only writes over the version it read.
 */
import type { Job, PrismaClient } from '@kisjobs/db';
import { NotFoundError, newId } from '@kisjobs/protocol';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import type { FireDispatcher } from './fire-port.js';
import { advanceJobs, releaseLeases } from './job-leases.js';
import { fireQueryOfRow, firstFireAfter, type JobScheduleRow } from './job-schedule.js';
import { Planner } from './planner.js';

export interface LifecycleDeps {
  readonly prisma: PrismaClient;
  readonly dispatcher: FireDispatcher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Prefix of the lease token a resume takes while it makes the missed fires. */
  readonly instanceId: string;
}

export interface JobLifecycle {
  pauseJob(jobId: string): Promise<Job>;
  /** Unpauses and makes the fires the misfire policy wants for the paused span. */
  resumeJob(jobId: string): Promise<Job>;
  enableJob(jobId: string): Promise<Job>;
  disableJob(jobId: string): Promise<Job>;
  /** After a create or an edit of the schedule, window or `enabled`: where the schedule goes from now. */
  recompute(jobId: string): Promise<Job>;
}

const RESUME_LEASE_MS = 30_000;
const MAX_ATTEMPTS = 5;

const noLease = { leaseOwner: null, leaseUntil: null } as const;

export function createJobLifecycle(deps: LifecycleDeps): JobLifecycle {
  const { prisma, clock, logger } = deps;

  const first = (job: JobScheduleRow & { readonly enabled: boolean }, now: Date): Date | null =>
    firstFireAfter(fireQueryOfRow(job), now, job.enabled && job.scheduleType !== 'manual');

  const update = async (
    jobId: string,
    data: Parameters<PrismaClient['job']['updateManyAndReturn']>[0]['data'],
  ) => {
    const [job] = await prisma.job.updateManyAndReturn({ where: { id: jobId }, data });
    if (job === undefined) throw new NotFoundError('job', jobId);
    return job;
  };

  /** Reads the job, computes the data to write, and writes it only over the version it read. */
  const rewrite = async (
    jobId: string,
    compute: (job: Job, now: Date) => Parameters<PrismaClient['job']['updateManyAndReturn']>[0]['data'],
  ): Promise<Job> => {
    for (let attempt = 1; ; attempt++) {
      const job = await prisma.job.findUnique({ where: { id: jobId } });
      if (job === null) throw new NotFoundError('job', jobId);
      const data = compute(job, clock.now());
      const [written] = await prisma.job.updateManyAndReturn({
        where: { id: jobId, version: job.version },
        data,
      });
      if (written !== undefined) return written;
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`job ${jobId} kept changing; giving up after ${attempt} tries`);
    }
  };

  const resumeJob = async (jobId: string): Promise<Job> => {
    const token = `${deps.instanceId}.resume.${newId('evt').slice(-10)}`;
    const now = clock.now();
    const [job] = await prisma.job.updateManyAndReturn({
      where: { id: jobId, paused: true },
      data: {
        paused: false,
        leaseOwner: token,
        leaseUntil: new Date(now.getTime() + RESUME_LEASE_MS),
        version: { increment: 1 },
      },
    });
    if (job === undefined) return refreshed(jobId); // not paused (or gone: refreshed says which)
    const lease = { id: jobId, token };
    const scene = await prisma.scene.findUnique({ where: { id: job.sceneId }, select: { paused: true } });
    if (!job.enabled || scene?.paused === true) {
      await releaseLeases(prisma, [lease]);
      return refreshed(jobId);
    }
    if (job.nextFireAt === null) {
      await advanceJobs(prisma, [{ ...lease, nextFireAt: first(job, now), lastFireAt: null }]);
      return refreshed(jobId);
    }
    const plan = new Planner().plan({
      job: { ...job, nextFireAt: job.nextFireAt },
      now,
      horizon: now,
      thresholdMs: 0,
    });
    const outcomes = plan.fires.length === 0 ? [] : await deps.dispatcher.fire(plan.fires);
    const retry = outcomes.find((outcome) => !outcome.ok && outcome.retry);
    if (retry !== undefined && !retry.ok) {
      // The engine plans the span again once the lease is back (with its usual misfire threshold).
      logger.warn('schedule: resume could not make its misfire fires', {
        jobId,
        error: errorMessage(retry.error),
      });
      await releaseLeases(prisma, [lease]);
      return refreshed(jobId);
    }
    const last = plan.fires[plan.fires.length - 1]?.scheduledAt ?? null;
    await advanceJobs(prisma, [{ ...lease, nextFireAt: plan.nextFireAt, lastFireAt: last }]);
    logger.info('schedule: job resumed', { jobId, misfires: plan.misfires, skipped: plan.skipped });
    return refreshed(jobId);
  };

  const refreshed = async (jobId: string): Promise<Job> => {
    const job = await prisma.job.findUnique({ where: { id: jobId } });
    if (job === null) throw new NotFoundError('job', jobId);
    return job;
  };

  return {
    pauseJob: (jobId) => update(jobId, { paused: true, ...noLease, version: { increment: 1 } }),
    resumeJob,
    enableJob: (jobId) =>
      rewrite(jobId, (job, now) => ({
        enabled: true,
        nextFireAt: first({ ...job, enabled: true }, now),
        ...noLease,
        version: { increment: 1 },
      })),
    disableJob: (jobId) =>
      update(jobId, { enabled: false, nextFireAt: null, ...noLease, version: { increment: 1 } }),
    recompute: (jobId) => rewrite(jobId, (job, now) => ({ nextFireAt: first(job, now), ...noLease })),
  };
}
