/**
 * A real KisJobs stack for the schedule end-to-end tests and the schedule benchmark: a migrated Postgres
 * database and a Redis prefix of the test's own, an in-process `createScheduler` that is never started
 * (the service API: groups, flows, scenes, jobs), scheduler replicas as child processes
 * (scheduler-entry.ts) and executors as child processes of the real runnable, with the example functions.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDb, type Db, type PrismaClient } from '@kisjobs/db';
import { createScheduler, silentLogger, type Scheduler } from '@kisjobs/scheduler';
import {
  createMigratedDatabase,
  exited,
  spawnService,
  stopChild,
  useTestRedis,
  waitFor,
  type TestDatabase,
  type TestRedis,
} from '@kisjobs/testing';

const ENTRY = fileURLToPath(new URL('./scheduler-entry.ts', import.meta.url));
const EXECUTOR_BIN = fileURLToPath(
  new URL('../../../packages/executor/src/bin/kisjobs-executor.mjs', import.meta.url),
);
export const FUNCTIONS_MODULE = fileURLToPath(
  new URL('../../../packages/executor/test/fixtures/functions.ts', import.meta.url),
);

/** `noop`: one Save function (commits a count); `sleep`: one cooperative sleep of the `ms` param. */
export const FLOWS_YAML = `
kistype: func
fname: Count
fmode: Save
source:
  name: fires
  must: []
---
kistype: func
fname: Sleep
fmode: Calculate
source:
  name: fires
  must: []
---
kistype: flow
flow_name: noop
flows:
  - fname: Count
---
kistype: flow
flow_name: sleep
flows:
  - fname: Sleep
`;

export interface JsonLine {
  readonly msg?: string;
  readonly level?: string;
  readonly [field: string]: unknown;
}

export interface ServiceChild {
  readonly child: ChildProcess;
  /** Lines matching the `keep` filter given at spawn (all error lines are kept too). */
  readonly lines: JsonLine[];
  output(): string;
  waitForLine(match: (line: JsonLine) => boolean, timeoutMs?: number): Promise<JsonLine>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

function watchLines(
  spawned: { child: ChildProcess; output: () => string },
  keep: (line: JsonLine) => boolean,
): ServiceChild {
  const { child, output } = spawned;
  const lines: JsonLine[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as JsonLine;
        if (keep(line) || line.level === 'error') lines.push(line);
      } catch {
        // not a log line
      }
    }
  });
  return {
    child,
    lines,
    output,
    waitForLine: (match, timeoutMs = 60_000) =>
      waitFor(
        () => {
          const found = lines.find(match);
          if (found === undefined && child.exitCode !== null) throw new Error(`exited: ${output()}`);
          return found;
        },
        { timeoutMs, intervalMs: 25, message: 'log line' },
      ),
    async kill(signal) {
      await stopChild(child, signal, 10_000);
      await exited(child);
    },
  };
}

export interface SchedulerSpawn {
  /** The engine's instance id (lease tokens start with it) and the replica's consumer name. */
  readonly name: string;
  readonly tuning?: Readonly<Record<string, unknown>>;
  /** Epoch ms: the engine starts ticking then (the rest of the scheduler at once). */
  readonly startAt?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ScheduleStack {
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  readonly db: Db;
  readonly prisma: PrismaClient;
  /** The service API (never started: the replicas do the scheduling). */
  readonly admin: Scheduler;
  readonly group: string;
  readonly token: string;
  readonly sceneId: string;
  spawnScheduler(spawn: SchedulerSpawn): Promise<ServiceChild>;
  spawnExecutor(options?: {
    readonly concurrency?: number;
    readonly group?: string;
    readonly token?: string;
    /** Isolation threads to start before the executor takes runs (`--warm-threads`). */
    readonly warmThreads?: number;
    /** Serve /metrics on a free port (`--metrics-port 0`); its URL is in the `metrics endpoint listening` line. */
    readonly metrics?: boolean;
  }): Promise<ServiceChild>;
  createGroup(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startScheduleStack(
  label: string,
  options: { readonly group?: string; readonly redisUrl?: string } = {},
): Promise<ScheduleStack> {
  const database = await createMigratedDatabase(label);
  const redis = await useTestRedis(label, options.redisUrl);
  const db = createDb({ url: database.url });
  const admin = createScheduler({
    prisma: db.prisma,
    redisUrl: redis.url,
    prefix: redis.prefix,
    logger: silentLogger,
  });
  const group = options.group ?? 'sched';
  const { token } = await admin.createGroup({ name: group });
  await admin.putConfigDocuments([{ file: 'flows.yml', text: FLOWS_YAML }]);
  const scene = await admin.createScene({ name: `scene-${label}` });
  const children: ServiceChild[] = [];

  return {
    database,
    redis,
    db,
    prisma: db.prisma,
    admin,
    group,
    token,
    sceneId: scene.id,
    async createGroup(name) {
      return (await admin.createGroup({ name })).token;
    },
    async spawnScheduler(spawn) {
      const env: Record<string, string | undefined> = {
        ...process.env,
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        KISJOBS_PREFIX: redis.prefix,
        KISJOBS_CONSUMER_NAME: spawn.name,
        KISJOBS_TEST_REPLICA: spawn.name,
        KISJOBS_TEST_SCHEDULE: JSON.stringify({ instanceId: spawn.name, ...spawn.tuning }),
        ...(spawn.startAt === undefined ? {} : { KISJOBS_TEST_SCHEDULE_START_AT: String(spawn.startAt) }),
        ...spawn.env,
      };
      const service = watchLines(
        spawnService(process.execPath, ['--import', 'tsx', ENTRY], { env }),
        (line) =>
          typeof line.msg === 'string' &&
          (line.msg.startsWith('test scheduler') ||
            line.msg.startsWith('schedule') ||
            line.msg.startsWith('redis lost')),
      );
      children.push(service);
      await service.waitForLine((line) => line.msg === 'test scheduler ready');
      return service;
    },
    async spawnExecutor(opts = {}) {
      const env: Record<string, string | undefined> = {
        ...process.env,
        KISJOBS_REDIS_URL: redis.url,
        KISJOBS_PREFIX: redis.prefix,
        KISJOBS_TOKEN: opts.token ?? token,
      };
      const args = [
        EXECUTOR_BIN,
        '--group',
        opts.group ?? group,
        '--functions',
        FUNCTIONS_MODULE,
        '--concurrency',
        String(opts.concurrency ?? 50),
        ...(opts.warmThreads === undefined ? [] : ['--warm-threads', String(opts.warmThreads)]),
        ...(opts.metrics === true ? ['--metrics-port', '0'] : []),
      ];
      const service = watchLines(
        spawnService(process.execPath, args, { env }),
        (line) => line.msg === 'executor started' || line.msg === 'metrics endpoint listening',
      );
      children.push(service);
      // Warm threads start two at a time, about half a second of CPU each.
      await service.waitForLine(
        (line) => line.msg === 'executor started',
        60_000 + (opts.warmThreads ?? 0) * 2_000,
      );
      return service;
    },
    async close() {
      await Promise.all(children.map((c) => c.kill('SIGKILL')));
      await admin.close();
      await db.close();
      await redis.close();
      await database.drop();
    },
  };
}

/** Epoch ms of the next whole second at least `leadMs` from now. */
export function nextWholeSecond(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / 1000) * 1000;
}

export interface FireRow {
  readonly jobId: string;
  readonly scheduledAt: Date;
  readonly triggerType: string;
  readonly status: string;
  readonly startedAt: Date | null;
  readonly triggeredAt: Date;
}

export async function firesOf(prisma: PrismaClient, jobIds?: readonly string[]): Promise<FireRow[]> {
  const runs = await prisma.run.findMany({
    where: jobIds === undefined ? {} : { jobId: { in: [...jobIds] } },
    select: {
      jobId: true,
      scheduledAt: true,
      triggerType: true,
      status: true,
      startedAt: true,
      triggeredAt: true,
    },
    orderBy: [{ jobId: 'asc' }, { scheduledAt: 'asc' }],
  });
  return runs.map((r) => ({ ...r, jobId: r.jobId ?? '' }));
}
