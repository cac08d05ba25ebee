/**
 * The redispatch sweep, run periodically by one scheduler replica at a time (a Redis lease). It repairs what
 * a crash, a failed BullMQ add or a Redis FLUSHALL left behind, so no run waits forever:
 * 1. held runs: serial jobs with held runs whose advance was missed are advanced;
 * 2. lost deliveries: pending runs claimed for a queue more than `graceMs` ago whose BullMQ job is gone
 *    are enqueued again (placed again: a dead target executor is replaced). A BullMQ job also disappears
 *    when its run finished and BullMQ removed it; that run's `finished` event is then in the events stream,
 *    maybe not yet in Postgres (ingestion lag, a Postgres outage). So runs are only re-sent once ingestion
 *    has acknowledged every event written before the BullMQ check, and after re-reading their status;
 *    Pending runs still in the direct queue of an executor that is not online are routed again too;
 * 3. missing follow-ups: recently finished runs that should have a retry or child runs and have none.
 */
import type { Run } from '@kisjobs/db';
import { INGEST_CONSUMER_GROUP } from '@kisjobs/protocol';
import { errorMessage } from '../registry/ports.js';
import { readHeartbeats } from '../registry/live-state.js';
import { epochAgeMs } from '../schedule/redis-reset.js';
import { advanceJob } from './advance.js';
import type { DispatchContext } from './context.js';
import { placeExisting } from './existing.js';
import { NON_RETRYABLE_CODES } from './follow-up.js';
import type { QueuedRun } from './queues.js';
import { rerouteDirectQueue } from './reroute.js';
import {
  claimDispatch,
  dispatchedPendingRuns,
  failPendingRuns,
  jobsWithHeldRuns,
  loadRuns,
  runsMissingFollowUp,
} from './run-store.js';

/**
 * After a Redis reset executors re-register (with the runs they hold in their heartbeat) at their next
 * beat (every ~2 s): until then nobody can tell a run an executor holds from one lost with its queue.
 */
const AFTER_RESET_MS = 3_000;

export interface SweepOptions {
  /** A claimed run gets this long to appear in BullMQ before it counts as lost. Default 5 s. */
  readonly graceMs?: number;
  /** Runs checked per sweep step. Default 500. */
  readonly batch?: number;
  /** How far back missing follow-ups are looked for. Default 1 h. */
  readonly followUpWindowMs?: number;
}

export interface SweepStats {
  readonly advancedJobs: number;
  readonly redelivered: number;
  readonly repaired: number;
}

export class RedispatchSweep {
  readonly #ctx: DispatchContext;
  readonly #graceMs: number;
  readonly #batch: number;
  readonly #windowMs: number;
  #cursor: { at: Date; id: string } | undefined;

  constructor(ctx: DispatchContext, options: SweepOptions = {}) {
    this.#ctx = ctx;
    this.#graceMs = options.graceMs ?? 5_000;
    this.#batch = options.batch ?? 500;
    this.#windowMs = options.followUpWindowMs ?? 3_600_000;
  }

  async sweep(): Promise<SweepStats> {
    const advancedJobs = await this.#advanceHeld();
    const redelivered = await this.#redeliver();
    const repaired = await this.#repairFollowUps();
    return { advancedJobs, redelivered, repaired };
  }

  async #advanceHeld(): Promise<number> {
    const ctx = this.#ctx;
    const jobs = await jobsWithHeldRuns(ctx.prisma, new Date(ctx.clock.now().getTime() - 2_000), this.#batch);
    const failed: string[] = [];
    for (const jobId of jobs) failed.push(...(await advanceJob(ctx, jobId)));
    if (failed.length > 0) await ctx.ops.followUp(failed);
    return jobs.length;
  }

  async #redeliver(): Promise<number> {
    const ctx = this.#ctx;
    const before = new Date(ctx.clock.now().getTime() - this.#graceMs);
    const runs = await dispatchedPendingRuns(ctx.prisma, before, this.#cursor, this.#batch);
    const last = runs.at(-1);
    this.#cursor =
      runs.length < this.#batch || last?.dispatchedAt == null
        ? undefined
        : { at: last.dispatchedAt, id: last.id };
    await this.#rerouteDeadTargets(runs);
    const queued = runs.flatMap((r) => (r.targetQueue === null ? [] : [{ id: r.id, queue: r.targetQueue }]));
    const missing = await ctx.queues.missing(queued);
    if (missing.size === 0) return 0;
    const checkedAtMs = await redisNowMs(ctx);
    if (!(await ingestionCaughtUp(ctx, checkedAtMs))) {
      ctx.logger.debug('redelivery postponed: run events are not all ingested yet', {
        missing: missing.size,
      });
      return 0;
    }
    const sinceReset = await epochAgeMs(ctx.redis, ctx.keyspace);
    if (sinceReset !== undefined && sinceReset < AFTER_RESET_MS) {
      ctx.logger.debug('redelivery postponed: redis was just reset, executors re-register first', {
        missing: missing.size,
      });
      return 0;
    }
    const expected = new Map(runs.map((r) => [r.id, r.dispatchedAt]));
    const loaded = await loadRuns(ctx.prisma, [...missing]);
    const held = await this.#heldRunIds(loaded);
    const fresh = loaded.filter(
      (r) =>
        r.status === 'pending' &&
        !held.has(r.id) &&
        r.dispatchedAt?.getTime() === expected.get(r.id)?.getTime(),
    );
    return this.#send(fresh);
  }

  /**
   * Runs a live executor of their group lists in its heartbeat: it took them (their BullMQ job may be gone
   * with a Redis reset, their `started` not ingested yet), so sending them again would run them twice.
   */
  async #heldRunIds(runs: readonly Run[]): Promise<Set<string>> {
    const ctx = this.#ctx;
    const groups = new Set(runs.flatMap((r) => (r.executorGroup === null ? [] : [r.executorGroup])));
    const members = await Promise.all(
      [...groups].map((g) => ctx.redis.smembers(ctx.keyspace.groupMembers(g))),
    );
    const named = runs.flatMap((r) => (r.executorInstanceId === null ? [] : [r.executorInstanceId]));
    const beats = await readHeartbeats(ctx.redis, ctx.keyspace, [...members.flat(), ...named]);
    const held = new Set<string>();
    for (const beat of beats.values()) for (const id of beat?.runIds ?? []) held.add(id);
    return held;
  }

  /** Direct queues of executors that are no longer online but still hold pending runs (a missed reroute). */
  async #rerouteDeadTargets(runs: readonly Run[]): Promise<void> {
    const ctx = this.#ctx;
    const byGroup = new Map<string, Set<string>>();
    for (const run of runs) {
      if (run.targetQueue?.startsWith('exe.') !== true || run.executorGroup === null) continue;
      const set = byGroup.get(run.executorGroup) ?? new Set<string>();
      set.add(run.targetQueue.slice(4));
      byGroup.set(run.executorGroup, set);
    }
    for (const [group, instances] of byGroup) {
      const online = new Set((await ctx.directory.onlineExecutors(group)).map((e) => e.instanceId));
      for (const instanceId of instances) {
        if (!online.has(instanceId)) await rerouteDirectQueue(ctx, instanceId);
      }
    }
  }

  async #send(runs: readonly Run[]): Promise<number> {
    const ctx = this.#ctx;
    if (runs.length === 0) return 0;
    const now = ctx.clock.now();
    const placed = await placeExisting(ctx, runs, { fallbackToGroup: true });
    const claimed = await claimDispatch(
      ctx.prisma,
      placed.flatMap((p) =>
        p.kind === 'queue' ? [{ id: p.run.id, targetQueue: p.queue, expected: p.run.dispatchedAt }] : [],
      ),
      now,
    );
    const byQueue = new Map<string, QueuedRun[]>();
    const failed: string[] = [];
    for (const p of placed) {
      if (p.kind === 'fail') {
        failed.push(
          ...(await failPendingRuns(ctx.prisma, [p.run.id], { code: p.code, message: p.message }, now)),
        );
      } else if (claimed.has(p.run.id)) {
        byQueue.set(p.queue, [...(byQueue.get(p.queue) ?? []), { request: p.request, delayMs: p.delayMs }]);
      }
    }
    let sent = 0;
    for (const [queue, list] of byQueue) {
      try {
        await ctx.queues.add(queue, list);
        sent += list.length;
      } catch (error) {
        ctx.logger.warn('redelivery failed; next sweep', { queue, error: errorMessage(error) });
      }
    }
    if (sent > 0) ctx.logger.info('runs without a BullMQ job enqueued again', { count: sent });
    if (failed.length > 0) await ctx.ops.followUp(failed);
    return sent;
  }

  async #repairFollowUps(): Promise<number> {
    const ctx = this.#ctx;
    const now = ctx.clock.now().getTime();
    const ids = await runsMissingFollowUp(
      ctx.prisma,
      { from: new Date(now - this.#windowMs), to: new Date(now - 10_000) },
      [...NON_RETRYABLE_CODES],
      this.#batch,
    );
    if (ids.length > 0) {
      ctx.logger.info('creating missing follow-ups of finished runs', { count: ids.length });
      await ctx.ops.followUp(ids);
    }
    return ids.length;
  }
}

async function redisNowMs(ctx: DispatchContext): Promise<number> {
  const [seconds, micros] = await ctx.redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Whether every entry of the events stream written before `atMs` has been ingested and acknowledged. */
export async function ingestionCaughtUp(ctx: DispatchContext, atMs: number): Promise<boolean> {
  const stream = ctx.keyspace.runEventsStream();
  let groups: unknown;
  try {
    groups = await ctx.redis.xinfo('GROUPS', stream);
  } catch (error) {
    // No stream at all (never written, or Redis lost its data): there is nothing left to ingest.
    if (/no such key/i.test(errorMessage(error))) return true;
    throw error;
  }
  const group = (Array.isArray(groups) ? groups : [])
    .map((flat) => fieldsOf(flat))
    .find((fields) => fields.get('name') === INGEST_CONSUMER_GROUP);
  if (group === undefined) return false;
  const pending = Number(group.get('pending') ?? 0);
  const lag = group.get('lag');
  const delivered = group.get('last-delivered-id');
  const lastDelivered = typeof delivered === 'string' ? idMs(delivered) : 0;
  const unreadOk = lag === 0 || lastDelivered > atMs;
  if (!unreadOk) return false;
  if (pending === 0) return true;
  const summary = (await ctx.redis.xpending(stream, INGEST_CONSUMER_GROUP)) as unknown[];
  const smallest = typeof summary[1] === 'string' ? idMs(summary[1]) : 0;
  return smallest > atMs;
}

function fieldsOf(flat: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(String(flat[i]), flat[i + 1]);
  return out;
}

function idMs(id: string): number {
  return Number(id.split('-')[0] ?? 0);
}
