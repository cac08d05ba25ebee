/**
 * The whole pipeline for end-to-end tests: a real Postgres database (migrated), a unique Redis prefix, the
 * scheduler (registry, ingestion, lost-run detector, dispatcher) in the test process, and executors as REAL
 * child processes of the runnable `kisjobs-executor` with the example functions module.
 */
import { fileURLToPath } from 'node:url';
import { createDb, migrate, type PrismaClient, type Run } from '@kisjobs/db';
import { isFinalRunStatus, type RunStatus } from '@kisjobs/protocol';
import { createScheduler, type Scheduler, type SchedulerOptions } from '@kisjobs/scheduler';
import { createMigratedDatabase, useTestRedis, waitFor, type TestRedis } from '@kisjobs/testing';
import { spawnExecutorChild, type ExecutorChild, type SpawnExecutorOptions } from './executor-child.js';
import { FIXTURE_FLOWS } from './flows.js';

export const FUNCTIONS_MODULE = fileURLToPath(
  new URL('../../packages/executor/test/fixtures/functions.ts', import.meta.url),
);

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface PipelineOptions {
  /** A server URL of a database to migrate and use (e.g. a private Postgres); default a fresh test database. */
  readonly databaseUrl?: string;
  readonly group?: string;
  readonly poolMax?: number;
  /** Production intervals of the scheduler's loops instead of the tests' shorter ones (benchmarks). */
  readonly defaultIntervals?: boolean;
  /** Job alerts tuning (e.g. short retry delays). */
  readonly alerts?: SchedulerOptions['alerts'];
}

export interface Pipeline {
  readonly scheduler: Scheduler;
  readonly prisma: PrismaClient;
  readonly redis: TestRedis;
  readonly group: string;
  readonly token: string;
  readonly sceneId: string;
  /** Everything the scheduler logged. */
  readonly logs: LogLine[];
  job(fields?: Record<string, unknown>): Promise<string>;
  /** Triggers manually; returns the run ids. */
  trigger(jobId: string, params?: Record<string, string>): Promise<string[]>;
  spawnExecutor(
    options?: Partial<SpawnExecutorOptions> & { readonly waitOnline?: boolean },
  ): Promise<ExecutorChild>;
  /** Waits until `online` executors of the group are online in the scheduler's registry. */
  waitOnline(instanceIds: readonly string[], timeoutMs?: number): Promise<void>;
  run(runId: string): Promise<Run>;
  waitRun(runId: string, check: (run: Run) => boolean, timeoutMs?: number, what?: string): Promise<Run>;
  waitFinal(runId: string, timeoutMs?: number): Promise<Run>;
  waitStatus(runId: string, status: RunStatus, timeoutMs?: number): Promise<Run>;
  runsOf(jobId: string): Promise<Run[]>;
  /** Kills the executors (SIGKILL; `graceful`: SIGTERM, they drain and deregister), then closes the rest. */
  close(options?: { readonly graceful?: boolean }): Promise<void>;
}

export async function startPipeline(label: string, options: PipelineOptions = {}): Promise<Pipeline> {
  const database = options.databaseUrl === undefined ? await createMigratedDatabase(label) : undefined;
  const url = options.databaseUrl ?? database?.url ?? '';
  if (options.databaseUrl !== undefined) await migrate({ url });
  const logs: LogLine[] = [];
  const db = createDb({ url, poolMax: options.poolMax ?? 8, onPoolError: () => undefined });
  const redis = await useTestRedis(label);
  const at =
    (level: string) =>
    (msg: string, fields?: Readonly<Record<string, unknown>>): void => {
      logs.push({ ...fields, level, msg });
      if (process.env.KISJOBS_TEST_LOGS === '1') console.log(level, msg, JSON.stringify(fields ?? {}));
    };
  const scheduler = createScheduler({
    prisma: db.prisma,
    redis: redis.client,
    prefix: redis.prefix,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    consumerName: `test-${label}`,
    ...(options.alerts === undefined ? {} : { alerts: options.alerts }),
    ...(options.defaultIntervals === true
      ? {}
      : {
          dispatch: { sweepIntervalMs: 1_000, sweep: { graceMs: 3_000 } },
          registryScanIntervalMs: 500,
          lostSweepIntervalMs: 500,
        }),
  });
  await scheduler.start();
  const group = options.group ?? 'etl';
  const { token } = await scheduler.createGroup({ name: group });
  const scene = await scheduler.createScene({ name: `scene-${label}` });
  await scheduler.putConfigDocuments(FIXTURE_FLOWS);
  const children: ExecutorChild[] = [];
  let jobs = 0;
  let executors = 0;

  const pipeline: Pipeline = {
    scheduler,
    prisma: db.prisma,
    redis,
    group,
    token,
    sceneId: scene.id,
    logs,
    async job(fields = {}) {
      jobs++;
      const job = await scheduler.createJob({
        name: `job-${jobs}`,
        sceneId: scene.id,
        flowName: 'etl',
        group,
        schedule: { type: 'manual' },
        blockStrategy: 'parallel',
        timeoutMs: 60_000,
        ...fields,
      });
      return job.id;
    },
    async trigger(jobId, params) {
      const result = await scheduler.trigger(jobId, {
        triggerType: 'manual',
        triggeredBy: 'usr_e2e',
        ...(params === undefined ? {} : { params }),
      });
      return [...result.runIds];
    },
    async spawnExecutor(opts = {}) {
      executors++;
      const child = spawnExecutorChild({
        redisUrl: redis.url,
        prefix: redis.prefix,
        group,
        token,
        functions: FUNCTIONS_MODULE,
        concurrency: 4,
        instanceId: `${label.replace(/[^A-Za-z0-9-]/g, '')}-x${executors}`,
        ...opts,
      });
      children.push(child);
      if (opts.waitOnline !== false) {
        await waitFor(
          async () => {
            if (child.child.exitCode !== null) throw new Error(`executor exited: ${child.output()}`);
            const online = await scheduler.registry.onlineExecutors(group);
            return online.some((e) => e.instanceId === child.instanceId);
          },
          { timeoutMs: 30_000, intervalMs: 50, message: `executor ${child.instanceId} online` },
        );
      }
      return child;
    },
    async waitOnline(instanceIds, timeoutMs = 15_000) {
      await waitFor(
        async () => {
          const online = new Set((await scheduler.registry.onlineExecutors(group)).map((e) => e.instanceId));
          return instanceIds.every((id) => online.has(id));
        },
        { timeoutMs, intervalMs: 50, message: `executors ${instanceIds.join(', ')} online` },
      );
    },
    run: (runId) => db.prisma.run.findUniqueOrThrow({ where: { id: runId } }),
    waitRun(runId, check, timeoutMs = 20_000, what = 'condition') {
      return waitFor(
        async () => {
          const run = await db.prisma.run.findUnique({ where: { id: runId } });
          return run !== null && check(run) ? run : undefined;
        },
        { timeoutMs, intervalMs: 50, message: `run ${runId}: ${what}` },
      );
    },
    waitFinal(runId, timeoutMs) {
      return pipeline.waitRun(runId, (r) => isFinalRunStatus(r.status), timeoutMs, 'final');
    },
    waitStatus(runId, status, timeoutMs) {
      return pipeline.waitRun(runId, (r) => r.status === status, timeoutMs, status);
    },
    runsOf: (jobId) =>
      db.prisma.run.findMany({
        where: { jobId },
        orderBy: [{ triggeredAt: 'asc' }, { attempt: 'asc' }, { id: 'asc' }],
      }),
    async close(closeOptions = {}) {
      await Promise.all(children.map((c) => c.kill(closeOptions.graceful === true ? 'SIGTERM' : 'SIGKILL')));
      await scheduler.close();
      await redis.close();
      await db.close();
      await database?.drop();
    },
  };
  return pipeline;
}
