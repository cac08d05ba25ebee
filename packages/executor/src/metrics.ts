/**
 * The executor's Prometheus metrics, recorded into a Registry the caller owns (the runnable makes one; no
 * module-level registry). `createExecutorMetrics` returns the observer to hand to `createExecutor`; the
 * gauges read the executor's `stats()` when scraped.
 *
 *   kisjobs_executor_runs_started_total{flow}
 *   kisjobs_executor_runs_finished_total{flow,status}      succeeded | failed | timed_out | terminated
 *   kisjobs_executor_run_duration_seconds{flow,status}     from `started` to the end
 *   kisjobs_executor_run_wait_seconds                      from ready in the queue to `started`
 *   kisjobs_executor_active_runs                           runs held now
 *   kisjobs_executor_heartbeat_failures_total{reason}      error | refused | stalled | withheld (observer.ts)
 *   kisjobs_executor_registered                            1 while its record is in the registry
 *   kisjobs_executor_redis_connected                       1 while its Redis connection is up
 *   kisjobs_executor_isolation_threads                     isolation threads started now
 *   kisjobs_executor_isolation_threads_replaced_total      threads killed (a run would not stop) or crashed
 *   kisjobs_executor_queued_runs_reclaimed_total           runs queued behind a busy thread, moved to another
 * plus prom-client's default process metrics (`process_*`, `nodejs_*`) unless `defaultMetrics: false`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ExecutorStats } from './executor.js';
import { HEARTBEAT_FAILURES, type ExecutorObserver } from './observer.js';

export const EXECUTOR_METRIC_NAMES = {
  runsStarted: 'kisjobs_executor_runs_started_total',
  runsFinished: 'kisjobs_executor_runs_finished_total',
  runDuration: 'kisjobs_executor_run_duration_seconds',
  runWait: 'kisjobs_executor_run_wait_seconds',
  activeRuns: 'kisjobs_executor_active_runs',
  heartbeatFailures: 'kisjobs_executor_heartbeat_failures_total',
  registered: 'kisjobs_executor_registered',
  redisConnected: 'kisjobs_executor_redis_connected',
  isolationThreads: 'kisjobs_executor_isolation_threads',
  threadsReplaced: 'kisjobs_executor_isolation_threads_replaced_total',
  queuedRunsReclaimed: 'kisjobs_executor_queued_runs_reclaimed_total',
} as const;

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600];
/** Start delays worth telling apart: a few ms (idle) to minutes (a backlog). */
const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export type ExecutorStatsSource = () =>
  | Pick<
      ExecutorStats,
      'activeRuns' | 'registered' | 'redisConnected' | 'threads' | 'threadsReplaced' | 'queuedRunsReclaimed'
    >
  | undefined;

export interface ExecutorMetricsOptions {
  /** Also collect prom-client's default process metrics into the registry (default true). */
  readonly defaultMetrics?: boolean;
}

/**
 * Registers the metrics in `registry` and returns the observer that records runs and heartbeat failures.
 * `stats` is read at scrape time (undefined before the executor exists: the gauges read 0).
 */
export function createExecutorMetrics(
  registry: Registry,
  stats: ExecutorStatsSource,
  options: ExecutorMetricsOptions = {},
): ExecutorObserver {
  const n = EXECUTOR_METRIC_NAMES;
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const started = new Counter({
    name: n.runsStarted,
    help: 'Runs this executor started, by flow',
    labelNames: ['flow'] as const,
    registers: [registry],
  });
  const finished = new Counter({
    name: n.runsFinished,
    help: 'Runs this executor finished, by flow and status',
    labelNames: ['flow', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: n.runDuration,
    help: 'Run duration in seconds, from start to end, by flow and status',
    labelNames: ['flow', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const wait = new Histogram({
    name: n.runWait,
    help:
      'Seconds from a run being ready in its queue (added, or its retry delay over) to its start on this ' +
      'executor: queueing, pick-up and hand-off (the enqueuing host clock enters it)',
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const heartbeatFailures = new Counter({
    name: n.heartbeatFailures,
    help: 'Heartbeats that did not keep the registry record alive, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of HEARTBEAT_FAILURES) heartbeatFailures.inc({ reason }, 0);
  const gauge = (name: string, help: string, read: () => number): void =>
    void new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(n.activeRuns, 'Runs this executor holds now', () => stats()?.activeRuns ?? 0);
  gauge(n.registered, '1 while the executor record is in the registry', () =>
    stats()?.registered === true ? 1 : 0,
  );
  gauge(n.redisConnected, '1 while the Redis connection is up', () =>
    stats()?.redisConnected === true ? 1 : 0,
  );

  gauge(n.isolationThreads, 'Isolation threads started now', () => stats()?.threads ?? 0);
  // Counts kept by the thread pool, read at scrape time.
  const poolCounter = (name: string, help: string, read: () => number): void =>
    void new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  poolCounter(
    n.threadsReplaced,
    'Isolation threads terminated because a run would not stop, or that crashed, and replaced',
    () => stats()?.threadsReplaced ?? 0,
  );
  poolCounter(
    n.queuedRunsReclaimed,
    'Runs queued behind a busy isolation thread that it had not started in time, moved to another thread',
    () => stats()?.queuedRunsReclaimed ?? 0,
  );

  return {
    runStarted(event) {
      started.inc({ flow: event.flow });
      if (event.waitedMs !== undefined) wait.observe(event.waitedMs / 1000);
    },
    runFinished(event) {
      finished.inc({ flow: event.flow, status: event.status });
      if (event.durationMs !== undefined)
        duration.observe({ flow: event.flow, status: event.status }, event.durationMs / 1000);
    },
    heartbeatFailed(reason) {
      heartbeatFailures.inc({ reason });
    },
  };
}
