/**
 * Retention (DESIGN §3), in bounded batches with a pause between, oldest first:
 * - finished runs older than `runsDays`: first their log lines, `lineBatchSize` lines per statement (a run
 *   may hold thousands), then the runs themselves (their alert deliveries go with them, by cascade), through
 *   the `finished_at` index. Runs that are pending or running are never touched, however old;
 * - audit events older than `auditDays`, through the `(at, id)` index;
 * - executor history older than `executorsDays`: events, and executors offline or removed since then (an
 *   executor that comes back registers again as new; runs keep its instance id as text).
 * Batches take their rows with `FOR UPDATE SKIP LOCKED`, so replicas doing the same work at once delete
 * different rows and never wait on each other.
 */
import { Prisma, type PrismaClient } from '@kisjobs/db';
import { errorMessage, type Clock, type Logger } from '../registry/ports.js';

export interface RetentionOptions {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Keep finished runs this many days (default 30; 0 turns run retention off). */
  readonly runsDays?: number;
  /** Keep audit events this many days (default 180; 0 turns it off). */
  readonly auditDays?: number;
  /** Keep executor events, and executors offline or removed, this many days (default 7; 0 turns it off). */
  readonly executorsDays?: number;
  /** Rows per DELETE (default 1000). */
  readonly batchSize?: number;
  /** Log lines per DELETE (default 10,000). */
  readonly lineBatchSize?: number;
  /** Pause between batches (default 100 ms), so retention never hogs the database. */
  readonly pauseMs?: number;
  /** How often a pass runs (default 10 minutes; the first one a minute after start). */
  readonly intervalMs?: number;
}

export interface RetentionPass {
  readonly runs: number;
  readonly logLines: number;
  readonly auditEvents: number;
  readonly executors: number;
  readonly executorEvents: number;
}

const NOTHING: RetentionPass = { runs: 0, logLines: 0, auditEvents: 0, executors: 0, executorEvents: 0 };

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
  const executorsDays = options.executorsDays ?? 7;
  const batch = Math.max(1, options.batchSize ?? 1_000);
  const lineBatch = Math.max(1, options.lineBatchSize ?? 10_000);
  const pauseMs = options.pauseMs ?? 100;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionPass> | undefined;
  let totals: RetentionPass = NOTHING;
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));

  const FINAL = Prisma.sql`('succeeded', 'failed', 'timed_out', 'terminated', 'lost', 'skipped')`;
  const deleteLines = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM run_log_lines WHERE (run_id, seq) IN (
      SELECT l.run_id, l.seq FROM runs r JOIN run_log_lines l ON l.run_id = r.id
      WHERE r.finished_at < ${cutoff} AND r.status IN ${FINAL}
      LIMIT ${lineBatch}
      FOR UPDATE OF l SKIP LOCKED)`;
  const deleteRuns = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM runs WHERE id IN (
      SELECT id FROM runs
      WHERE finished_at < ${cutoff} AND status IN ${FINAL}
      ORDER BY finished_at LIMIT ${batch}
      FOR UPDATE SKIP LOCKED)`;
  const deleteAudit = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM audit_events WHERE id IN (
      SELECT id FROM audit_events WHERE at < ${cutoff} ORDER BY at LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
  const deleteExecutorEvents = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM executor_events WHERE id IN (
      SELECT id FROM executor_events WHERE at < ${cutoff} ORDER BY at LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
  const deleteExecutors = (cutoff: Date): Promise<number> => prisma.$executeRaw`
    DELETE FROM executors WHERE id IN (
      SELECT id FROM executors
      WHERE status IN ('offline', 'removed') AND COALESCE(offline_at, last_heartbeat_at) < ${cutoff}
      LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;

  const drain = async (
    remove: (cutoff: Date) => Promise<number>,
    cutoff: Date,
    size = batch,
  ): Promise<number> => {
    let deleted = 0;
    while (!closed) {
      const n = await remove(cutoff);
      deleted += n;
      if (n < size) break;
      await pause();
    }
    return deleted;
  };

  const runOnce = async (): Promise<RetentionPass> => {
    const now = clock.now().getTime();
    const ago = (days: number) => new Date(now - days * DAY_MS);
    const logLines = runsDays > 0 ? await drain(deleteLines, ago(runsDays), lineBatch) : 0;
    const runs = runsDays > 0 ? await drain(deleteRuns, ago(runsDays)) : 0;
    const auditEvents = auditDays > 0 ? await drain(deleteAudit, ago(auditDays)) : 0;
    const executorEvents = executorsDays > 0 ? await drain(deleteExecutorEvents, ago(executorsDays)) : 0;
    const executors = executorsDays > 0 ? await drain(deleteExecutors, ago(executorsDays)) : 0;
    const pass = { runs, logLines, auditEvents, executors, executorEvents };
    totals = {
      runs: totals.runs + runs,
      logLines: totals.logLines + logLines,
      auditEvents: totals.auditEvents + auditEvents,
      executors: totals.executors + executors,
      executorEvents: totals.executorEvents + executorEvents,
    };
    if (Object.values(pass).some((n) => n > 0)) {
      logger.info('retention pass', { ...pass, runsDays, auditDays, executorsDays });
    }
    return pass;
  };

  const tick = (): void => {
    running ??= runOnce()
      .catch((error: unknown) => {
        logger.warn('retention pass failed', { error: errorMessage(error) });
        return NOTHING;
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
