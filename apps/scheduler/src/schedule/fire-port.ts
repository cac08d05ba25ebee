/**
 * The schedule engine's port to the dispatcher: it hands over fires (job, instant, trigger type) and the
 * dispatcher records their runs and enqueues them. The engine decides WHEN and WHICH instants fire; the
 * dispatcher decides HOW (block strategy, routing, run rows, queues). Tests about firing decisions give the
 * engine a recording port; the composition root adapts the real dispatcher with `fireThroughTrigger`.
 */
import { isKisJobsError, type TriggerType } from '@kisjobs/protocol';

/** The trigger types a schedule produces (a late fire made by a misfire policy is `misfire`). */
export type ScheduledTriggerType = Extract<TriggerType, 'cron' | 'fixed_rate' | 'once' | 'misfire'>;

export interface ScheduledFire {
  readonly jobId: string;
  /** The fire's identity: one run per (job, scheduledAt, shard, attempt), whoever fires it, however often. */
  readonly scheduledAt: Date;
  readonly triggerType: ScheduledTriggerType;
}

/**
 * `ok`: the fire is recorded (or was already: a duplicate is `ok`). `retry: true`: nothing is known to be
 * recorded and trying again may work (database or Redis down); the engine keeps the job's `nextFireAt` and
 * plans the instant again. `retry: false`: trying again cannot help (the job was deleted); the engine
 * moves on.
 */
export type FireOutcome =
  { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly error: unknown };

export interface FireDispatcher {
  /**
   * Records and enqueues `fires`, idempotently: a fire whose run exists already is a no-op. Fires of one job
   * come in instant order and are handled in that order. Resolves, with one outcome per fire in the same
   * order, only once the runs are persisted: the engine moves `nextFireAt` forward after that
   * (DESIGN §2.1).
   */
  fire(fires: readonly ScheduledFire[]): Promise<readonly FireOutcome[]>;
}

/** The part of the dispatcher the adapter uses (`createDispatcher(...).trigger`). */
export interface TriggerPort {
  trigger(
    jobId: string,
    input: { readonly triggerType: TriggerType; readonly triggeredBy: string; readonly scheduledAt?: Date },
  ): Promise<unknown>;
}

export const SCHEDULER_ACTOR = 'scheduler';

/** Thrown errors: our typed non-retryable errors (JOB_NOT_FOUND...) are final, anything else is retried. */
export function outcomeOfError(error: unknown): FireOutcome {
  return { ok: false, retry: !(isKisJobsError(error) && !error.retryable), error };
}

/**
 * A `FireDispatcher` over the dispatcher's one-fire `trigger`: jobs in parallel (at most `concurrency`
 * triggers at once), the fires of one job one after another in instant order.
 */
export function fireThroughTrigger(
  port: TriggerPort,
  options: { readonly concurrency?: number } = {},
): FireDispatcher {
  const concurrency = Math.max(1, options.concurrency ?? 64);
  return {
    async fire(fires) {
      const outcomes: FireOutcome[] = fires.map(() => ({ ok: true }));
      const byJob = new Map<string, number[]>();
      fires.forEach((fire, index) => {
        const list = byJob.get(fire.jobId);
        if (list === undefined) byJob.set(fire.jobId, [index]);
        else list.push(index);
      });
      const lanes = [...byJob.values()];
      let nextLane = 0;
      const worker = async (): Promise<void> => {
        for (;;) {
          const lane = lanes[nextLane++];
          if (lane === undefined) return;
          let blocked: FireOutcome | undefined;
          for (const index of lane) {
            const fire = fires[index];
            if (fire === undefined) continue;
            // After a fire that will be retried, the job's later fires wait too: they keep their order.
            if (blocked !== undefined) {
              outcomes[index] = blocked;
              continue;
            }
            try {
              await port.trigger(fire.jobId, {
                triggerType: fire.triggerType,
                triggeredBy: SCHEDULER_ACTOR,
                scheduledAt: fire.scheduledAt,
              });
            } catch (error) {
              const outcome = outcomeOfError(error);
              outcomes[index] = outcome;
              if (!outcome.ok && outcome.retry) blocked = outcome;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, lanes.length) }, worker));
      return outcomes;
    },
  };
}
