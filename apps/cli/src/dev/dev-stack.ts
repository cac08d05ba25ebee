/**
 * `kisjobs dev` (the README's first command, through `npm run dev`): one process with the scheduler, the HTTP
 * API and its reference page, plus one executor child process running the example functions, on
 * - Postgres: `DATABASE_URL`, else embedded PGlite in `.kisjobs/pgdata`;
 * - Redis: `REDIS_URL`, else a redis-server from PATH started for the session (redis-server.ts).
 * The first start creates an admin with a generated password and the example scene; later starts reuse them.
 * Ctrl-C (or SIGTERM) stops everything in order and exits 0; a second one exits at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { countUsers, createDb, migrate, type Db } from '@kisjobs/db';
import {
  createAdmin,
  createHttpApp,
  createJsonLogger,
  createScheduler,
  registerSchedulerMetrics,
  systemClock,
  type HttpServerHandle,
  type Scheduler,
} from '@kisjobs/scheduler';
import { executorEntry } from '../commands/processes.js';
import { ensureGroupToken } from '../database/group-token.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { startAlertInbox, type AlertInbox } from './alert-inbox.js';
import { devPaths, endLeftoverChildren, lockDevDir, recordChildren, type DevPaths } from './data-dir.js';
import { probePort } from './ports.js';
import { startLocalRedis, type LocalRedis } from './redis-server.js';
import { startRunFeed, type RunFeed } from './run-feed.js';
import { EXAMPLE_SCENE, FAILING_JOB, MANUAL_JOB, PERIODIC_JOB, seedExampleScene } from './seed.js';

const DevEnv = z.object({
  KISJOBS_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  KISJOBS_DEV_GROUP: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
    .default('default'),
  KISJOBS_DEV_FUNCTIONS: z.string().min(1).default('examples/orders/functions.ts'),
});

const StoredAdmin = z.object({ username: z.string(), password: z.string(), alertSecret: z.string() });
type StoredAdmin = z.infer<typeof StoredAdmin>;

interface Running {
  redis?: LocalRedis;
  db?: Db;
  scheduler?: Scheduler;
  http?: HttpServerHandle;
  inbox?: AlertInbox;
  executor?: ChildProcess;
  feed?: RunFeed;
  release?: () => void;
}

function readStoredAdmin(paths: DevPaths): StoredAdmin | undefined {
  if (!existsSync(paths.credentials)) return undefined;
  const parsed = StoredAdmin.safeParse(JSON.parse(readFileSync(paths.credentials, 'utf8')) as unknown);
  return parsed.success ? parsed.data : undefined;
}

function startExecutor(
  ctx: CliContext,
  paths: DevPaths,
  settings: { group: string; functions: string; redisUrl: string },
): ChildProcess {
  const log = createWriteStream(join(paths.logs, 'executor.log'), { flags: 'a' });
  const env: Record<string, string | undefined> = {
    ...ctx.env,
    KISJOBS_GROUP: settings.group,
    KISJOBS_FUNCTIONS: settings.functions,
    KISJOBS_REDIS_URL: settings.redisUrl,
    KISJOBS_TOKEN_FILE: paths.executorToken,
    KISJOBS_CONCURRENCY: '4',
    KISJOBS_INSTANCE_ID: `dev-executor-${process.pid}`,
  };
  delete env['KISJOBS_TOKEN'];
  const child = spawn(process.execPath, [executorEntry()], {
    cwd: ctx.cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Fails before anything starts when the API's port is taken (the listen later could still race). */
async function assertPortFree(port: number): Promise<void> {
  try {
    await probePort(port);
  } catch (error) {
    throw new CliError('PORT_IN_USE', `cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
      hint: 'Set KISJOBS_HTTP_PORT to a free port (0 picks one).',
    });
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function runDevStack(ctx: CliContext): Promise<number> {
  const say = (line: string): void => ctx.io.out(`${line}\n`);
  const envParsed = DevEnv.safeParse(
    Object.fromEntries(Object.entries(ctx.env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!envParsed.success) {
    throw new CliError('USAGE', 'invalid settings', {
      exitCode: EXIT.usage,
      issues: envParsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const settings = envParsed.data;
  const functionsPath = join(ctx.cwd, settings.KISJOBS_DEV_FUNCTIONS);
  if (!existsSync(functionsPath)) {
    throw new CliError('USAGE', `KISJOBS_DEV_FUNCTIONS: ${functionsPath} does not exist`, {
      exitCode: EXIT.usage,
      hint: 'Run the dev stack from the repository root, or set KISJOBS_DEV_FUNCTIONS.',
    });
  }
  const paths = devPaths(ctx.cwd, ctx.env);
  const running: Running = {};
  running.release = lockDevDir(paths);
  const leftovers = endLeftoverChildren(paths);
  if (leftovers.length > 0) say(`ended ${leftovers.length} process(es) a previous dev stack left running`);

  let stopping: Promise<void> | undefined;
  let signals = 0;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      await running.feed?.stop();
      await running.http?.close().catch(() => undefined);
      if (running.executor !== undefined) {
        running.executor.kill('SIGTERM');
        await waitExit(running.executor, 15_000);
      }
      await running.scheduler?.close().catch(() => undefined);
      await running.inbox?.close();
      await running.db?.close().catch(() => undefined);
      await running.redis?.stop();
      recordChildren(paths, []);
      await new Promise<void>((resolve) =>
        schedulerLog === undefined ? resolve() : schedulerLog.end(resolve),
      );
      running.release?.();
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      ctx.io.err(`${signal} again: exiting now\n`);
      running.executor?.kill('SIGKILL');
      process.exit(130);
    }
    say(`\n${signal}: stopping (the executor finishes its runs first)...`);
    void shutdown().finally(markStopped);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let schedulerLog: WriteStream | undefined;
  const logger = createJsonLogger({
    level: 'info',
    base: { service: 'kisjobs-dev' },
    write: (line) => {
      schedulerLog ??= createWriteStream(join(paths.logs, 'scheduler.log'), { flags: 'a' });
      schedulerLog.write(line);
    },
  });
  const rel = (p: string): string => relative(ctx.cwd, p) || '.';

  try {
    say(`starting the KisJobs dev stack in ${rel(paths.root)}`);
    if (settings.KISJOBS_HTTP_PORT !== 0) await assertPortFree(settings.KISJOBS_HTTP_PORT);
    // Redis
    const redisUrlEnv = ctx.env['REDIS_URL'];
    let redisUrl: string;
    let redisLabel: string;
    if (redisUrlEnv !== undefined && redisUrlEnv !== '') {
      redisUrl = redisUrlEnv;
      redisLabel = `${redisUrl} (REDIS_URL)`;
    } else {
      running.redis = await startLocalRedis(paths.redis, ctx.env);
      recordChildren(paths, [running.redis.pid]);
      redisUrl = running.redis.url;
      redisLabel = `${redisUrl} (redis-server started for this session, data in ${rel(paths.redis)})`;
    }

    // Postgres
    const dbUrl = ctx.env['DATABASE_URL'];
    const useServer = dbUrl !== undefined && dbUrl !== '';
    const dbTarget = useServer ? { url: dbUrl } : { pgliteDir: paths.pgdata };
    const dbLabel = useServer ? `DATABASE_URL (${new URL(dbUrl).host})` : `PGlite in ${rel(paths.pgdata)}`;
    const migrated = await migrate(dbTarget);
    if (migrated.applied.length > 0) say(`  applied ${migrated.applied.length} database migration(s)`);
    running.db = createDb(dbTarget);
    const prisma = running.db.prisma;

    // First admin (generated once, kept in the dev folder)
    let admin = readStoredAdmin(paths);
    let adminNote = `saved in ${rel(paths.credentials)}`;
    let adminId: string | null = null;
    if ((await countUsers(prisma)) === 0) {
      const created = await createAdmin({ prisma, clock: systemClock }, { username: 'admin' });
      admin = {
        username: created.user.username,
        password: created.generatedPassword ?? '',
        alertSecret: admin?.alertSecret ?? randomBytes(24).toString('hex'),
      };
      writeFileSync(paths.credentials, `${JSON.stringify(admin, null, 2)}\n`, { mode: 0o600 });
      adminId = created.user.id;
      adminNote = `generated now, ${adminNote}`;
    } else {
      const user = await prisma.user.findFirst({ where: { role: 'admin' }, orderBy: { createdAt: 'asc' } });
      adminId = user?.id ?? null;
      if (admin === undefined) {
        admin = {
          username: user?.username ?? 'admin',
          password: '(not stored here)',
          alertSecret: randomBytes(24).toString('hex'),
        };
        writeFileSync(paths.credentials, `${JSON.stringify(admin, null, 2)}\n`, { mode: 0o600 });
        adminNote = 'this database already had users; use your own credentials';
      }
    }

    // Executor group token, alert inbox, example scene
    await ensureGroupToken(prisma, settings.KISJOBS_DEV_GROUP, paths.executorToken);
    running.inbox = await startAlertInbox(admin.alertSecret, 0, (line) => say(`  ! ${line}`));
    const seeded = await seedExampleScene({
      prisma,
      examplesDir: join(functionsPath, '..'),
      redisUrl,
      group: settings.KISJOBS_DEV_GROUP,
      alertUrl: running.inbox.url,
      alertSecret: admin.alertSecret,
      adminId,
    });
    if (seeded.created.length > 0)
      say(`  created the example scene "${EXAMPLE_SCENE}": ${seeded.created.join(', ')}`);

    // Scheduler + HTTP API
    running.scheduler = createScheduler({
      prisma,
      redisUrl,
      logger,
      consumerName: `dev-${process.pid}`,
      alerts: { baseDelayMs: 1_000 },
    });
    await running.scheduler.start();
    const metricsRegistry = new Registry();
    registerSchedulerMetrics(metricsRegistry, running.scheduler, prisma);
    const app = createHttpApp({
      prisma,
      redis: running.scheduler.redis,
      logger,
      clock: systemClock,
      metricsRegistry,
      services: { scheduler: running.scheduler },
    });
    try {
      running.http = await app.listen(settings.KISJOBS_HTTP_PORT, '127.0.0.1');
    } catch (error) {
      throw new CliError(
        'PORT_IN_USE',
        `cannot listen on 127.0.0.1:${settings.KISJOBS_HTTP_PORT}: ${String(error)}`,
        {
          hint: 'Set KISJOBS_HTTP_PORT to a free port (0 picks one).',
        },
      );
    }

    // Executor
    running.executor = startExecutor(ctx, paths, {
      group: settings.KISJOBS_DEV_GROUP,
      functions: functionsPath,
      redisUrl,
    });
    recordChildren(
      paths,
      [running.redis?.pid, running.executor.pid].filter((p): p is number => p !== undefined),
    );
    running.executor.once('exit', (code, signal) => {
      if (stopping === undefined) {
        say(
          `  ! the executor exited (${signal ?? `code ${code}`}); its log: ${rel(join(paths.logs, 'executor.log'))}`,
        );
      }
    });

    const url = running.http.url;
    say('');
    say('KisJobs dev stack is up');
    say(`  Console:   ${url}/docs   (API reference; the web console is not built yet)`);
    say(`  API:       ${url}/api`);
    say(`  Username:  ${admin.username}`);
    say(`  Password:  ${admin.password}   (${adminNote})`);
    say(`  CLI:       npx kisjobs login --url ${url} -u ${admin.username}`);
    say(`  Postgres:  ${dbLabel}`);
    say(`  Redis:     ${redisLabel}`);
    say(
      `  Executor:  group ${settings.KISJOBS_DEV_GROUP}, ${rel(functionsPath)} (log ${rel(join(paths.logs, 'executor.log'))})`,
    );
    say(
      `  Scene "${EXAMPLE_SCENE}": ${PERIODIC_JOB} (every 10 s), ${MANUAL_JOB} (manual), ${FAILING_JOB} (fails on purpose, every minute)`,
    );
    say('Press Ctrl-C to stop. Finished runs:');
    running.feed = startRunFeed(prisma, say);
  } catch (error) {
    await shutdown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw error;
  }
  await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  say('stopped cleanly');
  return EXIT.ok;
}
