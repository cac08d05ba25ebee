/**
 * A dispatcher on a fresh migrated Postgres database and a unique Redis prefix, with a scene, an executor
 * group and flows over the executor's example functions. The registry port is a plain list the test edits
 * (which executors are online is an input here, like a clock); no executor runs, so runs stay where the
 * dispatcher put them and the test reads BullMQ directly.
 */
import { Queue } from 'bullmq';
import { createDb, type PrismaClient, type Run } from '@kisjobs/db';
import { createKeyspace, newId, type Keyspace, type RunRequest } from '@kisjobs/protocol';
import { createMigratedDatabase, useTestRedis, type TestRedis } from '@kisjobs/testing';
import { putConfigDocuments } from '../../src/configs/store.js';
import type { DirectoryExecutor, ExecutorDirectory } from '../../src/dispatch/context.js';
import { createDispatcher, type Dispatcher } from '../../src/dispatch/dispatcher.js';
import { silentLogger } from '../../src/logger.js';
import { createJob } from '../../src/service/jobs.js';
import { createScene } from '../../src/service/scenes.js';

export const FUNCS = ['Source', 'Log', 'Sleep', 'Throw'] as const;

const yaml = (name: string, mode: string): string =>
  `kistype: func\nfname: ${name}\nfmode: ${mode}\nsource:\n  name: test\n  must: []\n`;

export const FLOW_SOURCES = [
  {
    file: 'funcs.yml',
    text: [
      yaml('Source', 'Load'),
      yaml('Log', 'Calculate'),
      yaml('Sleep', 'Calculate'),
      yaml('Throw', 'Calculate'),
    ].join('---\n'),
  },
  {
    file: 'flows.yml',
    text: [
      'kistype: flow\nflow_name: etl\nflows:\n  - fname: Source\n    params:\n      rows: "2"\n  - fname: Log\n',
      'kistype: flow\nflow_name: nap\nflows:\n  - fname: Sleep\n',
      'kistype: flow\nstatus: 0\nflow_name: off\nflows:\n  - fname: Source\n',
    ].join('---\n'),
  },
];

export class ListDirectory implements ExecutorDirectory {
  executors: DirectoryExecutor[] = [];
  onlineExecutors(): readonly DirectoryExecutor[] {
    return this.executors;
  }
  add(instanceId: string, registeredAt: number, functions: readonly string[] = FUNCS): void {
    this.executors.push({ instanceId, registeredAt, functions });
  }
  remove(instanceId: string): void {
    this.executors = this.executors.filter((e) => e.instanceId !== instanceId);
  }
}

export interface DispatchEnv {
  readonly prisma: PrismaClient;
  readonly redis: TestRedis;
  readonly keyspace: Keyspace;
  readonly directory: ListDirectory;
  readonly dispatcher: Dispatcher;
  readonly sceneId: string;
  readonly group: string;
  job(fields?: Record<string, unknown>): Promise<string>;
  run(id: string): Promise<Run>;
  runsOf(jobId: string): Promise<Run[]>;
  queue(name: string): Queue;
  /** The BullMQ job data of a run in a queue, or undefined. */
  queued(queueName: string, runId: string): Promise<RunRequest | undefined>;
  close(): Promise<void>;
}

export async function dispatchEnv(label: string): Promise<DispatchEnv> {
  const database = await createMigratedDatabase(label);
  const db = createDb({ url: database.url, poolMax: 4 });
  const redis = await useTestRedis(label);
  const keyspace = createKeyspace(redis.prefix);
  const directory = new ListDirectory();
  const prisma = db.prisma;
  const clock = { now: () => new Date() };
  const dispatcher = createDispatcher({
    prisma,
    redis: redis.client,
    keyspace,
    logger: silentLogger,
    clock,
    registry: directory,
    sweep: { graceMs: 0 },
    flowCacheTtlMs: 0,
  });
  const scene = await createScene(prisma, { name: `scene-${label}` }, clock.now());
  const group = 'etl';
  await prisma.executorGroup.create({ data: { id: newId('grp'), name: group } });
  await putConfigDocuments(prisma, FLOW_SOURCES);
  const queues = new Map<string, Queue>();
  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (q === undefined) {
      q = new Queue(name, { connection: redis.client, prefix: keyspace.bullPrefix });
      queues.set(name, q);
    }
    return q;
  };
  let n = 0;
  return {
    prisma,
    redis,
    keyspace,
    directory,
    dispatcher,
    sceneId: scene.id,
    group,
    async job(fields = {}) {
      n++;
      const job = await createJob(
        prisma,
        {
          name: `job-${n}`,
          sceneId: scene.id,
          flowName: 'etl',
          group,
          schedule: { type: 'manual' },
          blockStrategy: 'parallel',
          ...fields,
        },
        { now: clock.now() },
      );
      return job.id;
    },
    run: (id) => prisma.run.findUniqueOrThrow({ where: { id } }),
    runsOf: (jobId) =>
      prisma.run.findMany({ where: { jobId }, orderBy: [{ triggeredAt: 'asc' }, { id: 'asc' }] }),
    queue,
    async queued(queueName, runId) {
      const job = await queue(queueName).getJob(runId);
      return job === undefined ? undefined : (job.data as RunRequest);
    },
    async close() {
      await dispatcher.close();
      await Promise.all([...queues.values()].map((q) => q.close()));
      await redis.close();
      await db.close();
      await database.drop();
    },
  };
}
