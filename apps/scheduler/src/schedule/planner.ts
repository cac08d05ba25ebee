/**
 * Turns a claimed job into a plan: the fires to make (instant + trigger type) up to the horizon, and where
 * `next_fire_at` goes once they are recorded. Pure; memoised per claim batch, since many jobs share a
 * schedule and a next instant (10,000 jobs on `*\/10 * * * * *` plan once, not 10,000 times).
 */
import type { ScheduledFire, ScheduledTriggerType } from './fire-port.js';
import { fireQueryOfRow, type JobScheduleRow } from './job-schedule.js';
import { planDueFires, type MisfirePlan } from './misfire.js';

export interface PlanInput {
  readonly job: JobScheduleRow & { readonly nextFireAt: Date };
  readonly now: Date;
  readonly horizon: Date;
  readonly thresholdMs: number;
}

export interface JobPlan {
  readonly fires: readonly ScheduledFire[];
  readonly misfires: number;
  readonly skipped: number;
  readonly nextFireAt: Date | null;
}

function triggerTypeOf(job: JobScheduleRow, misfire: boolean): ScheduledTriggerType {
  if (misfire) return 'misfire';
  switch (job.scheduleType) {
    case 'cron':
    case 'fixed_rate':
    case 'once':
      return job.scheduleType;
    case 'manual':
      throw new Error(`job ${job.id}: a manual job has no scheduled fires`);
  }
}

function memoKey(input: PlanInput): string {
  const { job } = input;
  const anchor = job.scheduleType === 'fixed_rate' ? (job.startAt ?? job.createdAt).getTime() : 0;
  return [
    job.scheduleType,
    job.cronExpr,
    job.timezone,
    job.fixedRateMs,
    job.onceAt?.getTime(),
    job.startAt?.getTime(),
    job.endAt?.getTime(),
    anchor,
    job.misfirePolicy,
    job.catchUpLimit,
    job.nextFireAt.getTime(),
  ].join('|');
}

/** Plans jobs claimed at the same `now` and `horizon`; throws (per job) on a schedule it cannot read. */
export class Planner {
  readonly #memo = new Map<string, MisfirePlan>();

  plan(input: PlanInput): JobPlan {
    const { job } = input;
    const key = memoKey(input);
    let plan = this.#memo.get(key);
    if (plan === undefined) {
      plan = planDueFires({
        query: fireQueryOfRow(job),
        policy: job.misfirePolicy,
        nextFireAt: job.nextFireAt,
        now: input.now,
        horizon: input.horizon,
        thresholdMs: input.thresholdMs,
        catchUpLimit: job.catchUpLimit,
      });
      this.#memo.set(key, plan);
    }
    const fires = plan.fires.map((fire) => ({
      jobId: job.id,
      scheduledAt: fire.scheduledAt,
      triggerType: triggerTypeOf(job, fire.misfire),
    }));
    return {
      fires,
      misfires: plan.fires.filter((fire) => fire.misfire).length,
      skipped: plan.skipped,
      nextFireAt: plan.nextFireAt ?? null,
    };
  }
}
