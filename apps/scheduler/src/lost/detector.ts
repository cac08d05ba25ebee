/**
 * `createLostRunDetector` (DESIGN §2.2: no run stays "running" for ever). It finds runs that cannot end by
 * themselves and hands them to `onRunsLost` (the dispatcher marks them `lost` or retries them):
 * 1. pending/running runs of an executor that is offline: at once from `handleExecutorsOffline` (wired to
 *    the registry's `onExecutorsOffline`), including runs the executor's last heartbeat listed (taken from
 *    a queue, `started` never sent), and by the periodic sweep over `runs_active_idx`;
 * 2. running runs that their live executor's heartbeats stopped listing (see miss-tracker.ts);
 * 3. pending runs older than `pendingThresholdMs` whose BullMQ job is failed, missing, completed, or active
 *    with an expired lock (see queue-probe.ts); pending suspects are confirmed by a second look.
 * A SIGKILLed executor's running runs are reported ~7-8 s after the kill (6 s TTL + 1 s scan + guard).
 *
 * The ingestion guard: a suspect is reported only once every run event written to the events stream
 * before the observation has been ingested (the oldest entry still in the stream is newer than the
 * observation, by Redis' clock), and after re-reading the run: a `finished` event waiting in Redis (say,
 * Postgres was down) always wins over "lost". A run is never reported while its executor is live and
 * lists it (a pending run on a group queue counts as listed by any live member of its group: it names no
 * executor until its `started` is ingested). The periodic sweep runs on one replica at a time (a Redis
 * lease). For `resetGraceMs` after a Redis reset (reset-grace.ts) nothing is judged: heartbeat keys and
 * queued jobs are missing until executors re-register and the dispatcher enqueues again.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Heartbeat } from '@kisjobs/protocol';
import { errorMessage } from '../registry/ports.js';
import { CLOSE_TIMEOUT_MS, PeriodicTask, settleWithin } from '../registry/timers.js';
import { ActiveRunsReader } from './active-runs.js';
import { MissTracker } from './miss-tracker.js';
import { QueueProbe, defaultTargetQueue } from './queue-probe.js';
import { Lease, oldestEventMs, redisNowMs } from './redis-time.js';
import { ResetGrace } from './reset-grace.js';
import { SweepState, type Suspect } from './sweep-state.js';
import type {
  ActiveRun,
  LostCause,
  LostRun,
  LostRunDetector,
  LostRunDetectorOptions,
  LostRunDetectorStats,
  StrandedRun,
} from './types.js';

const WAITING = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children', 'paused']);

export function createLostRunDetector(options: LostRunDetectorOptions): LostRunDetector {
  return new Detector(options);
}

type MutableStats = { -readonly [K in keyof LostRunDetectorStats]: LostRunDetectorStats[K] };

class Detector implements LostRunDetector {
  readonly #o: LostRunDetectorOptions;
  readonly #reader: ActiveRunsReader;
  readonly #probe: QueueProbe;
  readonly #miss: MissTracker;
  readonly #state: SweepState;
  readonly #task: PeriodicTask;
  readonly #lease: Lease;
  readonly #grace: ResetGrace;
  /** Executors reported offline during a reset grace: looked at again once it is over. */
  readonly #offlineLater = new Set<string>();
  readonly #stats: MutableStats = {
    sweeps: 0,
    leaseHeld: false,
    reported: 0,
    stranded: 0,
    deferred: 0,
    suspects: 0,
    lastSweepMs: 0,
  };
  #exclusive: Promise<unknown> = Promise.resolve();
  #lastPruneAt = performance.now();

  constructor(options: LostRunDetectorOptions) {
    this.#o = options;
    this.#reader = new ActiveRunsReader(options.prisma);
    this.#probe = new QueueProbe(options.redis, options.keyspace, options.logger);
    this.#miss = new MissTracker({
      missedBeats: options.missedBeats ?? 2,
      minMissSpanMs: options.minMissSpanMs ?? 1_500,
    });
    this.#state = new SweepState({
      confirmMs: options.confirmMs ?? 2_000,
      probeIntervalMs: options.probeIntervalMs ?? 5_000,
      reportAgainMs: options.reportAgainMs ?? 30_000,
    });
    this.#grace = new ResetGrace(options.redis, options.keyspace, options.resetGraceMs);
    const intervalMs = options.intervalMs ?? 1_000;
    const owner = options.ownerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#lease = new Lease(
      options.redis,
      options.keyspace.lock('lost-runs'),
      owner,
      Math.max(5_000, intervalMs * 5),
    );
    this.#task = new PeriodicTask('lost-run sweep', intervalMs, () => this.#leasedSweep(), options.logger);
  }

  async start(): Promise<void> {
    this.#task.start();
  }

  async close(): Promise<void> {
    const stopped = (async () => {
      await this.#task.stop();
      await this.#exclusive.catch(() => undefined);
      await this.#lease.release();
    })();
    if (!(await settleWithin(stopped, CLOSE_TIMEOUT_MS))) {
      this.#o.logger.warn('lost-run detector closed while waiting for Redis or Postgres');
    }
    await this.#probe.close();
  }

  stats(): LostRunDetectorStats {
    return { ...this.#stats, suspects: this.#state.suspectCount };
  }

  sweep(): Promise<void> {
    return this.#serial(() => this.#sweep());
  }

  async handleExecutorsOffline(instanceIds: readonly string[]): Promise<void> {
    try {
      await this.#serial(() => this.#offline(instanceIds));
    } catch (error) {
      this.#o.logger.error('lost-run check of offline executors failed; the sweep will repeat it', {
        instanceIds: instanceIds.slice(0, 50),
        error: errorMessage(error),
      });
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(work, work);
    this.#exclusive = next.catch(() => undefined);
    return next;
  }

  async #leasedSweep(): Promise<void> {
    this.#stats.leaseHeld = await this.#lease.acquire();
    if (this.#stats.leaseHeld) await this.sweep();
  }

  async #sweep(): Promise<void> {
    const started = performance.now();
    const { clock, registry } = this.#o;
    const rows = await this.#reader.all(this.#o.maxRunsPerSweep ?? 20_000);
    this.#miss.retain(new Set(rows.filter((r) => r.status === 'running').map((r) => r.id)));
    this.#state.retain(new Set(rows.map((r) => r.id)));
    const executors = new Set(
      rows.flatMap((r) => (r.executorInstanceId === null ? [] : [r.executorInstanceId])),
    );
    // A pending run on a group queue names no executor until its `started` is ingested (late under load):
    // every member of its group may have taken it, so their heartbeats count too.
    for (const id of await this.#membersOfGroups(rows)) executors.add(id);
    const beats = await registry.heartbeatsOf([...executors]);
    if (await this.#resetGrace()) return; // missing heartbeats and queue jobs prove nothing now
    if (this.#offlineLater.size > 0) {
      const later = [...this.#offlineLater];
      this.#offlineLater.clear();
      await this.#offline(later);
    }
    const held = new Set<string>();
    for (const heartbeat of beats.values()) for (const id of heartbeat?.runIds ?? []) held.add(id);
    const stranded: StrandedRun[] = [];
    const now = clock.now().getTime();
    const probes = { left: this.#o.maxProbesPerSweep ?? 200 };
    for (const run of rows) await this.#examine(run, beats, held, now, stranded, probes);
    this.#state.observed(await redisNowMs(this.#o.redis));
    await this.#decide();
    await this.#strand(stranded);
    if (performance.now() - this.#lastPruneAt > 60_000) {
      this.#lastPruneAt = performance.now();
      await this.#probe.prune();
    }
    this.#stats.sweeps += 1;
    this.#stats.lastSweepMs = Math.round(performance.now() - started);
  }

  async #examine(
    run: ActiveRun,
    beats: ReadonlyMap<string, Heartbeat | undefined>,
    held: ReadonlySet<string>,
    now: number,
    stranded: StrandedRun[],
    probes: { left: number },
  ): Promise<void> {
    const state = this.#state;
    const executor = run.executorInstanceId;
    const heartbeat = executor === null ? undefined : beats.get(executor);
    if (run.status === 'running') {
      if (executor === null) return;
      if (heartbeat === undefined) {
        state.suspect(
          run,
          'executor_offline',
          `executor ${executor} stopped heartbeating while the run was running`,
        );
      } else if (this.#miss.observe(run.id, run.startedAt, heartbeat)) {
        state.suspect(run, 'not_in_heartbeat', `executor ${executor} is alive but no longer reports the run`);
      } else {
        state.clear(run.id);
      }
      return;
    }
    // Pending. A live executor that lists it has taken it; its `started` is on the way.
    if (held.has(run.id)) {
      state.clear(run.id, true);
      return;
    }
    const offline = executor !== null && heartbeat === undefined;
    const stale = now - run.triggeredAt.getTime() >= (this.#o.pendingThresholdMs ?? 30_000);
    const queue = (this.#o.targetQueueOf ?? ((r: ActiveRun) => defaultTargetQueue(this.#o.keyspace, r)))(run);
    if ((!offline && !stale) || queue === null) {
      state.clear(run.id);
      return;
    }
    if (probes.left <= 0 || !state.probeDue(run.id)) return;
    probes.left -= 1;
    const probe = await this.#probe.probe(queue, run.id);
    // Only the executor itself consumes its direct queue.
    const ownQueueOfDead = offline && queue === this.#o.keyspace.directQueue(executor);
    const confirm = (cause: LostCause, reason: string): void => state.suspectConfirmed(run, cause, reason);
    if (WAITING.has(probe.state)) {
      state.clear(run.id);
      state.probedWaiting(run.id);
      if (ownQueueOfDead) stranded.push(strandedRun(run, executor, queue, this.#o.clock.now()));
    } else if (probe.state === 'active' && ownQueueOfDead) {
      confirm('executor_offline', `executor ${executor} took the run from ${queue} and went offline`);
    } else if (probe.state === 'active' && stale && !probe.lockHeld) {
      confirm('queue_job_abandoned', `the worker that took the run from ${queue} is gone (lock expired)`);
    } else if (probe.state === 'failed' && stale) {
      confirm(
        'queue_job_failed',
        `BullMQ failed the run's job in ${queue} before it started (stalled worker)`,
      );
    } else if (probe.state === 'completed' && stale) {
      confirm('queue_job_completed', `the run's job in ${queue} completed but no result arrived`);
    } else if (probe.state === 'missing' && stale) {
      confirm('queue_job_missing', `the run's job is not in ${queue}`);
    } else {
      state.clear(run.id);
    }
  }

  async #offline(instanceIds: readonly string[]): Promise<void> {
    const { registry } = this.#o;
    const rows = await this.#reader.ofExecutors(instanceIds);
    const taken = new Set(instanceIds.flatMap((id) => registry.lastKnownHeartbeat(id)?.runIds ?? []));
    const known = new Set(rows.map((r) => r.id));
    rows.push(...(await this.#reader.byIds([...taken].filter((id) => !known.has(id)))));
    const executors = rows.flatMap((r) => (r.executorInstanceId === null ? [] : [r.executorInstanceId]));
    const beats = await registry.heartbeatsOf([...instanceIds, ...executors]);
    if (await this.#resetGrace()) {
      for (const id of instanceIds) this.#offlineLater.add(id);
      return;
    }
    for (const run of rows) {
      const executor = run.executorInstanceId;
      if (executor !== null && beats.get(executor) !== undefined) continue; // it came back
      if (run.status === 'running' && executor !== null) {
        this.#state.suspect(
          run,
          'executor_offline',
          `executor ${executor} went offline while the run was running`,
        );
      } else if (taken.has(run.id)) {
        const holder = instanceIds.find((id) => registry.lastKnownHeartbeat(id)?.runIds.includes(run.id));
        const reason = `executor ${holder ?? executor ?? '?'} took the run and went offline before it started`;
        this.#state.suspect(run, 'executor_offline', reason, true);
      }
    }
    this.#state.observed(await redisNowMs(this.#o.redis));
    await this.#decide();
  }

  /** Members of the groups of pending runs that name no executor. */
  async #membersOfGroups(rows: readonly ActiveRun[]): Promise<string[]> {
    const groups = new Set(
      rows.flatMap((r) =>
        r.status === 'pending' && r.executorInstanceId === null && r.executorGroup !== null
          ? [r.executorGroup]
          : [],
      ),
    );
    const { redis, keyspace } = this.#o;
    const members = await Promise.all([...groups].map((g) => redis.smembers(keyspace.groupMembers(g))));
    return members.flat();
  }

  /**
   * Whether Redis was reset lately (read after the heartbeats, so a reset before that read is seen).
   * A newly noticed reset drops what was suspected from the keys it took.
   */
  #resetGrace(): Promise<boolean> {
    return this.#grace.holding(() => {
      this.#state.forgetSuspicions();
      this.#miss.clear();
      this.#o.logger.info('redis was reset: judging no run lost until executors re-register');
    });
  }

  /** Reports the suspects whose observation every earlier run event has been ingested behind. */
  async #decide(): Promise<void> {
    const state = this.#state;
    if (state.suspectCount === 0) return;
    const oldest = await oldestEventMs(this.#o.redis, this.#o.keyspace);
    const { ready, deferred } = state.ready(oldest);
    this.#stats.deferred += deferred;
    if (ready.length === 0) return;
    const fresh = new Map((await this.#reader.byIds(ready.map((s) => s.run.id))).map((r) => [r.id, r]));
    const detectedAt = this.#o.clock.now();
    const lost: LostRun[] = [];
    for (const suspect of ready) {
      const row = fresh.get(suspect.run.id);
      if (!state.stillLost(suspect, row)) continue;
      lost.push(toLostRun(suspect, detectedAt));
    }
    if (lost.length === 0) return;
    await this.#o.onRunsLost(lost);
    state.reported(lost.map((r) => r.runId));
    this.#stats.reported += lost.length;
    this.#o.logger.warn('runs lost', {
      count: lost.length,
      runs: lost
        .slice(0, 50)
        .map((r) => ({ runId: r.runId, cause: r.cause, executor: r.executorInstanceId })),
    });
  }

  async #strand(stranded: readonly StrandedRun[]): Promise<void> {
    const fresh = this.#state.unreportedStranded(stranded);
    if (fresh.length === 0) return;
    this.#stats.stranded += fresh.length;
    if (this.#o.onRunsStranded === undefined) {
      this.#o.logger.debug('pending runs wait in the direct queue of an offline executor', {
        count: fresh.length,
      });
      return;
    }
    await this.#o.onRunsStranded([...fresh]);
  }
}

function strandedRun(run: ActiveRun, executor: string, queue: string, detectedAt: Date): StrandedRun {
  return {
    runId: run.id,
    jobId: run.jobId,
    executorGroup: run.executorGroup,
    executorInstanceId: executor,
    queue,
    detectedAt,
  };
}

function toLostRun(suspect: Suspect, detectedAt: Date): LostRun {
  const { run } = suspect;
  return {
    runId: run.id,
    jobId: run.jobId,
    status: run.status,
    attempt: run.attempt,
    executorGroup: run.executorGroup,
    executorInstanceId: run.executorInstanceId,
    cause: suspect.cause,
    reason: suspect.reason,
    detectedAt,
  };
}
