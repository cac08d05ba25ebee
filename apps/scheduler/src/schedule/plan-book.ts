/**
 * The fire loop's bookkeeping of claimed jobs: one plan per claim of a job (its lease, the instants still
 * to fire, where `next_fire_at` goes), settled exactly once, as an advance (every fire recorded: move
 * `next_fire_at`, end the lease), a release (a fire failed: give the lease back, keep `next_fire_at`) or
 * a void (the lease was taken away: write nothing). Advances and releases are written in batches by
 * `flush`, one statement each, at the next tick: always after the fires they follow.
 */
import type { PrismaClient } from '@kisjobs/db';
import { errorMessage, type Logger } from '../registry/ports.js';
import type { ScheduledFire } from './fire-port.js';
import { advanceJobs, releaseLeases, type Advance, type Lease } from './job-leases.js';

export interface Plan {
  readonly lease: Lease;
  readonly claimedAt: number;
  /** Until when the lease holds (ms), as last written. */
  leaseUntil: number;
  /** The instants still to dispatch, in order. */
  readonly ats: number[];
  readonly nextFireAt: Date | null;
  lastFireAt: Date | null;
  /** Fires not settled yet. */
  waiting: number;
  /** A batch with one of its fires is with the dispatcher. */
  busy: boolean;
  state: 'active' | 'settled';
}

export interface Entry {
  readonly at: number;
  readonly fire: ScheduledFire;
  readonly plan: Plan;
}

export class PlanBook {
  readonly plans = new Set<Plan>();
  readonly #advances: Advance[] = [];
  readonly #releases: Lease[] = [];
  readonly #prisma: PrismaClient;
  readonly #logger: Logger;

  constructor(prisma: PrismaClient, logger: Logger) {
    this.#prisma = prisma;
    this.#logger = logger;
  }

  open(
    lease: Lease,
    times: { readonly claimedAt: number; readonly leaseUntil: number },
    fires: readonly ScheduledFire[],
    nextFireAt: Date | null,
  ): Plan {
    const plan: Plan = {
      lease,
      ...times,
      ats: fires.map((fire) => fire.scheduledAt.getTime()),
      nextFireAt,
      lastFireAt: null,
      waiting: fires.length,
      busy: false,
      state: 'active',
    };
    this.plans.add(plan);
    if (fires.length === 0) this.settle(plan, 'advance');
    return plan;
  }

  /** A job whose schedule cannot be read: its schedule stops (`next_fire_at` null). */
  stop(lease: Lease): void {
    this.#advances.push({ ...lease, nextFireAt: null, lastFireAt: null });
  }

  settle(plan: Plan, how: 'advance' | 'release' | 'void'): void {
    if (plan.state === 'settled') return;
    plan.state = 'settled';
    this.plans.delete(plan);
    if (how === 'advance') {
      this.#advances.push({ ...plan.lease, nextFireAt: plan.nextFireAt, lastFireAt: plan.lastFireAt });
    } else if (how === 'release') {
      this.#releases.push(plan.lease);
    }
  }

  /**
   * Writes the advances and releases collected so far; a released job is not claimed again before
   * `retryAt` (undefined: at once). A failed write is logged: the leases then run out by themselves.
   */
  async flush(retryAt?: Date): Promise<void> {
    if (this.#advances.length > 0) {
      const batch = this.#advances.splice(0);
      try {
        await advanceJobs(this.#prisma, batch);
      } catch (error) {
        this.#logger.warn('schedule: could not move next fire times', {
          jobs: batch.length,
          error: errorMessage(error),
        });
      }
    }
    if (this.#releases.length > 0) {
      const batch = this.#releases.splice(0);
      try {
        await releaseLeases(this.#prisma, batch, retryAt);
      } catch (error) {
        this.#logger.warn('schedule: could not release leases', {
          jobs: batch.length,
          error: errorMessage(error),
        });
      }
    }
  }
}
