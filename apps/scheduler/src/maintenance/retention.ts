/**
 * Retention (DESIGN §3): deletes finished runs (their log lines and alert deliveries go with them, by
 * cascade) older than `runsDays`, and audit events older than `auditDays`, in bounded batches with a pause
 * between, oldest first, through the `finished_at` and `(at, id)` indexes. Runs that are pending or running
 * are never touched, however old. Batches take their rows with `FOR UPDATE SKIP LOCKED`, so replicas doing
 * the same work at once delete different rows and never wait on each other.
 */
import type { PrismaClient } from '@kisjobs/db';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';

export interface RetentionOptions {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Keep finished runs this many days (default 30; 0 turns run retention off). */
  readonly runsDays?: number;
  /** Keep audit events this many days (default 180; 0 turns it off). */
  readonly auditDays?: number;
  /** Rows per DELETE (default 1000). */
  readonly batchSize?: number;
  /** Pause between batches (default 100 ms), so retention never hogs the database. */
  readonly pauseMs?: number;
  /** How often a pass runs (default 10 minutes; the first one a minute after start). */
  readonly intervalMs?: number;
}

export interface RetentionPass {
  readonly runs: number;
  readonly auditEvents: number;
}

export interface Retention {
  /** One full pass: deletes batches until nothing old is left. */
  runOnce(): Promise<RetentionPass>;
  start(): void;
  close(): Promise<void>;
  /** Rows deleted since start. */
  stats(): RetentionPass;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createRetention(options: RetentionOptions): Retention {
  const { prisma, clock, logger } = options;
  const runsDays = options.runsDays ?? 30;
  const auditDays = options.auditDays ?? 180;
  const batch = Math.max(1, options.batchSize ?? 1_000);
  const pauseMs = options.pauseMs ?? 100;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionPass> | undefined;
  const totals = { runs: 0, auditEvents: 0 };
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));

  const deleteRuns = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM runs WHERE id IN (
      SELECT id FROM runs
      WHERE finished_at < ${cutoff}
        AND status IN ('succeeded', 'failed', 'timed_out', 'terminated', 'lost', 'skipped')
      ORDER BY finished_at LIMIT ${batch}
      FOR UPDATE SKIP LOCKED)`;
  const deleteAudit = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM audit_events WHERE id IN (
      SELECT id FROM audit_events WHERE at < ${cutoff} ORDER BY at LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;

  const drain = async (remove: (cutoff: Date) => Promise<number>, cutoff: Date): Promise<number> => {
    let deleted = 0;
    while (!closed) {
      const n = await remove(cutoff);
      deleted += n;
      if (n < batch) break;
      await pause();
    }
    return deleted;
  };

  const runOnce = async (): Promise<RetentionPass> => {
    const now = clock.now().getTime();
    const runs = runsDays > 0 ? await drain(deleteRuns, new Date(now - runsDays * DAY_MS)) : 0;
    const auditEvents = auditDays > 0 ? await drain(deleteAudit, new Date(now - auditDays * DAY_MS)) : 0;
    totals.runs += runs;
    totals.auditEvents += auditEvents;
    if (runs + auditEvents > 0) logger.info('retention pass', { runs, auditEvents, runsDays, auditDays });
    return { runs, auditEvents };
  };

  const tick = (): void => {
    running ??= runOnce()
      .catch((error: unknown) => {
        logger.warn('retention pass failed', { error: errorMessage(error) });
        return { runs: 0, auditEvents: 0 };
      })
      .finally(() => {
        running = undefined;
        if (!closed) timer = setTimeout(tick, intervalMs);
      });
  };

  return {
    runOnce,
    start() {
      if (timer !== undefined || closed) return;
      timer = setTimeout(tick, Math.min(60_000, intervalMs));
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
    stats: () => ({ ...totals }),
  };
}
