/**
 * The schedule engine's loop: each replica, every tick, leases the jobs whose next instant falls within the
 * lookahead, plans their fires, fires each AT its instant through the dispatcher port, and only then moves
 * `next_fire_at` forward (DESIGN §2.1). Replicas split the work with SKIP LOCKED; a fire made twice (a
 * replica that died after firing, a lease that ran out) is a no-op thanks to its deterministic run id.
 *
 *   tick:   flush advances ─▶ re-check the leases of planned fires ─▶ claim + plan due jobs ─▶ arm timer
 *   timer:  take due fires ─▶ dispatcher.fire(batch) ─▶ settle plans (advance queued for the next tick)
 *
 * Nothing is enqueued ahead of its instant: the dispatcher sees each fire at its instant, so the block
 * strategy is decided then (not a lookahead earlier), Redis holds no future fires (a FLUSHALL loses no
 * schedule), and a pause needs nothing removed from a queue. A pause, disable or edit clears the lease,
 * which voids planned fires at the next tick's lease check (within `tickMs`). A replica renews the leases
 * of the plans it is behind on, so only a dead replica's jobs are taken over.
 *
 * Lease tokens are `<instanceId>.<boot>.<seq>`; at start a replica frees the leases of its previous boot
 * (a stable instance id, e.g. the replica's consumer name, makes a restart resume without waiting for them).
 */
import type { PrismaClient } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';
import type { FireDispatcher, FireOutcome } from './fire-port.js';
import { FireTimeline } from './fire-timeline.js';
import { claimDueJobs, releaseStaleLeases, renewLeases } from './job-leases.js';
import { PlanBook, type Entry } from './plan-book.js';
import { Planner } from './planner.js';

export interface FireLoopOptions {
  readonly prisma: PrismaClient;
  readonly dispatcher: FireDispatcher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Names this replica in lease tokens and logs. Default: a new random id. */
  readonly instanceId?: string;
  /** How often to claim due jobs. Default 100 ms. */
  readonly tickMs?: number;
  /** Claim jobs whose next instant is at most this far ahead. Default 1000 ms. */
  readonly lookaheadMs?: number;
  /** A lease outlives the lookahead by this much (a dead replica's jobs wait this long). Default 2000 ms. */
  readonly leaseGraceMs?: number;
  /** Jobs per claim statement. Default 500. */
  readonly batchSize?: number;
  /** Claim statements per tick at most. Default 20. */
  readonly maxClaimsPerTick?: number;
  /** A due instant later than this is a misfire (DESIGN §3). Default 5000 ms. */
  readonly misfireThresholdMs?: number;
  /** Dispatch batches in flight at once. Default 4. */
  readonly maxInFlight?: number;
  /** Fires per dispatch batch at most. Default 2000. */
  readonly maxBatchFires?: number;
  /** After a failed fire, the job is not claimed again before this long. Default 1000 ms. */
  readonly retryBackoffMs?: number;
}

export interface FireLoopStats {
  readonly claimed: number;
  readonly fired: number;
  readonly misfires: number;
  readonly skipped: number;
  readonly failed: number;
  readonly voided: number;
  /** Fires planned and not dispatched yet. */
  readonly waiting: number;
  readonly inFlight: number;
}

export interface FireLoop {
  readonly instanceId: string;
  /** Starts ticking every `tickMs`. */
  start(): void;
  /** One claim cycle (what `start` repeats); for tests with a fake clock. */
  tick(): Promise<void>;
  /** Resolves when no fire whose instant has come is waiting or in flight, and advances are written. */
  idle(): Promise<void>;
  stats(): FireLoopStats;
  /** Stops ticking, lets dispatches in flight finish, writes advances and gives unfired leases back. */
  close(): Promise<void>;
}

export function createFireLoop(options: FireLoopOptions): FireLoop {
  const { prisma, dispatcher, clock, logger } = options;
  const instanceId = options.instanceId ?? newId('exe').slice(-12);
  const tickMs = options.tickMs ?? 100;
  const lookaheadMs = options.lookaheadMs ?? 1_000;
  const leaseGraceMs = options.leaseGraceMs ?? 2_000;
  const batchSize = options.batchSize ?? 500;
  const maxClaims = options.maxClaimsPerTick ?? 20;
  const thresholdMs = options.misfireThresholdMs ?? 5_000;
  const maxInFlight = options.maxInFlight ?? 4;
  const maxBatch = options.maxBatchFires ?? 2_000;
  const retryBackoffMs = options.retryBackoffMs ?? 1_000;

  const timeline = new FireTimeline<Entry>();
  const book = new PlanBook(prisma, logger);
  const stats = { claimed: 0, fired: 0, misfires: 0, skipped: 0, failed: 0, voided: 0 };
  const boot = `${instanceId}.${newId('evt').slice(-6)}`;
  let claimSeq = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let loop: Promise<void> | undefined;
  let ticking: Promise<void> | undefined;
  let closed = false;
  let wakeLoop: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];

  const flush = () => book.flush(new Date(clock.now().getTime() + retryBackoffMs));

  /**
   * One statement per tick over the plans this replica holds: the leases of plans about to fire are
   * checked (a plan whose lease was taken away, by an edit, pause or disable, is voided), and leases about
   * to run out are extended, so a replica that is alive but behind (a burst of fires, a slow database)
   * keeps its jobs: only a dead replica's leases run out.
   */
  const renewLeasesOfPlans = async (): Promise<void> => {
    const nowMs = clock.now().getTime();
    const soon = nowMs + 2 * tickMs;
    const fresh = nowMs - tickMs / 2;
    const renewBefore = nowMs + Math.max(1_000, 3 * tickMs);
    const selected = [...book.plans].filter(
      (plan) =>
        plan.leaseUntil < renewBefore ||
        (!plan.busy && plan.claimedAt < fresh && plan.ats[0] !== undefined && plan.ats[0] <= soon),
    );
    if (selected.length === 0) return;
    const until = nowMs + lookaheadMs + leaseGraceMs;
    const held = await renewLeases(
      prisma,
      selected.map((plan) => plan.lease),
      new Date(until),
    );
    for (const plan of selected) {
      if (held.has(plan.lease.id)) {
        plan.leaseUntil = Math.max(plan.leaseUntil, until);
        continue;
      }
      // A batch in flight finishes; its advance will not apply (the token no longer holds).
      if (plan.busy || plan.state !== 'active') continue;
      stats.voided += plan.waiting;
      plan.waiting = 0;
      book.settle(plan, 'void');
      logger.debug('schedule: planned fires voided (lease taken away)', { jobId: plan.lease.id });
    }
  };

  const claim = async (): Promise<number> => {
    const now = clock.now();
    const horizon = new Date(now.getTime() + lookaheadMs);
    const token = `${boot}.${(claimSeq++).toString(36)}`;
    const leaseUntil = horizon.getTime() + leaseGraceMs;
    const jobs = await claimDueJobs(prisma, {
      now,
      horizon,
      leaseUntil: new Date(leaseUntil),
      token,
      limit: batchSize,
    });
    stats.claimed += jobs.length;
    const planner = new Planner();
    for (const job of jobs) {
      const lease = { id: job.id, token };
      let planned;
      try {
        planned = planner.plan({ job, now, horizon, thresholdMs });
      } catch (error) {
        // A row written around the API that cannot be read: stop scheduling it rather than retry forever.
        logger.error('schedule: cannot plan job; its schedule is stopped', {
          jobId: job.id,
          error: errorMessage(error),
        });
        book.stop(lease);
        continue;
      }
      stats.misfires += planned.misfires;
      stats.skipped += planned.skipped;
      if (planned.skipped > 0) {
        logger.info('schedule: missed fires skipped', { jobId: job.id, skipped: planned.skipped });
      }
      const plan = book.open(
        lease,
        { claimedAt: now.getTime(), leaseUntil },
        planned.fires,
        planned.nextFireAt,
      );
      for (const fire of planned.fires) timeline.add({ at: fire.scheduledAt.getTime(), fire, plan });
    }
    return jobs.length;
  };

  const settleOutcome = (entry: Entry, outcome: FireOutcome): void => {
    const { plan, fire } = entry;
    if (plan.state === 'settled') return;
    plan.waiting--;
    if (outcome.ok) {
      stats.fired++;
      plan.lastFireAt = fire.scheduledAt;
    } else {
      stats.failed++;
      const fields = {
        jobId: fire.jobId,
        scheduledAt: fire.scheduledAt.toISOString(),
        error: errorMessage(outcome.error),
      };
      if (outcome.retry) {
        logger.warn('schedule: fire failed; it will be planned again', fields);
        book.settle(plan, 'release');
        return;
      }
      logger.error('schedule: fire refused; moving on', fields);
    }
    if (plan.waiting === 0) book.settle(plan, 'advance');
  };

  const dispatch = async (batch: readonly Entry[]): Promise<void> => {
    let outcomes: readonly FireOutcome[];
    try {
      outcomes = await dispatcher.fire(batch.map((entry) => entry.fire));
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, retry: true, error }));
    }
    batch.forEach((entry, i) => {
      entry.plan.busy = false;
      settleOutcome(entry, outcomes[i] ?? { ok: false, retry: true, error: new Error('no outcome') });
    });
  };

  /** Hands every fire whose instant has come to the dispatcher, in batches, `maxInFlight` at once. */
  const pump = (): void => {
    while (inFlight < maxInFlight && !closed) {
      const deferred: Entry[] = [];
      const batch = timeline.takeDue(clock.now().getTime(), maxBatch, (entry) => {
        if (entry.plan.state === 'settled') return false;
        // A job's fires go out one batch after another, in instant order: wait for its batch in flight.
        if (entry.plan.busy) {
          deferred.push(entry);
          return false;
        }
        return true;
      });
      for (const entry of deferred) timeline.add(entry);
      for (const entry of batch) {
        entry.plan.busy = true;
        entry.plan.ats.shift();
      }
      if (batch.length === 0) break;
      inFlight++;
      void dispatch(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
    arm();
    notifyIdle();
  };

  /** One timer, at the earliest planned instant. */
  const arm = (): void => {
    const next = timeline.peekAt();
    if (next === undefined || closed) return;
    if (timer !== undefined && timerAt <= next) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = next;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        pump();
      },
      Math.max(0, next - clock.now().getTime()),
    );
  };

  const dueWaiting = (): boolean => {
    const next = timeline.peekAt();
    return next !== undefined && next <= clock.now().getTime();
  };

  const notifyIdle = (): void => {
    if (inFlight > 0 || (!closed && dueWaiting())) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const tick = (): Promise<void> => {
    ticking ??= (async () => {
      try {
        await flush();
        await renewLeasesOfPlans();
        for (let i = 0; i < maxClaims && !closed; i++) {
          const count = await claim();
          pump();
          if (count < batchSize) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        ticking = undefined;
      }
    })();
    return ticking;
  };

  const sleepTick = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, tickMs);
      wakeLoop = () => {
        clearTimeout(t);
        resolve();
      };
    });

  return {
    instanceId,
    start() {
      if (loop !== undefined || closed) return;
      loop = (async () => {
        try {
          const freed = await releaseStaleLeases(prisma, instanceId, boot);
          if (freed > 0)
            logger.info('schedule: leases of a previous run of this replica freed', { jobs: freed });
        } catch (error) {
          logger.warn('schedule: could not free stale leases', { error: errorMessage(error) });
        }
        while (!closed) {
          try {
            await tick();
          } catch (error) {
            logger.warn('schedule: tick failed', { error: errorMessage(error) });
          }
          await sleepTick();
        }
      })();
    },
    tick,
    async idle() {
      pump();
      if (inFlight > 0 || dueWaiting()) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      await flush();
    },
    stats: () => ({ ...stats, waiting: timeline.size, inFlight }),
    async close() {
      if (closed) return;
      closed = true;
      wakeLoop?.();
      if (timer !== undefined) clearTimeout(timer);
      await loop;
      await ticking;
      while (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      // Fires not made yet: hand their jobs back at once, so another replica plans them without waiting
      // for the leases to run out.
      for (const entry of timeline.removeWhere(() => true)) book.settle(entry.plan, 'release');
      await book.flush();
    },
  };
}
