/**
 * The scheduler's Prometheus metrics, read when scraped from the services' own counters (registry,
 * ingestion, lost-run detector, schedule engine) and from Redis and Postgres (executors by group and
 * state, runs waiting or running). Served by the HTTP app's `/metrics` on the same registry.
 *
 *   kisjobs_executors{group,state}                 online | draining | offline executors
 *   kisjobs_active_runs{status}                    runs pending or running now (stuck runs show here)
 *   kisjobs_ingest_*_total, kisjobs_ingest_consecutive_failures
 *   kisjobs_runs_finalized_total, kisjobs_lost_runs_reported_total
 *   kisjobs_schedule_fires_total{outcome}          fired | misfire | skipped | failed | voided
 *   kisjobs_schedule_fires_waiting, kisjobs_registry_scan_seconds
 * Counters mirror this replica's totals since it started (each replica exports its own).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PrismaClient } from '@kisjobs/db';
import type { Scheduler } from '../scheduler.js';

type Sources = Pick<Scheduler, 'registry' | 'ingestor' | 'lostDetector' | 'schedule' | 'listExecutors'>;

/** A counter whose value is a running total read from elsewhere when scraped. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function registerSchedulerMetrics(registry: Registry, scheduler: Sources, prisma: PrismaClient): void {
  const { ingestor, lostDetector, schedule } = scheduler;
  mirroredCounter(
    registry,
    'kisjobs_ingest_batches_total',
    'Run-event batches written to Postgres',
    () => ingestor.stats().batches,
  );
  mirroredCounter(
    registry,
    'kisjobs_ingest_entries_total',
    'Run-event stream entries ingested',
    () => ingestor.stats().entries,
  );
  mirroredCounter(
    registry,
    'kisjobs_ingest_log_lines_total',
    'Run log lines written to Postgres',
    () => ingestor.stats().logLinesInserted,
  );
  mirroredCounter(
    registry,
    'kisjobs_ingest_dead_lettered_total',
    'Run events that could not be decoded',
    () => ingestor.stats().deadLettered,
  );
  mirroredCounter(
    registry,
    'kisjobs_ingest_failures_total',
    'Failed ingestion attempts (Postgres or Redis down)',
    () => ingestor.stats().failures,
  );
  mirroredCounter(
    registry,
    'kisjobs_runs_finalized_total',
    'Runs that reached a final state through ingestion',
    () => ingestor.stats().finalized,
  );
  mirroredCounter(
    registry,
    'kisjobs_lost_runs_reported_total',
    'Runs the lost-run detector reported lost or stranded',
    () => lostDetector.stats().reported,
  );
  new Gauge({
    name: 'kisjobs_ingest_consecutive_failures',
    help: 'Failed ingestion attempts in the current streak (0 when healthy)',
    registers: [registry],
    collect() {
      this.set(ingestor.stats().consecutiveFailures);
    },
  });
  new Counter({
    name: 'kisjobs_schedule_fires_total',
    help: 'Schedule fires by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const s = schedule.stats();
      this.reset();
      for (const [outcome, value] of Object.entries({
        fired: s.fired,
        misfire: s.misfires,
        skipped: s.skipped,
        failed: s.failed,
        voided: s.voided,
      }))
        this.inc({ outcome }, value);
    },
  });
  new Gauge({
    name: 'kisjobs_schedule_fires_waiting',
    help: 'Fires planned and not dispatched yet',
    registers: [registry],
    collect() {
      this.set(schedule.stats().waiting);
    },
  });
  new Gauge({
    name: 'kisjobs_registry_scan_seconds',
    help: 'How long the last liveness scan of the executor registry took',
    registers: [registry],
    collect() {
      this.set(scheduler.registry.stats().lastScanMs / 1000);
    },
  });
  new Gauge({
    name: 'kisjobs_executors',
    help: 'Executors by group and state (online, draining, offline)',
    labelNames: ['group', 'state'],
    registers: [registry],
    async collect() {
      const executors = await scheduler.listExecutors();
      this.reset();
      for (const e of executors) {
        const state = e.live ? (e.draining ? 'draining' : 'online') : 'offline';
        this.inc({ group: e.group, state });
      }
    },
  });
  new Gauge({
    name: 'kisjobs_active_runs',
    help: 'Runs pending or running now',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await prisma.run.groupBy({
        by: ['status'],
        where: { status: { in: ['pending', 'running'] } },
        _count: { _all: true },
      });
      this.reset();
      this.set({ status: 'pending' }, 0);
      this.set({ status: 'running' }, 0);
      for (const row of rows) this.set({ status: row.status }, row._count._all);
    },
  });
}
