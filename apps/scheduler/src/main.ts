/**
 * The runnable scheduler: `tsx apps/scheduler/src/main.ts`. The environment is parsed once (env.ts); bad
 * settings exit 64 naming the variables. It starts the scheduler, creates the first admin from
 * KISJOBS_ADMIN_USERNAME / KISJOBS_ADMIN_PASSWORD when there is no user yet, and serves the HTTP API.
 * SIGTERM / SIGINT close the HTTP server, then the scheduler in order (scheduler.ts), then Postgres; a
 * second signal exits at once.
 */
import { Registry } from 'prom-client';
import { createDb, migrate } from '@kisjobs/db';
import { bootstrapAdminFromEnv } from './auth/admin.js';
import { parseSchedulerEnv, smtpSettingsOf } from './env.js';
import { createHttpApp } from './http/app.js';
import type { HttpServerHandle } from './http/listen.js';
import { createJsonLogger } from './logger.js';
import { errorMessage, systemClock } from './registry/ports.js';
import { registerSchedulerMetrics } from './metrics/scheduler-metrics.js';
import { createScheduler } from './scheduler.js';

const EXIT_USAGE = 64;

async function main(): Promise<number> {
  const parsed = parseSchedulerEnv(process.env);
  if (!parsed.ok) {
    const logger = createJsonLogger({ base: { service: 'kisjobs-scheduler' } });
    logger.error(`invalid settings: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      issues: parsed.issues,
    });
    return EXIT_USAGE;
  }
  const env = parsed.env;
  const logger = createJsonLogger({ level: env.KISJOBS_LOG_LEVEL, base: { service: 'kisjobs-scheduler' } });
  if (env.KISJOBS_MIGRATE) {
    const result = await migrate({ url: env.DATABASE_URL });
    logger.info('migrations applied', { result });
  }
  const db = createDb({
    url: env.DATABASE_URL,
    poolMax: env.KISJOBS_DB_POOL_MAX,
    onPoolError: (error) => logger.warn('postgres connection error', { error: error.message }),
  });
  const scheduler = createScheduler({
    prisma: db.prisma,
    redisUrl: env.REDIS_URL,
    prefix: env.KISJOBS_PREFIX,
    consumerName: env.KISJOBS_CONSUMER_NAME,
    logger,
    dispatch: { sweepIntervalMs: env.KISJOBS_SWEEP_INTERVAL_MS },
    retention: {
      runsDays: env.KISJOBS_RETENTION_RUNS_DAYS,
      auditDays: env.KISJOBS_RETENTION_AUDIT_DAYS,
      executorsDays: env.KISJOBS_RETENTION_EXECUTORS_DAYS,
    },
    alerts: { smtp: smtpSettingsOf(env) },
  });

  let http: HttpServerHandle | undefined;
  let signals = 0;
  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    logger.info(`${signal} received: shutting down`);
    stopping ??= (async () => {
      try {
        await http?.close();
        await scheduler.close();
        await db.close();
      } finally {
        markStopped();
      }
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    await scheduler.start();
    const admin = await bootstrapAdminFromEnv({ prisma: db.prisma, clock: systemClock }, process.env);
    if (admin.created)
      logger.info('created the first admin from the environment', { username: admin.user.username });
    const metricsRegistry = new Registry();
    registerSchedulerMetrics(metricsRegistry, scheduler, db.prisma);
    const app = createHttpApp({
      prisma: db.prisma,
      redis: scheduler.redis,
      logger,
      clock: systemClock,
      metricsRegistry,
      keyPrefix: env.KISJOBS_PREFIX,
      services: { scheduler },
      auth: { principalCacheTtlMs: env.KISJOBS_AUTH_CACHE_TTL_MS },
      http: {
        corsOrigins: env.KISJOBS_CORS_ORIGINS,
        trustProxy: env.KISJOBS_TRUST_PROXY,
        hsts: env.KISJOBS_HSTS,
      },
    });
    http = await app.listen(env.KISJOBS_HTTP_PORT, env.KISJOBS_HTTP_HOST);
    logger.info(`HTTP API listening on ${http.url} (reference: ${http.url}/docs)`);
  } catch (error) {
    logger.error('scheduler failed to start', { error: errorMessage(error) });
    await http?.close();
    await scheduler.close();
    await db.close();
    return 1;
  }
  await stopped;
  logger.info('bye');
  return 0;
}

process.exit(await main());
